/*
  Exact scores and log-densities of diffused Gaussian mixtures (shared by the gaussian and gmm
  score types).  For component k at time t, with y = x - alpha mu_k and z = Q_k^T y,
      log N_k(x) = lc_k - 1/2 sum_j z_j^2 / (alpha^2 lambda_kj + sigma^2),
      grad log N_k(x) = -Q_k (z / (alpha^2 lambda_k + sigma^2)),
  and the mixture score is sum_k r_k grad log N_k with responsibilities r_k = softmax_k(log N_k + log w_k)
  evaluated by log-sum-exp.
*/
#include <sgm/private/mixtureimpl.h>
#include <sgm/private/vecmath.h>
#include <sgmio.h>
#include <petscblaslapack.h>

PetscErrorCode SgmMixtureCreate(MPI_Comm comm, const char src[], PetscInt K, PetscInt d, const PetscReal w[], const PetscReal mu[], const PetscReal cov[], SgmMixture **mix)
{
  SgmMixture  *m;
  PetscReal    wsum = 0;
  PetscBLASInt n, lwork, info;
  PetscReal   *work;

  PetscFunctionBegin;
  PetscCheck(K > 0 && d > 0, comm, PETSC_ERR_USER_INPUT, "%s: a mixture needs at least one component and dimension; got K=%" PetscInt_FMT ", d=%" PetscInt_FMT, src, K, d);
  for (PetscInt k = 0; k < K; k++) {
    PetscCheck(w[k] > 0 && PetscIsNormalReal(w[k]), comm, PETSC_ERR_USER_INPUT, "%s: weight %" PetscInt_FMT " is %g; weights must be positive", src, k, (double)w[k]);
    wsum += w[k];
  }
  PetscCall(PetscNew(&m));
  m->K = K;
  m->d = d;
  m->alpha = m->sigma = -1; /* no time cached yet */
  PetscCall(PetscMalloc6(K, &m->w, K, &m->logw, K * d, &m->mu, K * d * d, &m->cov, K * d * d, &m->Q, K * d, &m->lam));
  /* work: ComponentTerm's [K + d + K d], or the lane arrays of DiagScoreBlock [(2d + K) SGM_LANES] and
     LinearScoreBlock [2d SGM_LANES], + alignment */
  PetscCall(PetscMalloc5(K * d, &m->amu, K * d, &m->ilam, K, &m->lc, d * d, &m->P, PetscMax(K * d * (d + 2) + 64, (2 * d + K) * SGM_LANES + SGM_ALIGN / sizeof(PetscReal)), &m->work));
  m->diag = PETSC_TRUE;
  for (PetscInt k = 0; k < K; k++) {
    m->w[k]    = w[k] / wsum;
    m->logw[k] = PetscLogReal(m->w[k]);
  }
  PetscCall(PetscArraycpy(m->mu, mu, K * d));
  PetscCall(PetscArraycpy(m->cov, cov, K * d * d));
  PetscCall(PetscBLASIntCast(d, &n));
  lwork = 3 * n + 64;
  PetscCall(PetscMalloc1(lwork, &work));
  for (PetscInt k = 0; k < K; k++) {
    const PetscReal *C = cov + k * d * d;
    PetscReal        cmax = 0;
    for (PetscInt i = 0; i < d * d; i++) cmax = PetscMax(cmax, PetscAbsReal(C[i]));
    for (PetscInt i = 0; i < d; i++)
      for (PetscInt j = 0; j < i; j++) {
        PetscCheck(PetscAbsReal(C[i * d + j] - C[j * d + i]) <= 1e-10 * cmax, comm, PETSC_ERR_USER_INPUT, "%s: covariance %" PetscInt_FMT " is not symmetric (entries (%" PetscInt_FMT ",%" PetscInt_FMT ") and (%" PetscInt_FMT ",%" PetscInt_FMT ") differ)", src, k, i, j, j, i);
        if (C[i * d + j] != 0) m->diag = PETSC_FALSE;
      }
    /* symmetric eigendecomposition; LAPACK is column-major, C symmetric, so the row-major array
       returned holds eigenvector j in column j after a transpose */
    PetscReal *A = m->Q + k * d * d;
    for (PetscInt i = 0; i < d; i++)
      for (PetscInt j = 0; j < d; j++) A[j * d + i] = C[i * d + j];
    PetscCallBLAS("LAPACKsyev", LAPACKsyev_("V", "U", &n, A, &n, m->lam + k * d, work, &lwork, &info));
    PetscCheck(info == 0, comm, PETSC_ERR_LIB, "%s: eigendecomposition of covariance %" PetscInt_FMT " failed (LAPACK info %d)", src, k, (int)info);
    /* A is column-major with eigenvectors as columns: A[j*d+i] = v_j[i]; store row-major Q[i*d+j] */
    for (PetscInt i = 0; i < d; i++)
      for (PetscInt j = 0; j < i; j++) {
        PetscReal tmp = A[i * d + j];
        A[i * d + j]  = A[j * d + i];
        A[j * d + i]  = tmp;
      }
    PetscReal lmin = m->lam[k * d], lmax = m->lam[k * d + d - 1];
    PetscCheck(lmin > 1e-13 * PetscMax(lmax, PETSC_SMALL), comm, PETSC_ERR_USER_INPUT, "%s: covariance %" PetscInt_FMT " is not positive definite (smallest eigenvalue %g)", src, k, (double)lmin);
  }
  PetscCall(PetscFree(work));
  if (m->diag) { /* exact eigenpairs: identity rotation */
    for (PetscInt k = 0; k < K; k++)
      for (PetscInt i = 0; i < d; i++) m->lam[k * d + i] = cov[k * d * d + i * d + i];
  }
  *mix = m;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmMixtureDestroy(SgmMixture **mix)
{
  SgmMixture *m = *mix;

  PetscFunctionBegin;
  if (!m) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree6(m->w, m->logw, m->mu, m->cov, m->Q, m->lam));
  PetscCall(PetscFree5(m->amu, m->ilam, m->lc, m->P, m->work));
  PetscCall(PetscFree(*mix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Fill the per-time cache (cheap: O(K d), plus O(d^3) for the K = 1 precision matrix).  The cache
   is keyed by (alpha, sigma), not by t, so that another SDE, or the same SDE with other parameters,
   at the same t is not served stale values. */
PetscErrorCode SgmMixtureAtTime(SgmMixture *m, SgmSDE sde, PetscReal t)
{
  PetscInt  K = m->K, d = m->d;
  PetscReal a, s;

  PetscFunctionBegin;
  PetscCall(SgmSDEMarginal(sde, t, &a, &s));
  if (a == m->alpha && s == m->sigma) PetscFunctionReturn(PETSC_SUCCESS);
  m->alpha = a;
  m->sigma = s;
  for (PetscInt k = 0; k < K; k++) {
    PetscReal logdet = 0;
    for (PetscInt j = 0; j < d; j++) {
      PetscReal v          = a * a * m->lam[k * d + j] + s * s;
      m->ilam[k * d + j]   = 1 / v;
      m->amu[k * d + j]    = a * m->mu[k * d + j];
      logdet              += PetscLogReal(v);
    }
    m->lc[k] = m->logw[k] - 0.5 * logdet - 0.5 * d * PetscLogReal(2 * PETSC_PI);
  }
  if (K == 1 && !m->diag) { /* P = Q diag(ilam) Q^T */
    for (PetscInt i = 0; i < d; i++)
      for (PetscInt j = 0; j < d; j++) {
        PetscReal v = 0;
        for (PetscInt l = 0; l < d; l++) v += m->Q[i * d + l] * m->ilam[l] * m->Q[j * d + l];
        m->P[i * d + j] = v;
      }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* z_k = Q_k^T (x - alpha mu_k) scaled by ilam into v; returns log N_k(x) + log w_k. */
static inline PetscReal ComponentTerm(const SgmMixture *m, PetscInt k, const PetscScalar *x, PetscReal *y, PetscReal *v)
{
  const PetscInt   d  = m->d;
  const PetscReal *am = m->amu + k * d, *il = m->ilam + k * d;
  PetscReal        q  = 0;

  if (m->diag) {
    for (PetscInt j = 0; j < d; j++) {
      PetscReal z = x[j] - am[j];
      v[j]        = z * il[j];
      q          += z * v[j];
    }
  } else {
    const PetscReal *Q = m->Q + k * d * d;
    for (PetscInt j = 0; j < d; j++) y[j] = x[j] - am[j];
    for (PetscInt j = 0; j < d; j++) v[j] = 0;
    for (PetscInt i = 0; i < d; i++)
      for (PetscInt j = 0; j < d; j++) v[j] += Q[i * d + j] * y[i];
    for (PetscInt j = 0; j < d; j++) {
      q    += v[j] * v[j] * il[j];
      v[j] *= il[j];
    }
  }
  return m->lc[k] - 0.5 * q;
}

/*
  Score of SGM_LANES samples x[l*d + j] with diagonal covariances (the K > 1 hot path): the samples
  are transposed into lanes xt[j][l] so that every loop below runs over the lanes with a constant
  trip count and vectorises, including the exponentials (vecmath.h).  Per lane the arithmetic is
  that of ComponentTerm and the log-sum-exp below it; responsibilities are e_k * (1/sum).
*/
static SGM_HOT void DiagScoreBlock(const SgmMixture *m, const PetscScalar *restrict x, PetscScalar *restrict s, PetscReal *restrict work)
{
  const PetscInt K = m->K, d = m->d;
  PetscReal *restrict xt = (PetscReal *)__builtin_assume_aligned(work, SGM_ALIGN); /* [d][L] */
  PetscReal *restrict st = xt + d * SGM_LANES;                                     /* [d][L] */
  PetscReal *restrict lp = st + d * SGM_LANES;                                     /* [K][L] */
  _Alignas(SGM_ALIGN) PetscReal mx[SGM_LANES], inv[SGM_LANES];

  for (int l = 0; l < SGM_LANES; l++)
    for (PetscInt j = 0; j < d; j++) xt[j * SGM_LANES + l] = x[l * d + j];
  SGM_LANE_LOOP for (int l = 0; l < SGM_LANES; l++) mx[l] = PETSC_MIN_REAL;
  for (PetscInt k = 0; k < K; k++) { /* lp_k = log w_k N_k(x) */
    _Alignas(SGM_ALIGN) PetscReal q[SGM_LANES] = {0};
    for (PetscInt j = 0; j < d; j++) {
      const PetscReal am = m->amu[k * d + j], il = m->ilam[k * d + j];
      SGM_LANE_LOOP for (int l = 0; l < SGM_LANES; l++) {
        const PetscReal z = xt[j * SGM_LANES + l] - am;
        q[l] += z * (z * il);
      }
    }
    const PetscReal lc = m->lc[k];
    SGM_LANE_LOOP for (int l = 0; l < SGM_LANES; l++) {
      lp[k * SGM_LANES + l] = lc - 0.5 * q[l];
      mx[l]                 = PetscMax(mx[l], lp[k * SGM_LANES + l]);
    }
  }
  SGM_LANE_LOOP for (int l = 0; l < SGM_LANES; l++) inv[l] = 0;
  for (PetscInt k = 0; k < K; k++) { /* log-sum-exp: e_k = exp(lp_k - max) in (0, 1] */
    SGM_LANE_LOOP for (int l = 0; l < SGM_LANES; l++) {
      lp[k * SGM_LANES + l] = SgmExpNonPositive(lp[k * SGM_LANES + l] - mx[l]);
      inv[l] += lp[k * SGM_LANES + l];
    }
  }
  SGM_LANE_LOOP for (int l = 0; l < SGM_LANES; l++) inv[l] = 1 / inv[l];
  for (PetscInt j = 0; j < d; j++) { /* s = -sum_k r_k (x - alpha mu_k) / (alpha^2 lambda_k + sigma^2) */
    _Alignas(SGM_ALIGN) PetscReal acc[SGM_LANES] = {0};
    for (PetscInt k = 0; k < K; k++) {
      const PetscReal am = m->amu[k * d + j], il = m->ilam[k * d + j];
      SGM_LANE_LOOP for (int l = 0; l < SGM_LANES; l++) acc[l] -= (lp[k * SGM_LANES + l] * inv[l]) * ((xt[j * SGM_LANES + l] - am) * il);
    }
    SGM_LANE_LOOP for (int l = 0; l < SGM_LANES; l++) st[j * SGM_LANES + l] = acc[l];
  }
  for (int l = 0; l < SGM_LANES; l++)
    for (PetscInt j = 0; j < d; j++) s[l * d + j] = st[j * SGM_LANES + l];
}

/*
  Score of SGM_LANES samples for one Gaussian with a full covariance (the K = 1 path, e.g. the 64-D
  Gaussian): s = -P (x - alpha mu), with the samples in lanes so that the d^2 multiply-adds of each
  sample vectorise across samples, each sample's sum still taken in the order j = 0..d-1.
*/
static SGM_HOT void LinearScoreBlock(const SgmMixture *m, const PetscScalar *restrict x, PetscScalar *restrict s, PetscReal *restrict work)
{
  const PetscInt   d  = m->d;
  const PetscReal *P  = m->P, *am = m->amu;
  PetscReal *restrict yt = work;                   /* [d][L] */
  PetscReal *restrict st = yt + d * SGM_LANES;     /* [d][L] */

  for (int l = 0; l < SGM_LANES; l++)
    for (PetscInt j = 0; j < d; j++) yt[j * SGM_LANES + l] = x[l * d + j] - am[j];
  for (PetscInt r = 0; r < d; r++) {
    _Alignas(SGM_ALIGN) PetscReal acc[SGM_LANES] = {0};
    for (PetscInt j = 0; j < d; j++) {
      const PetscReal prj = P[r * d + j];
      SGM_LANE_LOOP for (int l = 0; l < SGM_LANES; l++) acc[l] += prj * yt[j * SGM_LANES + l];
    }
    SGM_LANE_LOOP for (int l = 0; l < SGM_LANES; l++) st[r * SGM_LANES + l] = -acc[l];
  }
  for (int l = 0; l < SGM_LANES; l++)
    for (PetscInt j = 0; j < d; j++) s[l * d + j] = st[j * SGM_LANES + l];
}

/* Whole blocks of lanes; a partial last block is padded, never done by a scalar loop, so every
   sample takes the same instructions wherever it sits (bitwise rank invariance). */
static PetscErrorCode ScoreByBlocks(SgmMixture *m, PetscInt n, const PetscScalar *x, PetscScalar *s, void (*block)(const SgmMixture *, const PetscScalar *, PetscScalar *, PetscReal *))
{
  const PetscInt d     = m->d;
  PetscReal     *work  = (PetscReal *)(((uintptr_t)m->work + SGM_ALIGN - 1) & ~(uintptr_t)(SGM_ALIGN - 1));
  const PetscInt nfull = n / SGM_LANES * SGM_LANES, nrest = n - nfull;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < nfull; i += SGM_LANES) block(m, x + i * d, s + i * d, work);
  if (nrest) {
    PetscScalar *xp, *sp;
    PetscCall(PetscCalloc2(SGM_LANES * d, &xp, SGM_LANES * d, &sp));
    PetscCall(PetscArraycpy(xp, x + nfull * d, nrest * d));
    block(m, xp, sp, work);
    PetscCall(PetscArraycpy(s + nfull * d, sp, nrest * d));
    PetscCall(PetscFree2(xp, sp));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmMixtureScore(SgmMixture *m, PetscInt n, const PetscScalar *x, PetscScalar *s)
{
  const PetscInt K = m->K, d = m->d;
  PetscReal     *lp = m->work, *y = lp + K, *v = y + d; /* v: [K][d] */

  PetscFunctionBegin;
  if (K == 1 && m->diag) { /* the score is linear: s = -P (x - alpha mu), P diagonal */
    for (PetscInt i = 0; i < n; i++) {
      const PetscScalar *xi = x + i * d;
      PetscScalar       *si = s + i * d;
      for (PetscInt j = 0; j < d; j++) si[j] = -(xi[j] - m->amu[j]) * m->ilam[j];
    }
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (K == 1) {
    PetscCall(ScoreByBlocks(m, n, x, s, LinearScoreBlock));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (m->diag) {
    PetscCall(ScoreByBlocks(m, n, x, s, DiagScoreBlock));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt i = 0; i < n; i++) {
    const PetscScalar *xi = x + i * d;
    PetscScalar       *si = s + i * d;
    PetscReal          mx = PETSC_MIN_REAL, sum = 0;
    for (PetscInt k = 0; k < K; k++) {
      lp[k] = ComponentTerm(m, k, xi, y, v + k * d);
      mx    = PetscMax(mx, lp[k]);
    }
    for (PetscInt k = 0; k < K; k++) {
      lp[k] = PetscExpReal(lp[k] - mx);
      sum  += lp[k];
    }
    for (PetscInt j = 0; j < d; j++) si[j] = 0;
    for (PetscInt k = 0; k < K; k++) {
      const PetscReal  rk = lp[k] / sum;
      const PetscReal *vk = v + k * d;
      const PetscReal *Q  = m->Q + k * d * d;
      for (PetscInt r = 0; r < d; r++) {
        PetscReal acc = 0;
        for (PetscInt j = 0; j < d; j++) acc += Q[r * d + j] * vk[j];
        si[r] -= rk * acc;
      }
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmMixtureLogDensity(SgmMixture *m, PetscInt n, const PetscScalar *x, PetscReal *logp)
{
  const PetscInt K = m->K, d = m->d;
  PetscReal     *lp = m->work, *y = lp + K, *v = y + d;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < n; i++) {
    PetscReal mx = PETSC_MIN_REAL, sum = 0;
    for (PetscInt k = 0; k < K; k++) {
      lp[k] = ComponentTerm(m, k, x + i * d, y, v);
      mx    = PetscMax(mx, lp[k]);
    }
    for (PetscInt k = 0; k < K; k++) sum += PetscExpReal(lp[k] - mx);
    logp[i] = mx + PetscLogReal(sum);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Derivatives of the score s = sum_k r_k s_k, s_k = -P_k (x - alpha mu_k), P_k = Q_k D_k Q_k^T:
      ds/dx = sum_k r_k (-P_k + s_k s_k^T) - s s^T,
  so   J u  = sum_k r_k (-P_k u + s_k (s_k . u)) - s (s . u)
  and  tr   = sum_k r_k (-tr P_k + |s_k|^2) - |s|^2,  tr P_k = sum_j 1/(alpha^2 lambda_kj + sigma^2).
  Used by the likelihood (exact divergence) and by Hutchinson's estimator (Jacobian-vector products).
*/
static PetscErrorCode MixtureDerivatives(SgmMixture *m, PetscInt n, const PetscScalar *x, const PetscScalar *u, PetscScalar *Ju, PetscReal *div)
{
  const PetscInt K = m->K, d = m->d;
  PetscReal     *lp, *y, *v, *sk, *sv, *tmp;

  PetscFunctionBegin;
  PetscCall(PetscMalloc6(K, &lp, d, &y, K * d, &v, K * d, &sk, d, &sv, d, &tmp));
  for (PetscInt i = 0; i < n; i++) {
    const PetscScalar *xi = x + i * d;
    PetscReal          mx = PETSC_MIN_REAL, sum = 0;
    for (PetscInt k = 0; k < K; k++) {
      lp[k] = ComponentTerm(m, k, xi, y, v + k * d);
      mx    = PetscMax(mx, lp[k]);
    }
    for (PetscInt k = 0; k < K; k++) {
      lp[k] = PetscExpReal(lp[k] - mx);
      sum += lp[k];
    }
    for (PetscInt j = 0; j < d; j++) sv[j] = 0;
    for (PetscInt k = 0; k < K; k++) { /* s_k = -Q_k v_k; r_k into lp */
      const PetscReal *Q = m->Q + k * d * d, *vk = v + k * d;
      lp[k] /= sum;
      for (PetscInt r = 0; r < d; r++) {
        PetscReal acc = 0;
        if (m->diag) acc = vk[r];
        else
          for (PetscInt j = 0; j < d; j++) acc += Q[r * d + j] * vk[j];
        sk[k * d + r] = -acc;
        sv[r] += lp[k] * sk[k * d + r];
      }
    }
    if (div) {
      PetscReal t = 0, ss = 0;
      for (PetscInt k = 0; k < K; k++) {
        PetscReal trP = 0, s2 = 0;
        for (PetscInt j = 0; j < d; j++) {
          trP += m->ilam[k * d + j];
          s2 += sk[k * d + j] * sk[k * d + j];
        }
        t += lp[k] * (s2 - trP);
      }
      for (PetscInt j = 0; j < d; j++) ss += sv[j] * sv[j];
      div[i] = t - ss;
    }
    if (Ju) {
      const PetscScalar *ui = u + i * d;
      PetscScalar       *ji = Ju + i * d;
      PetscReal          su = 0;
      for (PetscInt j = 0; j < d; j++) su += sv[j] * PetscRealPart(ui[j]);
      for (PetscInt j = 0; j < d; j++) ji[j] = -sv[j] * su;
      for (PetscInt k = 0; k < K; k++) {
        const PetscReal *Q = m->Q + k * d * d, *il = m->ilam + k * d;
        PetscReal        sku = 0;
        for (PetscInt j = 0; j < d; j++) sku += sk[k * d + j] * PetscRealPart(ui[j]);
        if (m->diag)
          for (PetscInt j = 0; j < d; j++) tmp[j] = il[j] * PetscRealPart(ui[j]);
        else {
          for (PetscInt j = 0; j < d; j++) { /* tmp = D Q^T u */
            PetscReal acc = 0;
            for (PetscInt r = 0; r < d; r++) acc += Q[r * d + j] * PetscRealPart(ui[r]);
            y[j] = acc * il[j];
          }
          for (PetscInt r = 0; r < d; r++) { /* tmp = Q y */
            PetscReal acc = 0;
            for (PetscInt j = 0; j < d; j++) acc += Q[r * d + j] * y[j];
            tmp[r] = acc;
          }
        }
        for (PetscInt j = 0; j < d; j++) ji[j] += lp[k] * (-tmp[j] + sk[k * d + j] * sku);
      }
    }
  }
  PetscCall(PetscFree6(lp, y, v, sk, sv, tmp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmMixtureJacobianVector(SgmMixture *m, PetscInt n, const PetscScalar *x, const PetscScalar *u, PetscScalar *Ju)
{
  PetscFunctionBegin;
  PetscCall(MixtureDerivatives(m, n, x, u, Ju, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmMixtureDivergence(SgmMixture *m, PetscInt n, const PetscScalar *x, PetscReal *div)
{
  PetscFunctionBegin;
  PetscCall(MixtureDerivatives(m, n, x, NULL, NULL, div));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The target density, so that post-processing needs nothing but the output file. */
PetscErrorCode SgmMixtureWrite(SgmMixture *m, MPI_Comm comm, hid_t file)
{
  hid_t   grp;
  hsize_t dk[1] = {(hsize_t)m->K}, dm[2] = {(hsize_t)m->K, (hsize_t)m->d}, dc[3] = {(hsize_t)m->K, (hsize_t)m->d, (hsize_t)m->d};

  PetscFunctionBegin;
  PetscCallHDF5(grp = H5Gcreate2(file, "target", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(SgmH5AttrString(grp, "kind", "gaussian_mixture"));
  PetscCall(SgmH5WriteSmall(comm, grp, "weights", 1, dk, m->w));
  PetscCall(SgmH5WriteSmall(comm, grp, "means", 2, dm, m->mu));
  PetscCall(SgmH5WriteSmall(comm, grp, "covariances", 3, dc, m->cov));
  PetscCallHDF5(H5Gclose(grp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmMixtureView(SgmMixture *m, PetscViewer viewer)
{
  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "%" PetscInt_FMT " component(s) in dimension %" PetscInt_FMT "%s\n", m->K, m->d, m->diag ? ", diagonal covariances" : ""));
  PetscFunctionReturn(PETSC_SUCCESS);
}
