/* `sgm eval`: compare a sample set with a reference set and/or a known density (doc/eval.md). */
#include <sgmeval.h>
#include <sgmio.h>
#include <sgmdense.h>
#include "commands.h"

/* Read dataset `dset` (or the first of the defaults that exists) of `path` as a batch. */
static PetscErrorCode ReadSet(MPI_Comm comm, const char path[], const char opt[], char dset[], size_t len, const char *const defaults[], SgmBatch *b, Vec *X)
{
  hid_t    file;
  PetscInt dims[2];

  PetscFunctionBegin;
  PetscCall(SgmH5OpenParallel(comm, path, &file));
  if (!dset[0]) {
    for (PetscInt k = 0; defaults[k] && !dset[0]; k++)
      if (H5Lexists(file, defaults[k], H5P_DEFAULT) > 0) PetscCall(PetscStrncpy(dset, defaults[k], len));
    if (!dset[0]) {
      PetscCallHDF5(H5Fclose(file));
      SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "The file '%s' has no dataset /%s%s%s: name the dataset with %s", path, defaults[0], defaults[1] ? " or /" : "", defaults[1] ? defaults[1] : "", opt);
    }
  }
  if (H5Lexists(file, dset, H5P_DEFAULT) <= 0) {
    PetscCallHDF5(H5Fclose(file));
    SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "The file '%s' has no dataset '%s'", path, dset);
  }
  PetscCall(SgmH5DatasetShape(comm, file, dset, 2, dims));
  PetscCall(SgmBatchCreate(comm, dims[0], dims[1], b));
  PetscCall(SgmBatchCreateVec(b, X));
  PetscCall(SgmH5ReadBatch(file, dset, b, *X));
  PetscCallHDF5(H5Fclose(file));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCommandEval(MPI_Comm comm)
{
  static const char *const sdefaults[] = {"samples", NULL}, *const rdefaults[] = {"data", "samples", NULL};
  SgmEval        ev;
  SgmScore       density = NULL;
  SgmOutput      out     = NULL;
  char           samples[PETSC_MAX_PATH_LEN] = "", reference[PETSC_MAX_PATH_LEN] = "", output[PETSC_MAX_PATH_LEN] = "";
  char           sdset[256] = "", rdset[256] = "", extra[3 * PETSC_MAX_PATH_LEN + 1024];
  PetscBool      overwrite = PETSC_FALSE, quiet = PETSC_FALSE, allowunused = PETSC_FALSE, left = PETSC_TRUE, leftset, help, hasdensity;
  SgmBatch       bx, by;
  Vec            X = NULL, Y = NULL;
  PetscLogDouble t0, t1;
  hid_t          file;

  PetscFunctionBegin;
  PetscOptionsBegin(comm, NULL, "sgm eval: compare a sample set with a reference set or a known density", "sgm");
  PetscCall(PetscOptionsString("-samples", "HDF5 file with the samples to evaluate", "", samples, samples, sizeof(samples), NULL));
  PetscCall(PetscOptionsString("-samples_dataset", "Dataset of points [N,d] in -samples (default /samples)", "", sdset, sdset, sizeof(sdset), NULL));
  PetscCall(PetscOptionsString("-reference", "HDF5 file with the reference set (needed for all but the NLL)", "", reference, reference, sizeof(reference), NULL));
  PetscCall(PetscOptionsString("-reference_dataset", "Dataset of points [N,d] in -reference (default /data, else /samples)", "", rdset, rdset, sizeof(rdset), NULL));
  PetscCall(PetscOptionsString("-output", "HDF5 file to write (group /eval with every metric, provenance); none if not given", "", output, output, sizeof(output), NULL));
  PetscCall(PetscOptionsBool("-overwrite", "Replace the output file if it exists", "", overwrite, &overwrite, NULL));
  PetscCall(PetscOptionsBool("-quiet", "Print the JSON line only", "", quiet, &quiet, NULL));
  PetscCall(PetscOptionsBool("-allow_unused_options", "Run even if an option is used by no part of sgm", "", allowunused, &allowunused, NULL));
  PetscOptionsEnd();
  PetscCall(SgmEvalCreate(comm, &ev));
  PetscCall(SgmEvalSetFromOptions(ev));
  { /* -dense_grid and -dense_block (read again by the Frechet distance): checked now, listed by -help */
    SgmDense probe;
    PetscCall(SgmDenseCreate(comm, 1, &probe));
    PetscCall(SgmDenseDestroy(&probe));
  }
  /* the known density: a score object with the options prefix -reference_ (-reference_score_type gmm -reference_gmm_file F) */
  PetscCall(PetscOptionsHasName(NULL, "reference_", "-score_type", &hasdensity));
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (hasdensity || help) {
    PetscCall(SgmScoreCreate(comm, &density));
    PetscCall(PetscObjectSetOptionsPrefix((PetscObject)density, "reference_"));
    PetscCall(SgmScoreSetFromOptions(density));
  }
  if (help) {
    PetscCall(SgmScoreDestroy(&density));
    PetscCall(SgmEvalDestroy(&ev));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-options_left", &left, &leftset));
  if (!allowunused && !(leftset && !left)) PetscCall(SgmCheckUnusedOptions(comm, "eval"));
  PetscCheck(samples[0], comm, PETSC_ERR_USER_INPUT, "Give the samples to evaluate with -samples FILE.h5 (a /samples [N,d] dataset)");
  PetscCheck(reference[0] || density, comm, PETSC_ERR_USER_INPUT, "Give a reference set with -reference FILE.h5 or a known density with -reference_score_type gmm -reference_gmm_file FILE.h5");
  if (!output[0] && overwrite) PetscCall(PetscInfo(NULL, "-overwrite without -output: nothing is written\n"));
  PetscCall(ReadSet(comm, samples, "-samples_dataset", sdset, sizeof(sdset), sdefaults, &bx, &X));
  PetscCall(SgmEvalSetSamples(ev, &bx, X));
  if (reference[0]) {
    PetscCall(ReadSet(comm, reference, "-reference_dataset", rdset, sizeof(rdset), rdefaults, &by, &Y));
    PetscCall(SgmEvalSetReference(ev, &by, Y));
  }
  if (density) PetscCall(SgmEvalSetReferenceDensity(ev, density));
  if (output[0]) PetscCall(SgmOutputCreate(comm, output, overwrite, &out)); /* before the work: an existing file is an error now */
  PetscCall(PetscTime(&t0));
  PetscCall(SgmEvalCompute(ev));
  PetscCall(PetscTime(&t1));
  if (out) {
    PetscCall(SgmOutputGetFile(out, &file));
    PetscCall(SgmEvalWrite(ev, file));
    PetscCall(SgmH5AttrString(file, "samples_file", samples));
    PetscCall(SgmH5AttrString(file, "samples_dataset", sdset));
    if (reference[0]) PetscCall(SgmH5AttrString(file, "reference_file", reference));
    if (reference[0]) PetscCall(SgmH5AttrString(file, "reference_dataset", rdset));
    PetscCall(SgmH5AttrReal(file, "wall_time_seconds", t1 - t0));
    {
      PetscInt seed = 0; /* the only random input: the sliced-W2 directions */
      PetscCall(PetscOptionsGetInt(NULL, NULL, "-eval_seed", &seed, NULL));
      PetscCall(SgmOutputWriteProvenance(out, seed));
    }
    PetscCall(SgmOutputClose(&out));
  }
  PetscCall(PetscSNPrintf(extra, sizeof(extra), "\"samples\": \"%s\", \"reference\": \"%s\", \"wall_time_seconds\": %.3f", samples, reference, (double)(t1 - t0)));
  PetscCall(SgmEvalViewJSON(ev, extra));
  if (!quiet) PetscCall(SgmEvalView(ev, NULL));
  PetscCall(VecDestroy(&X));
  PetscCall(VecDestroy(&Y));
  PetscCall(SgmScoreDestroy(&density));
  PetscCall(SgmEvalDestroy(&ev));
  PetscFunctionReturn(PETSC_SUCCESS);
}
