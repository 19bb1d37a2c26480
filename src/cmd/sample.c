/* `sgm sample`: draw samples and write them, with provenance, to one HDF5 file. */
#include <sgmio.h>
#include <unistd.h>
#include "commands.h"

static PetscErrorCode FlushOutput(void *ctx)
{
  PetscFunctionBegin;
  PetscCall(SgmOutputFlush((SgmOutput)ctx));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The output of a restarted run: the interrupted run's FILE.partial (its trajectory so far), or a
   new file when there was no trajectory to continue. */
static PetscErrorCode OpenOutputForRestart(MPI_Comm comm, const char output[], PetscBool overwrite, PetscInt frames, SgmOutput *out)
{
  char        partial[PETSC_MAX_PATH_LEN + 16];
  PetscMPIInt rank;
  int         exists = 0;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(partial, sizeof(partial), "%s.partial", output));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) exists = access(partial, F_OK) == 0;
  PetscCallMPI(MPI_Bcast(&exists, 1, MPI_INT, 0, comm));
  if (exists) {
    PetscCall(SgmOutputResume(comm, output, out));
    PetscCall(SgmOutputTrajectoryTruncate(*out, frames));
  } else {
    PetscCheck(frames == 0, comm, PETSC_ERR_FILE_OPEN, "Cannot continue the trajectory: '%s' of the interrupted run is missing (restart with the same -output, or with -trajectory_frames 0)", partial);
    PetscCall(SgmOutputCreate(comm, output, overwrite, out));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

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
  char            output[PETSC_MAX_PATH_LEN] = "samples.h5", restart[PETSC_MAX_PATH_LEN] = "", ckpt[PETSC_MAX_PATH_LEN + 8];
  PetscBool       overwrite = PETSC_FALSE, help, quiet = PETSC_FALSE, interrupted, hasckpt, allowunused = PETSC_FALSE, left = PETSC_TRUE, leftset, view;
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
  PetscCall(PetscOptionsBool("-allow_unused_options", "Run even if an option is used by no part of sgm (by default such an option, e.g. a misspelt one, is an error)", "", allowunused, &allowunused, NULL));
  PetscCall(PetscOptionsString("-restart", "Continue the run saved in this checkpoint file (same options as the interrupted run)", "SgmSamplerRestart", restart, restart, sizeof(restart), NULL));
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
  PetscCall(PetscOptionsGetString(NULL, NULL, "-checkpoint", ckpt, sizeof(ckpt), &hasckpt));
  if (!hasckpt) { /* default checkpoint file: next to the output */
    PetscCall(PetscSNPrintf(ckpt, sizeof(ckpt), "%s.ckpt", output));
    PetscCall(SgmSamplerSetCheckpoint(sampler, ckpt, -1, -1));
  }
  PetscCall(SgmSamplerSetUp(sampler)); /* every input is checked before a file is created */
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-options_left", &left, &leftset));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-sampler_view", &view)); /* used below, after the check */
  if (!allowunused && !(leftset && !left)) PetscCall(SgmCheckUnusedOptions(comm, "sample"));
  if (restart[0]) {
    PetscInt frames;
    PetscCall(SgmSamplerRestart(sampler, restart));
    PetscCall(SgmSamplerGetFramesDone(sampler, &frames));
    PetscCall(OpenOutputForRestart(comm, output, overwrite, frames, &out));
  } else PetscCall(SgmOutputCreate(comm, output, overwrite, &out));
  PetscCall(SgmSamplerSetTrajectory(sampler, -1, WriteFrame, out));
  PetscCall(SgmSamplerSetCheckpointFlush(sampler, FlushOutput, out));
  PetscCall(PetscObjectViewFromOptions((PetscObject)sampler, NULL, "-sampler_view"));

  PetscCall(PetscTime(&t0));
  PetscCall(SgmSamplerSolve(sampler));
  PetscCall(PetscTime(&t1));
  PetscCall(SgmSamplerGetInterrupted(sampler, &interrupted));
  if (interrupted) { /* checkpoint written: keep FILE.partial for the restart, say how to resume */
    TS        ts;
    PetscReal tau;
    PetscCall(SgmSamplerGetTS(sampler, &ts));
    PetscCall(TSGetStepNumber(ts, &steps));
    PetscCall(TSGetTime(ts, &tau));
    PetscCall(SgmOutputSuspend(&out));
    PetscCall(PetscPrintf(comm, "sgm sample: stopped by a signal after step %" PetscInt_FMT " (tau = %g); resume with the same options and -restart %s\n", steps, (double)tau, ckpt));
    PetscCall(SgmSamplerDestroy(&sampler));
    SgmExitStatus = SGM_EXIT_CHECKPOINTED;
    PetscFunctionReturn(PETSC_SUCCESS);
  }

  PetscCall(SgmSamplerGetSamples(sampler, &X));
  PetscCall(SgmSamplerGetBatch(sampler, &b));
  PetscCall(SgmSamplerGetNFE(sampler, &nfe));
  PetscCall(SgmOutputGetFile(out, &file));
  { /* a latent model's samples are decoded; the latent ones are kept as /latent_samples */
    SgmScore score;
    PetscInt D;
    PetscCall(SgmSamplerGetScore(sampler, &score));
    PetscCall(SgmScoreGetDataDimension(score, &D));
    if (!b->field && D != b->d) {
      SgmBatch           bd;
      Vec                Y;
      const PetscScalar *xz;
      PetscScalar       *y;
      PetscCall(SgmBatchCreate(comm, b->N, D, &bd));
      PetscCall(SgmBatchCreateVec(&bd, &Y));
      PetscCall(VecGetArrayRead(X, &xz));
      PetscCall(VecGetArray(Y, &y));
      PetscCall(SgmScoreDecode(score, b->n, xz, y));
      PetscCall(VecRestoreArray(Y, &y));
      PetscCall(VecRestoreArrayRead(X, &xz));
      PetscCall(SgmOutputWriteBatch(out, "samples", &bd, Y));
      PetscCall(SgmOutputWriteBatch(out, "latent_samples", b, X));
      PetscCall(VecDestroy(&Y));
    } else PetscCall(SgmOutputWriteBatch(out, "samples", b, X));
  }
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
  { /* the run is complete: its checkpoint is stale (and must not make a requeued job restart) */
    PetscMPIInt rank;
    PetscCallMPI(MPI_Comm_rank(comm, &rank));
    if (!rank) (void)unlink(ckpt);
  }

  if (!quiet) {
    TS ts;
    PetscCall(SgmSamplerGetTS(sampler, &ts));
    PetscCall(TSGetStepNumber(ts, &steps));
    PetscCall(SgmSamplerGetType(sampler, &type));
    PetscCallMPI(MPI_Comm_size(comm, &size));
    if (b->field) PetscCall(PetscPrintf(comm, "sgm sample: %" PetscInt_FMT " fields of %" PetscInt_FMT " points, sampler %s, %" PetscInt_FMT " steps, NFE %" PetscInt64_FMT ", %d rank(s), %.3f s -> %s\n", b->N, SgmBatchSampleDimension(b), type, steps, nfe, size, t1 - t0, output));
    else PetscCall(PetscPrintf(comm, "sgm sample: %" PetscInt_FMT " samples of dimension %" PetscInt_FMT ", sampler %s, %" PetscInt_FMT " steps, NFE %" PetscInt64_FMT ", %d rank(s), %.3f s -> %s\n", b->N, b->d, type, steps, nfe, size, t1 - t0, output));
  }
  PetscCall(SgmSamplerDestroy(&sampler));
  PetscFunctionReturn(PETSC_SUCCESS);
}
