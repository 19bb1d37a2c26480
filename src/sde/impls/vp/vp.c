/*
  Variance-preserving SDE (Song et al. 2021, eq. 11; DDPM in the continuum limit):
      dx = -1/2 beta(t) x dt + sqrt(beta(t)) dw,   alpha_bar(t) = exp(-int_0^t beta).
  Schedules:
    linear  beta(t) = beta_min + (t/T)(beta_max - beta_min)                 (score_sde: 0.1 .. 20)
    ddpm    the discrete DDPM schedule beta_i = beta_min/N + (i-1)/(N-1) (beta_max-beta_min)/N,
            i = 1..N (1e-4 .. 0.02 for N = 1000), as the VP SDE whose beta(t) is constant,
            -N/T log(1 - beta_i), on ((i-1)T/N, iT/N]: its marginals at t_i = iT/N are exactly
            DDPM's q(x_i|x_0) = N(sqrt(alpha_bar_i) x_0, (1 - alpha_bar_i) I).
*/
#include <sgm/private/vpimpl.h>
#include <sgmio.h>

const char *const SgmVPSchedules[] = {"linear", "ddpm", "SgmVPSchedule", "SGM_VP_SCHEDULE_", NULL};

void SgmVPIntegral(SgmSDE sde, PetscReal t, PetscReal *B, PetscReal *beta)
{
  SgmSDE_VP *vp = (SgmSDE_VP *)sde->data;
  PetscReal  T  = sde->T;

  if (vp->schedule == SGM_VP_SCHEDULE_LINEAR) {
    *B    = vp->beta_min * t + 0.5 * (vp->beta_max - vp->beta_min) * t * t / T;
    *beta = vp->beta_min + (t / T) * (vp->beta_max - vp->beta_min);
  } else {
    PetscReal u = t / T * vp->N;
    PetscInt  i = (PetscInt)PetscCeilReal(u);
    i           = PetscMin(PetscMax(i, 1), vp->N);
    PetscReal L = vp->cum[i] - vp->cum[i - 1]; /* -log(1 - beta_i) */
    *B          = vp->cum[i - 1] + (u - (i - 1)) * L;
    *beta       = L * vp->N / T;
  }
}

static PetscErrorCode SgmSDECoefficients_VP(SgmSDE sde, PetscReal t, PetscReal *f, PetscReal *g)
{
  PetscReal B, beta;

  PetscFunctionBegin;
  SgmVPIntegral(sde, t, &B, &beta);
  *f = -0.5 * beta;
  *g = PetscSqrtReal(beta);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDEMarginal_VP(SgmSDE sde, PetscReal t, PetscReal *alpha, PetscReal *sigma)
{
  PetscReal B, beta;

  PetscFunctionBegin;
  SgmVPIntegral(sde, t, &B, &beta);
  *alpha = PetscExpReal(-0.5 * B);
  *sigma = PetscSqrtReal(-expm1(-B));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* r = sqrt(alpha_bar(t)/alpha_bar(s)), v = 1 - alpha_bar(t)/alpha_bar(s): DDPM's alpha_t and beta_t. */
static PetscErrorCode SgmSDETransition_VP(SgmSDE sde, PetscReal s, PetscReal t, PetscReal *r, PetscReal *v)
{
  PetscReal Bs, Bt, beta;

  PetscFunctionBegin;
  SgmVPIntegral(sde, s, &Bs, &beta);
  SgmVPIntegral(sde, t, &Bt, &beta);
  *r = PetscExpReal(-0.5 * (Bt - Bs));
  *v = -expm1(-(Bt - Bs));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDESetFromOptions_VP(SgmSDE sde, PetscOptionItems *PetscOptionsObject)
{
  SgmSDE_VP *vp = (SgmSDE_VP *)sde->data;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "VP / sub-VP SDE options");
  PetscCall(PetscOptionsReal("-sde_beta_min", "beta(0); for the ddpm schedule N*beta_1", "SgmSDEVPSetBeta", vp->beta_min, &vp->beta_min, NULL));
  PetscCall(PetscOptionsReal("-sde_beta_max", "beta(T); for the ddpm schedule N*beta_N", "SgmSDEVPSetBeta", vp->beta_max, &vp->beta_max, NULL));
  PetscCall(PetscOptionsEnum("-sde_vp_schedule", "beta schedule", "SgmSDEVPSetSchedule", SgmVPSchedules, (PetscEnum)vp->schedule, (PetscEnum *)&vp->schedule, NULL));
  PetscCall(PetscOptionsInt("-sde_num_scales", "Number N of discrete DDPM scales (ddpm schedule)", "SgmSDEVPSetSchedule", vp->N, &vp->N, NULL));
  PetscOptionsHeadEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDESetUp_VP(SgmSDE sde)
{
  SgmSDE_VP *vp   = (SgmSDE_VP *)sde->data;
  MPI_Comm   comm = PetscObjectComm((PetscObject)sde);

  PetscFunctionBegin;
  PetscCheck(vp->beta_min > 0 && vp->beta_max >= vp->beta_min, comm, PETSC_ERR_USER_INPUT, "The VP SDE needs 0 < -sde_beta_min <= -sde_beta_max; got %g and %g", (double)vp->beta_min, (double)vp->beta_max);
  PetscCall(PetscFree(vp->cum));
  if (vp->schedule == SGM_VP_SCHEDULE_DDPM) {
    PetscCheck(vp->N >= 2, comm, PETSC_ERR_USER_INPUT, "-sde_num_scales must be at least 2; got %" PetscInt_FMT, vp->N);
    PetscCall(PetscMalloc1(vp->N + 1, &vp->cum));
    vp->cum[0] = 0;
    for (PetscInt i = 1; i <= vp->N; i++) {
      PetscReal b = vp->beta_min / vp->N + (PetscReal)(i - 1) / (vp->N - 1) * (vp->beta_max - vp->beta_min) / vp->N;
      PetscCheck(b < 1, comm, PETSC_ERR_USER_INPUT, "DDPM beta_%" PetscInt_FMT " = %g is not below 1: lower -sde_beta_max or raise -sde_num_scales", i, (double)b);
      vp->cum[i] = vp->cum[i - 1] - log1p(-b);
    }
    if (sde->eps < 0) sde->eps = 0; /* the chain's grid ends at x_0 */
  } else if (sde->eps < 0) sde->eps = 1e-3;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDEView_VP(SgmSDE sde, PetscViewer viewer)
{
  SgmSDE_VP *vp = (SgmSDE_VP *)sde->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "beta schedule %s, beta_min %g, beta_max %g", SgmVPSchedules[vp->schedule], (double)vp->beta_min, (double)vp->beta_max));
  if (vp->schedule == SGM_VP_SCHEDULE_DDPM) PetscCall(PetscViewerASCIIPrintf(viewer, ", N = %" PetscInt_FMT, vp->N));
  PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDEAttributes_VP(SgmSDE sde, hid_t obj)
{
  SgmSDE_VP *vp = (SgmSDE_VP *)sde->data;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrReal(obj, "sde_beta_min", vp->beta_min));
  PetscCall(SgmH5AttrReal(obj, "sde_beta_max", vp->beta_max));
  PetscCall(SgmH5AttrString(obj, "sde_vp_schedule", SgmVPSchedules[vp->schedule]));
  PetscCall(SgmH5AttrInt(obj, "sde_num_scales", vp->N));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSDEDestroy_VP(SgmSDE sde)
{
  SgmSDE_VP *vp = (SgmSDE_VP *)sde->data;

  PetscFunctionBegin;
  PetscCall(PetscFree(vp->cum));
  PetscCall(PetscFree(sde->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSDEVPSetBeta(SgmSDE sde, PetscReal beta_min, PetscReal beta_max)
{
  SgmSDE_VP *vp = (SgmSDE_VP *)sde->data;

  PetscFunctionBegin;
  vp->beta_min     = beta_min;
  vp->beta_max     = beta_max;
  sde->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmSDEVPSetSchedule(SgmSDE sde, SgmVPSchedule schedule, PetscInt N)
{
  SgmSDE_VP *vp = (SgmSDE_VP *)sde->data;

  PetscFunctionBegin;
  vp->schedule     = schedule;
  if (N > 0) vp->N = N;
  sde->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* What the VP and sub-VP SDEs share: the schedule, its options and its bookkeeping. */
PetscErrorCode SgmSDECreate_VPCommon(SgmSDE sde)
{
  SgmSDE_VP *vp;

  PetscFunctionBegin;
  PetscCall(PetscNew(&vp));
  vp->beta_min             = 0.1;
  vp->beta_max             = 20;
  vp->schedule             = SGM_VP_SCHEDULE_LINEAR;
  vp->N                    = 1000;
  sde->data                = vp;
  sde->prior_std           = 1;
  sde->ops->setfromoptions = SgmSDESetFromOptions_VP;
  sde->ops->setup          = SgmSDESetUp_VP;
  sde->ops->view           = SgmSDEView_VP;
  sde->ops->attributes     = SgmSDEAttributes_VP;
  sde->ops->destroy        = SgmSDEDestroy_VP;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmSDECreate_VP(SgmSDE sde)
{
  PetscFunctionBegin;
  PetscCall(SgmSDECreate_VPCommon(sde));
  sde->ops->coefficients = SgmSDECoefficients_VP;
  sde->ops->marginal     = SgmSDEMarginal_VP;
  sde->ops->transition   = SgmSDETransition_VP;
  PetscFunctionReturn(PETSC_SUCCESS);
}
