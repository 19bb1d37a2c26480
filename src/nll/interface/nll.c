/*
  Likelihoods through the probability-flow ODE.  Along dx/dt = f~(x, t) = f(t) x - 1/2 g(t)^2 s(x, t)
  the log-density changes as d log p_t(x(t))/dt = -div f~ (instantaneous change of variables,
  Chen et al. 2018), so integrating from the data point x(eps) up to T,
      log p_eps(x(eps)) = log p_T(x(T)) + int_eps^T div f~(x(t), t) dt,
      div f~ = d f(t) - 1/2 g(t)^2 tr(ds/dx).
  The state of each point is [x (d), l_1 .. l_P]: l_p accumulates the divergence, exactly (P = 1) or
  by Hutchinson's estimator eps_p^T (df~/dx) eps_p with P probes fixed per point for the whole path
  (FFJORD), whose spread over p gives the estimator's standard error.  Any PETSc TS type integrates
  it (default: adaptive Dormand-Prince 5(4), rtol = atol = 1e-5, as score_sde's likelihood code).

  Zero-CoM point clouds (score with -score_zero_com_atoms n, sd = d/n coordinates per atom; EDM,
  Hoogeboom et al. 2022, sec. 3.2 and app. A; doc/geometric.md): the density lives on the subspace
  X = {sum_i x_i = 0} of dimension D = (n-1) sd, with P the orthogonal projection onto it.
    - each data cloud's centre of mass is removed first (the density of a cloud on X is that of its
      translation class; the largest removed CoM coordinate is reported as nll_data_com_max);
    - the drift is projected, dx/dt = P f~(x, t), so the path stays in X;
    - the divergence is that of P f~ on X: D f(t) - 1/2 g^2 tr(P J P), J = ds/dx, with
      tr(P J P) = tr J - (1/n) sum_c u_c^T J u_c, u_c the vector with 1 at coordinate c of every
      atom (sd more Jacobian-vector products); Hutchinson's probes are projected, e = P z, so that
      E[e^T J e] = tr(P J P) and E[e^T e] = D;
    - the prior is the normal on X, log N_X(x_T; 0, prior_std^2) (SgmGeomZeroCoMGaussianLogDensity);
    - bits per dimension divide by D.
  -nll_model_prior (the score's closed form is a density on R^d, not on X) and dequantization are
  refused for point clouds.
*/
#include <sgmnll.h>
#include <sgmgeometric.h>
#include <sgm/private/scoreimpl.h>
#include <sgm/private/sdeimpl.h>
#include <petsc/private/petscimpl.h>
#include <math.h>

const char *const SgmNLLDivergences[]     = {"exact", "hutchinson", "SgmNLLDivergence", "SGM_NLL_DIVERGENCE_", NULL};
const char *const SgmNLLProbes[]          = {"rademacher", "gaussian", "SgmNLLProbe", "SGM_NLL_PROBE_", NULL};
const char *const SgmNLLDequantizations[] = {"none", "uniform", "SgmNLLDequantization", "SGM_NLL_DEQUANTIZATION_", NULL};
PetscClassId      SGM_NLL_CLASSID         = 0;

struct _p_SgmNLL {
  PETSCHEADER(int);
  SgmScore             score;
  TS                   ts;
  SgmNLLDivergence     divergence;
  SgmNLLProbe          probe;
  PetscInt             P;      /* accumulators per point: 1 (exact) or the number of probes */
  PetscInt64           seed;
  SgmNLLDequantization dequant;
  PetscInt             levels; /* uniform dequantization: number of levels */
  PetscReal            lo, hi; /* ... spread over [lo, hi] */
  SgmBatch             batch;  /* the points (dimension d) */
  SgmBatch             state;  /* the ODE state (dimension d + P) */
  Vec                  U;
  PetscScalar         *x, *s, *eps, *Je; /* work: n d each (eps: n P d) */
  PetscReal           *div;
  PetscReal           *logp, *se, *bpd; /* results per point */
  PetscInt64           nfe, njvp;
  PetscInt             nsteps0;
  PetscBool            modelprior; /* log p_T from the score's closed form instead of the SDE's prior */
  PetscInt             na, sd;     /* zero-CoM point clouds: atoms and coordinates per atom (0: no) */
  PetscInt             D;          /* dimension of the density: d, or (na - 1) sd for point clouds */
  PetscReal            commax;     /* largest |CoM coordinate| removed from the data (point clouds) */
};

PetscErrorCode SgmNLLCreate(MPI_Comm comm, SgmNLL *nll)
{
  SgmNLL n;

  PetscFunctionBegin;
  PetscCall(SgmInitializePackage());
  if (!SGM_NLL_CLASSID) PetscCall(PetscClassIdRegister("SgmNLL", &SGM_NLL_CLASSID));
  PetscCall(PetscHeaderCreate(n, SGM_NLL_CLASSID, "SgmNLL", "Likelihood by the probability-flow ODE", "SgmNLL", comm, SgmNLLDestroy, SgmNLLView));
  n->P       = 1;
  n->levels  = 256;
  n->lo      = 0;
  n->hi      = 1;
  n->nsteps0 = 100;
  PetscCall(TSCreate(comm, &n->ts));
  PetscCall(PetscObjectIncrementTabLevel((PetscObject)n->ts, (PetscObject)n, 1));
  *nll = n;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNLLSetScore(SgmNLL nll, SgmScore score)
{
  PetscFunctionBegin;
  PetscCall(PetscObjectReference((PetscObject)score));
  PetscCall(SgmScoreDestroy(&nll->score));
  nll->score = score;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNLLGetScore(SgmNLL nll, SgmScore *score)
{
  PetscFunctionBegin;
  if (!nll->score) PetscCall(SgmScoreCreate(PetscObjectComm((PetscObject)nll), &nll->score));
  *score = nll->score;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNLLSetFromOptions(SgmNLL nll)
{
  SgmScore  score;
  MPI_Comm  comm = PetscObjectComm((PetscObject)nll);
  PetscInt  seed = (PetscInt)nll->seed, nr = 2;
  PetscReal range[2];
  PetscBool flg;

  PetscFunctionBegin;
  PetscCall(SgmNLLGetScore(nll, &score));
  PetscCall(SgmScoreSetFromOptions(score));
  PetscObjectOptionsBegin((PetscObject)nll);
  PetscCall(PetscOptionsEnum("-nll_divergence", "Divergence of the ODE drift: exact trace or Hutchinson's estimator", "", SgmNLLDivergences, (PetscEnum)nll->divergence, (PetscEnum *)&nll->divergence, NULL));
  PetscCall(PetscOptionsInt("-nll_probes", "Hutchinson probes per point (>= 2 for a standard error)", "", nll->P, &nll->P, NULL));
  PetscCall(PetscOptionsEnum("-nll_probe", "Distribution of the Hutchinson probes", "", SgmNLLProbes, (PetscEnum)nll->probe, (PetscEnum *)&nll->probe, NULL));
  PetscCall(PetscOptionsInt("-seed", "Seed of the probes (counter-based: same probes on any number of ranks)", "", seed, &seed, NULL));
  PetscCall(PetscOptionsEnum("-nll_dequantization", "none: continuous data; uniform: data on -nll_levels levels in -nll_range, dequantized by uniform noise", "", SgmNLLDequantizations, (PetscEnum)nll->dequant, (PetscEnum *)&nll->dequant, NULL));
  PetscCall(PetscOptionsInt("-nll_levels", "Number of levels of quantized data (e.g. 256 for 8 bits)", "", nll->levels, &nll->levels, NULL));
  range[0] = nll->lo;
  range[1] = nll->hi;
  PetscCall(PetscOptionsRealArray("-nll_range", "lo,hi: the data's levels are lo + k (hi - lo)/(levels - 1)", "", range, &nr, &flg));
  PetscCall(PetscOptionsBool("-nll_model_prior", "Use the score model's own closed-form log p_T at T instead of the SDE prior N(0, prior_std^2 I) (exact scores only: isolates the ODE error)", "", nll->modelprior, &nll->modelprior, NULL));
  PetscCall(PetscOptionsInt("-nll_steps", "First time step = (T - eps)/steps", "", nll->nsteps0, &nll->nsteps0, NULL));
  PetscOptionsEnd();
  PetscCheck(seed >= 0, comm, PETSC_ERR_USER_INPUT, "-seed must be a non-negative integer; got %" PetscInt_FMT, seed);
  nll->seed = seed;
  if (flg) {
    PetscCheck(nr == 2 && range[1] > range[0], comm, PETSC_ERR_USER_INPUT, "-nll_range needs lo,hi with lo < hi");
    nll->lo = range[0];
    nll->hi = range[1];
  }
  if (nll->divergence == SGM_NLL_DIVERGENCE_EXACT) nll->P = 1;
  PetscCheck(nll->P >= 1, comm, PETSC_ERR_USER_INPUT, "-nll_probes must be at least 1; got %" PetscInt_FMT, nll->P);
  PetscCheck(nll->levels >= 2 && nll->nsteps0 >= 1, comm, PETSC_ERR_USER_INPUT, "-nll_levels must be >= 2 and -nll_steps >= 1");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Point clouds: div[i] <- tr(P J P) = tr J - (1/n) sum_c u_c^T J u_c, from div[i] = tr J. */
static PetscErrorCode SubspaceTraceCorrection(SgmNLL nll, PetscReal t)
{
  const PetscInt n = nll->batch.n, d = nll->batch.d, na = nll->na, sd = nll->sd;
  PetscScalar   *u = nll->Je + (size_t)n * d; /* second half of the work array */

  PetscFunctionBegin;
  for (PetscInt c = 0; c < sd; c++) {
    for (PetscInt k = 0; k < n * d; k++) u[k] = (k % sd) == c ? 1 : 0;
    PetscCall(SgmScoreJacobianVector(nll->score, t, n, nll->x, u, nll->Je));
    for (PetscInt i = 0; i < n; i++) {
      PetscReal q = 0;
      for (PetscInt a = 0; a < na; a++) q += PetscRealPart(nll->Je[i * d + a * sd + c]);
      nll->div[i] -= q / na;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The drift of the augmented ODE: [f~(x,t), div f~ (exact or one value per probe)] per point. */
static PetscErrorCode SgmNLLRHS(TS ts, PetscReal t, Vec U, Vec F, void *ctx)
{
  SgmNLL             nll = (SgmNLL)ctx;
  const PetscInt     n = nll->batch.n, d = nll->batch.d, P = nll->P, m = d + P;
  const PetscScalar *u;
  PetscScalar       *f;
  PetscReal          fc, g;

  PetscFunctionBegin;
  PetscCall(SgmSDECoefficients(nll->score->sde, t, &fc, &g));
  PetscCall(VecGetArrayRead(U, &u));
  PetscCall(VecGetArrayWrite(F, &f));
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < d; j++) nll->x[i * d + j] = u[i * m + j];
  PetscCall(SgmScoreApplyArray(nll->score, t, n, nll->x, nll->s));
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < d; j++) f[i * m + j] = fc * nll->x[i * d + j] - 0.5 * g * g * nll->s[i * d + j];
  if (nll->na)
    for (PetscInt i = 0; i < n; i++) PetscCall(SgmGeomRemoveCoM(1, nll->na, nll->sd, f + i * m)); /* P f~ */
  if (nll->divergence == SGM_NLL_DIVERGENCE_EXACT) {
    PetscCall(SgmScoreDivergence(nll->score, t, n, nll->x, nll->div));
    if (nll->na) PetscCall(SubspaceTraceCorrection(nll, t));
    for (PetscInt i = 0; i < n; i++) f[i * m + d] = nll->D * fc - 0.5 * g * g * nll->div[i];
  } else {
    for (PetscInt p = 0; p < P; p++) {
      const PetscScalar *e = nll->eps + (size_t)p * n * d;
      PetscCall(SgmScoreJacobianVector(nll->score, t, n, nll->x, e, nll->Je));
      for (PetscInt i = 0; i < n; i++) {
        PetscReal ee = 0, eJe = 0;
        for (PetscInt j = 0; j < d; j++) {
          ee += PetscRealPart(e[i * d + j] * e[i * d + j]);
          eJe += PetscRealPart(e[i * d + j] * nll->Je[i * d + j]);
        }
        f[i * m + d + p] = fc * ee - 0.5 * g * g * eJe;
      }
    }
  }
  PetscCall(VecRestoreArrayWrite(F, &f));
  PetscCall(VecRestoreArrayRead(U, &u));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNLLSetUp(SgmNLL nll, PetscInt N)
{
  MPI_Comm  comm = PetscObjectComm((PetscObject)nll);
  SgmScore  score;
  PetscInt  d, n;
  PetscReal eps, T;
  TSAdapt   adapt;

  PetscFunctionBegin;
  PetscCall(SgmNLLGetScore(nll, &score));
  PetscCall(SgmScoreSetUp(score));
  PetscCall(SgmScoreGetDimension(score, &d));
  PetscCall(SgmSDEGetInterval(score->sde, &eps, &T));
  PetscCall(SgmScoreGetZeroCoM(score, &nll->na, &nll->sd));
  {
    PetscInt nf;
    PetscCall(SgmScoreGetZeroCoMFeatures(score, &nf));
    PetscCheck(!nf, PetscObjectComm((PetscObject)nll), PETSC_ERR_USER_INPUT, "The NLL of a latent model with invariant feature channels (GeoLDM, -latent egnn_ae) is not available: its density lives on coordinates and features of different dimension counts");
  }
  nll->D = nll->na ? (nll->na - 1) * nll->sd : d;
  PetscCheck(!nll->na || !nll->modelprior, comm, PETSC_ERR_USER_INPUT, "-nll_model_prior is not available for zero-CoM point clouds (-score_zero_com_atoms): the score's closed-form density is on R^d, not on the zero-CoM subspace; remove -nll_model_prior");
  PetscCheck(!nll->na || nll->dequant == SGM_NLL_DEQUANTIZATION_NONE, comm, PETSC_ERR_USER_INPUT, "-nll_dequantization uniform is not available for zero-CoM point clouds (-score_zero_com_atoms): their coordinates are continuous");
  PetscCall(SgmBatchCreate(comm, N, d, &nll->batch));
  PetscCall(SgmBatchCreate(comm, N, d + nll->P, &nll->state));
  n = nll->batch.n;
  PetscCall(VecDestroy(&nll->U));
  PetscCall(SgmBatchCreateVec(&nll->state, &nll->U));
  PetscCall(PetscFree4(nll->x, nll->s, nll->Je, nll->div));
  PetscCall(PetscFree4(nll->eps, nll->logp, nll->se, nll->bpd));
  PetscCall(PetscMalloc4(n * d + 1, &nll->x, n * d + 1, &nll->s, 2 * n * d + 1, &nll->Je, n + 1, &nll->div));
  PetscCall(PetscMalloc4((size_t)nll->P * n * d + 1, &nll->eps, n + 1, &nll->logp, n + 1, &nll->se, n + 1, &nll->bpd));
  /* probes fixed per point for the whole path: Philox stream "sampler", counter p, sample index */
  for (PetscInt p = 0; p < nll->P && nll->divergence == SGM_NLL_DIVERGENCE_HUTCHINSON; p++) {
    PetscScalar *e = nll->eps + (size_t)p * n * d;
    PetscCall(SgmRandomNormalBatch((uint64_t)nll->seed, SGM_STREAM_SAMPLER, p, &nll->batch, e));
    if (nll->probe == SGM_NLL_PROBE_RADEMACHER)
      for (PetscInt k = 0; k < n * d; k++) e[k] = PetscRealPart(e[k]) >= 0 ? 1 : -1;
    if (nll->na) PetscCall(SgmGeomRemoveCoM(n, nll->na, nll->sd, e)); /* point clouds: probes in the subspace */
  }
  PetscCall(TSSetType(nll->ts, TSRK));
  PetscCall(TSRKSetType(nll->ts, TSRK5DP));
  PetscCall(TSSetTolerances(nll->ts, 1e-5, NULL, 1e-5, NULL));
  PetscCall(TSGetAdapt(nll->ts, &adapt));
  PetscCall(TSAdaptSetType(adapt, TSADAPTBASIC));
  PetscCall(TSSetRHSFunction(nll->ts, NULL, SgmNLLRHS, nll));
  PetscCall(TSSetMaxTime(nll->ts, T));
  PetscCall(TSSetMaxSteps(nll->ts, PETSC_MAX_INT));
  PetscCall(TSSetExactFinalTime(nll->ts, TS_EXACTFINALTIME_MATCHSTEP));
  PetscCall(TSSetTimeStep(nll->ts, (T - eps) / nll->nsteps0));
  PetscCall(TSSetFromOptions(nll->ts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNLLGetBatch(SgmNLL nll, const SgmBatch **b)
{
  PetscFunctionBegin;
  *b = &nll->batch;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* log p_eps of the points X (batch layout, dimension d), and its standard error over the probes. */
PetscErrorCode SgmNLLSolve(SgmNLL nll, Vec X)
{
  MPI_Comm           comm = PetscObjectComm((PetscObject)nll);
  const PetscInt     n = nll->batch.n, d = nll->batch.d, P = nll->P, m = d + P;
  const PetscScalar *x;
  PetscScalar       *u;
  PetscReal          eps, T, w = 0;
  PetscInt64         nfe0, njvp0;
  PetscInt           nonfinite = -1;
  TSConvergedReason  reason;
  SgmSDE             sde = nll->score->sde;

  PetscFunctionBegin;
  PetscCall(SgmSDEGetInterval(sde, &eps, &T));
  PetscCall(SgmScoreGetNFE(nll->score, &nfe0));
  PetscCall(SgmScoreGetNJVP(nll->score, &njvp0));
  if (nll->dequant == SGM_NLL_DEQUANTIZATION_UNIFORM) w = (nll->hi - nll->lo) / nll->levels; /* bin width */
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(VecGetArrayWrite(nll->U, &u));
  if (nll->dequant == SGM_NLL_DEQUANTIZATION_UNIFORM) { /* level k -> lo + (k + v) w, v ~ U(0,1) */
    PetscReal bad[2] = {0, 0}, gbad[2];
    PetscCall(SgmRandomNormalBatch((uint64_t)nll->seed, SGM_STREAM_PRIOR, 1, &nll->batch, nll->x));
    for (PetscInt i = 0; i < n * d; i++) {
      PetscReal k = round((PetscRealPart(x[i]) - nll->lo) / (nll->hi - nll->lo) * (nll->levels - 1));
      PetscReal v = 0.5 * (1 + erf(PetscRealPart(nll->x[i]) / PETSC_SQRT2)); /* uniform from a normal */
      if (!(k >= 0 && k <= nll->levels - 1) && !bad[0]) {
        bad[0] = 1;
        bad[1] = PetscRealPart(x[i]);
      }
      nll->x[i] = nll->lo + (k + v) * w;
    }
    PetscCall(MPIU_Allreduce(bad, gbad, 2, MPIU_REAL, MPI_MAX, comm)); /* every rank learns of a bad value */
    PetscCheck(!gbad[0], comm, PETSC_ERR_USER_INPUT, "Data values lie outside -nll_range [%g, %g] (e.g. %g)", (double)nll->lo, (double)nll->hi, (double)gbad[1]);
  } else
    for (PetscInt i = 0; i < n * d; i++) nll->x[i] = x[i];
  nll->commax = 0;
  if (nll->na) { /* point clouds: the density of the translation class, on the subspace */
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt c = 0; c < nll->sd; c++) {
        PetscReal m = 0;
        for (PetscInt a = 0; a < nll->na; a++) m += PetscRealPart(nll->x[i * d + a * nll->sd + c]);
        m /= nll->na;
        if (!(PetscAbsReal(m) <= nll->commax)) nll->commax = PetscAbsReal(m); /* NaN propagates */
      }
    PetscCall(SgmGeomRemoveCoM(n, nll->na, nll->sd, nll->x));
    PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &nll->commax, 1, MPIU_REAL, MPIU_MAX, comm));
  }
  for (PetscInt i = 0; i < n; i++) {
    for (PetscInt j = 0; j < d; j++) u[i * m + j] = nll->x[i * d + j];
    for (PetscInt p = 0; p < P; p++) u[i * m + d + p] = 0;
  }
  PetscCall(VecRestoreArrayWrite(nll->U, &u));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCall(TSSetTime(nll->ts, eps));
  PetscCall(TSSetStepNumber(nll->ts, 0));
  PetscCall(TSSolve(nll->ts, nll->U));
  PetscCall(TSGetConvergedReason(nll->ts, &reason));
  PetscCheck(reason >= 0, comm, PETSC_ERR_NOT_CONVERGED, "The likelihood ODE failed: TS stopped with %s; loosen -ts_rtol/-ts_atol or raise -ts_max_steps", TSConvergedReasons[reason]);
  PetscCall(VecGetArrayWrite(nll->U, &u));
  if (nll->modelprior) { /* x(T) into nll->x, log p_T into nll->div */
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt j = 0; j < d; j++) nll->x[i * d + j] = u[i * m + j];
    PetscCall(SgmScoreLogDensity(nll->score, T, n, nll->x, nll->div));
  }
  for (PetscInt i = 0; i < n; i++) {
    PetscReal prior, mean = 0, var = 0;
    if (nll->modelprior) prior = nll->div[i];
    else if (nll->na) PetscCall(SgmGeomZeroCoMGaussianLogDensity(nll->na, nll->sd, sde->prior_std, u + i * m, &prior));
    else PetscCall(SgmSDEPriorLogDensity(sde, d, u + i * m, &prior));
    for (PetscInt p = 0; p < P; p++) mean += PetscRealPart(u[i * m + d + p]);
    mean /= P;
    for (PetscInt p = 0; p < P; p++) var += PetscSqr(PetscRealPart(u[i * m + d + p]) - mean);
    nll->logp[i] = prior + mean;
    nll->se[i]   = P > 1 ? PetscSqrtReal(var / (P - 1) / P) : 0;
    if (PetscIsInfOrNanReal(nll->logp[i]) && nonfinite < 0) nonfinite = nll->batch.rstart + i;
    /* bits per dimension of the (dequantized) data: NLL_discrete = -log p - d log w */
    nll->bpd[i] = (-nll->logp[i] - (w > 0 ? d * PetscLogReal(w) : 0)) / (nll->D * PetscLogReal(2));
  }
  PetscCall(VecRestoreArrayWrite(nll->U, &u));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &nonfinite, 1, MPIU_INT, MPI_MAX, comm));
  PetscCheck(nonfinite < 0, comm, PETSC_ERR_FP, "The log-density of point %" PetscInt_FMT " is not finite", nonfinite);
  PetscCall(SgmScoreGetNFE(nll->score, &nll->nfe));
  PetscCall(SgmScoreGetNJVP(nll->score, &nll->njvp));
  nll->nfe -= nfe0;
  nll->njvp -= njvp0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Per point (this rank's): log p, its standard error (0 for the exact trace), bits per dimension. */
PetscErrorCode SgmNLLGetResults(SgmNLL nll, const PetscReal **logp, const PetscReal **se, const PetscReal **bpd)
{
  PetscFunctionBegin;
  if (logp) *logp = nll->logp;
  if (se) *se = nll->se;
  if (bpd) *bpd = nll->bpd;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNLLGetNFE(SgmNLL nll, PetscInt64 *nfe, PetscInt64 *njvp)
{
  PetscFunctionBegin;
  if (nfe) *nfe = nll->nfe;
  if (njvp) *njvp = nll->njvp;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* /nll [N] (nats), /nll_se [N], /bits_per_dim [N], and the summary as attributes. */
PetscErrorCode SgmNLLWrite(SgmNLL nll, SgmOutput o)
{
  const PetscInt n = nll->batch.n;
  PetscReal     *v, sums[4], loc[4] = {0, 0, 0, 0};
  hid_t          file;
  TSType         tstype;
  MPI_Comm       comm = PetscObjectComm((PetscObject)nll);

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(n + 1, &v));
  for (PetscInt i = 0; i < n; i++) v[i] = -nll->logp[i];
  PetscCall(SgmOutputWriteSampleValues(o, "nll", &nll->batch, v));
  PetscCall(SgmOutputWriteSampleValues(o, "nll_se", &nll->batch, nll->se));
  PetscCall(SgmOutputWriteSampleValues(o, "bits_per_dim", &nll->batch, nll->bpd));
  for (PetscInt i = 0; i < n; i++) {
    loc[0] += v[i];
    loc[2] += nll->bpd[i];
    loc[3] += nll->se[i] * nll->se[i];
  }
  PetscCall(MPIU_Allreduce(loc, sums, 4, MPIU_REAL, MPI_SUM, comm));
  for (PetscInt i = 0; i < n; i++) loc[1] += PetscSqr(v[i] - sums[0] / nll->batch.N); /* second pass: spread about the mean */
  PetscCall(MPIU_Allreduce(&loc[1], &sums[1], 1, MPIU_REAL, MPI_SUM, comm));
  PetscCall(PetscFree(v));
  {
    const PetscReal N = nll->batch.N, mean = sums[0] / N;
    PetscCall(SgmOutputGetFile(o, &file));
    PetscCall(SgmH5AttrReal(file, "nll_mean", mean));
    PetscCall(SgmH5AttrReal(file, "nll_mean_se", N > 1 ? PetscSqrtReal(sums[1] / (N - 1) / N) : 0));
    PetscCall(SgmH5AttrReal(file, "nll_estimator_se", PetscSqrtReal(sums[3]) / N));
    PetscCall(SgmH5AttrReal(file, "bits_per_dim_mean", sums[2] / N));
  }
  PetscCall(SgmH5AttrString(file, "nll_divergence", SgmNLLDivergences[nll->divergence]));
  PetscCall(SgmH5AttrInt(file, "nll_probes", nll->divergence == SGM_NLL_DIVERGENCE_EXACT ? 0 : nll->P));
  PetscCall(SgmH5AttrString(file, "nll_probe", SgmNLLProbes[nll->probe]));
  PetscCall(SgmH5AttrString(file, "nll_dequantization", SgmNLLDequantizations[nll->dequant]));
  PetscCall(SgmH5AttrString(file, "nll_prior", nll->modelprior ? "model log p_T" : nll->na ? "sde prior on the zero-CoM subspace" : "sde prior"));
  PetscCall(SgmH5AttrInt(file, "nll_density_dimension", nll->D));
  if (nll->na) PetscCall(SgmH5AttrReal(file, "nll_data_com_max", nll->commax));
  if (nll->dequant == SGM_NLL_DEQUANTIZATION_UNIFORM) {
    PetscCall(SgmH5AttrInt(file, "nll_levels", nll->levels));
    PetscCall(SgmH5AttrReal(file, "nll_range_lo", nll->lo));
    PetscCall(SgmH5AttrReal(file, "nll_range_hi", nll->hi));
  }
  PetscCall(SgmH5AttrInt(file, "nfe", nll->nfe));
  PetscCall(SgmH5AttrInt(file, "njvp", nll->njvp));
  PetscCall(TSGetType(nll->ts, &tstype));
  PetscCall(SgmH5AttrString(file, "ts_type", tstype));
  PetscCall(SgmH5AttrInt(file, "npoints", nll->batch.N));
  PetscCall(SgmScoreWriteAttributes(nll->score, file));
  PetscCall(SgmSDEWriteAttributes(nll->score->sde, file));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNLLView(SgmNLL nll, PetscViewer viewer)
{
  PetscBool iascii;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(PetscObjectComm((PetscObject)nll), &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &iascii));
  if (iascii) {
    PetscCall(PetscObjectPrintClassNamePrefixType((PetscObject)nll, viewer));
    PetscCall(PetscViewerASCIIPushTab(viewer));
    PetscCall(PetscViewerASCIIPrintf(viewer, "divergence %s", SgmNLLDivergences[nll->divergence]));
    if (nll->divergence == SGM_NLL_DIVERGENCE_HUTCHINSON) PetscCall(PetscViewerASCIIPrintf(viewer, " (%" PetscInt_FMT " %s probes)", nll->P, SgmNLLProbes[nll->probe]));
    PetscCall(PetscViewerASCIIPrintf(viewer, ", dequantization %s\n", SgmNLLDequantizations[nll->dequant]));
    if (nll->score) PetscCall(SgmScoreView(nll->score, viewer));
    PetscCall(TSView(nll->ts, viewer));
    PetscCall(PetscViewerASCIIPopTab(viewer));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNLLDestroy(SgmNLL *nll)
{
  PetscFunctionBegin;
  if (!*nll) PetscFunctionReturn(PETSC_SUCCESS);
  if (--((PetscObject)(*nll))->refct > 0) {
    *nll = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscFree4((*nll)->x, (*nll)->s, (*nll)->Je, (*nll)->div));
  PetscCall(PetscFree4((*nll)->eps, (*nll)->logp, (*nll)->se, (*nll)->bpd));
  PetscCall(VecDestroy(&(*nll)->U));
  PetscCall(TSDestroy(&(*nll)->ts));
  PetscCall(SgmScoreDestroy(&(*nll)->score));
  PetscCall(PetscHeaderDestroy(nll));
  PetscFunctionReturn(PETSC_SUCCESS);
}
