/*
  Probability-flow ODE (Song et al. 2021, eq. 13) through any PETSc TS type:
      dx/dtau = -[f(t) x - 1/2 g(t)^2 s(x,t)],  t = T - tau.
  Default: adaptive Dormand-Prince 5(4) with rtol = atol = 1e-5, score_sde's RK45 setting; every
  -ts_* option applies (e.g. -ts_type rk -ts_rk_type 4 -ts_adapt_type none for fixed RK4 steps).
*/
#include <sgm/private/samplerimpl.h>

typedef struct {
  PetscBool bitwise, bitwiseset;
} SgmSampler_ODE;

static PetscErrorCode SgmSamplerSetFromOptions_ODE(SgmSampler sampler, PetscOptionItems *PetscOptionsObject)
{
  SgmSampler_ODE *ode = (SgmSampler_ODE *)sampler->data;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Probability-flow ODE sampler options");
  PetscCall(PetscOptionsBool("-ode_bitwise_restart", "Restart every TS step so a restart from a checkpoint is bitwise (one more NFE per step for FSAL schemes; default: on with -checkpoint_every/-checkpoint_interval)", "", ode->bitwise, &ode->bitwise, &ode->bitwiseset));
  PetscOptionsHeadEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerDestroy_ODE(SgmSampler sampler)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(sampler->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmODERHS(TS ts, PetscReal tau, Vec X, Vec F, void *ctx)
{
  SgmSampler sampler = (SgmSampler)ctx;
  PetscReal  t;

  PetscFunctionBegin;
  PetscCall(SgmSamplerTauToTime(sampler, tau, &t));
  PetscCall(SgmSamplerReverseDrift(sampler, t, 0.5, X, F));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerSetUp_ODE(SgmSampler sampler)
{
  TS          ts = sampler->ts;
  TSAdapt     adapt;
  TSAdaptType atype;
  PetscBool   none;

  PetscFunctionBegin;
  PetscCall(TSSetType(ts, TSRK));
  PetscCall(TSRKSetType(ts, TSRK5DP));
  PetscCall(TSSetTolerances(ts, 1e-5, NULL, 1e-5, NULL));
  PetscCall(TSSetMaxSteps(ts, PETSC_MAX_INT));
  PetscCall(TSSetRHSFunction(ts, NULL, SgmODERHS, sampler));
  PetscCall(TSGetAdapt(ts, &adapt));
  PetscCall(TSAdaptSetType(adapt, TSADAPTBASIC));
  PetscCall(TSSetFromOptions(ts));
  PetscCall(TSGetAdapt(ts, &adapt));
  PetscCall(TSAdaptGetType(adapt, &atype));
  PetscCall(PetscStrcmp(atype, TSADAPTNONE, &none));
  sampler->fixedstep = none;
  /* Bitwise restarts of a first-same-as-last scheme cost one NFE per step: on when checkpoints are
     requested, or asked for; otherwise a restart agrees to rounding (about 1e-14). */
  {
    SgmSampler_ODE *ode = (SgmSampler_ODE *)sampler->data;
    sampler->restartstep = ode->bitwiseset ? ode->bitwise : (PetscBool)(sampler->ckpt_every > 0 || sampler->ckpt_interval > 0);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmSamplerCreate_ODE(SgmSampler sampler)
{
  PetscFunctionBegin;
  sampler->fields = PETSC_TRUE; /* works on field batches */
  PetscCall(PetscNew((SgmSampler_ODE **)&sampler->data));
  sampler->ops->setup          = SgmSamplerSetUp_ODE;
  sampler->ops->setfromoptions = SgmSamplerSetFromOptions_ODE;
  sampler->ops->destroy        = SgmSamplerDestroy_ODE;
  PetscFunctionReturn(PETSC_SUCCESS);
}
