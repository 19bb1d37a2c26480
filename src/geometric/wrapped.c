/*
  The wrapped normal on the unit torus (DiffCSP, Jiao et al. 2023, eq. 4), the transition kernel of
  F_t = w(F_0 + sigma eps) on fractional coordinates, one coordinate at a time:
      p(x; sigma) = sum_{k in Z} N(x + k; 0, sigma^2),   x in [0, 1) (any x: p has period 1),
      score       = d/dx log p = -sum_k w_k (x + k) / sigma^2,   w_k proportional to N(x + k; 0, sigma^2).
  x is in fractional units and the score is with respect to x: sigma = 0.2, x = 0.25 gives -6.20183.

  Evaluation.  x is first reduced to y = x - round(x) in [-1/2, 1/2); the image terms relative to
  the nearest one are e_k = exp(-(k^2 + 2 y k) / (2 sigma^2)) <= 1 with e_0 = 1, so the sum
  S_K = sum_{|k| <= K} e_k lies in [1, 2K+1] and never underflows (log-sum-exp with the maximum
  known): sigma = 0.005, x = 0.25 gives the score -y/sigma^2 = -10000, where the naive sum of
  exp(-(x+k)^2 / (2 sigma^2)) is 0/0.

  Truncation (the images |k| > K dropped).  For |y| <= 1/2 and |k| = j, k^2 + 2 y k >= j (j - 1), so
      R_K = 2 sum_{j > K} exp(-j (j-1) / (2 sigma^2))
  bounds the relative error of the density (|log p - log p_K| <= log(1 + R_K) <= R_K), and, since
  every dropped image and the truncated score have |x + k| / sigma^2 <= (j + 1/2)/sigma^2 and
  (K + 1/2)/sigma^2 <= (j - 1/2)/sigma^2, and S >= 1,
      |score - score_K| <= (4 / sigma^2) sum_{j > K} j exp(-j (j-1) / (2 sigma^2)).
  SgmWrappedNormalImages picks the smallest K >= 1 with both bounds below a tolerance; K grows like
  sigma sqrt(2 log(1/tol)); at tol 1e-12: K = 1 for sigma <= 0.1, 2 for 0.2 and 0.3, 4 for 0.5,
  8 for 1, 16 for 2 (DiffCSP's sigma runs 0.005..0.5).
*/
#include <sgmgeometric.h>

/* Both bounds for K images, summed until the terms underflow or stop mattering. */
PetscErrorCode SgmWrappedNormalTruncationBound(PetscReal sigma, PetscInt K, PetscReal *errlogp, PetscReal *errscore)
{
  PetscReal s2 = sigma * sigma, r = 0, q = 0;

  PetscFunctionBegin;
  PetscCheck(sigma > 0 && K >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "The wrapped normal needs sigma > 0 and K >= 0 images; got sigma = %g, K = %" PetscInt_FMT, (double)sigma, K);
  for (PetscInt j = K + 1;; j++) {
    PetscReal a = (PetscReal)j * (PetscReal)(j - 1) / (2 * s2), e;
    if (a > 745) break; /* exp underflows to 0 from here on */
    e = PetscExpReal(-a);
    r += e;
    q += (PetscReal)j * e;
    if (e < 1e-20 * r && (PetscReal)j > 2 * s2) break; /* ratio of successive terms exp(-j/sigma^2) < 1/e */
  }
  if (errlogp) *errlogp = 2 * r;
  if (errscore) *errscore = 4 * q / s2;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The smallest K >= 1 whose truncation bounds (density relative, score absolute) are below tol. */
PetscErrorCode SgmWrappedNormalImages(PetscReal sigma, PetscReal tol, PetscInt *K)
{
  PetscReal el, es;

  PetscFunctionBegin;
  PetscCheck(tol > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "The truncation tolerance of the wrapped normal must be positive; got %g", (double)tol);
  PetscCheck(sigma > 0 && sigma <= 100, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "The image sum of the wrapped normal is for 0 < sigma <= 100 (beyond, p is uniform to double precision); got sigma = %g", (double)sigma);
  for (*K = 1;; (*K)++) {
    PetscCall(SgmWrappedNormalTruncationBound(sigma, *K, &el, &es));
    if (el <= tol && es <= tol) break;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* log p(x; sigma) and d/dx log p from the images k = -K..K (either output may be NULL). */
PetscErrorCode SgmWrappedNormalEval(PetscReal x, PetscReal sigma, PetscInt K, PetscReal *logp, PetscReal *score)
{
  const PetscReal y = x - PetscFloorReal(x + 0.5), s2 = sigma * sigma;
  PetscReal       S = 0, M = 0;

  PetscFunctionBegin;
  PetscCheck(sigma > 0 && K >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "The wrapped normal needs sigma > 0 and K >= 0 images; got sigma = %g, K = %" PetscInt_FMT, (double)sigma, K);
  for (PetscInt k = K; k >= 1; k--) { /* smallest terms first */
    PetscReal ep = PetscExpReal(-((PetscReal)k * k + 2 * y * k) / (2 * s2));
    PetscReal em = PetscExpReal(-((PetscReal)k * k - 2 * y * k) / (2 * s2));
    S += ep + em;
    M += ep * (y + k) + em * (y - k);
  }
  S += 1;
  M += y;
  if (logp) *logp = -y * y / (2 * s2) - 0.5 * PetscLogReal(2 * PETSC_PI * s2) + PetscLogReal(S);
  if (score) *score = -M / (s2 * S);
  PetscFunctionReturn(PETSC_SUCCESS);
}
