/* SgmSDE interface: creation, type registry, options, and the coefficient queries. */
#include <sgm/private/sdeimpl.h>
#include <sgmio.h>

PetscFunctionList SgmSDEList = NULL;

PetscErrorCode SgmSDERegister(const char name[], PetscErrorCode (*create)(SgmSDE))
{
  PetscFunctionBegin;
  PetscCall(SgmInitializePackage());
  PetscCall(PetscFunctionListAdd(&SgmSDEList, name, create));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSDECreate(MPI_Comm comm, SgmSDE *sde)
{
  SgmSDE s;

  PetscFunctionBegin;
  PetscValidPointer(sde, 2);
  PetscCall(SgmInitializePackage());
  PetscCall(PetscHeaderCreate(s, SGM_SDE_CLASSID, "SgmSDE", "Forward noising SDE", "SgmSDE", comm, SgmSDEDestroy, SgmSDEView));
  s->eps       = -1; /* unset: the type chooses */
  s->T         = 1;
  s->prior_std = 1;
  *sde         = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSDESetType(SgmSDE sde, SgmSDEType type)
{
  PetscErrorCode (*create)(SgmSDE);
  PetscBool match;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(sde, SGM_SDE_CLASSID, 1);
  PetscCall(PetscObjectTypeCompare((PetscObject)sde, type, &match));
  if (match) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFunctionListFind(SgmSDEList, type, &create));
  PetscCheck(create, PetscObjectComm((PetscObject)sde), PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown SDE type '%s' (-sde_type): choose vp, subvp, ve or poly2", type);
  PetscTryTypeMethod(sde, destroy);
  PetscCall(PetscMemzero(sde->ops, sizeof(struct _SgmSDEOps)));
  sde->data        = NULL;
  sde->setupcalled = PETSC_FALSE;
  PetscCall(PetscObjectChangeTypeName((PetscObject)sde, type));
  PetscCall((*create)(sde));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSDEGetType(SgmSDE sde, SgmSDEType *type)
{
  PetscFunctionBegin;
  *type = ((PetscObject)sde)->type_name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSDESetFromOptions(SgmSDE sde)
{
  char      type[256];
  PetscBool flg;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(sde, SGM_SDE_CLASSID, 1);
  PetscObjectOptionsBegin((PetscObject)sde);
  PetscCall(PetscOptionsFList("-sde_type", "Forward SDE", "SgmSDESetType", SgmSDEList, ((PetscObject)sde)->type_name ? ((PetscObject)sde)->type_name : SGMSDEVP, type, sizeof(type), &flg));
  if (flg || !((PetscObject)sde)->type_name) PetscCall(SgmSDESetType(sde, flg ? type : SGMSDEVP));
  PetscCall(PetscOptionsReal("-sde_T", "End of the diffusion time interval", "SgmSDESetInterval", sde->T, &sde->T, NULL));
  PetscCall(PetscOptionsReal("-sde_eps", "Start of the sampling interval, where the reverse process stops (default: 1e-3 vp/subvp, 0 ddpm schedule, 1e-5 ve)", "SgmSDESetInterval", sde->eps, &sde->eps, &flg));
  PetscCheck(!flg || sde->eps >= 0, PetscObjectComm((PetscObject)sde), PETSC_ERR_USER_INPUT, "-sde_eps must be non-negative; got %g", (double)sde->eps);
  PetscTryTypeMethod(sde, setfromoptions, PetscOptionsObject);
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSDESetUp(SgmSDE sde)
{
  MPI_Comm comm;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(sde, SGM_SDE_CLASSID, 1);
  if (sde->setupcalled) PetscFunctionReturn(PETSC_SUCCESS);
  comm = PetscObjectComm((PetscObject)sde);
  if (!((PetscObject)sde)->type_name) PetscCall(SgmSDESetType(sde, SGMSDEVP));
  PetscTryTypeMethod(sde, setup);
  PetscCheck(sde->T > 0, comm, PETSC_ERR_USER_INPUT, "-sde_T must be positive; got %g", (double)sde->T);
  PetscCheck(sde->eps >= 0 && sde->eps < sde->T, comm, PETSC_ERR_USER_INPUT, "-sde_eps must lie in [0, T) = [0, %g); got %g", (double)sde->T, (double)sde->eps);
  sde->setupcalled = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSDESetInterval(SgmSDE sde, PetscReal eps, PetscReal T)
{
  PetscFunctionBegin;
  sde->eps = eps;
  sde->T   = T;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSDEGetInterval(SgmSDE sde, PetscReal *eps, PetscReal *T)
{
  PetscFunctionBegin;
  if (eps) *eps = sde->eps;
  if (T) *T = sde->T;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Drift and diffusion of dx = f(t) x dt + g(t) dw. */
PetscErrorCode SgmSDECoefficients(SgmSDE sde, PetscReal t, PetscReal *f, PetscReal *g)
{
  PetscFunctionBegin;
  PetscUseTypeMethod(sde, coefficients, t, f, g);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* q(x_t | x_0) = N(alpha(t) x_0, sigma(t)^2 I). */
PetscErrorCode SgmSDEMarginal(SgmSDE sde, PetscReal t, PetscReal *alpha, PetscReal *sigma)
{
  PetscFunctionBegin;
  PetscUseTypeMethod(sde, marginal, t, alpha, sigma);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  q(x_t | x_s) = N(r x_s, v I) for s < t: r = alpha(t)/alpha(s) and, since the marginal variances
  compose as sigma(t)^2 = r^2 sigma(s)^2 + v, v = sigma(t)^2 - r^2 sigma(s)^2.
*/
PetscErrorCode SgmSDETransition(SgmSDE sde, PetscReal s, PetscReal t, PetscReal *r, PetscReal *v)
{
  PetscReal as, ss, at, st;

  PetscFunctionBegin;
  if (sde->ops->transition) {
    PetscUseTypeMethod(sde, transition, s, t, r, v);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SgmSDEMarginal(sde, s, &as, &ss));
  PetscCall(SgmSDEMarginal(sde, t, &at, &st));
  *r = at / as;
  *v = PetscMax(0, (st - *r * ss) * (st + *r * ss));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* sigma(t)/alpha(t): EDM's sigma, the noise level of x/alpha; increasing in t for every sgm SDE. */
PetscErrorCode SgmSDENoiseToSignal(SgmSDE sde, PetscReal t, PetscReal *r)
{
  PetscReal a, s;

  PetscFunctionBegin;
  PetscCall(SgmSDEMarginal(sde, t, &a, &s));
  *r = s / a;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The t in [0, T] with sigma(t)/alpha(t) = r, by bisection (to the last bit; used once per grid point). */
PetscErrorCode SgmSDETimeFromNoiseToSignal(SgmSDE sde, PetscReal r, PetscReal *t)
{
  PetscReal lo = 0, hi = sde->T, v;

  PetscFunctionBegin;
  if (sde->ops->timefromnsr) {
    PetscUseTypeMethod(sde, timefromnsr, r, t);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SgmSDENoiseToSignal(sde, hi, &v));
  if (r >= v) {
    *t = hi;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (r <= 0) {
    *t = 0;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (int it = 0; it < 200 && hi - lo > 0; it++) {
    PetscReal mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    PetscCall(SgmSDENoiseToSignal(sde, mid, &v));
    if (v < r) lo = mid;
    else hi = mid;
  }
  *t = 0.5 * (lo + hi);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSDEGetPriorStd(SgmSDE sde, PetscReal *std)
{
  PetscFunctionBegin;
  *std = sde->prior_std;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* log N(x; 0, prior_std^2 I) for n samples of dimension d. */
PetscErrorCode SgmSDEPriorLogDensity(SgmSDE sde, PetscInt d, const PetscScalar x[], PetscReal *logp)
{
  PetscReal q = 0, s2 = sde->prior_std * sde->prior_std;

  PetscFunctionBegin;
  for (PetscInt j = 0; j < d; j++) q += PetscRealPart(x[j] * x[j]);
  *logp = -0.5 * q / s2 - 0.5 * d * PetscLogReal(2 * PETSC_PI * s2);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSDEWriteAttributes(SgmSDE sde, hid_t obj)
{
  PetscFunctionBegin;
  PetscCall(SgmH5AttrString(obj, "sde_type", ((PetscObject)sde)->type_name));
  PetscCall(SgmH5AttrReal(obj, "sde_eps", sde->eps));
  PetscCall(SgmH5AttrReal(obj, "sde_T", sde->T));
  PetscCall(SgmH5AttrReal(obj, "sde_prior_std", sde->prior_std));
  PetscTryTypeMethod(sde, attributes, obj);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSDEView(SgmSDE sde, PetscViewer viewer)
{
  PetscBool iascii;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(PetscObjectComm((PetscObject)sde), &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &iascii));
  if (iascii) {
    PetscCall(PetscObjectPrintClassNamePrefixType((PetscObject)sde, viewer));
    PetscCall(PetscViewerASCIIPushTab(viewer));
    PetscCall(PetscViewerASCIIPrintf(viewer, "interval [eps, T] = [%g, %g], prior N(0, %g^2 I)\n", (double)sde->eps, (double)sde->T, (double)sde->prior_std));
    PetscTryTypeMethod(sde, view, viewer);
    PetscCall(PetscViewerASCIIPopTab(viewer));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSDEDestroy(SgmSDE *sde)
{
  PetscFunctionBegin;
  if (!*sde) PetscFunctionReturn(PETSC_SUCCESS);
  PetscValidHeaderSpecific(*sde, SGM_SDE_CLASSID, 1);
  if (--((PetscObject)(*sde))->refct > 0) {
    *sde = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscTryTypeMethod(*sde, destroy);
  PetscCall(PetscHeaderDestroy(sde));
  PetscFunctionReturn(PETSC_SUCCESS);
}
