/*
  Variance-exploding SDE (Song et al. 2021, eq. 9; NCSN in the continuum limit):
      dx = sqrt(d[sigma^2]/dt) dw,  sigma(t) = sigma_min (sigma_max/sigma_min)^(t/T),
  so g(t) = sigma(t) sqrt(2 log(sigma_max/sigma_min) / T).  Started from the data at t = 0 the
  marginal is N(x_0, (sigma(t)^2 - sigma_min^2) I): sgm keeps the -sigma_min^2 so that g(t) and the
  marginal describe the same process and the score is exact (score_sde drops it).  Prior N(0, sigma_max^2 I).
*/
#include <sgm/private/sdeimpl.h>
#include <sgmio.h>

typedef struct {
  PetscReal sigma_min, sigma_max;
} SgmSDE_VE;

static inline PetscReal VESigma(SgmSDE sde, PetscReal t)
{
  SgmSDE_VE *ve = (SgmSDE_VE *)sde->data;
  return ve->sigma_min * PetscPowReal(ve->sigma_max / ve->sigma_min, t / sde->T);
}

/* (sigma(t+u)/sigma(t))^2 - 1 = expm1(2 (u/T) log(sigma_max/sigma_min)): variance increments
   without the cancellation of sigma(t+u)^2 - sigma(t)^2 when u is small (relative error 5e-13 at
   u = 1e-5 otherwise). */
static inline PetscReal VEExpm1(SgmSDE sde, PetscReal u)
{
  SgmSDE_VE *ve = (SgmSDE_VE *)sde->data;
  return expm1(2 * (u / sde->T) * PetscLogReal(ve->sigma_max / ve->sigma_min));
}

static PetscErrorCode SgmSDECoefficients_VE(SgmSDE sde, PetscReal t, PetscReal *f, PetscReal *g)
{
  SgmSDE_VE *ve = (SgmSDE_VE *)sde->data;

  PetscFunctionBegin;
  *f = 0;
  *g = VESigma(sde, t) * PetscSqrtReal(2 * PetscLogReal(ve->sigma_max / ve->sigma_min) / sde->T);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDEMarginal_VE(SgmSDE sde, PetscReal t, PetscReal *alpha, PetscReal *sigma)
{
  SgmSDE_VE *ve = (SgmSDE_VE *)sde->data;

  PetscFunctionBegin;
  *alpha = 1;
  *sigma = ve->sigma_min * PetscSqrtReal(PetscMax(0, VEExpm1(sde, t)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDETransition_VE(SgmSDE sde, PetscReal s, PetscReal t, PetscReal *r, PetscReal *v)
{
  PetscReal ss = VESigma(sde, s);

  PetscFunctionBegin;
  *r = 1;
  *v = ss * ss * VEExpm1(sde, t - s);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDESetFromOptions_VE(SgmSDE sde, PetscOptionItems *PetscOptionsObject)
{
  SgmSDE_VE *ve = (SgmSDE_VE *)sde->data;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "VE SDE options");
  PetscCall(PetscOptionsReal("-sde_sigma_min", "Smallest noise level sigma_min", "SgmSDEVESetSigma", ve->sigma_min, &ve->sigma_min, NULL));
  PetscCall(PetscOptionsReal("-sde_sigma_max", "Largest noise level sigma_max (prior std)", "SgmSDEVESetSigma", ve->sigma_max, &ve->sigma_max, NULL));
  PetscOptionsHeadEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDESetUp_VE(SgmSDE sde)
{
  SgmSDE_VE *ve = (SgmSDE_VE *)sde->data;

  PetscFunctionBegin;
  PetscCheck(ve->sigma_min > 0 && ve->sigma_max > ve->sigma_min, PetscObjectComm((PetscObject)sde), PETSC_ERR_USER_INPUT, "The VE SDE needs 0 < -sde_sigma_min < -sde_sigma_max; got %g and %g", (double)ve->sigma_min, (double)ve->sigma_max);
  sde->prior_std = ve->sigma_max;
  if (sde->eps < 0) sde->eps = 1e-5;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDEView_VE(SgmSDE sde, PetscViewer viewer)
{
  SgmSDE_VE *ve = (SgmSDE_VE *)sde->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "sigma_min %g, sigma_max %g\n", (double)ve->sigma_min, (double)ve->sigma_max));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDEAttributes_VE(SgmSDE sde, hid_t obj)
{
  SgmSDE_VE *ve = (SgmSDE_VE *)sde->data;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrReal(obj, "sde_sigma_min", ve->sigma_min));
  PetscCall(SgmH5AttrReal(obj, "sde_sigma_max", ve->sigma_max));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDEDestroy_VE(SgmSDE sde)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(sde->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSDEVESetSigma(SgmSDE sde, PetscReal sigma_min, PetscReal sigma_max)
{
  SgmSDE_VE *ve = (SgmSDE_VE *)sde->data;

  PetscFunctionBegin;
  ve->sigma_min    = sigma_min;
  ve->sigma_max    = sigma_max;
  sde->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmSDECreate_VE(SgmSDE sde)
{
  SgmSDE_VE *ve;

  PetscFunctionBegin;
  PetscCall(PetscNew(&ve));
  ve->sigma_min            = 0.01;
  ve->sigma_max            = 50;
  sde->data                = ve;
  sde->ops->coefficients   = SgmSDECoefficients_VE;
  sde->ops->marginal       = SgmSDEMarginal_VE;
  sde->ops->transition     = SgmSDETransition_VE;
  sde->ops->setfromoptions = SgmSDESetFromOptions_VE;
  sde->ops->setup          = SgmSDESetUp_VE;
  sde->ops->view           = SgmSDEView_VE;
  sde->ops->attributes     = SgmSDEAttributes_VE;
  sde->ops->destroy        = SgmSDEDestroy_VE;
  PetscFunctionReturn(PETSC_SUCCESS);
}
