/*
  Unit test of the exact scores of diffused Gaussian mixtures (src/score, gmm and gaussian types).
  p_t(x) = sum_k w_k N(x; alpha mu_k, S_k), S_k = alpha^2 C_k + sigma^2 I, for the vp, subvp and ve
  SDEs at several t, with K = 3 random full (non-diagonal) SPD covariances in d = 4, K = 3 diagonal
  ones, and K = 1:
    (a) SgmScoreLogDensity against an implementation written here: Cholesky factor of S_k and
        log-sum-exp over components, in long double;
    (b) SgmScoreApply against central differences of that log density (O(h^2), h = 1e-5 length
        scales) and against the same reference's sum_k r_k (-S_k^{-1}(x - alpha mu_k));
    (c) K = 1: the score equals -S^{-1}(x - alpha mu), solved here by Cholesky;
    (d) points at |x| = 1e3: finite log density and score (log-sum-exp), pointing back to the data;
    (e) the gaussian type set up from -gaussian_mean / -gaussian_std, against its closed form;
    (f) a score whose SDE is replaced (SgmScoreSetSDE) or re-parametrised after an evaluation.
  The batch of points is one distributed Vec (each point a pure function of its global index), so
  the test gives the same numbers on any number of ranks; it is run on 1 and 2 ranks.
  Prints one line per check (worst case over times and points, reduced over ranks) and ends with
  "N passed, M failed"; exit status is M != 0.  < 1 s.
*/
#include <sgm.h>

#include "check.h"

#define D    4
#define KMAX 3
#define NPT  24 /* points per time: 16 near the data, 8 far away */
#define NFAR 8

typedef struct {
  PetscInt  K;
  PetscReal w[KMAX], mu[KMAX * D], cov[KMAX * D * D];
} Mixture;

/* ---- independent reference, long double ---------------------------------------------------- */

/* log N(x; alpha mu, alpha^2 C + sigma^2 I) and its gradient, by Cholesky S = L L^T. */
static void RefComponent(long double alpha, long double sigma, const PetscReal *C, const PetscReal *mu, const PetscScalar *x, long double *logN, long double grad[D])
{
  long double L[D][D] = {{0}}, y[D], z[D], q = 0, logdet = 0;

  for (int i = 0; i < D; i++)
    for (int j = 0; j <= i; j++) {
      long double s = alpha * alpha * C[i * D + j] + (i == j ? sigma * sigma : 0);
      for (int k = 0; k < j; k++) s -= L[i][k] * L[j][k];
      L[i][j] = i == j ? sqrtl(s) : s / L[j][j];
    }
  for (int i = 0; i < D; i++) y[i] = x[i] - alpha * mu[i];
  for (int i = 0; i < D; i++) { /* L z = y */
    long double s = y[i];
    for (int k = 0; k < i; k++) s -= L[i][k] * z[k];
    z[i] = s / L[i][i];
    q += z[i] * z[i];
    logdet += 2 * logl(L[i][i]);
  }
  for (int i = D - 1; i >= 0; i--) { /* L^T u = z, grad = -u */
    long double s = z[i];
    for (int k = i + 1; k < D; k++) s -= L[k][i] * -grad[k];
    grad[i] = -s / L[i][i];
  }
  *logN = -0.5L * q - 0.5L * logdet - 0.5L * D * logl(2 * 3.141592653589793238462643383279503L);
}

static void RefMixture(const Mixture *m, long double alpha, long double sigma, const PetscScalar *x, long double *logp, long double score[D])
{
  long double lw[KMAX], g[KMAX][D], wsum = 0, mx = -INFINITY, sum = 0;

  for (int k = 0; k < m->K; k++) wsum += m->w[k];
  for (int k = 0; k < m->K; k++) {
    RefComponent(alpha, sigma, m->cov + k * D * D, m->mu + k * D, x, &lw[k], g[k]);
    lw[k] += logl(m->w[k] / wsum);
    if (lw[k] > mx) mx = lw[k];
  }
  for (int k = 0; k < m->K; k++) sum += expl(lw[k] - mx);
  *logp = mx + logl(sum);
  for (int j = 0; j < D; j++) score[j] = 0;
  for (int k = 0; k < m->K; k++)
    for (int j = 0; j < D; j++) score[j] += expl(lw[k] - *logp) * g[k][j];
}

/* ---- data -------------------------------------------------------------------------------------- */

/* Deterministic normals from the package generator: sample `index` of stream `tag`. */
static void Normals(PetscInt tag, PetscInt index, PetscInt n, PetscReal *z)
{
  SgmRandomNormalSample(20240611, SGM_STREAM_SAMPLER, tag, index, n, z);
}

/* C_k = scale_k (A A^T / D + 0.1 I) with A a random D x D matrix (diag: only the diagonal). */
static void MakeMixture(PetscInt K, PetscBool diag, Mixture *m)
{
  const PetscReal w[KMAX] = {1, 2.5, 1.5}, scale[KMAX] = {0.3, 1.0, 2.0};

  m->K = K;
  for (PetscInt k = 0; k < K; k++) {
    PetscReal A[D * D];
    m->w[k] = w[k];
    Normals(1, k, D, m->mu + k * D);
    for (int j = 0; j < D; j++) m->mu[k * D + j] *= 3;
    Normals(2, k, D * D, A);
    for (int i = 0; i < D; i++)
      for (int j = 0; j < D; j++) {
        PetscReal c = 0;
        for (int l = 0; l < D; l++) c += A[i * D + l] * A[j * D + l];
        c = c / D + (i == j ? 0.1 : 0);
        m->cov[k * D * D + i * D + j] = (diag && i != j) ? 0 : scale[k] * c;
      }
  }
}

static PetscErrorCode MakeScore(SgmSDEType sdetype, const Mixture *m, SgmScore *score)
{
  SgmSDE sde;

  PetscFunctionBegin;
  PetscCall(SgmScoreCreate(PETSC_COMM_WORLD, score));
  PetscCall(SgmScoreSetType(*score, SGMSCOREGMM));
  PetscCall(SgmScoreMixtureSetComponents(*score, m->K, D, m->w, m->mu, m->cov));
  PetscCall(SgmScoreGetSDE(*score, &sde));
  PetscCall(SgmSDESetType(sde, sdetype));
  PetscCall(SgmScoreSetUp(*score));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Point g of the batch at time t: near points alpha mu_k + sqrt(diag S_k) z, far ones 1e3 z/|z|. */
static void MakePoint(const Mixture *m, PetscReal alpha, PetscReal sigma, PetscInt g, PetscScalar *x)
{
  PetscReal z[D], nz = 0;

  Normals(3, g, D, z);
  if (g % NPT < NPT - NFAR) {
    PetscInt k = g % m->K;
    for (int j = 0; j < D; j++) x[j] = alpha * m->mu[k * D + j] + PetscSqrtReal(alpha * alpha * m->cov[k * D * D + j * D + j] + sigma * sigma) * z[j];
  } else {
    for (int j = 0; j < D; j++) nz += z[j] * z[j];
    for (int j = 0; j < D; j++) x[j] = 1e3 * z[j] / PetscSqrtReal(nz);
  }
}

/* ---- the checks -------------------------------------------------------------------------------- */

static const PetscReal times[] = {0, 1e-3, 0.1, 0.5, 1.0};
#define NTIMES ((int)(sizeof(times) / sizeof(times[0])))

static PetscErrorCode TestMixture(Tally *tl, const char *label, SgmSDEType sdetype, const Mixture *m)
{
  SgmScore     score;
  SgmSDE       sde;
  SgmBatch     b;
  Vec          X, S;
  PetscScalar *x, *s;
  PetscReal   *lp;
  double       elp = 0, eref = 0, efd = 0, efar = 0, efarlp = 0, eback = -1;
  PetscInt64   nfe;
  char         name[128];

  PetscFunctionBegin;
  PetscCall(MakeScore(sdetype, m, &score));
  PetscCall(SgmScoreGetSDE(score, &sde));
  PetscCall(SgmBatchCreate(PETSC_COMM_WORLD, NPT * NTIMES, D, &b));
  PetscCall(SgmBatchCreateVec(&b, &X));
  PetscCall(VecDuplicate(X, &S));
  PetscCall(PetscMalloc1(b.n, &lp));
  for (int it = 0; it < NTIMES; it++) {
    PetscReal t = times[it], alpha, sigma, smin2 = PETSC_MAX_REAL;
    PetscCall(SgmSDEMarginal(sde, t, &alpha, &sigma));
    for (PetscInt k = 0; k < m->K; k++)
      for (int j = 0; j < D; j++) smin2 = PetscMin(smin2, alpha * alpha * m->cov[k * D * D + j * D + j] + sigma * sigma);
    PetscCall(VecGetArrayWrite(X, &x));
    for (PetscInt i = 0; i < b.n; i++) MakePoint(m, alpha, sigma, b.rstart + i, x + i * D);
    PetscCall(VecRestoreArrayWrite(X, &x));
    /* the whole batch through the public batch interface, then point by point */
    PetscCall(SgmScoreApply(score, t, &b, X, S));
    PetscCall(VecGetArray(X, &x));
    PetscCall(VecGetArray(S, &s));
    PetscCall(SgmScoreLogDensity(score, t, b.n, x, lp));
    for (PetscInt i = 0; i < b.n; i++) {
      PetscScalar *xi = x + i * D, *si = s + i * D;
      PetscBool    far = (PetscBool)((b.rstart + i) % NPT >= NPT - NFAR);
      long double  lref, sref[D];
      double       dn = 0, sn = 0, fd = 0, dot = 0, fin = 1;
      const double h  = 1e-5 * PetscSqrtReal(smin2);

      RefMixture(m, alpha, sigma, xi, &lref, sref);
      for (int j = 0; j < D; j++) {
        dn += (double)((si[j] - sref[j]) * (si[j] - sref[j]));
        sn += (double)(sref[j] * sref[j]);
        if (!PetscIsNormalReal(si[j]) && si[j] != 0) fin = 0;
      }
      /* (a), (b) against the reference; far points separately */
      if (!far) {
        elp  = PetscMax(elp, (double)fabsl((lp[i] - lref) / fmaxl(1, fabsl(lref))));
        eref = PetscMax(eref, PetscSqrtReal(dn / sn));
      } else {
        efarlp = PetscMax(efarlp, PetscIsNormalReal(lp[i]) ? (double)fabsl((lp[i] - lref) / fabsl(lref)) : PETSC_INFINITY);
        efar   = PetscMax(efar, fin ? PetscSqrtReal(dn / sn) : PETSC_INFINITY);
        for (int j = 0; j < D; j++) dot += si[j] * xi[j];
        /* s ~ -sum_k r_k S_k^-1 x with S_k SPD, so s.x < 0: cos(s, x) lies in [-1, 0) */
        eback = PetscMax(eback, dot / (PetscSqrtReal(sn) * 1e3));
        continue;
      }
      /* (b) central differences of the library's own log density */
      for (int j = 0; j < D; j++) {
        PetscScalar xp[D], xm[D];
        PetscReal   lpp, lpm;
        for (int l = 0; l < D; l++) xp[l] = xm[l] = xi[l];
        xp[j] += h;
        xm[j] -= h;
        PetscCall(SgmScoreLogDensity(score, t, 1, xp, &lpp));
        PetscCall(SgmScoreLogDensity(score, t, 1, xm, &lpm));
        double dj = (lpp - lpm) / (2 * h) - si[j];
        fd += dj * dj;
      }
      /* relative to |s|, or to the inverse length scale where s is small */
      efd = PetscMax(efd, PetscSqrtReal(fd) / PetscMax(PetscSqrtReal(sn), 1 / PetscSqrtReal(smin2)));
    }
    PetscCall(VecRestoreArray(S, &s));
    PetscCall(VecRestoreArray(X, &x));
  }
  PetscCall(SgmScoreGetNFE(score, &nfe));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s %s: log density vs Cholesky ref, rel.", label, sdetype));
  PetscCall(Check(tl, name, elp, 1e-12));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s %s: score vs -sum r_k S_k^-1 y_k ref, rel.", label, sdetype));
  PetscCall(Check(tl, name, eref, 1e-12));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s %s: score vs FD of log density, rel.", label, sdetype));
  PetscCall(Check(tl, name, efd, 1e-6));
  /* far away the exponents are ~1e6-1e8: log p is exact to its own relative rounding, and the
     responsibilities of near-tied components inherit that error, so the same bound applies */
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s %s: |x|=1e3 log density finite, rel.", label, sdetype));
  PetscCall(Check(tl, name, efarlp, 1e-12));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s %s: |x|=1e3 score finite, vs ref rel.", label, sdetype));
  PetscCall(Check(tl, name, efar, 1e-12));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s %s: |x|=1e3 max cos(s, x) < 0 (points back)", label, sdetype));
  PetscCall(Check(tl, name, eback, -1e-3));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s %s: NFE - number of SgmScoreApply", label, sdetype));
  PetscCall(Check(tl, name, (double)PetscAbsInt((PetscInt)nfe - NTIMES), 0));
  PetscCall(PetscFree(lp));
  PetscCall(VecDestroy(&X));
  PetscCall(VecDestroy(&S));
  PetscCall(SgmScoreDestroy(&score));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (e) gaussian type from options: -g_score_type gaussian -g_gaussian_mean ... -g_gaussian_std ... */
static PetscErrorCode TestGaussianOptions(Tally *tl, SgmSDEType sdetype)
{
  const PetscReal mean[3] = {1, -2, 0.5}, std[3] = {0.5, 2, 1};
  SgmScore        score;
  SgmSDE          sde;
  PetscInt        d;
  double          es = 0, el = 0;
  char            name[128];

  PetscFunctionBegin;
  PetscCall(SgmScoreCreate(PETSC_COMM_WORLD, &score));
  PetscCall(PetscObjectSetOptionsPrefix((PetscObject)score, "g_"));
  PetscCall(SgmSDECreate(PETSC_COMM_WORLD, &sde));
  PetscCall(SgmSDESetType(sde, sdetype));
  PetscCall(SgmScoreSetSDE(score, sde));
  PetscCall(SgmSDEDestroy(&sde));
  PetscCall(SgmScoreSetFromOptions(score));
  PetscCall(SgmScoreSetUp(score));
  PetscCall(SgmScoreGetDimension(score, &d));
  PetscCall(SgmScoreGetSDE(score, &sde));
  for (int it = 0; it < NTIMES; it++) {
    PetscReal   t = times[it], alpha, sigma, x[3], s[3], lp, z[3];
    long double lref = 0;
    PetscCall(SgmSDEMarginal(sde, t, &alpha, &sigma));
    Normals(4, it, 3, z);
    for (int j = 0; j < 3; j++) x[j] = alpha * mean[j] + 2 * z[j];
    PetscCall(SgmScoreApplyArray(score, t, 1, x, s));
    PetscCall(SgmScoreLogDensity(score, t, 1, x, &lp));
    for (int j = 0; j < 3; j++) {
      long double v = (long double)alpha * alpha * std[j] * std[j] + (long double)sigma * sigma, sr = -(x[j] - alpha * mean[j]) / v;
      lref -= 0.5L * (x[j] - alpha * mean[j]) * (x[j] - alpha * mean[j]) / v + 0.5L * logl(2 * 3.141592653589793238462643383279503L * v);
      es = PetscMax(es, (double)fabsl((s[j] - sr) / fmaxl(fabsl(sr), 1 / sqrtl(v))));
    }
    el = PetscMax(el, (double)fabsl((lp - lref) / fmaxl(1, fabsl(lref))));
  }
  PetscCall(PetscSNPrintf(name, sizeof(name), "gaussian(options) %s: dimension - 3", sdetype));
  PetscCall(Check(tl, name, (double)PetscAbsInt(d - 3), 0));
  PetscCall(PetscSNPrintf(name, sizeof(name), "gaussian(options) %s: score vs closed form, rel.", sdetype));
  PetscCall(Check(tl, name, es, 1e-13));
  PetscCall(PetscSNPrintf(name, sizeof(name), "gaussian(options) %s: log density vs closed form", sdetype));
  PetscCall(Check(tl, name, el, 1e-13));
  PetscCall(SgmScoreDestroy(&score));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (f) the score follows its SDE: another SDE set after an evaluation, or new SDE parameters,
   change the result at the same t (a cache keyed by t alone would serve the old one) */
static PetscErrorCode TestSDESwitch(Tally *tl, const Mixture *m)
{
  SgmScore    score;
  SgmSDE      ve;
  PetscScalar x[D], s[D];
  PetscReal   t = 0.5, alpha, sigma;
  double      e = 0;

  PetscFunctionBegin;
  PetscCall(MakeScore(SGMSDEVP, m, &score));
  MakePoint(m, 1, 0.5, 1, x);
  PetscCall(SgmScoreApplyArray(score, t, 1, x, s));
  PetscCall(SgmSDECreate(PETSC_COMM_WORLD, &ve));
  PetscCall(SgmSDESetType(ve, SGMSDEVE));
  PetscCall(SgmSDESetUp(ve));
  PetscCall(SgmScoreSetSDE(score, ve));
  for (int pass = 0; pass < 2; pass++) {
    long double lref, sref[D];
    double      dn = 0, sn = 0;
    if (pass) PetscCall(SgmSDEVESetSigma(ve, 0.01, 10));
    PetscCall(SgmScoreSetUp(score));
    PetscCall(SgmScoreApplyArray(score, t, 1, x, s));
    PetscCall(SgmSDEMarginal(ve, t, &alpha, &sigma));
    RefMixture(m, alpha, sigma, x, &lref, sref);
    for (int j = 0; j < D; j++) {
      dn += (double)((s[j] - sref[j]) * (s[j] - sref[j]));
      sn += (double)(sref[j] * sref[j]);
    }
    e = PetscMax(e, PetscSqrtReal(dn / sn));
  }
  PetscCall(Check(tl, "gmm K=3 full: vp -> SetSDE(ve) -> SetSigma, same t, rel.", e, 1e-12));
  PetscCall(SgmSDEDestroy(&ve));
  PetscCall(SgmScoreDestroy(&score));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  Tally            tl      = {0, 0};
  const SgmSDEType sdes[3] = {SGMSDEVP, SGMSDESUBVP, SGMSDEVE};
  Mixture          full, diag, one;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SgmInitializePackage());
  PetscCall(PetscOptionsSetValue(NULL, "-g_score_type", "gaussian"));
  PetscCall(PetscOptionsSetValue(NULL, "-g_gaussian_mean", "1,-2,0.5"));
  PetscCall(PetscOptionsSetValue(NULL, "-g_gaussian_std", "0.5,2,1"));
  MakeMixture(3, PETSC_FALSE, &full);
  MakeMixture(3, PETSC_TRUE, &diag);
  MakeMixture(1, PETSC_FALSE, &one);
  for (int i = 0; i < 3; i++) {
    PetscCall(TestMixture(&tl, "gmm K=3 full", sdes[i], &full));
    PetscCall(TestMixture(&tl, "gmm K=3 diag", sdes[i], &diag));
    PetscCall(TestMixture(&tl, "gmm K=1 full", sdes[i], &one));
    PetscCall(TestGaussianOptions(&tl, sdes[i]));
  }
  PetscCall(TestSDESwitch(&tl, &full));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  PetscCall(PetscFinalize());
  return tl.fail != 0;
}
