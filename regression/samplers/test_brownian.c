/*
  Brownian path consistency of the virtual Brownian tree SgmBrownianTreeValue (src/sys/brownian.c),
  which gives the adaptive sampler W(s), s in [0, L], of sample `index` (issue 3, verification 3).
  With L = 0.999 (T - eps of the VP SDE) and the sampler's default depth 16:
    (a) additivity: the increments over a fine partition (256 random points) of [a, b] summed per
        cell of a coarse partition (8 cells) give the coarse increments, and these sum to
        W(b) - W(a), to 1e-14;
    (b) statelessness: the 258 values are bitwise identical when queried forwards, backwards, in a
        random order and interleaved with queries of other samples, seeds and dimensions;
    (c) it depends on (seed, index, s) only: component j is the same whatever the dimension d of
        the query, W(0) = 0, s outside [0, L] is clamped, and a dyadic point s = k L/2^j has the
        same value (bitwise; W(L) to 1e-15) for every depth >= j (refining the tree does not move the
        path);
    (d) statistics over K = 20000 sample indices (5 standard errors): the increment over [a, b] has
        mean 0 and variance b - a (also for a short interval and for W(L)); increments over
        disjoint intervals, and the paths of neighbouring indices and of two seeds, are uncorrelated
        (|r| sqrt(K) <= 5); Cov(W(s), W(u)) = min(s, u).
  Prints one line per check and ends with "N passed, M failed"; exit status M != 0.  About 1 s.
*/
#include <sgm.h>

typedef struct {
  int pass, fail;
} Tally;

static PetscErrorCode Check(Tally *tl, PetscBool ok, const char *msg)
{
  PetscFunctionBegin;
  if (ok) tl->pass++;
  else tl->fail++;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s %s\n", ok ? "ok    " : "FAILED", msg));
  PetscFunctionReturn(PETSC_SUCCESS);
}

#define L_TREE 0.999
#define DEPTH  16
#define NFINE  256
#define NCOARSE 8
#define K      20000
#define ZMAX   5.0

/* W(s) of a one-component path on [0, L] */
static double W1L(uint64_t seed, PetscInt index, double L, PetscInt depth, double s)
{
  PetscReal w, work[3];
  SgmBrownianTreeValue(seed, index, 1, L, depth, s, &w, work);
  return w;
}

static double W1(uint64_t seed, PetscInt index, PetscInt depth, double s)
{
  return W1L(seed, index, L_TREE, depth, s);
}

/* a deterministic uniform in [0,1) (splitmix64), for partitions and query orders */
static double Uniform(uint64_t *state)
{
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z          = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z          = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return (double)(z >> 11) * 0x1.0p-53;
}

static int CmpDouble(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static PetscErrorCode CheckPartitions(Tally *tl)
{
  const double a = 0.123456789, b = 0.876543211;
  double       s[NFINE + 2], w[NFINE + 2], wq[NFINE + 2], err = 0, err2 = 0;
  PetscInt     perm[NFINE + 2], np = NFINE + 2;
  uint64_t     st = 42;
  char         msg[256];
  PetscBool    same = PETSC_TRUE;

  PetscFunctionBegin;
  s[0] = a;
  s[1] = b;
  for (PetscInt i = 2; i < np; i++) s[i] = a + (b - a) * Uniform(&st);
  qsort(s, np, sizeof(double), CmpDouble); /* s[0] = a, s[np-1] = b */
  for (PetscInt idx = 0; idx < 50; idx++) {
    double total = W1(7, idx, DEPTH, b) - W1(7, idx, DEPTH, a), sumc = 0;
    for (PetscInt i = 0; i < np; i++) w[i] = W1(7, idx, DEPTH, s[i]);
    /* coarse cells: every (np-1)/NCOARSE-th point of the fine partition */
    for (PetscInt c = 0; c < NCOARSE; c++) {
      PetscInt i0 = c * (np - 1) / NCOARSE, i1 = (c + 1) * (np - 1) / NCOARSE;
      double   coarse = W1(7, idx, DEPTH, s[i1]) - W1(7, idx, DEPTH, s[i0]), fine = 0;
      for (PetscInt i = i0; i < i1; i++) fine += w[i + 1] - w[i];
      err = PetscMax(err, PetscAbsReal(fine - coarse));
      sumc += coarse;
    }
    err2 = PetscMax(err2, PetscAbsReal(sumc - total));
  }
  PetscCall(PetscSNPrintf(msg, sizeof(msg), "fine (%d random cells) vs coarse (%d cells) increments of [%g, %g], 50 paths: max diff %.2e <= 1e-14", NFINE + 1, NCOARSE, a, b, err));
  PetscCall(Check(tl, (PetscBool)(err <= 1e-14), msg));
  PetscCall(PetscSNPrintf(msg, sizeof(msg), "coarse increments sum to W(b) - W(a): max diff %.2e <= 1e-14", err2));
  PetscCall(Check(tl, (PetscBool)(err2 <= 1e-14), msg));

  /* (b) query order: forwards (w), backwards, random, interleaved with other queries */
  for (PetscInt i = 0; i < np; i++) w[i] = W1(7, 3, DEPTH, s[i]);
  for (PetscInt i = np - 1; i >= 0; i--) wq[i] = W1(7, 3, DEPTH, s[i]);
  same = (PetscBool)(same && !memcmp(w, wq, sizeof(w)));
  for (PetscInt i = 0; i < np; i++) perm[i] = i;
  for (PetscInt i = np - 1; i > 0; i--) {
    PetscInt j = (PetscInt)(Uniform(&st) * (i + 1)), t = perm[i];
    perm[i]    = perm[j];
    perm[j]    = t;
  }
  for (PetscInt i = 0; i < np; i++) wq[perm[i]] = W1(7, 3, DEPTH, s[perm[i]]);
  same = (PetscBool)(same && !memcmp(w, wq, sizeof(w)));
  for (PetscInt i = 0; i < np; i++) {
    PetscReal junk[4], work[12];
    SgmBrownianTreeValue(8, 3, 4, L_TREE, DEPTH, 1 - s[i], junk, work); /* other seed, d, point */
    (void)W1(7, 4 + i, DEPTH, s[np - 1 - i]);                            /* other sample */
    wq[perm[i]] = W1(7, 3, DEPTH, s[perm[i]]);
  }
  same = (PetscBool)(same && !memcmp(w, wq, sizeof(w)));
  PetscCall(PetscSNPrintf(msg, sizeof(msg), "%d values identical (bitwise) queried forwards, backwards, in random order, interleaved with other queries", (int)np));
  PetscCall(Check(tl, same, msg));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckArguments(Tally *tl)
{
  PetscReal w5[5], w2[2], w1, work[15];
  double    maxd = 0, wl, wr;
  PetscBool same = PETSC_TRUE, dy = PETSC_TRUE;
  char      msg[256];

  PetscFunctionBegin;
  for (PetscInt idx = 0; idx < 100; idx++) {
    const double s = 0.31 + 0.005 * idx;
    SgmBrownianTreeValue(5, idx, 5, L_TREE, DEPTH, s, w5, work);
    SgmBrownianTreeValue(5, idx, 2, L_TREE, DEPTH, s, w2, work);
    SgmBrownianTreeValue(5, idx, 1, L_TREE, DEPTH, s, &w1, work);
    same = (PetscBool)(same && w5[0] == w1 && w2[0] == w1 && w5[1] == w2[1]);
  }
  PetscCall(Check(tl, same, "component j of W is the same for queries of dimension d = 1, 2, 5 (100 paths)"));
  for (PetscInt idx = 0; idx < 100; idx++) {
    maxd = PetscMax(maxd, PetscAbsReal(W1(5, idx, DEPTH, 0)));
    wl   = W1(5, idx, DEPTH, -0.5);
    wr   = W1(5, idx, DEPTH, L_TREE + 3);
    same = (PetscBool)(same && wl == 0 && wr == W1(5, idx, DEPTH, L_TREE));
  }
  PetscCall(PetscSNPrintf(msg, sizeof(msg), "W(0) = 0 (max |W(0)| %.1e), W(s < 0) = W(0), W(s > L) = W(L) (100 paths)", maxd));
  PetscCall(Check(tl, (PetscBool)(maxd == 0 && same), msg));
  /* dyadic points k L / 2^j, j <= 10: the same value for depth j, ..., 24.  L = 2 so that the
     tree's midpoints are exactly the k L/2^j computed here (for other L they may differ by an ulp).
     Bitwise for s < L; at s = L the last level interpolates, Wa + 1 (Wb - Wa), which may differ from
     Wb by rounding, so there only to 1e-15 (W is of order sqrt(L)). */
  maxd = 0;
  for (PetscInt idx = 0; idx < 20; idx++)
    for (PetscInt j = 0; j <= 10; j++)
      for (PetscInt k = 0; k <= (1 << j); k += PetscMax(1, (1 << j) / 8)) {
        double s = 2.0 * k / (double)(1 << j), v = W1L(9, idx, 2.0, j, s);
        for (PetscInt depth = j + 1; depth <= 24; depth++) {
          double w = W1L(9, idx, 2.0, depth, s);
          if (k < (1 << j)) dy = (PetscBool)(dy && w == v);
          else maxd = PetscMax(maxd, PetscAbsReal(w - v));
        }
      }
  PetscCall(Check(tl, dy, "a dyadic point k L/2^j < L (L = 2) has the same W (bitwise) at every depth >= j: refining the tree does not move the path"));
  PetscCall(PetscSNPrintf(msg, sizeof(msg), "W(L) (L = 2) is the same at every depth to rounding: max difference %.1e <= 1e-15", maxd));
  PetscCall(Check(tl, (PetscBool)(maxd <= 1e-15), msg));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* sample statistics of K values */
static void Moments(const double *x, const double *y, double *mx, double *vx, double *cxy, double *r)
{
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (PetscInt i = 0; i < K; i++) {
    sx += x[i];
    sy += y[i];
  }
  sx /= K;
  sy /= K;
  for (PetscInt i = 0; i < K; i++) {
    sxx += (x[i] - sx) * (x[i] - sx);
    syy += (y[i] - sy) * (y[i] - sy);
    sxy += (x[i] - sx) * (y[i] - sy);
  }
  *mx  = sx;
  *vx  = sxx / (K - 1);
  *cxy = sxy / (K - 1);
  *r   = sxy / PetscSqrtReal(sxx * syy);
}

static PetscErrorCode CheckStatistics(Tally *tl)
{
  /* intervals [a, b]: long, short, the whole path, and two pairs of disjoint ones */
  const double iv[5][2] = {
    {0.123456789, 0.876543211},
    {0.4,         0.41       },
    {0,           L_TREE     },
    {0.05,        0.3        },
    {0.3,         0.7        }
  };
  double *inc[5], *wa, *wb, *wn, *ws, mean, var, cov, r;
  char    msg[256];

  PetscFunctionBegin;
  for (int j = 0; j < 5; j++) PetscCall(PetscMalloc1(K, &inc[j]));
  PetscCall(PetscMalloc4(K, &wa, K, &wb, K, &wn, K, &ws));
  for (PetscInt i = 0; i < K; i++) {
    for (int j = 0; j < 5; j++) inc[j][i] = W1(11, i, DEPTH, iv[j][1]) - W1(11, i, DEPTH, iv[j][0]);
    wa[i] = W1(11, i, DEPTH, 0.25);
    wb[i] = W1(11, i, DEPTH, 0.6);
    wn[i] = W1(11, i + 1, DEPTH, 0.6); /* neighbouring index */
    ws[i] = W1(12, i, DEPTH, 0.6);     /* other seed */
  }
  for (int j = 0; j < 3; j++) {
    const double h = iv[j][1] - iv[j][0];
    double       zm, zv;
    Moments(inc[j], inc[j], &mean, &var, &cov, &r);
    zm = mean / PetscSqrtReal(h / K);
    zv = (var - h) / (h * PetscSqrtReal(2.0 / (K - 1)));
    PetscCall(PetscSNPrintf(msg, sizeof(msg), "increment over [%g, %g], K = %d paths: mean %+.2e (z %+.2f), variance %.5f vs b - a = %.5f (z %+.2f)", iv[j][0], iv[j][1], K, mean, zm, var, h, zv));
    PetscCall(Check(tl, (PetscBool)(PetscAbsReal(zm) <= ZMAX && PetscAbsReal(zv) <= ZMAX), msg));
  }
  Moments(inc[3], inc[4], &mean, &var, &cov, &r);
  PetscCall(PetscSNPrintf(msg, sizeof(msg), "adjacent disjoint increments [0.05, 0.3], [0.3, 0.7] uncorrelated: r = %+.4f, r sqrt(K) = %+.2f", r, r * PetscSqrtReal(K)));
  PetscCall(Check(tl, (PetscBool)(PetscAbsReal(r) * PetscSqrtReal(K) <= ZMAX), msg));
  Moments(inc[1], inc[3], &mean, &var, &cov, &r);
  PetscCall(PetscSNPrintf(msg, sizeof(msg), "separated disjoint increments [0.4, 0.41], [0.05, 0.3] uncorrelated: r = %+.4f, r sqrt(K) = %+.2f", r, r * PetscSqrtReal(K)));
  PetscCall(Check(tl, (PetscBool)(PetscAbsReal(r) * PetscSqrtReal(K) <= ZMAX), msg));
  Moments(wa, wb, &mean, &var, &cov, &r);
  {
    /* Cov(W(s), W(u)) = min(s, u) = s; SE of the sample covariance sqrt((s u + s^2)/K) for Gaussians */
    const double s = 0.25, u = 0.6, se = PetscSqrtReal((s * u + s * s) / K);
    PetscCall(PetscSNPrintf(msg, sizeof(msg), "Cov(W(0.25), W(0.6)) = %.5f vs min(s, u) = 0.25 (z %+.2f)", cov, (cov - s) / se));
    PetscCall(Check(tl, (PetscBool)(PetscAbsReal(cov - s) <= ZMAX * se), msg));
  }
  Moments(wb, wn, &mean, &var, &cov, &r);
  PetscCall(PetscSNPrintf(msg, sizeof(msg), "paths of neighbouring indices i, i+1 uncorrelated at s = 0.6: r sqrt(K) = %+.2f", r * PetscSqrtReal(K)));
  PetscCall(Check(tl, (PetscBool)(PetscAbsReal(r) * PetscSqrtReal(K) <= ZMAX), msg));
  Moments(wb, ws, &mean, &var, &cov, &r);
  PetscCall(PetscSNPrintf(msg, sizeof(msg), "paths of seeds 11 and 12 uncorrelated at s = 0.6: r sqrt(K) = %+.2f", r * PetscSqrtReal(K)));
  PetscCall(Check(tl, (PetscBool)(PetscAbsReal(r) * PetscSqrtReal(K) <= ZMAX), msg));
  for (int j = 0; j < 5; j++) PetscCall(PetscFree(inc[j]));
  PetscCall(PetscFree4(wa, wb, wn, ws));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  Tally tl = {0, 0};

  PetscFunctionBeginUser;
  PetscCall(PetscInitialize(&argc, &argv, NULL, "Consistency and statistics of the virtual Brownian tree"));
  PetscCall(CheckPartitions(&tl));
  PetscCall(CheckArguments(&tl));
  PetscCall(CheckStatistics(&tl));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  PetscCall(PetscFinalize());
  return tl.fail != 0;
}
