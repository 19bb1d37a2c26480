/*
  Checkpoint and restart of sampling.  A checkpoint is one HDF5 file, written collectively under a
  temporary name and renamed when complete (so a kill during the write leaves the previous one):
      /x [N,d]                    the batch, rows in global sample order
      attributes                  sgm_checkpoint, step, tau, time_step, nfe, frames, and what must
                                  match on restart: sampler_type, nsamples, dimension, seed, sampler_steps
      type-specific datasets      multistep history (dpmpp2m), Brownian path (adaptive), ...
  The noise is counter-based, keyed by step and global sample index, so nothing else is needed to
  continue bitwise as if uninterrupted -- on the same or on another number of ranks.

  Triggers: every -checkpoint_every steps, every -checkpoint_interval seconds of wall time, and on
  SIGTERM or SIGUSR1 (Slurm's warning before the end of a job), after which the run stops cleanly.
*/
#include <sgm/private/samplerimpl.h>
#include <sgmfield.h>
#include <sgm/private/scoreimpl.h>
#include <sgm/private/sdeimpl.h>
#include <sgmio.h>
#include <signal.h>
#include <unistd.h>

static volatile sig_atomic_t SgmSignal = 0;

static void SgmSignalHandler(int sig)
{
  SgmSignal = sig;
}

/* SIGTERM and SIGUSR1 set a flag that the samplers act on at the end of the current step. */
PetscErrorCode SgmSignalsInstall(void)
{
  struct sigaction sa;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(&sa, sizeof(sa)));
  sa.sa_handler = SgmSignalHandler;
  sa.sa_flags   = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  PetscCheck(!sigaction(SIGTERM, &sa, NULL) && !sigaction(SIGUSR1, &sa, NULL), PETSC_COMM_SELF, PETSC_ERR_SYS, "Could not install the SIGTERM/SIGUSR1 handlers");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Testing hooks: rank 0 gets SIGTERM (the real signal path) or dies by SIGKILL after a given step,
   so that tests interrupt a run at a chosen point instead of racing it. */
PetscErrorCode SgmSamplerTestSignal(SgmSampler sampler, PetscInt step)
{
  PetscMPIInt rank;

  PetscFunctionBegin;
  if ((sampler->test_signal_step <= 0 || step != sampler->test_signal_step) && (sampler->test_kill_step <= 0 || step != sampler->test_kill_step)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCallMPI(MPI_Comm_rank(PetscObjectComm((PetscObject)sampler), &rank));
  if (!rank) PetscCheck(!raise(step == sampler->test_kill_step ? SIGKILL : SIGTERM), PETSC_COMM_SELF, PETSC_ERR_SYS, "raise() failed");
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscBool SgmSignalCaught(void)
{
  return SgmSignal ? PETSC_TRUE : PETSC_FALSE;
}

PetscErrorCode SgmSamplerCheckpointSetFromOptions(SgmSampler sampler, PetscOptionItems *PetscOptionsObject)
{
  PetscFunctionBegin;
  PetscCall(PetscOptionsString("-checkpoint", "Checkpoint file (written every -checkpoint_every steps or -checkpoint_interval seconds, and on SIGTERM/SIGUSR1)", "SgmSamplerSetCheckpoint", sampler->ckpt_path, sampler->ckpt_path, sizeof(sampler->ckpt_path), NULL));
  PetscCall(PetscOptionsInt("-checkpoint_every", "Steps between checkpoints (0: none)", "SgmSamplerSetCheckpoint", sampler->ckpt_every, &sampler->ckpt_every, NULL));
  PetscCall(PetscOptionsReal("-checkpoint_interval", "Wall-clock seconds between checkpoints (0: none)", "SgmSamplerSetCheckpoint", sampler->ckpt_interval, &sampler->ckpt_interval, NULL));
  PetscCall(PetscOptionsInt("-checkpoint_test_signal_step", "Testing: rank 0 raises SIGTERM after this step, as a batch system would (0: never)", "", sampler->test_signal_step, &sampler->test_signal_step, NULL));
  PetscCall(PetscOptionsInt("-checkpoint_test_kill_step", "Testing: rank 0 dies by SIGKILL after this step, as on a node failure (0: never)", "", sampler->test_kill_step, &sampler->test_kill_step, NULL));
  PetscCheck(sampler->ckpt_every >= 0 && sampler->ckpt_interval >= 0, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "-checkpoint_every and -checkpoint_interval must be non-negative; got %" PetscInt_FMT " and %g", sampler->ckpt_every, (double)sampler->ckpt_interval);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerSetCheckpoint(SgmSampler sampler, const char path[], PetscInt every, PetscReal interval)
{
  PetscFunctionBegin;
  if (path) PetscCall(PetscStrncpy(sampler->ckpt_path, path, sizeof(sampler->ckpt_path)));
  if (every >= 0) sampler->ckpt_every = every;
  if (interval >= 0) sampler->ckpt_interval = interval;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* flush(ctx) runs before each checkpoint: what the run has written must be on disk first. */
PetscErrorCode SgmSamplerSetCheckpointFlush(SgmSampler sampler, PetscErrorCode (*flush)(void *), void *ctx)
{
  PetscFunctionBegin;
  sampler->ckpt_flush    = flush;
  sampler->ckpt_flushctx = ctx;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerGetInterrupted(SgmSampler sampler, PetscBool *flg)
{
  PetscFunctionBegin;
  *flg = sampler->interrupted;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerGetFramesDone(SgmSampler sampler, PetscInt *n)
{
  PetscFunctionBegin;
  *n = sampler->framesdone;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerCheckpointWrite(SgmSampler sampler)
{
  MPI_Comm   comm = PetscObjectComm((PetscObject)sampler);
  SgmOutput  o;
  hid_t      file;
  PetscInt   step;
  PetscReal  tau, dt;
  PetscInt64 nfe;

  PetscFunctionBegin;
  PetscCheck(sampler->ckpt_path[0], comm, PETSC_ERR_USER_INPUT, "A checkpoint is due but no -checkpoint FILE is set");
  if (sampler->ckpt_flush) PetscCall((*sampler->ckpt_flush)(sampler->ckpt_flushctx));
  PetscCall(TSGetStepNumber(sampler->ts, &step));
  PetscCall(TSGetTime(sampler->ts, &tau));
  PetscCall(TSGetTimeStep(sampler->ts, &dt));
  PetscCall(SgmScoreGetNFE(sampler->score, &nfe));
  PetscCall(SgmOutputCreate(comm, sampler->ckpt_path, PETSC_TRUE, &o));
  PetscCall(SgmOutputGetFile(o, &file));
  PetscCall(SgmOutputWriteProvenance(o, sampler->seed));
  PetscCall(SgmH5AttrInt(file, "sgm_checkpoint", 1));
  PetscCall(SgmH5AttrString(file, "sampler_type", ((PetscObject)sampler)->type_name));
  PetscCall(SgmH5AttrInt(file, "nsamples", sampler->N));
  PetscCall(SgmH5AttrInt(file, "dimension", SgmBatchSampleDimension(&sampler->batch)));
  if (sampler->batch.field) PetscCall(SgmFieldWriteAttributes(sampler->batch.field, file));
  PetscCall(SgmH5AttrInt(file, "sampler_steps", sampler->nsteps));
  PetscCall(SgmH5AttrInt(file, "step", step));
  PetscCall(SgmH5AttrReal(file, "tau", tau));
  PetscCall(SgmH5AttrReal(file, "time_step", dt));
  PetscCall(SgmH5AttrInt(file, "nfe", sampler->nfe_restart + nfe - sampler->nfe0));
  PetscCall(SgmH5AttrInt(file, "frames", sampler->framesdone));
  PetscCall(SgmOutputWriteBatch(o, "x", &sampler->batch, sampler->X));
  PetscTryTypeMethod(sampler, checkpointwrite, o);
  PetscCall(SgmOutputClose(&o));
  PetscCall(PetscTime(&sampler->ckpt_last));
  PetscCall(PetscInfo(sampler, "checkpoint at step %" PetscInt_FMT ", tau %g -> %s\n", step, (double)tau, sampler->ckpt_path));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckMatch(MPI_Comm comm, const char path[], hid_t file, const char name[], PetscInt64 want)
{
  PetscInt64 v;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrGetInt(comm, file, name, &v));
  PetscCheck(v == want, comm, PETSC_ERR_USER_INPUT, "The checkpoint '%s' has %s = %" PetscInt64_FMT " but this run has %" PetscInt64_FMT ": restart with the options of the interrupted run", path, name, v, want);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Load a checkpoint into a set-up sampler; the next SgmSamplerSolve() continues from it. */
PetscErrorCode SgmSamplerRestart(SgmSampler sampler, const char path[])
{
  MPI_Comm   comm = PetscObjectComm((PetscObject)sampler);
  hid_t      file, fapl;
  PetscInt64 step, nfe, frames, flag;
  PetscReal  tau, dt;
  char       type[256];
  int        exists = 0;

  PetscFunctionBegin;
  PetscCall(SgmSamplerSetUp(sampler));
  PetscCallMPI(MPI_Comm_rank(comm, &exists));
  exists = access(path, R_OK) == 0;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &exists, 1, MPI_INT, MPI_MIN, comm));
  PetscCheck(exists, comm, PETSC_ERR_FILE_OPEN, "Cannot read the checkpoint '%s': it does not exist or is not readable", path);
  PetscCallHDF5(fapl = H5Pcreate(H5P_FILE_ACCESS));
  PetscCallHDF5(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL));
  file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  PetscCallHDF5(H5Pclose(fapl));
  PetscCheck(file >= 0, comm, PETSC_ERR_FILE_OPEN, "The checkpoint '%s' is not a readable HDF5 file", path);
  PetscCheck(H5Aexists(file, "sgm_checkpoint") > 0, comm, PETSC_ERR_FILE_UNEXPECTED, "'%s' is not an sgm checkpoint (no sgm_checkpoint attribute)", path);
  PetscCall(SgmH5AttrGetInt(comm, file, "sgm_checkpoint", &flag));
  PetscCall(SgmH5AttrGetString(comm, file, "sampler_type", type, sizeof(type)));
  {
    PetscBool same;
    PetscCall(PetscStrcmp(type, ((PetscObject)sampler)->type_name, &same));
    PetscCheck(same, comm, PETSC_ERR_USER_INPUT, "The checkpoint '%s' was written by sampler %s, not %s: restart with the options of the interrupted run", path, type, ((PetscObject)sampler)->type_name);
  }
  PetscCall(CheckMatch(comm, path, file, "nsamples", sampler->N));
  if (sampler->batch.field) PetscCall(SgmFieldCheckAttributes(sampler->batch.field, file, path));
  PetscCall(CheckMatch(comm, path, file, "dimension", SgmBatchSampleDimension(&sampler->batch)));
  PetscCall(CheckMatch(comm, path, file, "seed", sampler->seed));
  PetscCall(CheckMatch(comm, path, file, "sampler_steps", sampler->nsteps));
  PetscCall(SgmH5AttrGetInt(comm, file, "step", &step));
  PetscCall(SgmH5AttrGetReal(comm, file, "tau", &tau));
  PetscCall(SgmH5AttrGetReal(comm, file, "time_step", &dt));
  PetscCall(SgmH5AttrGetInt(comm, file, "nfe", &nfe));
  PetscCall(SgmH5AttrGetInt(comm, file, "frames", &frames));
  PetscCall(SgmH5ReadBatch(file, "x", &sampler->batch, sampler->X));
  PetscTryTypeMethod(sampler, checkpointread, file);
  PetscCallHDF5(H5Fclose(file));
  PetscCall(TSSetStepNumber(sampler->ts, (PetscInt)step));
  PetscCall(TSSetTime(sampler->ts, tau));
  PetscCall(TSSetTimeStep(sampler->ts, dt));
  sampler->framesdone  = (PetscInt)frames;
  sampler->nfe_restart = nfe;
  sampler->restarted   = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}
