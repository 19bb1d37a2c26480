/* `sgm sample`: draw samples and write them, with provenance, to one HDF5 file. */
#include <sgmio.h>
#include "commands.h"

static PetscErrorCode WriteFrame(SgmSampler sampler, PetscInt j, PetscReal t, Vec X, void *ctx)
{
  const SgmBatch *b;

  PetscFunctionBegin;
  PetscCall(SgmSamplerGetBatch(sampler, &b));
  PetscCall(SgmOutputTrajectoryAppend((SgmOutput)ctx, b, t, X));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCommandSample(MPI_Comm comm)
{
  SgmSampler      sampler;
  SgmOutput       out = NULL;
  char            output[PETSC_MAX_PATH_LEN] = "samples.h5";
  PetscBool       overwrite = PETSC_FALSE, help, quiet = PETSC_FALSE;
  const SgmBatch *b;
  Vec             X;
  PetscInt64      nfe, seed;
  PetscInt        steps;
  PetscLogDouble  t0, t1;
  hid_t           file;
  PetscMPIInt     size;
  SgmSamplerType  type;

  PetscFunctionBegin;
  PetscOptionsBegin(comm, NULL, "sgm sample: draw samples from a score model", "sgm");
  PetscCall(PetscOptionsString("-output", "HDF5 file to write (/samples, /trajectory, /nfe, provenance attributes)", "", output, output, sizeof(output), NULL));
  PetscCall(PetscOptionsBool("-overwrite", "Replace the output file if it exists", "", overwrite, &overwrite, NULL));
  PetscCall(PetscOptionsBool("-quiet", "Do not print the run summary", "", quiet, &quiet, NULL));
  PetscOptionsEnd();

  PetscCall(SgmSamplerCreate(comm, &sampler));
  PetscCall(SgmSamplerSetFromOptions(sampler));
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) { /* list the time-stepping options too, then stop */
    TS ts;
    PetscCall(SgmSamplerGetTS(sampler, &ts));
    PetscCall(TSSetFromOptions(ts));
    PetscCall(SgmSamplerDestroy(&sampler));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SgmSamplerSetUp(sampler)); /* every input is checked before a file is created */
  PetscCall(SgmOutputCreate(comm, output, overwrite, &out));
  PetscCall(SgmSamplerSetTrajectory(sampler, -1, WriteFrame, out));
  PetscCall(PetscObjectViewFromOptions((PetscObject)sampler, NULL, "-sampler_view"));

  PetscCall(PetscTime(&t0));
  PetscCall(SgmSamplerSolve(sampler));
  PetscCall(PetscTime(&t1));

  PetscCall(SgmSamplerGetSamples(sampler, &X));
  PetscCall(SgmSamplerGetBatch(sampler, &b));
  PetscCall(SgmSamplerGetNFE(sampler, &nfe));
  PetscCall(SgmOutputGetFile(out, &file));
  PetscCall(SgmOutputWriteBatch(out, "samples", b, X));
  {
    hsize_t   one = 1;
    PetscReal v   = (PetscReal)nfe;
    PetscCall(SgmH5WriteSmall(comm, file, "nfe", 1, &one, &v));
  }
  PetscCall(SgmSamplerGetSeed(sampler, &seed));
  PetscCall(SgmOutputWriteProvenance(out, seed));
  PetscCall(SgmSamplerWriteAttributes(sampler, file));
  PetscCall(SgmH5AttrReal(file, "wall_time_seconds", t1 - t0));
  PetscCall(SgmOutputClose(&out));

  if (!quiet) {
    TS ts;
    PetscCall(SgmSamplerGetTS(sampler, &ts));
    PetscCall(TSGetStepNumber(ts, &steps));
    PetscCall(SgmSamplerGetType(sampler, &type));
    PetscCallMPI(MPI_Comm_size(comm, &size));
    PetscCall(PetscPrintf(comm, "sgm sample: %" PetscInt_FMT " samples of dimension %" PetscInt_FMT ", sampler %s, %" PetscInt_FMT " steps, NFE %" PetscInt64_FMT ", %d rank(s), %.3f s -> %s\n", b->N, b->d, type, steps, nfe, size, t1 - t0, output));
  }
  PetscCall(SgmSamplerDestroy(&sampler));
  PetscFunctionReturn(PETSC_SUCCESS);
}
