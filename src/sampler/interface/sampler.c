/*
  SgmSampler: draws N samples by integrating the reverse-time SDE
      dx = [f(t) x - g(t)^2 s(x,t)] dt + g(t) dw_bar            (Song et al. 2021, eq. 6)
  or the probability-flow ODE
      dx = [f(t) x - 1/2 g(t)^2 s(x,t)] dt                      (eq. 13)
  from t = T down to t = eps, with a PETSc TS.  TS integrates in reverse time tau = T - t, forward
  from 0 to T - eps, so every PETSc time-stepping option applies unchanged.
*/
#include <sgm/private/samplerimpl.h>
#include <sgm/private/scoreimpl.h>
#include <sgm/private/sdeimpl.h>
#include <sgmio.h>
#include <sgmfield.h>

PetscFunctionList SgmSamplerList = NULL;
const char *const SgmSchedules[] = {"uniform", "karras", "logsnr", "quadratic", "SgmSchedule", "SGM_SCHEDULE_", NULL};

PetscErrorCode SgmSamplerRegister(const char name[], PetscErrorCode (*create)(SgmSampler))
{
  PetscFunctionBegin;
  PetscCall(SgmInitializePackage());
  PetscCall(PetscFunctionListAdd(&SgmSamplerList, name, create));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerCreate(MPI_Comm comm, SgmSampler *sampler)
{
  SgmSampler s;

  PetscFunctionBegin;
  PetscValidPointer(sampler, 2);
  PetscCall(SgmInitializePackage());
  PetscCall(PetscHeaderCreate(s, SGM_SAMPLER_CLASSID, "SgmSampler", "Reverse-time sampler", "SgmSampler", comm, SgmSamplerDestroy, SgmSamplerView));
  s->N      = 10000;
  s->nsteps = 1000;
  s->seed   = 0;
  s->rho    = 7;
  PetscCall(TSCreate(comm, &s->ts));
  PetscCall(PetscObjectIncrementTabLevel((PetscObject)s->ts, (PetscObject)s, 1));
  PetscCall(TSSetApplicationContext(s->ts, s));
  *sampler = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerSetType(SgmSampler sampler, SgmSamplerType type)
{
  PetscErrorCode (*create)(SgmSampler);
  PetscBool match;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(sampler, SGM_SAMPLER_CLASSID, 1);
  PetscCall(PetscObjectTypeCompare((PetscObject)sampler, type, &match));
  if (match) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFunctionListFind(SgmSamplerList, type, &create));
  PetscCheck(create, PetscObjectComm((PetscObject)sampler), PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown sampler '%s' (-sampler_type): choose em, ancestral, ode, pc, ald, ddim, heun, edm, dpmpp2m or adaptive", type);
  PetscTryTypeMethod(sampler, destroy);
  PetscCall(PetscMemzero(sampler->ops, sizeof(struct _SgmSamplerOps)));
  sampler->data        = NULL;
  sampler->setupcalled = PETSC_FALSE;
  sampler->fields      = PETSC_FALSE;
  sampler->schedule    = SGM_SCHEDULE_UNIFORM;
  if (!sampler->nstepsset) sampler->nsteps = 1000;
  PetscCall(PetscObjectChangeTypeName((PetscObject)sampler, type));
  PetscCall((*create)(sampler));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A type's defaults for the number of steps and the grid, unless the user chose them. */
PetscErrorCode SgmSamplerSetDefaults_Private(SgmSampler sampler, PetscInt nsteps, SgmSchedule schedule)
{
  PetscFunctionBegin;
  if (!sampler->nstepsset) sampler->nsteps = nsteps;
  sampler->schedule = schedule;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerGetType(SgmSampler sampler, SgmSamplerType *type)
{
  PetscFunctionBegin;
  *type = ((PetscObject)sampler)->type_name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerSetScore(SgmSampler sampler, SgmScore score)
{
  PetscFunctionBegin;
  PetscCall(PetscObjectReference((PetscObject)score));
  PetscCall(SgmScoreDestroy(&sampler->score));
  sampler->score = score;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerGetScore(SgmSampler sampler, SgmScore *score)
{
  PetscFunctionBegin;
  if (!sampler->score) {
    PetscCall(SgmScoreCreate(PetscObjectComm((PetscObject)sampler), &sampler->score));
    PetscCall(PetscObjectSetOptionsPrefix((PetscObject)sampler->score, ((PetscObject)sampler)->prefix));
  }
  *score = sampler->score;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerGetSDE(SgmSampler sampler, SgmSDE *sde)
{
  SgmScore score;

  PetscFunctionBegin;
  PetscCall(SgmSamplerGetScore(sampler, &score));
  PetscCall(SgmScoreGetSDE(score, sde));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerSetNumSamples(SgmSampler sampler, PetscInt N)
{
  PetscFunctionBegin;
  PetscCheck(N > 0, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "-nsamples must be a positive integer; got %" PetscInt_FMT, N);
  sampler->N           = N;
  sampler->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerSetSeed(SgmSampler sampler, PetscInt64 seed)
{
  PetscFunctionBegin;
  sampler->seed = seed;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerGetSeed(SgmSampler sampler, PetscInt64 *seed)
{
  PetscFunctionBegin;
  *seed = sampler->seed;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerSetNumSteps(SgmSampler sampler, PetscInt n)
{
  PetscFunctionBegin;
  PetscCheck(n > 0, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "-sampler_steps must be a positive integer; got %" PetscInt_FMT, n);
  sampler->nsteps      = n;
  sampler->nstepsset   = PETSC_TRUE;
  sampler->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerSetFromOptions(SgmSampler sampler)
{
  char      type[256];
  PetscBool flg, flg2;
  SgmScore  score;
  PetscInt  N, seed;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(sampler, SGM_SAMPLER_CLASSID, 1);
  PetscCall(SgmSamplerGetScore(sampler, &score));
  PetscCall(SgmScoreSetFromOptions(score));
  PetscObjectOptionsBegin((PetscObject)sampler);
  PetscCall(PetscOptionsFList("-sampler_type", "Sampler (also -sampler)", "SgmSamplerSetType", SgmSamplerList, ((PetscObject)sampler)->type_name ? ((PetscObject)sampler)->type_name : SGMSAMPLEREM, type, sizeof(type), &flg));
  if (!flg) PetscCall(PetscOptionsFList("-sampler", "Shorthand for -sampler_type", "SgmSamplerSetType", SgmSamplerList, ((PetscObject)sampler)->type_name ? ((PetscObject)sampler)->type_name : SGMSAMPLEREM, type, sizeof(type), &flg));
  if (flg || !((PetscObject)sampler)->type_name) PetscCall(SgmSamplerSetType(sampler, flg ? type : SGMSAMPLEREM));
  N = sampler->N;
  PetscCall(PetscOptionsInt("-nsamples", "Number of samples N", "SgmSamplerSetNumSamples", N, &N, &flg));
  if (flg) PetscCall(SgmSamplerSetNumSamples(sampler, N));
  seed = (PetscInt)sampler->seed;
  PetscCall(PetscOptionsInt("-seed", "Seed of the counter-based generator (same seed, same samples on any number of ranks)", "SgmSamplerSetSeed", seed, &seed, &flg));
  PetscCheck(!flg || seed >= 0, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "-seed must be a non-negative integer; got %" PetscInt_FMT, seed);
  if (flg) sampler->seed = seed;
  N = sampler->nsteps;
  PetscCall(PetscOptionsInt("-sampler_steps", "Number of steps (fixed-step samplers) or first step = (T-eps)/steps (adaptive)", "SgmSamplerSetNumSteps", N, &N, &flg));
  if (flg) PetscCall(SgmSamplerSetNumSteps(sampler, N));
  PetscCall(PetscOptionsEnum("-sampler_schedule", "Spacing of the time grid of fixed-step samplers", "SgmSamplerSetSchedule", SgmSchedules, (PetscEnum)sampler->schedule, (PetscEnum *)&sampler->schedule, NULL));
  PetscCall(PetscOptionsReal("-karras_rho", "Exponent rho of the karras schedule", "SgmSamplerSetSchedule", sampler->rho, &sampler->rho, NULL));
  PetscCall(PetscOptionsReal("-karras_sigma_min", "Smallest sigma/alpha of the karras schedule (default: that of t = eps)", "SgmSamplerSetSchedule", sampler->karras_smin, &sampler->karras_smin, NULL));
  PetscCall(PetscOptionsReal("-karras_sigma_max", "Largest sigma/alpha of the karras schedule (default: that of t = T)", "SgmSamplerSetSchedule", sampler->karras_smax, &sampler->karras_smax, NULL));
  PetscCall(PetscOptionsBool("-sampler_denoise", "Finish with the Tweedie denoising step x0 = (x + sigma^2 s(x,eps))/alpha (one more NFE)", "", sampler->denoise, &sampler->denoise, NULL));
  PetscCall(PetscOptionsInt("-trajectory_frames", "Frames of the whole batch saved to /trajectory (0: none)", "SgmSamplerSetTrajectory", sampler->nframes, &sampler->nframes, &flg2));
  PetscCheck(sampler->nframes >= 0 && sampler->nframes != 1, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "-trajectory_frames must be 0 or at least 2 (start and end); got %" PetscInt_FMT, sampler->nframes);
  PetscCall(SgmSamplerCheckpointSetFromOptions(sampler, PetscOptionsObject));
  PetscCall(SgmSamplerProjectionSetFromOptions_Private(sampler, PetscOptionsObject));
  PetscTryTypeMethod(sampler, setfromoptions, PetscOptionsObject);
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerSetSchedule(SgmSampler sampler, SgmSchedule schedule)
{
  PetscFunctionBegin;
  sampler->schedule    = schedule;
  sampler->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The grid T = t_0 > t_1 > ... > t_n of the fixed-step samplers:
    uniform  t_k = T + (eps - T) k/n
    logsnr   lambda(t_k) uniform between lambda(T) and lambda(eps), lambda = log(alpha/sigma)   (DPM-Solver)
    quadratic  t_k = (sqrt(T) + (sqrt(eps) - sqrt(T)) k/n)^2              (DPM-Solver's "time_quadratic")
    karras   sigma_k = (smax^(1/rho) + k/(n-1) (smin^(1/rho) - smax^(1/rho)))^rho, k < n, and t_n = 0,
             with sigma = sigma(t)/alpha(t)                                                    (EDM, eq. 5);
             when smin is the SDE's floor at t = 0 (t_{n-1} would be 0: poly2 with eps = 0, whose
             sigma(0) > 0): k/n for k <= n instead, ending at t_n = 0
*/
static PetscErrorCode SgmSamplerComputeGrid(SgmSampler sampler)
{
  SgmSDE    sde = sampler->score->sde;
  PetscInt  n   = sampler->nsteps;
  PetscReal *tg;
  MPI_Comm  comm = PetscObjectComm((PetscObject)sampler);

  PetscFunctionBegin;
  PetscCall(PetscFree(sampler->tgrid));
  PetscCall(PetscMalloc1(n + 1, &sampler->tgrid));
  tg = sampler->tgrid;
  switch (sampler->schedule) {
  case SGM_SCHEDULE_UNIFORM:
    for (PetscInt k = 0; k <= n; k++) tg[k] = sde->T + (sde->eps - sde->T) * ((PetscReal)k / n);
    tg[n] = sde->eps;
    break;
  case SGM_SCHEDULE_QUADRATIC:
    for (PetscInt k = 0; k <= n; k++) {
      PetscReal r = PetscSqrtReal(sde->T) + (PetscSqrtReal(sde->eps) - PetscSqrtReal(sde->T)) * ((PetscReal)k / n);
      tg[k]       = r * r;
    }
    tg[0] = sde->T;
    tg[n] = sde->eps;
    break;
  case SGM_SCHEDULE_LOGSNR: {
    PetscReal r0, r1;
    PetscCheck(sde->eps > 0, comm, PETSC_ERR_USER_INPUT, "The logsnr schedule needs -sde_eps > 0 (log SNR is infinite at t = 0)");
    PetscCall(SgmSDENoiseToSignal(sde, sde->T, &r0));
    PetscCall(SgmSDENoiseToSignal(sde, sde->eps, &r1));
    for (PetscInt k = 0; k <= n; k++) {
      PetscReal lr = PetscLogReal(r0) + (PetscLogReal(r1) - PetscLogReal(r0)) * ((PetscReal)k / n);
      PetscCall(SgmSDETimeFromNoiseToSignal(sde, PetscExpReal(lr), &tg[k]));
    }
    tg[0] = sde->T;
    tg[n] = sde->eps;
  } break;
  case SGM_SCHEDULE_KARRAS: {
    PetscReal smin = sampler->karras_smin, smax = sampler->karras_smax, rho = sampler->rho;
    if (smin <= 0) PetscCall(SgmSDENoiseToSignal(sde, PetscMax(sde->eps, PETSC_SMALL), &smin));
    if (smax <= 0) PetscCall(SgmSDENoiseToSignal(sde, sde->T, &smax));
    PetscCheck(n >= 2, comm, PETSC_ERR_USER_INPUT, "The karras schedule needs -sampler_steps >= 2; got %" PetscInt_FMT, n);
    PetscCheck(rho > 0 && smin < smax, comm, PETSC_ERR_USER_INPUT, "The karras schedule needs -karras_rho > 0 and -karras_sigma_min < -karras_sigma_max; got %g, %g, %g", (double)rho, (double)smin, (double)smax);
    for (PetscInt k = 0; k < n; k++) {
      PetscReal s = PetscPowReal(PetscPowReal(smax, 1 / rho) + ((PetscReal)k / (n - 1)) * (PetscPowReal(smin, 1 / rho) - PetscPowReal(smax, 1 / rho)), rho);
      PetscCall(SgmSDETimeFromNoiseToSignal(sde, s, &tg[k]));
    }
    tg[n] = 0;
    if (tg[n - 1] <= 0) {
      /* sigma_min is the SDE's own floor at t = 0 (poly2 with eps = 0: sigma(0) = sqrt(s) > 0), so
         sigma_{n-1} is already reached at t = 0 and the final step to t = 0 would have zero length:
         spread the n steps down to sigma_min itself, t_n = 0.  (With eps > 0, t_{n-1} = eps up to
         the inversion's rounding, possibly just below eps: the usual grid.) */
      for (PetscInt k = 0; k <= n; k++) {
        PetscReal s = PetscPowReal(PetscPowReal(smax, 1 / rho) + ((PetscReal)k / n) * (PetscPowReal(smin, 1 / rho) - PetscPowReal(smax, 1 / rho)), rho);
        PetscCall(SgmSDETimeFromNoiseToSignal(sde, s, &tg[k]));
      }
      tg[n] = 0;
    }
  } break;
  }
  for (PetscInt k = 0; k < n; k++) PetscCheck(tg[k + 1] < tg[k], comm, PETSC_ERR_USER_INPUT, "The %s time grid is not decreasing at step %" PetscInt_FMT " (t = %g, %g): fewer steps or other schedule bounds", SgmSchedules[sampler->schedule], k, (double)tg[k], (double)tg[k + 1]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerGetGridTime(SgmSampler sampler, PetscInt k, PetscReal *t)
{
  PetscFunctionBegin;
  PetscCheck(sampler->tgrid && k >= 0 && k <= sampler->nsteps, PetscObjectComm((PetscObject)sampler), PETSC_ERR_ARG_OUTOFRANGE, "Grid index %" PetscInt_FMT " outside 0..%" PetscInt_FMT " (or sampler not set up)", k, sampler->nsteps);
  *t = sampler->tgrid[k];
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerTauToTime(SgmSampler sampler, PetscReal tau, PetscReal *t)
{
  PetscFunctionBegin;
  *t = sampler->score->sde->T - tau;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerFromTS(TS ts, SgmSampler *sampler)
{
  void *ctx;

  PetscFunctionBegin;
  PetscCall(TSGetApplicationContext(ts, &ctx));
  PetscCheck(ctx && ((PetscObject)ctx)->classid == SGM_SAMPLER_CLASSID, PetscObjectComm((PetscObject)ts), PETSC_ERR_ARG_WRONG, "TS types sgmem and sgmancestral are driven by an SgmSampler (use sgm sample)");
  *sampler = (SgmSampler)ctx;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The right-hand side in reverse time: F(tau, x) = -[f(t) x - lambda g(t)^2 s(x,t)], t = T - tau,
  with lambda = 1/2 for the probability-flow ODE and lambda = 1 for the drift of the reverse SDE.
*/
PetscErrorCode SgmSamplerReverseDrift(SgmSampler sampler, PetscReal t, PetscReal lambda, Vec X, Vec F)
{
  PetscReal f, g;

  PetscFunctionBegin;
  PetscCall(SgmScoreApply(sampler->score, t, &sampler->batch, X, F));
  PetscCall(SgmSDECoefficients(sampler->score->sde, t, &f, &g));
  PetscCall(SgmVecAXPBY(F, -f, lambda * g * g, X));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* 1 if any of x[0..n) is Inf or NaN: all exponent bits set.  Integer operations only, so the loop
   vectorises (this runs after every step). */
static PetscInt SgmAnyNonFinite(PetscInt n, const PetscScalar *x)
{
  const uint64_t expo = 0x7ff0000000000000ULL;
  uint64_t       bad  = 0;

  for (PetscInt i = 0; i < n; i++) {
    uint64_t u;
    memcpy(&u, &x[i], sizeof(u));
    bad |= (u & expo) == expo;
  }
  return (PetscInt)bad;
}

/* NaN or Inf in the state ends the run with a sentence that says where.  The same reduction tells
   every rank whether any rank caught a signal or reached its checkpoint interval. */
static PetscErrorCode SgmSamplerCheckState(SgmSampler sampler, PetscInt step, PetscReal t, PetscBool *ckpt, PetscBool *stop)
{
  const PetscScalar *x;
  PetscInt           n, flags[3] = {0, 0, 0}, g[3];
  PetscLogDouble     now;

  PetscFunctionBegin;
  PetscCall(VecGetLocalSize(sampler->X, &n));
  PetscCall(VecGetArrayRead(sampler->X, &x));
  flags[0] = SgmAnyNonFinite(n, x);
  PetscCall(VecRestoreArrayRead(sampler->X, &x));
  flags[1] = SgmSignalCaught();
  PetscCall(PetscTime(&now));
  flags[2] = sampler->ckpt_interval > 0 && now - sampler->ckpt_last >= sampler->ckpt_interval;
  PetscCall(MPIU_Allreduce(flags, g, 3, MPIU_INT, MPI_MAX, PetscObjectComm((PetscObject)sampler)));
  PetscCheck(!g[0], PetscObjectComm((PetscObject)sampler), PETSC_ERR_FP, "Sampler %s produced NaN or Inf at step %" PetscInt_FMT " (t = %g): reduce the step size (-sampler_steps) or check the score model", ((PetscObject)sampler)->type_name, step, (double)t);
  if (stop) *stop = (PetscBool)g[1];
  if (ckpt) *ckpt = (PetscBool)(g[1] || g[2] || (sampler->ckpt_every > 0 && step % sampler->ckpt_every == 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerCheckFinite(SgmSampler sampler, PetscInt step, PetscReal t)
{
  PetscFunctionBegin;
  PetscCall(SgmSamplerCheckState(sampler, step, t, NULL, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After every accepted step: NaN guard, trajectory frames, checkpoint, and a clean stop on a signal. */
static PetscErrorCode SgmSamplerPostStep(TS ts)
{
  SgmSampler sampler;
  PetscInt   step;
  PetscReal  tau, t, taumax;
  PetscBool  ckpt, stop;

  PetscFunctionBegin;
  PetscCall(SgmSamplerFromTS(ts, &sampler));
  PetscCall(TSGetStepNumber(ts, &step));
  PetscCall(TSGetTime(ts, &tau));
  PetscCall(TSGetMaxTime(ts, &taumax));
  PetscCall(SgmSamplerTauToTime(sampler, tau, &t));
  PetscCall(SgmSamplerTestSignal(sampler, step));
  PetscCall(SgmSamplerZeroCoM_Private(sampler, sampler->X)); /* zero-CoM clouds: back onto the subspace */
  PetscCall(SgmSamplerProjectionPostStep_Private(sampler, step, t)); /* -inverse_projection */
  PetscCall(SgmSamplerCheckState(sampler, step, t, &ckpt, &stop));
  PetscCall(SgmSamplerRecordFrames(sampler, tau));
  /* a restarted run recomputes the first stage of its next step; without this, an FSAL scheme
     (Dormand-Prince) would reuse the last stage's value, equal only to rounding */
  if (sampler->restartstep) PetscCall(TSRestartStep(ts));
  if (tau >= taumax) PetscFunctionReturn(PETSC_SUCCESS); /* done: neither checkpoint nor stop */
  if (ckpt) PetscCall(SgmSamplerCheckpointWrite(sampler));
  if (stop) {
    sampler->interrupted = PETSC_TRUE;
    PetscCall(TSSetConvergedReason(ts, TS_CONVERGED_USER));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Saves frame j once tau reaches j (T - t_end)/(F - 1); called at the start and after every step. */
PetscErrorCode SgmSamplerRecordFrames(SgmSampler sampler, PetscReal tau)
{
  SgmSDE    sde  = sampler->score->sde;
  PetscReal span = sde->T - sampler->tgrid[sampler->nsteps];

  PetscFunctionBegin;
  if (!sampler->frame) PetscFunctionReturn(PETSC_SUCCESS);
  while (sampler->framesdone < sampler->nframes && tau >= span * sampler->framesdone / (sampler->nframes - 1) - 1e-9 * span) {
    PetscCall(sampler->frame(sampler, sampler->framesdone, sde->T - tau, sampler->X, sampler->framectx));
    sampler->framesdone++;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Record nframes frames of the batch through frame(sampler, j, t, X, ctx). */
PetscErrorCode SgmSamplerSetTrajectory(SgmSampler sampler, PetscInt nframes, PetscErrorCode (*frame)(SgmSampler, PetscInt, PetscReal, Vec, void *), void *ctx)
{
  PetscFunctionBegin;
  if (nframes >= 0) sampler->nframes = nframes;
  sampler->frame    = frame;
  sampler->framectx = ctx;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerSetUp(SgmSampler sampler)
{
  SgmScore score;
  SgmSDE   sde;
  PetscInt d;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(sampler, SGM_SAMPLER_CLASSID, 1);
  if (sampler->setupcalled) PetscFunctionReturn(PETSC_SUCCESS);
  if (!((PetscObject)sampler)->type_name) PetscCall(SgmSamplerSetType(sampler, SGMSAMPLEREM));
  PetscCall(SgmSamplerGetScore(sampler, &score));
  PetscCall(SgmScoreSetUp(score));
  PetscCall(SgmScoreGetDimension(score, &d));
  sde = score->sde;
  PetscCall(VecDestroy(&sampler->X));
  PetscCall(VecDestroy(&sampler->work));
  PetscCall(VecDestroy(&sampler->noise));
  if (score->field) {
    PetscCheck(sampler->fields, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "Sampler %s cannot sample fields (score type %s): choose em, ancestral, ddim, heun, edm, dpmpp2m, ode, pc, ald or adaptive", ((PetscObject)sampler)->type_name, ((PetscObject)score)->type_name);
    PetscCall(SgmBatchCreateField(PetscObjectComm((PetscObject)sampler), sampler->N, score->field, &sampler->batch));
  } else PetscCall(SgmBatchCreate(PetscObjectComm((PetscObject)sampler), sampler->N, d, &sampler->batch));
  PetscCall(SgmBatchCreateVec(&sampler->batch, &sampler->X));
  PetscCall(VecDuplicate(sampler->X, &sampler->work));
  PetscCall(VecDuplicate(sampler->X, &sampler->noise));
  PetscCall(SgmSamplerZeroCoMSetUp_Private(sampler));
  PetscCall(TSSetSolution(sampler->ts, sampler->X));
  PetscCall(SgmSamplerComputeGrid(sampler));
  PetscCall(TSSetTime(sampler->ts, 0));
  PetscCall(TSSetMaxTime(sampler->ts, sde->T - sampler->tgrid[sampler->nsteps]));
  PetscCall(TSSetTimeStep(sampler->ts, sampler->tgrid[0] - sampler->tgrid[1]));
  PetscCall(TSSetExactFinalTime(sampler->ts, TS_EXACTFINALTIME_MATCHSTEP));
  PetscCall(TSSetPostStep(sampler->ts, SgmSamplerPostStep));
  PetscUseTypeMethod(sampler, setup);
  sampler->setupcalled = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* x_T from the prior, integrate to the end of the grid (eps), optionally denoise.  Result in SgmSamplerGetSamples(). */
PetscErrorCode SgmSamplerSolve(SgmSampler sampler)
{
  SgmSDE             sde;
  PetscScalar       *x;
  PetscReal          std;
  PetscInt64         nfe0;
  TSConvergedReason  reason;
  MPI_Comm           comm = PetscObjectComm((PetscObject)sampler);

  PetscFunctionBegin;
  PetscCall(SgmSamplerSetUp(sampler));
  sde = sampler->score->sde;
  PetscCall(SgmScoreGetNFE(sampler->score, &nfe0));
  sampler->nfe0 = nfe0;
  PetscCall(PetscTime(&sampler->ckpt_last));
  sampler->interrupted = PETSC_FALSE;
  if (!sampler->restarted) {
    PetscCall(SgmSDEGetPriorStd(sde, &std));
    PetscCall(VecGetArrayWrite(sampler->X, &x));
    PetscCall(SgmRandomNormalBatch((uint64_t)sampler->seed, SGM_STREAM_PRIOR, 0, &sampler->batch, x));
    for (PetscInt i = 0; i < sampler->batch.n * sampler->batch.d; i++) x[i] *= std;
    PetscCall(SgmSamplerZeroCoMArray_Private(sampler, sampler->batch.n, x)); /* zero-CoM clouds: N(0, std^2 P) */
    PetscCall(VecRestoreArrayWrite(sampler->X, &x));
    sampler->framesdone  = 0;
    sampler->nfe_restart = 0;
    PetscTryTypeMethod(sampler, presolve);
    PetscCall(TSSetTime(sampler->ts, 0));
    PetscCall(TSSetTimeStep(sampler->ts, sampler->tgrid[0] - sampler->tgrid[1]));
    PetscCall(TSSetStepNumber(sampler->ts, 0));
    PetscCall(SgmSamplerRecordFrames(sampler, 0));
  }
  PetscCall(TSSolve(sampler->ts, sampler->X));
  sampler->restarted = PETSC_FALSE;
  PetscCall(TSGetConvergedReason(sampler->ts, &reason));
  if (sampler->interrupted) {
    PetscCall(SgmScoreGetNFE(sampler->score, &sampler->nfe));
    sampler->nfe += sampler->nfe_restart - nfe0;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(reason >= 0, comm, PETSC_ERR_NOT_CONVERGED, "Sampler %s failed: TS stopped with %s; for an adaptive -ts_type loosen -ts_rtol/-ts_atol or raise -ts_max_steps", ((PetscObject)sampler)->type_name, TSConvergedReasons[reason]);
  if (sampler->denoise) { /* skipped where no noise is left (VP, VE at t = 0); poly2 keeps sigma(0) = sqrt(s) > 0 */
    PetscReal a, s, tend = sampler->tgrid[sampler->nsteps];
    PetscCall(SgmSDEMarginal(sde, tend, &a, &s));
    if (s > 0) {
      PetscCall(SgmScoreApply(sampler->score, tend, &sampler->batch, sampler->X, sampler->work));
      PetscCall(SgmVecAXPBY(sampler->X, s * s / a, 1 / a, sampler->work));
      PetscCall(SgmSamplerZeroCoM_Private(sampler, sampler->X));
      PetscCall(SgmSamplerCheckFinite(sampler, -1, tend));
    }
  }
  PetscCall(SgmScoreGetNFE(sampler->score, &sampler->nfe));
  sampler->nfe += sampler->nfe_restart - nfe0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerGetTS(SgmSampler sampler, TS *ts)
{
  PetscFunctionBegin;
  *ts = sampler->ts;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerGetSamples(SgmSampler sampler, Vec *X)
{
  PetscFunctionBegin;
  *X = sampler->X;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerGetBatch(SgmSampler sampler, const SgmBatch **b)
{
  PetscFunctionBegin;
  *b = &sampler->batch;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Score evaluations per sample in the last solve. */
PetscErrorCode SgmSamplerGetNFE(SgmSampler sampler, PetscInt64 *nfe)
{
  PetscFunctionBegin;
  *nfe = sampler->nfe;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerWriteAttributes(SgmSampler sampler, hid_t file)
{
  TSType   tstype;
  PetscInt steps;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrString(file, "sampler_type", ((PetscObject)sampler)->type_name));
  PetscCall(TSGetType(sampler->ts, &tstype));
  PetscCall(SgmH5AttrString(file, "ts_type", tstype));
  PetscCall(SgmH5AttrInt(file, "nsamples", sampler->N));
  PetscCall(SgmH5AttrInt(file, "sampler_steps", sampler->nsteps));
  PetscCall(SgmH5AttrString(file, "sampler_schedule", SgmSchedules[sampler->schedule]));
  PetscCall(TSGetStepNumber(sampler->ts, &steps));
  PetscCall(SgmH5AttrInt(file, "steps_taken", steps));
  PetscCall(SgmH5AttrInt(file, "sampler_denoise", sampler->denoise));
  PetscCall(SgmH5AttrInt(file, "nfe", sampler->nfe));
  PetscTryTypeMethod(sampler, attributes, file);
  PetscCall(SgmScoreWriteAttributes(sampler->score, file));
  PetscCall(SgmSDEWriteAttributes(sampler->score->sde, file));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerView(SgmSampler sampler, PetscViewer viewer)
{
  PetscBool iascii;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(PetscObjectComm((PetscObject)sampler), &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &iascii));
  if (iascii) {
    PetscCall(PetscObjectPrintClassNamePrefixType((PetscObject)sampler, viewer));
    PetscCall(PetscViewerASCIIPushTab(viewer));
    PetscCall(PetscViewerASCIIPrintf(viewer, "%" PetscInt_FMT " samples, %" PetscInt_FMT " steps, seed %" PetscInt64_FMT "%s\n", sampler->N, sampler->nsteps, sampler->seed, sampler->denoise ? ", Tweedie denoising" : ""));
    PetscTryTypeMethod(sampler, view, viewer);
    if (sampler->score) PetscCall(SgmScoreView(sampler->score, viewer));
    PetscCall(TSView(sampler->ts, viewer));
    PetscCall(PetscViewerASCIIPopTab(viewer));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSamplerDestroy(SgmSampler *sampler)
{
  PetscFunctionBegin;
  if (!*sampler) PetscFunctionReturn(PETSC_SUCCESS);
  PetscValidHeaderSpecific(*sampler, SGM_SAMPLER_CLASSID, 1);
  if (--((PetscObject)(*sampler))->refct > 0) {
    *sampler = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscTryTypeMethod(*sampler, destroy);
  PetscCall(TSDestroy(&(*sampler)->ts));
  PetscCall(VecDestroy(&(*sampler)->X));
  PetscCall(VecDestroy(&(*sampler)->work));
  PetscCall(VecDestroy(&(*sampler)->noise));
  PetscCall(PetscFree((*sampler)->tgrid));
  PetscCall(SgmScoreDestroy(&(*sampler)->score));
  PetscCall(PetscHeaderDestroy(sampler));
  PetscFunctionReturn(PETSC_SUCCESS);
}
