/*
  Annealed Langevin dynamics (Song & Ermon 2019, NCSN, Alg. 1).  Step k of the grid moves the
  samples to the noise level sigma_{k+1} = sigma(t_{k+1}) by M steps of Langevin dynamics on p_{t_{k+1}}:
      x <- x + (e / 2) s(x, t_{k+1}) + sqrt(e) z,   e = eps sigma_{k+1}^2 / sigma_L^2,  sigma_L = sigma(t_n),
  so the levels run from t_1 to t_n = eps (geometric in sigma for the VE SDE on the uniform grid), the
  state after step k is (approximately) a sample of p_{t_{k+1}}, and -sampler_denoise applies at t_n.
  The corrector-only sampler: no predictor, M NFE per level (-ald_steps_per_level, -ald_eps).
  On Gaussian data of variance sigma^2 the Langevin recursion is stable only for e < 4 sigma^2: at the
  last level that is eps < 4 sigma_L^2, checked at set-up.
*/
#include <sgm/private/samplerimpl.h>
#include <sgm/private/scoreimpl.h>
#include <sgmio.h>

typedef struct {
  PetscInt  nper;
  PetscReal eps;
  PetscReal sigmaL;
} SgmSampler_ALD;

static PetscErrorCode SgmALDStep(SgmSampler sampler, PetscInt k, PetscReal t0, PetscReal t1, Vec X)
{
  SgmSampler_ALD *ald = (SgmSampler_ALD *)sampler->data;
  PetscReal       a, s, e;

  PetscFunctionBegin;
  PetscCall(SgmSDEMarginal(sampler->score->sde, t1, &a, &s));
  e = ald->eps * (s * s) / (ald->sigmaL * ald->sigmaL);
  for (PetscInt j = 0; j < ald->nper; j++) {
    PetscCall(SgmScoreApply(sampler->score, t1, &sampler->batch, X, sampler->work));
    PetscCall(SgmVecAXPY(X, 0.5 * e, sampler->work));
    PetscCall(SgmSamplerFillNoise(sampler, SGM_STREAM_SAMPLER, k * ald->nper + j, sampler->noise));
    PetscCall(SgmVecAXPY(X, PetscSqrtReal(e), sampler->noise));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerSetFromOptions_ALD(SgmSampler sampler, PetscOptionItems *PetscOptionsObject)
{
  SgmSampler_ALD *ald = (SgmSampler_ALD *)sampler->data;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Annealed Langevin dynamics options");
  PetscCall(PetscOptionsInt("-ald_steps_per_level", "Langevin steps M at each noise level", "", ald->nper, &ald->nper, NULL));
  PetscCall(PetscOptionsReal("-ald_eps", "Step size eps at the smallest noise level", "", ald->eps, &ald->eps, NULL));
  PetscOptionsHeadEnd();
  PetscCheck(ald->nper > 0 && ald->eps > 0, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "-ald_steps_per_level and -ald_eps must be positive; got %" PetscInt_FMT " and %g", ald->nper, (double)ald->eps);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerSetUp_ALD(SgmSampler sampler)
{
  SgmSampler_ALD *ald = (SgmSampler_ALD *)sampler->data;
  PetscReal       tL, a;

  PetscFunctionBegin;
  PetscCall(SgmSamplerSetUpFixedStep(sampler, TSSGMALD));
  PetscCall(SgmSamplerGetGridTime(sampler, sampler->nsteps, &tL));
  PetscCall(SgmSDEMarginal(sampler->score->sde, tL, &a, &ald->sigmaL));
  PetscCheck(ald->sigmaL > 0, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "Annealed Langevin needs a positive smallest noise level; the grid's last level t = %g has sigma = 0: raise -sde_eps", (double)tL);
  PetscCheck(ald->eps < 4 * ald->sigmaL * ald->sigmaL, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "-ald_eps %g is unstable for the smallest noise level sigma_L = %g (t = %g): Langevin steps need eps < 4 sigma_L^2 = %g; lower -ald_eps or raise -sde_eps", (double)ald->eps, (double)ald->sigmaL, (double)tL, (double)(4 * ald->sigmaL * ald->sigmaL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerAttributes_ALD(SgmSampler sampler, hid_t file)
{
  SgmSampler_ALD *ald = (SgmSampler_ALD *)sampler->data;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrInt(file, "ald_steps_per_level", ald->nper));
  PetscCall(SgmH5AttrReal(file, "ald_eps", ald->eps));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerView_ALD(SgmSampler sampler, PetscViewer viewer)
{
  SgmSampler_ALD *ald = (SgmSampler_ALD *)sampler->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "%" PetscInt_FMT " Langevin steps per level, eps %g\n", ald->nper, (double)ald->eps));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerDestroy_ALD(SgmSampler sampler)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(sampler->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmSamplerCreate_ALD(SgmSampler sampler)
{
  SgmSampler_ALD *ald;

  PetscFunctionBegin;
  sampler->fields = PETSC_TRUE; /* works on field batches */
  PetscCall(PetscNew(&ald));
  ald->nper                    = 100;
  ald->eps                     = 2e-5;
  sampler->data                = ald;
  sampler->ops->step           = SgmALDStep;
  sampler->ops->setup          = SgmSamplerSetUp_ALD;
  sampler->ops->setfromoptions = SgmSamplerSetFromOptions_ALD;
  sampler->ops->attributes     = SgmSamplerAttributes_ALD;
  sampler->ops->view           = SgmSamplerView_ALD;
  sampler->ops->destroy        = SgmSamplerDestroy_ALD;
  PetscCall(SgmSamplerSetDefaults_Private(sampler, 10, SGM_SCHEDULE_UNIFORM));
  PetscFunctionReturn(PETSC_SUCCESS);
}
