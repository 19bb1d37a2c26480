/*
  EDM samplers (Karras et al. 2022), for any linear SDE through the scaled variables
  y = x/alpha(t) and sigma_hat = sigma(t)/alpha(t) (EDM eq. 4): the probability-flow ODE is then
      dy/dsigma_hat = -sigma_hat grad_y log p(y; sigma_hat),   grad_y log p = alpha s(alpha y, t).
  heun  EDM Alg. 1: Heun's second-order method on the karras grid (rho = 7), with Euler on a step
        that ends at sigma_hat = 0 (the last step of the karras grid); 2 NFE per step, 2n - 1 in all
        on the karras grid, 2n on grids that end at eps > 0.
  edm   EDM Alg. 2: before each step, "churn": raise sigma_hat_k to (1 + gamma) sigma_hat_k with
        gamma = min(S_churn/n, sqrt(2) - 1) for S_tmin <= sigma_hat_k <= S_tmax, adding noise of
        variance (sigma_up^2 - sigma_hat_k^2) S_noise^2, then the Heun step from sigma_up.
*/
#include <sgm/private/samplerimpl.h>
#include <sgm/private/scoreimpl.h>
#include <sgmio.h>

typedef struct {
  PetscBool stochastic;
  PetscReal s_churn, s_tmin, s_tmax, s_noise;
  Vec       d, y0; /* slope at the start of the step, y at the start */
} SgmSampler_Heun;

/* d = dy/dsigma_hat at (x = alpha y, t): -sigma_hat alpha s(x, t), from X holding x. */
static PetscErrorCode HeunSlope(SgmSampler sampler, PetscReal t, Vec X, Vec d)
{
  PetscReal a, s;

  PetscFunctionBegin;
  PetscCall(SgmSDEMarginal(sampler->score->sde, t, &a, &s));
  PetscCall(SgmScoreApply(sampler->score, t, &sampler->batch, X, d));
  PetscCall(VecScale(d, -s)); /* -sigma_hat alpha = -sigma */
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmHeunStep(SgmSampler sampler, PetscInt k, PetscReal t0, PetscReal t1, Vec X)
{
  SgmSampler_Heun *heun = (SgmSampler_Heun *)sampler->data;
  SgmSDE           sde  = sampler->score->sde;
  PetscReal        a0, s0, a1, s1, sh0, sh1;
  Vec              d1 = sampler->work;

  PetscFunctionBegin;
  PetscCall(SgmSDEMarginal(sde, t0, &a0, &s0));
  PetscCall(SgmSDEMarginal(sde, t1, &a1, &s1));
  sh0 = s0 / a0;
  sh1 = s1 / a1;
  PetscCall(VecScale(X, 1 / a0)); /* X holds y */
  if (heun->stochastic && heun->s_churn > 0 && sh0 >= heun->s_tmin && sh0 <= heun->s_tmax) {
    PetscReal gamma = PetscMin(heun->s_churn / sampler->nsteps, PETSC_SQRT2 - 1), smax, shup, tup, T;
    PetscCall(SgmSDEGetInterval(sde, NULL, &T));
    PetscCall(SgmSDENoiseToSignal(sde, T, &smax));
    shup = PetscMin(sh0 * (1 + gamma), smax);
    PetscCall(SgmSDETimeFromNoiseToSignal(sde, shup, &tup));
    PetscCall(SgmSamplerFillNoise(sampler, SGM_STREAM_SAMPLER, k, sampler->noise));
    PetscCall(SgmVecAXPY(X, PetscSqrtReal(PetscMax(shup * shup - sh0 * sh0, 0)) * heun->s_noise, sampler->noise));
    t0 = tup;
    PetscCall(SgmSDEMarginal(sde, t0, &a0, &s0));
    sh0 = shup;
  }
  /* Euler predictor from (y0, sh0) */
  PetscCall(VecCopy(X, heun->y0));
  PetscCall(VecScale(X, a0));
  PetscCall(HeunSlope(sampler, t0, X, heun->d));
  PetscCall(SgmVecWAXPY(X, sh1 - sh0, heun->d, heun->y0));
  if (sh1 > 0) { /* trapezoidal corrector, except into sigma_hat = 0 */
    PetscCall(VecScale(X, a1));
    PetscCall(HeunSlope(sampler, t1, X, d1));
    PetscCall(SgmVecAXPY(heun->d, 1, d1));
    PetscCall(SgmVecWAXPY(X, 0.5 * (sh1 - sh0), heun->d, heun->y0));
  }
  PetscCall(VecScale(X, a1));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerSetFromOptions_Heun(SgmSampler sampler, PetscOptionItems *PetscOptionsObject)
{
  SgmSampler_Heun *heun = (SgmSampler_Heun *)sampler->data;

  PetscFunctionBegin;
  if (!heun->stochastic) PetscFunctionReturn(PETSC_SUCCESS);
  PetscOptionsHeadBegin(PetscOptionsObject, "EDM stochastic sampler options");
  PetscCall(PetscOptionsReal("-edm_s_churn", "S_churn: total amount of added noise (0: the heun sampler)", "", heun->s_churn, &heun->s_churn, NULL));
  PetscCall(PetscOptionsReal("-edm_s_tmin", "S_tmin: churn only where sigma/alpha >= S_tmin", "", heun->s_tmin, &heun->s_tmin, NULL));
  PetscCall(PetscOptionsReal("-edm_s_tmax", "S_tmax: churn only where sigma/alpha <= S_tmax", "", heun->s_tmax, &heun->s_tmax, NULL));
  PetscCall(PetscOptionsReal("-edm_s_noise", "S_noise: scale of the added noise", "", heun->s_noise, &heun->s_noise, NULL));
  PetscOptionsHeadEnd();
  PetscCheck(heun->s_churn >= 0 && heun->s_noise >= 0, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "-edm_s_churn and -edm_s_noise must be non-negative");
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerSetUp_Heun(SgmSampler sampler)
{
  SgmSampler_Heun *heun = (SgmSampler_Heun *)sampler->data;

  PetscFunctionBegin;
  PetscCall(SgmSamplerSetUpFixedStep(sampler, heun->stochastic ? TSSGMEDM : TSSGMHEUN));
  PetscCall(VecDestroy(&heun->d));
  PetscCall(VecDestroy(&heun->y0));
  PetscCall(VecDuplicate(sampler->X, &heun->d));
  PetscCall(VecDuplicate(sampler->X, &heun->y0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerAttributes_Heun(SgmSampler sampler, hid_t file)
{
  SgmSampler_Heun *heun = (SgmSampler_Heun *)sampler->data;

  PetscFunctionBegin;
  if (!heun->stochastic) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SgmH5AttrReal(file, "edm_s_churn", heun->s_churn));
  PetscCall(SgmH5AttrReal(file, "edm_s_tmin", heun->s_tmin));
  PetscCall(SgmH5AttrReal(file, "edm_s_tmax", heun->s_tmax));
  PetscCall(SgmH5AttrReal(file, "edm_s_noise", heun->s_noise));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerView_Heun(SgmSampler sampler, PetscViewer viewer)
{
  SgmSampler_Heun *heun = (SgmSampler_Heun *)sampler->data;

  PetscFunctionBegin;
  if (heun->stochastic) PetscCall(PetscViewerASCIIPrintf(viewer, "S_churn %g, S_tmin %g, S_tmax %g, S_noise %g\n", (double)heun->s_churn, (double)heun->s_tmin, (double)heun->s_tmax, (double)heun->s_noise));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerDestroy_Heun(SgmSampler sampler)
{
  SgmSampler_Heun *heun = (SgmSampler_Heun *)sampler->data;

  PetscFunctionBegin;
  PetscCall(VecDestroy(&heun->d));
  PetscCall(VecDestroy(&heun->y0));
  PetscCall(PetscFree(sampler->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerCreate_HeunCommon(SgmSampler sampler, PetscBool stochastic)
{
  SgmSampler_Heun *heun;

  PetscFunctionBegin;
  sampler->fields = PETSC_TRUE; /* works on field batches */
  PetscCall(PetscNew(&heun));
  heun->stochastic = stochastic;
  /* EDM's ImageNet-64 settings (Table 5) */
  heun->s_churn                = 40;
  heun->s_tmin                 = 0.05;
  heun->s_tmax                 = 50;
  heun->s_noise                = 1.003;
  sampler->data                = heun;
  sampler->ops->step           = SgmHeunStep;
  sampler->ops->setup          = SgmSamplerSetUp_Heun;
  sampler->ops->setfromoptions = SgmSamplerSetFromOptions_Heun;
  sampler->ops->attributes     = SgmSamplerAttributes_Heun;
  sampler->ops->view           = SgmSamplerView_Heun;
  sampler->ops->destroy        = SgmSamplerDestroy_Heun;
  PetscCall(SgmSamplerSetDefaults_Private(sampler, 18, SGM_SCHEDULE_KARRAS));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmSamplerCreate_Heun(SgmSampler sampler)
{
  PetscFunctionBegin;
  PetscCall(SgmSamplerCreate_HeunCommon(sampler, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmSamplerCreate_EDM(SgmSampler sampler)
{
  PetscFunctionBegin;
  PetscCall(SgmSamplerCreate_HeunCommon(sampler, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}
