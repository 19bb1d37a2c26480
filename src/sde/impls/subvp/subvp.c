/*
  Sub-VP SDE (Song et al. 2021, eq. 12):
      dx = -1/2 beta(t) x dt + sqrt(beta(t) (1 - exp(-2 int_0^t beta))) dw,
  with marginal q(x_t|x_0) = N(sqrt(alpha_bar) x_0, (1 - alpha_bar)^2 I), alpha_bar = exp(-int beta).
  Its variance stays below the VP SDE's at every t.  The beta(t) schedule is the VP one.
*/
#include <sgm/private/vpimpl.h>

static PetscErrorCode SgmSDECoefficients_SubVP(SgmSDE sde, PetscReal t, PetscReal *f, PetscReal *g)
{
  PetscReal B, beta;

  PetscFunctionBegin;
  SgmVPIntegral(sde, t, &B, &beta);
  *f = -0.5 * beta;
  *g = PetscSqrtReal(beta * -expm1(-2 * B));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDEMarginal_SubVP(SgmSDE sde, PetscReal t, PetscReal *alpha, PetscReal *sigma)
{
  PetscReal B, beta;

  PetscFunctionBegin;
  SgmVPIntegral(sde, t, &B, &beta);
  *alpha = PetscExpReal(-0.5 * B);
  *sigma = -expm1(-B);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmSDECreate_SubVP(SgmSDE sde)
{
  PetscFunctionBegin;
  PetscCall(SgmSDECreate_VPCommon(sde));
  sde->ops->coefficients = SgmSDECoefficients_SubVP;
  sde->ops->marginal     = SgmSDEMarginal_SubVP;
  PetscFunctionReturn(PETSC_SUCCESS);
}
