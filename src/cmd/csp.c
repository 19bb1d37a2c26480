/*
  `sgm csp <subcommand>`: crystals with DiffCSP (src/csp, doc/geometric.md "Crystals (DiffCSP)").
    eval    match candidate crystals against reference crystals row by row (structure matcher):
            match rate and mean RMS displacement, as DiffCSP's compute_metrics.py
*/
#include <sgmcsp.h>
#include <sgmio.h>
#include "commands.h"

static const char *const subcommands = "eval";

static PetscErrorCode CSPEval(MPI_Comm comm)
{
  char              ref[PETSC_MAX_PATH_LEN] = "", cand[PETSC_MAX_PATH_LEN] = "", output[PETSC_MAX_PATH_LEN] = "csp-eval.h5";
  PetscBool         overwrite = PETSC_FALSE, quiet = PETSC_FALSE, help;
  SgmCSPMatchParams p;
  SgmCrystalSet     R, C;
  PetscReal        *match, *rms, rate = 0, mean = 0;
  PetscInt          nm = 0;
  SgmOutput         out = NULL;
  hid_t             file;

  PetscFunctionBegin;
  SgmCSPMatchParamsDefault(&p);
  PetscOptionsBegin(comm, NULL, "sgm csp eval: structure matching of crystals (doc/geometric.md)", "sgm");
  PetscCall(PetscOptionsString("-csp_reference", "HDF5 crystal file of the reference structures (layout of sgm-crystals)", "", ref, ref, sizeof(ref), NULL));
  PetscCall(PetscOptionsString("-csp_candidates", "HDF5 crystal file of the structures to compare (e.g. sgm csp sample output); row b against reference row b", "", cand, cand, sizeof(cand), NULL));
  PetscCall(PetscOptionsReal("-csp_match_stol", "Match tolerance on the RMS displacement in units of (V/n)^(1/3) (pymatgen stol)", "", p.stol, &p.stol, NULL));
  PetscCall(PetscOptionsReal("-csp_match_ltol", "Fractional tolerance on the lattice vector lengths (pymatgen ltol)", "", p.ltol, &p.ltol, NULL));
  PetscCall(PetscOptionsReal("-csp_match_angle_tol", "Tolerance on the lattice angles in degrees (pymatgen angle_tol)", "", p.angle_tol, &p.angle_tol, NULL));
  PetscCall(PetscOptionsString("-output", "HDF5 file to write (/match, /rms, attributes)", "", output, output, sizeof(output), NULL));
  PetscCall(PetscOptionsBool("-overwrite", "Replace the output file if it exists", "", overwrite, &overwrite, NULL));
  PetscCall(PetscOptionsBool("-quiet", "Do not print the summary", "", quiet, &quiet, NULL));
  PetscOptionsEnd();
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(ref[0] && cand[0], comm, PETSC_ERR_USER_INPUT, "sgm csp eval needs -csp_reference FILE and -csp_candidates FILE");
  PetscCheck(p.stol > 0 && p.ltol > 0 && p.angle_tol > 0, comm, PETSC_ERR_USER_INPUT, "-csp_match_stol, -csp_match_ltol and -csp_match_angle_tol must be positive; got %g, %g, %g", (double)p.stol, (double)p.ltol, (double)p.angle_tol);
  PetscCall(SgmCheckUnusedOptions(comm, "csp"));
  PetscCall(SgmCrystalSetLoad(comm, ref, &R));
  PetscCall(SgmCrystalSetLoad(comm, cand, &C));
  PetscCall(PetscMalloc2(R.N, &match, R.N, &rms));
  PetscCall(SgmCSPMatchSets(comm, &p, &R, &C, match, rms));
  for (PetscInt b = 0; b < R.N; b++) {
    if (match[b] > 0) nm++, mean += rms[b];
    if (rms[b] >= PETSC_MAX_REAL) rms[b] = -1; /* no lattice mapping, or another composition */
  }
  rate = (PetscReal)nm / R.N;
  mean = nm ? mean / nm : 0;
  PetscCall(SgmOutputCreate(comm, output, overwrite, &out));
  PetscCall(SgmOutputGetFile(out, &file));
  {
    hsize_t dims[1] = {(hsize_t)R.N};
    PetscCall(SgmH5WriteSmall(comm, file, "match", 1, dims, match));
    PetscCall(SgmH5WriteSmall(comm, file, "rms", 1, dims, rms));
  }
  PetscCall(SgmOutputWriteProvenance(out, 0));
  PetscCall(SgmH5AttrReal(file, "match_rate", rate));
  PetscCall(SgmH5AttrReal(file, "mean_rms", mean));
  PetscCall(SgmH5AttrInt(file, "matched", nm));
  PetscCall(SgmH5AttrInt(file, "crystals", R.N));
  PetscCall(SgmH5AttrReal(file, "csp_match_stol", p.stol));
  PetscCall(SgmH5AttrReal(file, "csp_match_ltol", p.ltol));
  PetscCall(SgmH5AttrReal(file, "csp_match_angle_tol", p.angle_tol));
  PetscCall(SgmH5AttrString(file, "csp_reference", ref));
  PetscCall(SgmH5AttrString(file, "csp_candidates", cand));
  PetscCall(SgmH5AttrString(file, "rms_note", "rms in units of (V/n)^(1/3); the best found also when above stol; -1: other composition or no lattice mapping"));
  PetscCall(SgmOutputClose(&out));
  if (!quiet) PetscCall(PetscPrintf(comm, "sgm csp eval: %" PetscInt_FMT " crystals, match rate %.4f (%" PetscInt_FMT " matched), mean RMS %.4f (stol %g, ltol %g, angle_tol %g) -> %s\n", R.N, (double)rate, nm, (double)mean, (double)p.stol, (double)p.ltol, (double)p.angle_tol, output));
  PetscCall(PetscFree2(match, rms));
  PetscCall(SgmCrystalSetDestroy(&R));
  PetscCall(SgmCrystalSetDestroy(&C));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCommandCSP(MPI_Comm comm)
{
  int         argc;
  char      **argv;
  const char *sub = NULL;
  PetscBool   help, is;

  PetscFunctionBegin;
  PetscCall(PetscGetArgs(&argc, &argv));
  if (argc > 1 && argv[1][0] != '-') sub = argv[1];
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (!sub && help) {
    PetscCall(PetscPrintf(comm, "sgm csp <subcommand> [options]: crystals with DiffCSP (doc/geometric.md)\n  subcommands: %s\n  (sgm csp <subcommand> -help lists its options)\n", subcommands));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(sub, comm, PETSC_ERR_USER_INPUT, "sgm csp needs a subcommand: %s (e.g. `sgm csp eval -help`)", subcommands);
  PetscCall(PetscStrcmp(sub, "eval", &is));
  if (is) {
    PetscCall(CSPEval(comm));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  SETERRQ(comm, PETSC_ERR_USER_INPUT, "Unknown subcommand '%s' of sgm csp: the subcommands are %s", sub, subcommands);
}
