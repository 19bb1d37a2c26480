/*
  The polynomial_2 noise schedule of EDM (Hoogeboom, Satorras, Vignac, Welling 2022, appendix B;
  `polynomial_schedule(T, s, power=2)` in their en_diffusion.py) as a continuous-time VP-type SDE:
      alpha(t)^2 = (1 - 2s) (1 - t^2)^2 + s,   sigma(t)^2 = 1 - alpha(t)^2,   t in [0, 1],
  precision s = 1e-5 (-sde_poly2_precision; EDM's --diffusion_noise_precision).  What is and is not
  implemented: EDM evaluates this on the grid t_i = i/T and clips the ratios alpha_i^2/alpha_{i-1}^2
  from below at 0.001 before the precision adjustment; on the grid the unclipped ratio is
  ((1 - (i/T)^2)/(1 - ((i-1)/T)^2))^2 >= 1/4 except at the last step i = T (ratio 0), so the clip only
  changes the final alpha^2 from s to (1-2s) 0.001 (2/T - 1/T^2)^2 + s (4e-9 + s for T = 1000); the
  continuous schedule here has no clip.  The equivalent SDE dx = f x dt + g dw has
      f = d log alpha/dt = -2 t (1 - 2s)(1 - t^2) / alpha^2,   g^2 = d sigma^2/dt - 2 f sigma^2 = -2 f,
  so it is the VP SDE with beta(t) = -2 f (zero at t = 0 and t = 1, peak ~ 2/sqrt(s) near
  1 - t^2 = sqrt(s)).  sigma(0)^2 = s: the data are seen at noise sqrt(s) even at t = 0, so the
  sampling interval is [0, 1] by default.  Prior N(0, I) (alpha(1)^2 = s).  The inverse of
  sigma/alpha has a closed form: alpha^2 = 1/(1 + r^2), t = sqrt(1 - sqrt((alpha^2 - s)/(1 - 2s))).
*/
#include <sgm/private/sdeimpl.h>
#include <sgmio.h>

typedef struct {
  PetscReal s; /* precision */
} SgmSDE_Poly2;

/* alpha^2 and 1 - alpha^2 = (1 - 2s)(1 - (1 - t^2)^2) + s without cancellation at small t */
static void Poly2(SgmSDE sde, PetscReal t, PetscReal *a2, PetscReal *s2, PetscReal *f)
{
  const PetscReal s = ((SgmSDE_Poly2 *)sde->data)->s, u = 1 - t * t;
  *a2 = (1 - 2 * s) * u * u + s;
  *s2 = (1 - 2 * s) * t * t * (2 - t * t) + s; /* 1 - u^2 = t^2 (2 - t^2) */
  *f  = -2 * t * (1 - 2 * s) * u / *a2;
}

static PetscErrorCode SgmSDECoefficients_Poly2(SgmSDE sde, PetscReal t, PetscReal *f, PetscReal *g)
{
  PetscReal a2, s2;

  PetscFunctionBegin;
  Poly2(sde, t, &a2, &s2, f);
  *g = PetscSqrtReal(PetscMax(0, -2 * *f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDEMarginal_Poly2(SgmSDE sde, PetscReal t, PetscReal *alpha, PetscReal *sigma)
{
  PetscReal a2, s2, f;

  PetscFunctionBegin;
  Poly2(sde, t, &a2, &s2, &f);
  *alpha = PetscSqrtReal(a2);
  *sigma = PetscSqrtReal(s2);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* q(x_t|x_s): r = alpha(t)/alpha(s), v = 1 - r^2 (alpha^2 + sigma^2 = 1), as for the VP SDE */
static PetscErrorCode SgmSDETransition_Poly2(SgmSDE sde, PetscReal s, PetscReal t, PetscReal *r, PetscReal *v)
{
  PetscReal as2, ss2, at2, st2, f;

  PetscFunctionBegin;
  Poly2(sde, s, &as2, &ss2, &f);
  Poly2(sde, t, &at2, &st2, &f);
  *r = PetscSqrtReal(at2 / as2);
  *v = PetscMax(0, (st2 - ss2) / as2); /* 1 - at2/as2 = (as2 - at2)/as2 = (st2 - ss2)/as2 */
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDETimeFromNSR_Poly2(SgmSDE sde, PetscReal r, PetscReal *t)
{
  const PetscReal s = ((SgmSDE_Poly2 *)sde->data)->s;
  PetscReal       a2 = 1 / (1 + r * r), w;

  PetscFunctionBegin;
  w  = PetscMax(0, (a2 - s) / (1 - 2 * s));
  *t = PetscSqrtReal(PetscMax(0, 1 - PetscSqrtReal(w)));
  *t = PetscMin(PetscMax(*t, 0), sde->T);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDESetFromOptions_Poly2(SgmSDE sde, PetscOptionItems *PetscOptionsObject)
{
  SgmSDE_Poly2 *p = (SgmSDE_Poly2 *)sde->data;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "polynomial_2 SDE (EDM) options");
  PetscCall(PetscOptionsReal("-sde_poly2_precision", "Precision s of alpha^2 = (1-2s)(1-t^2)^2 + s", "", p->s, &p->s, NULL));
  PetscOptionsHeadEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDESetUp_Poly2(SgmSDE sde)
{
  SgmSDE_Poly2 *p = (SgmSDE_Poly2 *)sde->data;

  PetscFunctionBegin;
  PetscCheck(p->s > 0 && p->s < 0.5, PetscObjectComm((PetscObject)sde), PETSC_ERR_USER_INPUT, "-sde_poly2_precision must lie in (0, 0.5); got %g", (double)p->s);
  PetscCheck(sde->T <= 1, PetscObjectComm((PetscObject)sde), PETSC_ERR_USER_INPUT, "The polynomial_2 schedule is defined on t in [0, 1]: -sde_T must be at most 1; got %g", (double)sde->T);
  if (sde->eps < 0) sde->eps = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDEView_Poly2(SgmSDE sde, PetscViewer viewer)
{
  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "EDM polynomial_2: alpha^2 = (1-2s)(1-t^2)^2 + s, s = %g\n", (double)((SgmSDE_Poly2 *)sde->data)->s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDEAttributes_Poly2(SgmSDE sde, hid_t obj)
{
  PetscFunctionBegin;
  PetscCall(SgmH5AttrReal(obj, "sde_poly2_precision", ((SgmSDE_Poly2 *)sde->data)->s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDEDestroy_Poly2(SgmSDE sde)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(sde->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmSDECreate_Poly2(SgmSDE sde)
{
  SgmSDE_Poly2 *p;

  PetscFunctionBegin;
  PetscCall(PetscNew(&p));
  p->s                     = 1e-5;
  sde->data                = p;
  sde->prior_std           = 1;
  sde->ops->coefficients   = SgmSDECoefficients_Poly2;
  sde->ops->marginal       = SgmSDEMarginal_Poly2;
  sde->ops->transition     = SgmSDETransition_Poly2;
  sde->ops->timefromnsr    = SgmSDETimeFromNSR_Poly2;
  sde->ops->setfromoptions = SgmSDESetFromOptions_Poly2;
  sde->ops->setup          = SgmSDESetUp_Poly2;
  sde->ops->view           = SgmSDEView_Poly2;
  sde->ops->attributes     = SgmSDEAttributes_Poly2;
  sde->ops->destroy        = SgmSDEDestroy_Poly2;
  PetscFunctionReturn(PETSC_SUCCESS);
}
