/*
  Adaptive-step reverse SDE ("Gotta Go Fast", Jolicoeur-Martineau et al. 2021, Alg. 1).  In
  reverse time tau (drift F(x, t) = -f(t) x + g(t)^2 s(x, t)), one attempt with step h from t:
      x'  = x + h F(x, t)       + g(t) dW        (Euler-Maruyama)
      x~  = x + h F(x', t - h)  + g(t - h) dW
      x'' = (x' + x~)/2                           (stochastic improved Euler, same dW)
      E   = max over samples of sqrt(mean_j ((x'_j - x''_j)/delta_j)^2),
            delta = max(abstol, reltol max(|x'|, |x'_prev|))
  accepted (x <- x'') if E <= 1; the next step is h theta E^(-r) (TSAdapt type "sgmgtg", safety
  theta = 0.9, exponent r = 0.9).  dW = W(tau + h) - W(tau) comes from a virtual Brownian tree, so
  a rejected step and its retry see one consistent Brownian path.  The maximum over samples is
  exact, so the steps and the samples do not depend on the number of ranks.  2 NFE per attempt.
*/
#include <sgm/private/samplerimpl.h>
#include <sgmfield.h>
#include <sgm/private/scoreimpl.h>
#include <sgm/private/sdeimpl.h>
#include <petsc/private/tsimpl.h>
#include <sgmio.h>

typedef struct {
  PetscReal abstol, reltol;
  PetscInt  depth;          /* levels of the Brownian tree */
  Vec       xp, xpp, xprev; /* x', x'', previous accepted x' */
  Vec       W0, W1;         /* Brownian path at tau and tau + h */
  PetscReal E;              /* error of the last attempt */
  PetscReal *work;
} SgmSampler_Adaptive;

static PetscErrorCode BrownianAt(SgmSampler sampler, PetscReal tau, Vec W)
{
  SgmSampler_Adaptive *ad  = (SgmSampler_Adaptive *)sampler->data;
  SgmSDE               sde = sampler->score->sde;
  PetscScalar         *w;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_Noise, 0, 0, 0, 0));
  PetscCall(VecGetArrayWrite(W, &w));
  PetscCall(SgmBrownianTreeBatch((uint64_t)sampler->seed, &sampler->batch, sde->T - sde->eps, ad->depth, tau, w, ad->work));
  PetscCall(SgmSamplerZeroCoMArray_Private(sampler, sampler->batch.n, w)); /* zero-CoM clouds: P W is the Brownian path in the subspace */
  PetscCall(VecRestoreArrayWrite(W, &w));
  PetscCall(PetscLogEventEnd(SGM_Noise, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Scaled RMS error of x' against x'' per sample, maximum over the batch (exact, rank-independent). */
static PetscErrorCode AdaptiveError(SgmSampler sampler, PetscReal *E)
{
  SgmSampler_Adaptive *ad = (SgmSampler_Adaptive *)sampler->data;
  PetscInt             n = sampler->batch.n, d = sampler->batch.d;
  const PetscScalar   *xp, *xpp, *xq;
  PetscReal            emax = 0;

  PetscFunctionBegin;
  PetscCall(VecGetArrayRead(ad->xp, &xp));
  PetscCall(VecGetArrayRead(ad->xpp, &xpp));
  PetscCall(VecGetArrayRead(ad->xprev, &xq));
  if (sampler->batch.field) { /* per-field sums over all ranks, the same bits on any process grid */
    PetscReal *v, *q;
    PetscInt   D = SgmBatchSampleDimension(&sampler->batch), bad = 0;
    PetscCall(PetscMalloc2(n * d + 1, &v, n + 1, &q));
    for (PetscInt j = 0; j < n * d; j++) {
      PetscReal delta = PetscMax(ad->abstol, ad->reltol * PetscMax(PetscAbsScalar(xp[j]), PetscAbsScalar(xq[j])));
      PetscReal e     = PetscRealPart(xp[j] - xpp[j]) / delta;
      v[j]            = e * e;
      if (PetscIsInfOrNanReal(v[j])) {
        bad  = 1;
        v[j] = 0;
      }
    }
    PetscCall(SgmFieldReduceSum(&sampler->batch, 1, v, q)); /* dof > 1: the sum runs over points and components alike */
    for (PetscInt i = 0; i < n; i++) emax = PetscMax(emax, PetscSqrtReal(q[i] / D));
    if (bad) emax = PETSC_INFINITY;
    PetscCall(PetscFree2(v, q));
    n = 0; /* done */
  }
  for (PetscInt i = 0; i < n; i++) {
    PetscReal q = 0;
    for (PetscInt j = i * d; j < (i + 1) * d; j++) {
      PetscReal delta = PetscMax(ad->abstol, ad->reltol * PetscMax(PetscAbsScalar(xp[j]), PetscAbsScalar(xq[j])));
      PetscReal e     = PetscRealPart(xp[j] - xpp[j]) / delta;
      q += e * e;
    }
    q = PetscSqrtReal(q / d);
    if (!(q <= emax)) emax = q; /* NaN propagates */
  }
  PetscCall(VecRestoreArrayRead(ad->xprev, &xq));
  PetscCall(VecRestoreArrayRead(ad->xpp, &xpp));
  PetscCall(VecRestoreArrayRead(ad->xp, &xp));
  if (PetscIsInfOrNanReal(emax)) emax = PETSC_INFINITY;
  PetscCall(MPIU_Allreduce(&emax, E, 1, MPIU_REAL, MPI_MAX, PetscObjectComm((PetscObject)sampler)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TSStep_SgmAdaptive(TS ts)
{
  SgmSampler           sampler;
  SgmSampler_Adaptive *ad;
  SgmSDE               sde;
  Vec                  X = ts->vec_sol, S;
  PetscBool            accept = PETSC_FALSE;
  PetscReal            next_h = ts->time_step;
  PetscInt             reject;

  PetscFunctionBegin;
  PetscCall(SgmSamplerFromTS(ts, &sampler));
  ad  = (SgmSampler_Adaptive *)sampler->data;
  sde = sampler->score->sde;
  S   = sampler->work;
  for (reject = 0; !ts->reason && reject <= ts->max_reject; reject++, ts->reject++) {
    const PetscReal h = ts->time_step, tau = ts->ptime, t0 = sde->T - tau, t1 = sde->T - (tau + h);
    PetscReal       f0, g0, f1, g1;

    PetscCall(PetscLogEventBegin(SGM_Step, 0, 0, 0, 0));
    PetscCall(TSPreStage(ts, tau));
    PetscCall(SgmSDECoefficients(sde, t0, &f0, &g0));
    PetscCall(SgmSDECoefficients(sde, t1, &f1, &g1));
    PetscCall(BrownianAt(sampler, tau + h, ad->W1));
    PetscCall(SgmVecWAXPY(sampler->noise, -1, ad->W0, ad->W1)); /* dW */
    /* x' = (1 - h f0) x + h g0^2 s(x, t0) + g0 dW */
    PetscCall(SgmScoreApply(sampler->score, t0, &sampler->batch, X, S));
    PetscCall(SgmVecAXPBYPCZ(ad->xp, 1 - h * f0, h * g0 * g0, 0, X, S));
    PetscCall(SgmVecAXPY(ad->xp, g0, sampler->noise));
    PetscCall(TSPostStage(ts, tau, 0, &ad->xp));
    /* x~ = x - h f1 x' + h g1^2 s(x', t1) + g1 dW;  x'' = (x' + x~)/2 */
    PetscCall(TSPreStage(ts, tau + h));
    PetscCall(SgmScoreApply(sampler->score, t1, &sampler->batch, ad->xp, S));
    PetscCall(SgmVecAXPBYPCZ(S, 1, -h * f1, h * g1 * g1, X, ad->xp)); /* S <- X - h f1 x' + h g1^2 S */
    PetscCall(SgmVecAXPY(S, g1, sampler->noise));
    PetscCall(SgmVecAXPBYPCZ(ad->xpp, 0.5, 0.5, 0, ad->xp, S));
    PetscCall(TSPostStage(ts, tau + h, 1, &ad->xpp));
    PetscCall(AdaptiveError(sampler, &ad->E));
    PetscCall(PetscLogEventEnd(SGM_Step, 0, 0, 0, 0));

    PetscCall(TSAdaptChoose(ts->adapt, ts, h, NULL, &next_h, &accept));
    if (!accept) {
      ts->time_step = next_h;
      continue;
    }
    PetscCall(VecCopy(ad->xpp, X));
    PetscCall(VecCopy(ad->xp, ad->xprev));
    PetscCall(VecCopy(ad->W1, ad->W0));
    ts->ptime += h;
    ts->time_step = next_h;
    break;
  }
  if (!accept && !ts->reason) ts->reason = TS_DIVERGED_STEP_REJECTED;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TSEvaluateWLTE_SgmAdaptive(TS ts, NormType wnormtype, PetscInt *order, PetscReal *wlte)
{
  SgmSampler sampler;

  PetscFunctionBegin;
  PetscCall(SgmSamplerFromTS(ts, &sampler));
  if (order) *order = 1;
  *wlte = ((SgmSampler_Adaptive *)sampler->data)->E;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TSSetUp_SgmAdaptive(TS ts)
{
  TSAdapt adapt;

  PetscFunctionBegin;
  PetscCall(TSGetAdapt(ts, &adapt));
  PetscCall(TSAdaptCandidatesClear(adapt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TSDestroy_SgmAdaptive(TS ts)
{
  PetscFunctionBegin;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode TSCreate_SgmAdaptive(TS ts)
{
  PetscFunctionBegin;
  ts->ops->step          = TSStep_SgmAdaptive;
  ts->ops->evaluatewlte  = TSEvaluateWLTE_SgmAdaptive;
  ts->ops->setup         = TSSetUp_SgmAdaptive;
  ts->ops->destroy       = TSDestroy_SgmAdaptive;
  ts->default_adapt_type = TSADAPTSGMGTG;
  ts->usessnes           = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------- the step-size controller, a TSAdapt type ---------------- */
typedef struct {
  PetscReal r; /* exponent */
} TSAdapt_SgmGTG;

static PetscErrorCode TSAdaptChoose_SgmGTG(TSAdapt adapt, TS ts, PetscReal h, PetscInt *next_sc, PetscReal *next_h, PetscBool *accept, PetscReal *wlte, PetscReal *wltea, PetscReal *wlter)
{
  TSAdapt_SgmGTG *gtg = (TSAdapt_SgmGTG *)adapt->data;
  PetscInt        order;
  PetscReal       E, hfac;

  PetscFunctionBegin;
  PetscCall(TSEvaluateWLTE(ts, NORM_INFINITY, &order, &E));
  *accept = (PetscBool)(E <= 1);
  hfac    = PetscIsInfOrNanReal(E) ? adapt->clip[0] : adapt->safety * PetscPowReal(PetscMax(E, PETSC_SMALL), -gtg->r);
  hfac    = PetscMin(PetscMax(hfac, adapt->clip[0]), adapt->clip[1]);
  *next_h = PetscMin(PetscMax(h * hfac, adapt->dt_min), adapt->dt_max);
  if (next_sc) *next_sc = 0;
  *wlte  = E;
  *wltea = -1;
  *wlter = -1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TSAdaptSetFromOptions_SgmGTG(TSAdapt adapt, PetscOptionItems *PetscOptionsObject)
{
  TSAdapt_SgmGTG *gtg = (TSAdapt_SgmGTG *)adapt->data;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Gotta-Go-Fast step-size controller");
  PetscCall(PetscOptionsReal("-ts_adapt_sgmgtg_exponent", "Exponent r of h_new = safety h E^(-r)", "", gtg->r, &gtg->r, NULL));
  PetscOptionsHeadEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TSAdaptDestroy_SgmGTG(TSAdapt adapt)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(adapt->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode TSAdaptCreate_SgmGTG(TSAdapt adapt)
{
  TSAdapt_SgmGTG *gtg;

  PetscFunctionBegin;
  PetscCall(PetscNew(&gtg));
  gtg->r                     = 0.9;
  adapt->data                = gtg;
  adapt->safety              = 0.9;
  adapt->clip[0]             = 0.1;
  adapt->clip[1]             = 10;
  adapt->ops->choose         = TSAdaptChoose_SgmGTG;
  adapt->ops->setfromoptions = TSAdaptSetFromOptions_SgmGTG;
  adapt->ops->destroy        = TSAdaptDestroy_SgmGTG;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------- the sampler ---------------- */
static PetscErrorCode SgmSamplerSetFromOptions_Adaptive(SgmSampler sampler, PetscOptionItems *PetscOptionsObject)
{
  SgmSampler_Adaptive *ad = (SgmSampler_Adaptive *)sampler->data;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Adaptive reverse-SDE sampler options");
  PetscCall(PetscOptionsReal("-adaptive_abstol", "Absolute tolerance of the error estimate", "", ad->abstol, &ad->abstol, NULL));
  PetscCall(PetscOptionsReal("-adaptive_reltol", "Relative tolerance of the error estimate", "", ad->reltol, &ad->reltol, NULL));
  PetscCall(PetscOptionsInt("-adaptive_brownian_depth", "Levels of the virtual Brownian tree (resolution (T-eps)/2^depth)", "", ad->depth, &ad->depth, NULL));
  PetscOptionsHeadEnd();
  PetscCheck(ad->abstol > 0 && ad->reltol >= 0, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "-adaptive_abstol must be positive and -adaptive_reltol non-negative; got %g and %g", (double)ad->abstol, (double)ad->reltol);
  PetscCheck(ad->depth >= 1 && ad->depth <= 30, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "-adaptive_brownian_depth must lie in 1..30; got %" PetscInt_FMT, ad->depth);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerSetUp_Adaptive(SgmSampler sampler)
{
  SgmSampler_Adaptive *ad = (SgmSampler_Adaptive *)sampler->data;
  TSAdapt              adapt;
  PetscBool            match;

  PetscFunctionBegin;
  PetscCall(TSSetType(sampler->ts, TSSGMADAPTIVE));
  PetscCall(TSSetMaxSteps(sampler->ts, PETSC_MAX_INT));
  PetscCall(TSGetAdapt(sampler->ts, &adapt));
  PetscCall(TSAdaptSetType(adapt, TSADAPTSGMGTG));
  PetscCall(TSSetFromOptions(sampler->ts));
  PetscCall(PetscObjectTypeCompare((PetscObject)sampler->ts, TSSGMADAPTIVE, &match));
  PetscCheck(match, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "-ts_type selects the integrator of -sampler_type ode only; sampler adaptive uses its own TS type %s", TSSGMADAPTIVE);
  PetscCall(VecDestroy(&ad->xp));
  PetscCall(VecDestroy(&ad->xpp));
  PetscCall(VecDestroy(&ad->xprev));
  PetscCall(VecDestroy(&ad->W0));
  PetscCall(VecDestroy(&ad->W1));
  PetscCall(VecDuplicate(sampler->X, &ad->xp));
  PetscCall(VecDuplicate(sampler->X, &ad->xpp));
  PetscCall(VecDuplicate(sampler->X, &ad->xprev));
  PetscCall(VecDuplicate(sampler->X, &ad->W0));
  PetscCall(VecDuplicate(sampler->X, &ad->W1));
  PetscCall(PetscFree(ad->work));
  PetscCall(PetscMalloc1(3 * sampler->batch.n * sampler->batch.d + 1, &ad->work));
  sampler->fixedstep = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The state before the first step: W(0) = 0 and x'_prev = x_T. */
static PetscErrorCode SgmSamplerPreSolve_Adaptive(SgmSampler sampler)
{
  SgmSampler_Adaptive *ad = (SgmSampler_Adaptive *)sampler->data;

  PetscFunctionBegin;
  PetscCall(VecSet(ad->W0, 0));
  PetscCall(VecCopy(sampler->X, ad->xprev));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* x'_prev enters the next error estimate; W(tau) is a function of tau and is recomputed. */
static PetscErrorCode SgmSamplerCheckpointWrite_Adaptive(SgmSampler sampler, SgmOutput o)
{
  PetscFunctionBegin;
  PetscCall(SgmOutputWriteBatch(o, "adaptive_xprev", &sampler->batch, ((SgmSampler_Adaptive *)sampler->data)->xprev));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerCheckpointRead_Adaptive(SgmSampler sampler, hid_t file)
{
  SgmSampler_Adaptive *ad = (SgmSampler_Adaptive *)sampler->data;
  PetscReal            tau;

  PetscFunctionBegin;
  PetscCall(SgmH5ReadBatch(file, "adaptive_xprev", &sampler->batch, ad->xprev));
  PetscCall(SgmH5AttrGetReal(PetscObjectComm((PetscObject)sampler), file, "tau", &tau));
  PetscCall(BrownianAt(sampler, tau, ad->W0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerAttributes_Adaptive(SgmSampler sampler, hid_t file)
{
  SgmSampler_Adaptive *ad = (SgmSampler_Adaptive *)sampler->data;
  PetscInt             rejected;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrReal(file, "adaptive_abstol", ad->abstol));
  PetscCall(SgmH5AttrReal(file, "adaptive_reltol", ad->reltol));
  PetscCall(SgmH5AttrInt(file, "adaptive_brownian_depth", ad->depth));
  PetscCall(TSGetStepRejections(sampler->ts, &rejected));
  PetscCall(SgmH5AttrInt(file, "steps_rejected", rejected));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerView_Adaptive(SgmSampler sampler, PetscViewer viewer)
{
  SgmSampler_Adaptive *ad = (SgmSampler_Adaptive *)sampler->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "abstol %g, reltol %g, Brownian tree depth %" PetscInt_FMT "\n", (double)ad->abstol, (double)ad->reltol, ad->depth));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerDestroy_Adaptive(SgmSampler sampler)
{
  SgmSampler_Adaptive *ad = (SgmSampler_Adaptive *)sampler->data;

  PetscFunctionBegin;
  PetscCall(VecDestroy(&ad->xp));
  PetscCall(VecDestroy(&ad->xpp));
  PetscCall(VecDestroy(&ad->xprev));
  PetscCall(VecDestroy(&ad->W0));
  PetscCall(VecDestroy(&ad->W1));
  PetscCall(PetscFree(ad->work));
  PetscCall(PetscFree(sampler->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmSamplerCreate_Adaptive(SgmSampler sampler)
{
  SgmSampler_Adaptive *ad;

  PetscFunctionBegin;
  sampler->fields = PETSC_TRUE; /* works on field batches */
  PetscCall(PetscNew(&ad));
  ad->abstol                   = 0.0078;
  ad->reltol                   = 0.01;
  ad->depth                    = 16;
  sampler->data                = ad;
  sampler->ops->setup          = SgmSamplerSetUp_Adaptive;
  sampler->ops->presolve       = SgmSamplerPreSolve_Adaptive;
  sampler->ops->checkpointwrite = SgmSamplerCheckpointWrite_Adaptive;
  sampler->ops->checkpointread  = SgmSamplerCheckpointRead_Adaptive;
  sampler->ops->setfromoptions = SgmSamplerSetFromOptions_Adaptive;
  sampler->ops->attributes     = SgmSamplerAttributes_Adaptive;
  sampler->ops->view           = SgmSamplerView_Adaptive;
  sampler->ops->destroy        = SgmSamplerDestroy_Adaptive;
  PetscCall(SgmSamplerSetDefaults_Private(sampler, 100, SGM_SCHEDULE_UNIFORM));
  PetscFunctionReturn(PETSC_SUCCESS);
}
