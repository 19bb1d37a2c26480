/* Shared machinery of the fixed-step reverse-SDE samplers (em, ancestral): their TS types take
   step k from t_k to t_{k+1} of the sampler's grid, so the times, and with them the samples, do
   not depend on accumulated rounding in the TS clock. */
#include <sgm/private/samplerimpl.h>
#include <sgm/private/scoreimpl.h>
#include <petsc/private/tsimpl.h>

/* Z <- standard normals of (seed, stream, step, sample index); projected onto the zero-CoM
   subspace for point-cloud scores (zerocom.c), so every sampler's Gaussian noise lives there. */
PetscErrorCode SgmSamplerFillNoise(SgmSampler sampler, SgmStream stream, PetscInt step, Vec Z)
{
  PetscScalar *z;

  PetscFunctionBegin;
  PetscCall(VecGetArrayWrite(Z, &z));
  PetscCall(SgmRandomNormalBatch((uint64_t)sampler->seed, stream, step, &sampler->batch, z));
  PetscCall(SgmSamplerZeroCoMArray_Private(sampler, sampler->batch.n, z)); /* zero-CoM clouds: noise in the subspace */
  PetscCall(VecRestoreArrayWrite(Z, &z));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TSStep_SgmFixed(TS ts)
{
  SgmSampler sampler;
  PetscInt   k = ts->steps;
  PetscReal  t0, t1, T;
  Vec        X = ts->vec_sol;

  PetscFunctionBegin;
  PetscCall(SgmSamplerFromTS(ts, &sampler));
  PetscCheck(sampler->ops->step, PetscObjectComm((PetscObject)ts), PETSC_ERR_ARG_WRONG, "Sampler %s is not a fixed-step sampler", ((PetscObject)sampler)->type_name);
  PetscCheck(k < sampler->nsteps, PetscObjectComm((PetscObject)ts), PETSC_ERR_ARG_OUTOFRANGE, "Step %" PetscInt_FMT " is past the sampler's grid of %" PetscInt_FMT " steps", k, sampler->nsteps);
  PetscCall(SgmSamplerGetGridTime(sampler, k, &t0));
  PetscCall(SgmSamplerGetGridTime(sampler, k + 1, &t1));
  PetscCall(SgmSDEGetInterval(sampler->score->sde, NULL, &T));
  PetscCall(PetscLogEventBegin(SGM_Step, 0, 0, 0, 0));
  PetscCall(TSPreStage(ts, ts->ptime));
  PetscCall((*sampler->ops->step)(sampler, k, t0, t1, X));
  PetscCall(TSPostStage(ts, ts->ptime, 0, &X));
  PetscCall(PetscLogEventEnd(SGM_Step, 0, 0, 0, 0));
  ts->ptime     = T - t1;
  /* next step's length, for monitors; the last step keeps its own */
  if (k + 1 < sampler->nsteps) {
    PetscReal t2;
    PetscCall(SgmSamplerGetGridTime(sampler, k + 2, &t2));
    ts->time_step = t1 - t2;
  } else ts->time_step = t0 - t1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TSSetUp_SgmFixed(TS ts)
{
  PetscFunctionBegin;
  PetscCall(TSGetAdapt(ts, &ts->adapt));
  PetscCall(TSAdaptCandidatesClear(ts->adapt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TSDestroy_SgmFixed(TS ts)
{
  PetscFunctionBegin;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode TSCreate_SgmFixed(TS ts)
{
  PetscFunctionBegin;
  ts->ops->step           = TSStep_SgmFixed;
  ts->ops->setup          = TSSetUp_SgmFixed;
  ts->ops->destroy        = TSDestroy_SgmFixed;
  ts->default_adapt_type  = TSADAPTNONE;
  ts->usessnes            = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The reverse-SDE samplers own their TS type: -ts_type may not replace it. */
PetscErrorCode SgmSamplerSetUpFixedStep(SgmSampler sampler, TSType type)
{
  PetscBool match;

  PetscFunctionBegin;
  PetscCall(TSSetType(sampler->ts, type));
  PetscCall(TSSetMaxSteps(sampler->ts, sampler->nsteps));
  PetscCall(TSSetFromOptions(sampler->ts));
  PetscCall(PetscObjectTypeCompare((PetscObject)sampler->ts, type, &match));
  PetscCheck(match, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "-ts_type selects the integrator of -sampler_type ode only; sampler %s uses its own TS type %s", ((PetscObject)sampler)->type_name, type);
  PetscCall(TSSetMaxSteps(sampler->ts, sampler->nsteps));
  sampler->fixedstep = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}
