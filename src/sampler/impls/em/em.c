/*
  Euler-Maruyama on the reverse SDE (Song et al. 2021, the "EulerMaruyamaPredictor" of score_sde):
      x_{k+1} = x_k - [f(t_k) x_k - g(t_k)^2 s(x_k, t_k)] h + g(t_k) sqrt(h) z_k,   h = t_k - t_{k+1}.
  One score evaluation per step.  Registered as the TS type "sgmem".
*/
#include <sgm/private/samplerimpl.h>
#include <sgm/private/scoreimpl.h>
#include <petsc/private/tsimpl.h>

static PetscErrorCode SgmEMStep(SgmSampler sampler, PetscInt k, PetscReal t0, PetscReal t1, Vec X)
{
  PetscReal          h = t0 - t1, f, g;
  PetscScalar       *x;
  const PetscScalar *s, *z;
  PetscInt           n;

  PetscFunctionBegin;
  PetscCall(SgmScoreApply(sampler->score, t0, &sampler->batch, X, sampler->work));
  PetscCall(SgmSamplerFillNoise(sampler, SGM_STREAM_SDE, k, sampler->noise));
  PetscCall(SgmSDECoefficients(sampler->score->sde, t0, &f, &g));
  const PetscReal cx = 1 - f * h, cs = g * g * h, cz = g * PetscSqrtReal(h);
  PetscCall(VecGetLocalSize(X, &n));
  PetscCall(VecGetArray(X, &x));
  PetscCall(VecGetArrayRead(sampler->work, &s));
  PetscCall(VecGetArrayRead(sampler->noise, &z));
  for (PetscInt i = 0; i < n; i++) x[i] = cx * x[i] + cs * s[i] + cz * z[i];
  PetscCall(VecRestoreArrayRead(sampler->noise, &z));
  PetscCall(VecRestoreArrayRead(sampler->work, &s));
  PetscCall(VecRestoreArray(X, &x));
  PetscCall(PetscLogFlops(5.0 * n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerSetUp_EM(SgmSampler sampler)
{
  PetscFunctionBegin;
  PetscCall(SgmSamplerSetUpFixedStep(sampler, TSSGMEM));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmSamplerCreate_EM(SgmSampler sampler)
{
  PetscFunctionBegin;
  sampler->ops->setup = SgmSamplerSetUp_EM;
  sampler->ops->step  = SgmEMStep;
  PetscFunctionReturn(PETSC_SUCCESS);
}
