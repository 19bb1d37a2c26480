/*
  DDIM (Song, Meng, Ermon 2021, eq. 12), written with the marginal coefficients (alpha_k, sigma_k)
  of any linear SDE.  With eps_hat = -sigma_k s(x, t_k) and x0_hat = (x + sigma_k^2 s)/alpha_k:
      x_{k+1} = alpha_{k+1} x0_hat + sqrt(sigma_{k+1}^2 - c^2) eps_hat + c z,
      c^2 = eta^2 v sigma_{k+1}^2 / sigma_k^2   (eta^2 times DDPM's beta-tilde),
  so eta = 0 is deterministic (the probability-flow ODE's exponential integrator) and eta = 1 is
  ancestral sampling with the beta-tilde variance.  One score evaluation per step.
*/
#include <sgm/private/samplerimpl.h>
#include <sgm/private/scoreimpl.h>
#include <sgmio.h>

typedef struct {
  PetscReal eta;
} SgmSampler_DDIM;

static PetscErrorCode SgmDDIMStep(SgmSampler sampler, PetscInt k, PetscReal t0, PetscReal t1, Vec X)
{
  SgmSampler_DDIM *ddim = (SgmSampler_DDIM *)sampler->data;
  SgmSDE           sde  = sampler->score->sde;
  PetscReal        a0, s0, a1, s1, r, v, c2, cs;

  PetscFunctionBegin;
  PetscCall(SgmSDEMarginal(sde, t0, &a0, &s0));
  PetscCall(SgmSDEMarginal(sde, t1, &a1, &s1));
  PetscCall(SgmSDETransition(sde, t1, t0, &r, &v));
  c2 = ddim->eta * ddim->eta * v * (s1 * s1) / (s0 * s0);
  /* x_{k+1} = (a1/a0) x + [a1 s0^2/a0 - sqrt(s1^2 - c^2) s0] s + c z */
  cs = a1 * s0 * s0 / a0 - PetscSqrtReal(PetscMax(s1 * s1 - c2, 0)) * s0;
  PetscCall(SgmScoreApply(sampler->score, t0, &sampler->batch, X, sampler->work));
  PetscCall(SgmVecAXPBY(X, cs, a1 / a0, sampler->work));
  if (c2 > 0) {
    PetscCall(SgmSamplerFillNoise(sampler, SGM_STREAM_SDE, k, sampler->noise));
    PetscCall(SgmVecAXPY(X, PetscSqrtReal(c2), sampler->noise));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerSetFromOptions_DDIM(SgmSampler sampler, PetscOptionItems *PetscOptionsObject)
{
  SgmSampler_DDIM *ddim = (SgmSampler_DDIM *)sampler->data;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "DDIM sampler options");
  PetscCall(PetscOptionsReal("-ddim_eta", "eta in [0,1]: 0 deterministic DDIM, 1 ancestral with beta-tilde", "", ddim->eta, &ddim->eta, NULL));
  PetscOptionsHeadEnd();
  PetscCheck(ddim->eta >= 0 && ddim->eta <= 1, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "-ddim_eta must lie in [0, 1]; got %g", (double)ddim->eta);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerSetUp_DDIM(SgmSampler sampler)
{
  PetscFunctionBegin;
  PetscCall(SgmSamplerSetUpFixedStep(sampler, TSSGMDDIM));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerAttributes_DDIM(SgmSampler sampler, hid_t file)
{
  PetscFunctionBegin;
  PetscCall(SgmH5AttrReal(file, "ddim_eta", ((SgmSampler_DDIM *)sampler->data)->eta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerView_DDIM(SgmSampler sampler, PetscViewer viewer)
{
  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "eta %g\n", (double)((SgmSampler_DDIM *)sampler->data)->eta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerDestroy_DDIM(SgmSampler sampler)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(sampler->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmSamplerCreate_DDIM(SgmSampler sampler)
{
  SgmSampler_DDIM *ddim;

  PetscFunctionBegin;
  sampler->fields = PETSC_TRUE; /* works on field batches */
  PetscCall(PetscNew(&ddim));
  sampler->data                = ddim;
  sampler->ops->step           = SgmDDIMStep;
  sampler->ops->setup          = SgmSamplerSetUp_DDIM;
  sampler->ops->setfromoptions = SgmSamplerSetFromOptions_DDIM;
  sampler->ops->attributes     = SgmSamplerAttributes_DDIM;
  sampler->ops->view           = SgmSamplerView_DDIM;
  sampler->ops->destroy        = SgmSamplerDestroy_DDIM;
  PetscCall(SgmSamplerSetDefaults_Private(sampler, 100, SGM_SCHEDULE_UNIFORM));
  PetscFunctionReturn(PETSC_SUCCESS);
}
