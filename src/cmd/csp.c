/*
  `sgm csp <subcommand>`: crystals with DiffCSP (src/csp, doc/geometric.md "Crystals (DiffCSP)").
    train   train the crystal network on a crystal file (task 1: lattice fixed; task 2: -csp_lattice)
    sample  generate one crystal per row of a crystal file (its composition; task 1 also its lattice)
            with DiffCSP's predictor-corrector sampler
    eval    match candidate crystals against reference crystals row by row (structure matcher):
            match rate and mean RMS displacement, as DiffCSP's compute_metrics.py
*/
#include <sgmcsp.h>
#include <sgmio.h>
#include <sgmsampler.h>
#include "commands.h"

static const char *const subcommands = "train, sample, eval";

/* Options used by no part of sgm are an error unless -allow_unused_options (or -options_left 0). */
static PetscErrorCode CheckUnused(MPI_Comm comm, PetscBool allow)
{
  PetscBool left = PETSC_TRUE, set;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-options_left", &left, &set));
  if (!allow && !(set && !left)) PetscCall(SgmCheckUnusedOptions(comm, "csp"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CSPEval(MPI_Comm comm)
{
  char              ref[PETSC_MAX_PATH_LEN] = "", cand[PETSC_MAX_PATH_LEN] = "", output[PETSC_MAX_PATH_LEN] = "csp-eval.h5";
  PetscBool         overwrite = PETSC_FALSE, quiet = PETSC_FALSE, help, allow = PETSC_FALSE;
  SgmCSPMatchParams p;
  SgmCrystalSet     R, C;
  PetscReal        *match, *rms, rate = 0, mean = 0;
  PetscInt          nm = 0, minatoms = 1, ncount = 0, ndiv = 0;
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
  PetscCall(PetscOptionsInt("-csp_eval_min_atoms", "Count only crystals with at least this many atoms in the match rate and mean RMS (all rows are matched and written)", "", minatoms, &minatoms, NULL));
  PetscCall(PetscOptionsString("-output", "HDF5 file to write (/match, /rms, attributes)", "", output, output, sizeof(output), NULL));
  PetscCall(PetscOptionsBool("-overwrite", "Replace the output file if it exists", "", overwrite, &overwrite, NULL));
  PetscCall(PetscOptionsBool("-quiet", "Do not print the summary", "", quiet, &quiet, NULL));
  PetscCall(PetscOptionsBool("-allow_unused_options", "Run even if an option is used by no part of sgm", "", allow, &allow, NULL));
  PetscOptionsEnd();
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(ref[0] && cand[0], comm, PETSC_ERR_USER_INPUT, "sgm csp eval needs -csp_reference FILE and -csp_candidates FILE");
  PetscCheck(p.stol > 0 && p.ltol > 0 && p.angle_tol > 0, comm, PETSC_ERR_USER_INPUT, "-csp_match_stol, -csp_match_ltol and -csp_match_angle_tol must be positive; got %g, %g, %g", (double)p.stol, (double)p.ltol, (double)p.angle_tol);
  PetscCall(CheckUnused(comm, allow));
  PetscCall(SgmCrystalSetLoad(comm, ref, &R));
  PetscCall(SgmCrystalSetLoad(comm, cand, &C));
  PetscCall(PetscMalloc2(R.N, &match, R.N, &rms));
  PetscCall(SgmCSPMatchSets(comm, &p, &R, &C, match, rms));
  { /* samples that diverged (sgm csp sample's /diverged) are unmatched */
    hid_t     f;
    PetscBool has;
    PetscCall(SgmH5OpenParallel(comm, cand, &f));
    has = H5Lexists(f, "diverged", H5P_DEFAULT) > 0 ? PETSC_TRUE : PETSC_FALSE;
    PetscCallHDF5(H5Fclose(f));
    if (has) {
      PetscInt   dims[1];
      PetscReal *div;
      PetscCall(SgmH5ReadReal(comm, cand, "diverged", 1, dims, &div));
      PetscCheck(dims[0] == R.N, comm, PETSC_ERR_USER_INPUT, "/diverged of '%s' has %" PetscInt_FMT " rows; the file has %" PetscInt_FMT " crystals", cand, dims[0], R.N);
      for (PetscInt b = 0; b < R.N; b++)
        if (div[b] > 0) match[b] = 0, rms[b] = PETSC_MAX_REAL, ndiv++;
      PetscCall(PetscFree(div));
    }
  }
  for (PetscInt b = 0; b < R.N; b++) {
    if (R.natoms[b] >= minatoms) {
      ncount++;
      if (match[b] > 0) nm++, mean += rms[b];
    }
    if (rms[b] >= PETSC_MAX_REAL) rms[b] = -1; /* no lattice mapping, or another composition */
  }
  PetscCheck(ncount > 0, comm, PETSC_ERR_USER_INPUT, "No reference crystal has at least %" PetscInt_FMT " atoms (-csp_eval_min_atoms)", minatoms);
  rate = (PetscReal)nm / ncount;
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
  PetscCall(SgmH5AttrInt(file, "counted", ncount));
  PetscCall(SgmH5AttrInt(file, "diverged", ndiv));
  PetscCall(SgmH5AttrInt(file, "csp_eval_min_atoms", minatoms));
  PetscCall(SgmH5AttrReal(file, "csp_match_stol", p.stol));
  PetscCall(SgmH5AttrReal(file, "csp_match_ltol", p.ltol));
  PetscCall(SgmH5AttrReal(file, "csp_match_angle_tol", p.angle_tol));
  PetscCall(SgmH5AttrString(file, "csp_reference", ref));
  PetscCall(SgmH5AttrString(file, "csp_candidates", cand));
  PetscCall(SgmH5AttrString(file, "rms_note", "rms in units of (V/n)^(1/3); the best found also when above stol; -1: other composition, no lattice mapping, or a diverged sample"));
  PetscCall(SgmOutputClose(&out));
  if (!quiet) PetscCall(PetscPrintf(comm, "sgm csp eval: %" PetscInt_FMT " crystals (%" PetscInt_FMT " with >= %" PetscInt_FMT " atoms counted, %" PetscInt_FMT " diverged samples), match rate %.4f (%" PetscInt_FMT " matched), mean RMS %.4f (stol %g, ltol %g, angle_tol %g) -> %s\n", R.N, ncount, minatoms, ndiv, (double)rate, nm, (double)mean, (double)p.stol, (double)p.ltol, (double)p.angle_tol, output));
  PetscCall(PetscFree2(match, rms));
  PetscCall(SgmCrystalSetDestroy(&R));
  PetscCall(SgmCrystalSetDestroy(&C));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CSPTrain(MPI_Comm comm)
{
  char              data[PETSC_MAX_PATH_LEN] = "", output[PETSC_MAX_PATH_LEN] = "csp-model.h5", restart[PETSC_MAX_PATH_LEN] = "";
  PetscBool         overwrite = PETSC_FALSE, quiet = PETSC_FALSE, help, lattice = PETSC_FALSE, precond = PETSC_TRUE, allow = PETSC_FALSE, hasckpt = PETSC_FALSE, stopped;
  SgmCSPTrainParams tp = {.steps = 2000, .batch = 32, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .adameps = 1e-8, .emadecay = 0.999, .cost_coord = 1, .cost_lattice = 1, .seed = 0, .log_every = 0, .ckpt_every = 0, .sigstep = -1, .ckpt = ""};
  SgmCSPModel       m;
  SgmCSPTrainState  st;
  SgmCrystalSet     D;
  PetscInt          T = 1000, k0;
  PetscReal         s0 = 0.005, s1 = 0.5;
  SgmOutput         out = NULL;
  hid_t             file;
  PetscLogDouble    t0, t1;
  PetscMPIInt       size;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(&m, sizeof(m)));
  m.net  = (SgmCSPNet){.H = 64, .nl = 3, .nf = 10, .nt = 32, .maxatoms = 0, .ipscale = 0.01};
  m.dist = (SgmCSPDistNet){.H = 32, .nl = 2, .nr = 32, .nt = 32, .maxatoms = 0, .rc = 6.0};
  PetscOptionsBegin(comm, NULL, "sgm csp train: DiffCSP training of the crystal network (doc/geometric.md)", "sgm");
  PetscCall(PetscOptionsString("-csp_data", "HDF5 crystal file to train on (layout of sgm-crystals)", "", data, data, sizeof(data), NULL));
  PetscCall(PetscOptionsBool("-csp_lattice", "Task 2: diffuse the lattice too (DDPM, cosine schedule); default task 1, the lattice fixed", "", lattice, &lattice, NULL));
  PetscCall(PetscOptionsBool("-csp_lattice_precond", "Task 2: preconditioned lattice head eps_L = c_skip L_t + c_out M L_t with s_d the RMS of the training lattices' entries (0: DiffCSP's plain eps_L = M L_t)", "", precond, &precond, NULL));
  PetscCall(PetscOptionsInt("-csp_steps", "Diffusion steps T", "", T, &T, NULL));
  PetscCall(PetscOptionsReal("-csp_sigma_begin", "Smallest wrapped-normal sigma of the fractional coordinates (t = 1)", "", s0, &s0, NULL));
  PetscCall(PetscOptionsReal("-csp_sigma_end", "Largest wrapped-normal sigma (t = T)", "", s1, &s1, NULL));
  PetscCall(PetscOptionsEnum("-csp_net", "Score network: cspnet (CSPNet-like message passing, tasks 1 and 2) or distance (periodic distance-based pair model, task 1)", "", SgmCSPNetTypes, (PetscEnum)m.type, (PetscEnum *)&m.type, NULL));
  PetscCall(PetscOptionsInt("-csp_hidden", "Hidden width of the network (cspnet)", "", m.net.H, &m.net.H, NULL));
  PetscCall(PetscOptionsInt("-csp_layers", "Message-passing layers (cspnet)", "", m.net.nl, &m.net.nl, NULL));
  PetscCall(PetscOptionsInt("-csp_frequencies", "Fourier frequencies k = 0..K-1 of the fractional differences (cspnet)", "", m.net.nf, &m.net.nf, NULL));
  PetscCall(PetscOptionsInt("-csp_time_features", "Sinusoidal features of the step t (even; both networks)", "", m.net.nt, &m.net.nt, NULL));
  PetscCall(PetscOptionsReal("-csp_ip_scale", "Scale s of the lattice inner products s L L^T fed to the messages (1/Angstrom^2; cspnet)", "", m.net.ipscale, &m.net.ipscale, NULL));
  PetscCall(PetscOptionsReal("-csp_cutoff", "Cutoff radius r of the periodic multi-graph, Angstrom (distance)", "", m.dist.rc, &m.dist.rc, NULL));
  PetscCall(PetscOptionsInt("-csp_dist_hidden", "Hidden width of the edge MLP (distance)", "", m.dist.H, &m.dist.H, NULL));
  PetscCall(PetscOptionsInt("-csp_dist_layers", "Layers of the edge MLP (distance)", "", m.dist.nl, &m.dist.nl, NULL));
  PetscCall(PetscOptionsInt("-csp_dist_rbf", "Gaussian radial basis functions of the distance on [0, r] (distance)", "", m.dist.nr, &m.dist.nr, NULL));
  PetscCall(PetscOptionsInt("-csp_train_steps", "Optimiser steps", "", tp.steps, &tp.steps, NULL));
  PetscCall(PetscOptionsInt("-csp_batch", "Crystals per global minibatch (spread over the ranks)", "", tp.batch, &tp.batch, NULL));
  PetscCall(PetscOptionsReal("-csp_lr", "Adam learning rate", "", tp.lr, &tp.lr, NULL));
  PetscCall(PetscOptionsReal("-csp_ema", "Decay of the exponential moving average of the weights (saved as /theta)", "", tp.emadecay, &tp.emadecay, NULL));
  PetscCall(PetscOptionsReal("-csp_cost_coord", "Weight of the coordinate loss", "", tp.cost_coord, &tp.cost_coord, NULL));
  PetscCall(PetscOptionsReal("-csp_cost_lattice", "Weight of the lattice loss (task 2)", "", tp.cost_lattice, &tp.cost_lattice, NULL));
  PetscCall(PetscOptionsInt("-csp_log_every", "Print the loss every this many steps (0: only the summary)", "", tp.log_every, &tp.log_every, NULL));
  PetscCall(PetscOptionsInt("-seed", "Seed of the initial weights and of the minibatches", "", tp.seed, &tp.seed, NULL));
  PetscCall(PetscOptionsString("-csp_checkpoint", "Checkpoint file (default: OUTPUT.ckpt); written at the end, every -csp_checkpoint_every steps and on SIGTERM/SIGUSR1", "", tp.ckpt, tp.ckpt, sizeof(tp.ckpt), &hasckpt));
  PetscCall(PetscOptionsInt("-csp_checkpoint_every", "Write the checkpoint every this many steps (0: only at the end and on SIGTERM/SIGUSR1)", "", tp.ckpt_every, &tp.ckpt_every, NULL));
  PetscCall(PetscOptionsString("-restart", "Continue training from this checkpoint of `sgm csp train` (same options; -csp_train_steps is the new total)", "", restart, restart, sizeof(restart), NULL));
  PetscCall(PetscOptionsInt("-csp_test_signal_step", "Testing: rank 0 sends itself SIGTERM after this step (regression/csp/test-csp.py)", "", tp.sigstep, &tp.sigstep, NULL));
  PetscCall(PetscOptionsString("-output", "HDF5 model file to write (/theta, attributes)", "", output, output, sizeof(output), NULL));
  PetscCall(PetscOptionsBool("-overwrite", "Replace the output file if it exists", "", overwrite, &overwrite, NULL));
  PetscCall(PetscOptionsBool("-quiet", "Do not print the summary", "", quiet, &quiet, NULL));
  PetscCall(PetscOptionsBool("-allow_unused_options", "Run even if an option is used by no part of sgm", "", allow, &allow, NULL));
  PetscOptionsEnd();
  if (!hasckpt) PetscCall(PetscSNPrintf(tp.ckpt, sizeof(tp.ckpt), "%s.ckpt", output));
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(data[0], comm, PETSC_ERR_USER_INPUT, "sgm csp train needs -csp_data FILE (e.g. crystals-train.h5 from sgm-crystals)");
  PetscCheck(tp.ckpt[0] && tp.ckpt_every >= 0, comm, PETSC_ERR_USER_INPUT, "-csp_checkpoint needs a file name and -csp_checkpoint_every must be >= 0; got '%s' and %" PetscInt_FMT, tp.ckpt, tp.ckpt_every);
  PetscCheck(tp.steps >= 1 && tp.batch >= 1, comm, PETSC_ERR_USER_INPUT, "-csp_train_steps and -csp_batch must be positive; got %" PetscInt_FMT " and %" PetscInt_FMT, tp.steps, tp.batch);
  PetscCheck(tp.lr > 0 && tp.emadecay >= 0 && tp.emadecay < 1, comm, PETSC_ERR_USER_INPUT, "-csp_lr must be positive and -csp_ema in [0, 1); got %g and %g", (double)tp.lr, (double)tp.emadecay);
  PetscCheck(tp.seed >= 0, comm, PETSC_ERR_USER_INPUT, "-seed must be a non-negative integer; got %" PetscInt_FMT, tp.seed);
  PetscCheck(!(lattice && m.type == SGM_CSP_NET_DISTANCE), comm, PETSC_ERR_USER_INPUT, "-csp_net distance predicts the coordinate score only and has no lattice output: it is for task 1 (drop -csp_lattice, or use -csp_net cspnet)");
  { /* an option of the other network would be silently ignored: refuse it */
    const char *const cspnet_only[] = {"-csp_hidden", "-csp_layers", "-csp_frequencies", "-csp_ip_scale"}, *const dist_only[] = {"-csp_cutoff", "-csp_dist_hidden", "-csp_dist_layers", "-csp_dist_rbf"};
    for (int i = 0; i < 4; i++) {
      const char *name = m.type == SGM_CSP_NET_DISTANCE ? cspnet_only[i] : dist_only[i];
      PetscBool   set;
      PetscCall(PetscOptionsHasName(NULL, NULL, name, &set));
      PetscCheck(!set, comm, PETSC_ERR_USER_INPUT, "%s is an option of -csp_net %s, but this run trains -csp_net %s: drop it", name, m.type == SGM_CSP_NET_DISTANCE ? "cspnet" : "distance", SgmCSPNetTypes[m.type]);
    }
  }
  PetscCall(CheckUnused(comm, allow));
  PetscCall(SgmCrystalSetLoad(comm, data, &D));
  PetscCheck(D.maxatoms <= SGM_CSP_MAXATOMS, comm, PETSC_ERR_USER_INPUT, "The crystal file '%s' has cells of up to %" PetscInt_FMT " atoms; sgm csp takes at most %d", data, D.maxatoms, SGM_CSP_MAXATOMS);
  m.net.maxatoms = D.maxatoms;
  m.dist.nt      = m.net.nt;
  m.lattice      = lattice;
  if (lattice && precond) m.lattice_rms = SgmCSPLatticeRMS(&D);
  PetscCall(SgmCSPModelSetUpNet(&m));
  PetscCall(SgmCSPScheduleCreate(T, s0, s1, &m.sched));
  PetscCall(PetscMalloc1(SgmCSPModelNumParameters(&m), &m.theta));
  PetscCall(SgmCSPModelInitializeNet(&m, (uint64_t)tp.seed, m.theta));
  PetscCall(SgmCSPTrainStateCreate(&m, &st));
  if (restart[0]) PetscCall(SgmCSPTrainRestart(comm, restart, &tp, &D, &m, &st));
  k0 = st.step;
  PetscCall(SgmOutputCreate(comm, output, overwrite, &out)); /* every input checked first */
  PetscCall(SgmSignalsInstall());
  PetscCall(PetscTime(&t0));
  PetscCall(SgmCSPTrain(comm, &tp, &D, &m, &st, &stopped));
  PetscCall(PetscTime(&t1));
  if (stopped) { /* interrupted: the checkpoint is written, no output file */
    PetscCall(SgmOutputDiscard(&out));
    PetscCall(PetscPrintf(comm, "sgm csp train: stopped by a signal after step %" PetscInt_FMT " of %" PetscInt_FMT "; resume with the same options and -restart %s\n", st.step, tp.steps, tp.ckpt));
    SgmExitStatus = SGM_EXIT_CHECKPOINTED;
    PetscCall(SgmCSPTrainStateDestroy(&st));
    PetscCall(SgmCSPModelDestroy(&m));
    PetscCall(SgmCrystalSetDestroy(&D));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SgmOutputGetFile(out, &file));
  PetscCall(SgmCSPModelWrite(comm, file, &m, st.ema));
  PetscCall(SgmOutputWriteProvenance(out, tp.seed));
  PetscCall(SgmH5AttrString(file, "csp_data", data));
  PetscCall(SgmH5AttrInt(file, "csp_train_steps", tp.steps));
  PetscCall(SgmH5AttrInt(file, "csp_batch", tp.batch));
  PetscCall(SgmH5AttrReal(file, "csp_lr", tp.lr));
  PetscCall(SgmH5AttrReal(file, "csp_ema", tp.emadecay));
  PetscCall(SgmH5AttrReal(file, "csp_cost_coord", tp.cost_coord));
  PetscCall(SgmH5AttrReal(file, "csp_cost_lattice", tp.cost_lattice));
  PetscCall(SgmH5AttrReal(file, "final_loss", st.loss));
  if (restart[0]) PetscCall(SgmH5AttrInt(file, "csp_restart_step", k0));
  PetscCall(SgmH5AttrReal(file, "run_time_s", t1 - t0));
  PetscCall(SgmOutputClose(&out));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  if (!quiet) PetscCall(PetscPrintf(comm, "sgm csp train: task %d (%s), network %s, %" PetscInt_FMT " crystals, %" PetscInt_FMT " parameters, %" PetscInt_FMT " steps of %" PetscInt_FMT ", final loss %.5f, %d rank(s), %.1f s -> %s\n", lattice ? 2 : 1, lattice ? "lattice diffused" : "lattice fixed", SgmCSPNetTypes[m.type], D.N, SgmCSPModelNumParameters(&m), tp.steps, tp.batch, (double)st.loss, size, t1 - t0, output));
  PetscCall(SgmCSPTrainStateDestroy(&st));
  PetscCall(SgmCSPModelDestroy(&m));
  PetscCall(SgmCrystalSetDestroy(&D));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CSPSample(MPI_Comm comm)
{
  char           model[PETSC_MAX_PATH_LEN] = "", ref[PETSC_MAX_PATH_LEN] = "", output[PETSC_MAX_PATH_LEN] = "csp-samples.h5";
  PetscBool      overwrite = PETSC_FALSE, quiet = PETSC_FALSE, help, allow = PETSC_FALSE;
  PetscReal      step_lr = 1e-5;
  PetscInt       seed = 0, nfe, steps, ndiv = 0;
  PetscReal     *div;
  SgmCSPModel    m;
  SgmCrystalSet  R, S;
  SgmOutput      out = NULL;
  hid_t          file;
  PetscLogDouble t0, t1;
  PetscMPIInt    size;

  PetscFunctionBegin;
  PetscOptionsBegin(comm, NULL, "sgm csp sample: DiffCSP predictor-corrector sampling of crystals (doc/geometric.md)", "sgm");
  PetscCall(PetscOptionsString("-csp_model", "HDF5 model file written by sgm csp train", "", model, model, sizeof(model), NULL));
  PetscCall(PetscOptionsString("-csp_reference", "HDF5 crystal file: one sample per row, with its composition (and, task 1, its lattice)", "", ref, ref, sizeof(ref), NULL));
  PetscCall(PetscOptionsReal("-csp_step_lr", "Step size factor of the Langevin corrector, gamma_t = step_lr (sigma_t/sigma_1)^2 (DiffCSP's step_lr)", "", step_lr, &step_lr, NULL));
  PetscCall(PetscOptionsInt("-seed", "Seed of the prior and the noise (same seed, same crystals on any number of ranks)", "", seed, &seed, NULL));
  PetscCall(PetscOptionsString("-output", "HDF5 file to write (crystal layout: /natoms, /types, /frac, /lattice)", "", output, output, sizeof(output), NULL));
  PetscCall(PetscOptionsBool("-overwrite", "Replace the output file if it exists", "", overwrite, &overwrite, NULL));
  PetscCall(PetscOptionsBool("-quiet", "Do not print the summary", "", quiet, &quiet, NULL));
  PetscCall(PetscOptionsBool("-allow_unused_options", "Run even if an option is used by no part of sgm", "", allow, &allow, NULL));
  PetscOptionsEnd();
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(model[0] && ref[0], comm, PETSC_ERR_USER_INPUT, "sgm csp sample needs -csp_model FILE and -csp_reference FILE");
  PetscCheck(seed >= 0, comm, PETSC_ERR_USER_INPUT, "-seed must be a non-negative integer; got %" PetscInt_FMT, seed);
  PetscCall(CheckUnused(comm, allow));
  PetscCall(SgmCSPModelLoad(comm, model, &m));
  PetscCall(SgmCrystalSetLoad(comm, ref, &R));
  PetscCall(PetscTime(&t0));
  PetscCall(PetscMalloc1(R.N, &div));
  PetscCall(SgmCSPSample(comm, &m, &R, step_lr, seed, &S, div, &nfe, &steps));
  for (PetscInt b = 0; b < R.N; b++) ndiv += div[b] > 0;
  PetscCall(PetscTime(&t1));
  PetscCall(SgmOutputCreate(comm, output, overwrite, &out));
  PetscCall(SgmOutputGetFile(out, &file));
  PetscCall(SgmCrystalSetWrite(comm, file, &S));
  {
    hsize_t dims[1] = {(hsize_t)R.N};
    PetscCall(SgmH5WriteSmall(comm, file, "diverged", 1, dims, div));
  }
  PetscCall(SgmOutputWriteProvenance(out, seed));
  PetscCall(SgmH5AttrInt(file, "diverged_count", ndiv));
  PetscCall(SgmH5AttrString(file, "diverged_note", "/diverged: 0, or the step t at which the crystal became non-finite (lattice divergence, task 2); such rows hold zero coordinates in the unit cube and sgm csp eval counts them as unmatched"));
  PetscCall(SgmH5AttrString(file, "csp_model", model));
  PetscCall(SgmH5AttrString(file, "csp_reference", ref));
  PetscCall(SgmH5AttrReal(file, "csp_step_lr", step_lr));
  PetscCall(SgmH5AttrInt(file, "csp_lattice", m.lattice ? 1 : 0));
  PetscCall(SgmH5AttrInt(file, "nfe", 2 * m.sched.T));
  PetscCall(SgmH5AttrInt(file, "nfe_total", nfe));
  PetscCall(SgmH5AttrInt(file, "ts_steps", steps));
  PetscCall(SgmH5AttrReal(file, "run_time_s", t1 - t0));
  PetscCall(SgmOutputClose(&out));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  if (!quiet) PetscCall(PetscPrintf(comm, "sgm csp sample: %" PetscInt_FMT " crystals, task %d, %" PetscInt_FMT " TS steps, %" PetscInt_FMT " network evaluations per crystal (%" PetscInt_FMT " in all), %" PetscInt_FMT " diverged, %d rank(s), %.1f s -> %s\n", R.N, m.lattice ? 2 : 1, steps, 2 * m.sched.T, nfe, ndiv, size, t1 - t0, output));
  PetscCall(PetscFree(div));
  PetscCall(SgmCrystalSetDestroy(&R));
  PetscCall(SgmCrystalSetDestroy(&S));
  PetscCall(SgmCSPModelDestroy(&m));
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
  PetscCall(PetscStrcmp(sub, "train", &is));
  if (is) {
    PetscCall(CSPTrain(comm));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscStrcmp(sub, "sample", &is));
  if (is) {
    PetscCall(CSPSample(comm));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscStrcmp(sub, "eval", &is));
  if (is) {
    PetscCall(CSPEval(comm));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  SETERRQ(comm, PETSC_ERR_USER_INPUT, "Unknown subcommand '%s' of sgm csp: the subcommands are %s", sub, subcommands);
}
