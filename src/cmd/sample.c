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

/*
  Unknown options.  PETSc marks an option used when some code queries it, so after set-up an option
  nobody queried is either misspelt or belongs to a type that is not selected (-ddim_eta in a deck
  run with -sampler_type em, -ts_rk_type under a fixed-step sampler).  To tell them apart, the
  unused options are copied into a scratch options database, and a scratch object of every
  registered type of SDE, score, sampler, TS and TSAdapt reads its options from it: an option that
  none of them queries is unknown to sgm, and an error.  -allow_unused_options (or -options_left no)
  lets the run go on; PETSc then lists the option at the end as usual.
*/
typedef enum {
  PROBE_SDE,
  PROBE_SCORE,
  PROBE_SAMPLER,
  PROBE_TS,
  PROBE_TSADAPT
} ProbeKind;

static PetscErrorCode ProbeType(MPI_Comm comm, ProbeKind kind, const char type[], PetscInt n, char **names, char **values, PetscBool known[])
{
  PetscOptions db;
  char         key[256];
  SgmSDE       sde;
  SgmScore     score;
  SgmSampler   sampler;
  TS           ts;

  PetscFunctionBegin;
  PetscCall(PetscOptionsCreate(&db));
  for (PetscInt i = 0; i < n; i++) {
    PetscCall(PetscSNPrintf(key, sizeof(key), "-%s", names[i]));
    PetscCall(PetscOptionsSetValue(db, key, values[i]));
  }
  switch (kind) {
  case PROBE_SDE:
    PetscCall(PetscOptionsSetValue(db, "-sde_type", type));
    PetscCall(SgmSDECreate(comm, &sde));
    PetscCall(PetscObjectSetOptions((PetscObject)sde, db));
    PetscCall(SgmSDESetFromOptions(sde));
    PetscCall(SgmSDEDestroy(&sde));
    break;
  case PROBE_SCORE:
  case PROBE_SAMPLER:
    PetscCall(PetscOptionsSetValue(db, kind == PROBE_SCORE ? "-score_type" : "-sampler_type", type));
    PetscCall(SgmScoreCreate(comm, &score));
    PetscCall(PetscObjectSetOptions((PetscObject)score, db));
    PetscCall(SgmScoreGetSDE(score, &sde));
    PetscCall(PetscObjectSetOptions((PetscObject)sde, db));
    if (kind == PROBE_SCORE) PetscCall(SgmScoreSetFromOptions(score));
    else {
      PetscCall(SgmSamplerCreate(comm, &sampler));
      PetscCall(PetscObjectSetOptions((PetscObject)sampler, db));
      PetscCall(SgmSamplerSetScore(sampler, score));
      PetscCall(SgmSamplerGetTS(sampler, &ts));
      PetscCall(PetscObjectSetOptions((PetscObject)ts, db));
      PetscCall(SgmSamplerSetFromOptions(sampler));
      PetscCall(SgmSamplerDestroy(&sampler));
    }
    PetscCall(SgmScoreDestroy(&score));
    break;
  case PROBE_TS:
  case PROBE_TSADAPT:
    PetscCall(PetscOptionsSetValue(db, "-ts_type", kind == PROBE_TS ? type : TSRK));
    if (kind == PROBE_TSADAPT) PetscCall(PetscOptionsSetValue(db, "-ts_adapt_type", type));
    PetscCall(TSCreate(comm, &ts));
    PetscCall(PetscObjectSetOptions((PetscObject)ts, db));
    PetscCall(TSSetFromOptions(ts));
    PetscCall(TSDestroy(&ts));
    break;
  }
  for (PetscInt i = 0; i < n; i++) {
    PetscBool used;
    PetscCall(PetscOptionsUsed(db, names[i], &used));
    known[i] = (PetscBool)(known[i] || used);
  }
  PetscCall(PetscOptionsDestroy(&db));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckUnusedOptions(MPI_Comm comm)
{
  PetscInt          n, nunknown = 0;
  char            **names, **values, list[1024] = "";
  PetscBool        *known;
  PetscFunctionList lists[]    = {SgmSDEList, SgmScoreList, SgmSamplerList, TSList};
  const ProbeKind   kinds[]    = {PROBE_SDE, PROBE_SCORE, PROBE_SAMPLER, PROBE_TS};
  const char *const adaptors[] = {TSADAPTNONE, TSADAPTBASIC, TSADAPTDSP, TSADAPTCFL, TSADAPTGLEE, TSADAPTHISTORY, TSADAPTSGMGTG};

  PetscFunctionBegin;
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  PetscCall(PetscCalloc1(n, &known));
  for (size_t k = 0; n && k < sizeof(kinds) / sizeof(kinds[0]); k++) {
    const char **types;
    int          ntypes;
    PetscCall(PetscFunctionListGet(lists[k], &types, &ntypes));
    for (int j = 0; j < ntypes && types[j]; j++) { /* the array ends with NULL */
      PetscBool sgmts;
      PetscCall(PetscStrbeginswith(types[j], "sgm", &sgmts)); /* sgm's TS types need their sampler: probed as samplers */
      if (kinds[k] != PROBE_TS || !sgmts) PetscCall(ProbeType(comm, kinds[k], types[j], n, names, values, known));
    }
    PetscCall(PetscFree(types));
  }
  for (size_t k = 0; n && k < sizeof(adaptors) / sizeof(adaptors[0]); k++) PetscCall(ProbeType(comm, PROBE_TSADAPT, adaptors[k], n, names, values, known));
  for (PetscInt i = 0; i < n; i++) {
    if (known[i]) continue;
    PetscCall(PetscStrlcat(list, nunknown++ ? ", -" : "-", sizeof(list)));
    PetscCall(PetscStrlcat(list, names[i], sizeof(list)));
  }
  PetscCall(PetscFree(known));
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscCheck(!nunknown, comm, PETSC_ERR_USER_INPUT, "unknown option%s %s (misspelt? see `sgm sample -help`, or add -allow_unused_options to run anyway)", nunknown > 1 ? "s" : "", list);
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
  if (!allowunused && !(leftset && !left)) PetscCall(CheckUnusedOptions(comm));
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
    PetscCall(PetscPrintf(comm, "sgm sample: %" PetscInt_FMT " samples of dimension %" PetscInt_FMT ", sampler %s, %" PetscInt_FMT " steps, NFE %" PetscInt64_FMT ", %d rank(s), %.3f s -> %s\n", b->N, b->d, type, steps, nfe, size, t1 - t0, output));
  }
  PetscCall(SgmSamplerDestroy(&sampler));
  PetscFunctionReturn(PETSC_SUCCESS);
}
