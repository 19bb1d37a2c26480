/*
  Probability-flow ODE (Song et al. 2021, eq. 13) through any PETSc TS type:
      dx/dtau = -[f(t) x - 1/2 g(t)^2 s(x,t)],  t = T - tau.
  Default: adaptive Dormand-Prince 5(4) with rtol = atol = 1e-5, score_sde's RK45 setting; every
  -ts_* option applies (e.g. -ts_type rk -ts_rk_type 4 -ts_adapt_type none for fixed RK4 steps).
*/
#include <sgm/private/samplerimpl.h>

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
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmSamplerCreate_ODE(SgmSampler sampler)
{
  PetscFunctionBegin;
  sampler->ops->setup = SgmSamplerSetUp_ODE;
  PetscFunctionReturn(PETSC_SUCCESS);
}
