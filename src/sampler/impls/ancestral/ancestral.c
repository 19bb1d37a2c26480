/*
  Ancestral sampling (DDPM, Ho et al. 2020, Alg. 2), written for any linear SDE.  With
  q(x_{t_k} | x_{t_{k+1}}) = N(r x, v I) (r = alpha_k/alpha_{k+1}, v = sigma_k^2 - r^2 sigma_{k+1}^2;
  for the DDPM schedule r = sqrt(alpha_t), v = beta_t):
      x_{k+1} = (x_k + v s(x_k, t_k)) / r + sigma z,
      sigma^2 = v                                           (-ancestral_variance beta)
      sigma^2 = v sigma_{k+1}^2 / sigma_k^2 = beta-tilde    (-ancestral_variance beta_tilde).
  A step that ends at t = 0 adds no noise (DDPM's z = 0 for t = 1).  One score evaluation per step.
  Registered as the TS type "sgmancestral".
*/
#include <sgm/private/samplerimpl.h>
#include <sgm/private/scoreimpl.h>
#include <sgmio.h>

const char *const SgmAncestralVariances[] = {"beta", "beta_tilde", "SgmAncestralVariance", "SGM_ANCESTRAL_", NULL};

typedef struct {
  SgmAncestralVariance variance;
} SgmSampler_Ancestral;

static PetscErrorCode SgmAncestralStep(SgmSampler sampler, PetscInt k, PetscReal t0, PetscReal t1, Vec X)
{
  SgmSampler_Ancestral *anc = (SgmSampler_Ancestral *)sampler->data;
  SgmSDE                sde = sampler->score->sde;
  PetscReal             r, v, a0, s0, a1, s1, var;

  PetscFunctionBegin;
  PetscCall(SgmSDETransition(sde, t1, t0, &r, &v));
  PetscCall(SgmSDEMarginal(sde, t0, &a0, &s0));
  PetscCall(SgmSDEMarginal(sde, t1, &a1, &s1));
  var = anc->variance == SGM_ANCESTRAL_BETA ? v : v * (s1 * s1) / (s0 * s0);
  PetscCall(SgmScoreApply(sampler->score, t0, &sampler->batch, X, sampler->work));
  PetscCall(SgmVecAXPBY(X, v / r, 1 / r, sampler->work));
  if (t1 > 0 && var > 0) {
    PetscCall(SgmSamplerFillNoise(sampler, SGM_STREAM_SDE, k, sampler->noise));
    PetscCall(SgmVecAXPY(X, PetscSqrtReal(var), sampler->noise));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerSetFromOptions_Ancestral(SgmSampler sampler, PetscOptionItems *PetscOptionsObject)
{
  SgmSampler_Ancestral *anc = (SgmSampler_Ancestral *)sampler->data;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Ancestral sampler options");
  PetscCall(PetscOptionsEnum("-ancestral_variance", "Reverse-step variance: beta (DDPM sigma_t^2 = beta_t) or beta_tilde (posterior variance)", "", SgmAncestralVariances, (PetscEnum)anc->variance, (PetscEnum *)&anc->variance, NULL));
  PetscOptionsHeadEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerSetUp_Ancestral(SgmSampler sampler)
{
  PetscFunctionBegin;
  PetscCall(SgmSamplerSetUpFixedStep(sampler, TSSGMANCESTRAL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerAttributes_Ancestral(SgmSampler sampler, hid_t file)
{
  SgmSampler_Ancestral *anc = (SgmSampler_Ancestral *)sampler->data;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrString(file, "ancestral_variance", SgmAncestralVariances[anc->variance]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerView_Ancestral(SgmSampler sampler, PetscViewer viewer)
{
  SgmSampler_Ancestral *anc = (SgmSampler_Ancestral *)sampler->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "reverse-step variance %s\n", SgmAncestralVariances[anc->variance]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerDestroy_Ancestral(SgmSampler sampler)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(sampler->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmSamplerCreate_Ancestral(SgmSampler sampler)
{
  SgmSampler_Ancestral *anc;

  PetscFunctionBegin;
  sampler->fields = PETSC_TRUE; /* works on field batches */
  PetscCall(PetscNew(&anc));
  anc->variance                = SGM_ANCESTRAL_BETA;
  sampler->data                = anc;
  sampler->ops->setfromoptions = SgmSamplerSetFromOptions_Ancestral;
  sampler->ops->setup          = SgmSamplerSetUp_Ancestral;
  sampler->ops->step           = SgmAncestralStep;
  sampler->ops->attributes     = SgmSamplerAttributes_Ancestral;
  sampler->ops->view           = SgmSamplerView_Ancestral;
  sampler->ops->destroy        = SgmSamplerDestroy_Ancestral;
  PetscFunctionReturn(PETSC_SUCCESS);
}
