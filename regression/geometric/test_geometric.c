/*
  Unit test of the geometric building blocks (src/geometric, doc/geometric.md):
    (a) zero centre of mass: the projection, and the subspace Gaussian against the standard normal
        in the coordinates of an orthonormal (Helmert) basis of the subspace, (n-1) dim of them;
    (b) wrapped normal: the reference scores (and 15-digit mpmath values of
        d/dx log sum_k N(x + k; 0, sigma^2)), the stable sum where the naive one is 0/0, the stated
        truncation bounds against K = 400 images for K = 0..8 and sigma 0.005..2, the chosen K
        against the tolerance, score = d log p/dx by central differences, normalisation, period;
    (c) periodic multi-graph: edges against brute force over all images |k_a| <= M for cubic,
        triclinic and strongly skewed cells, cutoffs below and above the perpendicular widths,
        and (i,j,k) <-> (j,i,-k) symmetry;
    (d) distance-based atom scores: against central differences of sum_edges phi(d), and their
        equivariance under rotation of the lattice, permutation of the atoms, periodic translation.
  Prints one line per check and ends with "N passed, M failed"; exit status M != 0.  < 1 s.
*/
#include <sgmgeometric.h>

#include "../unit/check.h"

/* deterministic test data */
static void Uniforms(PetscInt i, PetscInt n, PetscReal *u)
{
  SgmRandomUniformSample(12345, SGM_STREAM_EVAL, 77, i, n, u);
}

/* ---- (a) zero centre of mass ---------------------------------------------------------------- */
static PetscErrorCode TestCoM(Tally *tl)
{
  const PetscInt n = 5, dim = 3, nb = 4;
  PetscScalar    x[4 * 5 * 3], y[5 * 3];
  PetscReal      err = 0, lp, lp2, ref, q = 0, u[60];

  PetscFunctionBegin;
  Uniforms(1, nb * n * dim, u);
  for (PetscInt k = 0; k < nb * n * dim; k++) x[k] = 10 * u[k] - 2;
  PetscCall(SgmGeomRemoveCoM(nb, n, dim, x));
  for (PetscInt b = 0; b < nb; b++)
    for (PetscInt c = 0; c < dim; c++) {
      PetscReal s = 0;
      for (PetscInt i = 0; i < n; i++) s += x[(b * n + i) * dim + c];
      err = PetscMax(err, PetscAbsReal(s));
    }
  PetscCall(Check(tl, "CoM: sum_i x_i after projection", err, 1e-13));
  /* Helmert basis h_m (m = 1..n-1): h_m[i] = 1/sqrt(m(m+1)) for i < m, -m/sqrt(m(m+1)) for i = m */
  for (PetscInt m = 1; m < n; m++)
    for (PetscInt c = 0; c < dim; c++) {
      PetscReal z = 0;
      for (PetscInt i = 0; i <= m; i++) z += (i < m ? 1.0 : -(PetscReal)m) / PetscSqrtReal(m * (m + 1.0)) * x[i * dim + c];
      q += z * z;
    }
  ref = -0.5 * q / (0.7 * 0.7) - 0.5 * (n - 1) * dim * PetscLogReal(2 * PETSC_PI * 0.49);
  PetscCall(SgmGeomZeroCoMGaussianLogDensity(n, dim, 0.7, x, &lp));
  PetscCall(Check(tl, "CoM Gaussian vs N(0, s^2 I_{(n-1)dim}) in Helmert coords", PetscAbsReal(lp - ref) / PetscAbsReal(ref), 1e-14));
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt c = 0; c < dim; c++) y[i * dim + c] = x[i * dim + c] + (c + 1.5);
  PetscCall(SgmGeomZeroCoMGaussianLogDensity(n, dim, 0.7, y, &lp2));
  PetscCall(Check(tl, "CoM Gaussian: translation invariance", PetscAbsReal(lp2 - lp) / PetscAbsReal(lp), 1e-14));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- (b) wrapped normal --------------------------------------------------------------------- */
static PetscErrorCode TestWrapped(Tally *tl)
{
  /* sigma, x, the value and its last printed digit, mpmath (50 digits, infinite sum) */
  const PetscReal refs[3][5] = {
    {0.2,   0.25, -6.20183,   1e-5, -6.20183181326947  },
    {0.5,   0.25, -0.0903759, 1e-7, -0.0903758721481182},
    {0.005, 0.25, -10000,     1,    -10000.0           },
  };
  const PetscReal sigmas[] = {0.005, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2};
  char            name[128];
  PetscInt        K;

  PetscFunctionBegin;
  for (int r = 0; r < 3; r++) {
    PetscReal s;
    PetscCall(SgmWrappedNormalImages(refs[r][0], 1e-14, &K));
    PetscCall(SgmWrappedNormalEval(refs[r][1], refs[r][0], K, NULL, &s));
    PetscCall(PetscSNPrintf(name, sizeof(name), "WN score sigma=%g x=%g = %.9g vs issue %g", (double)refs[r][0], (double)refs[r][1], (double)s, (double)refs[r][2]));
    PetscCall(Check(tl, name, PetscAbsReal(s - refs[r][2]), 0.5 * refs[r][3]));
    PetscCall(PetscSNPrintf(name, sizeof(name), "WN score sigma=%g x=%g vs mpmath (relative)", (double)refs[r][0], (double)refs[r][1]));
    PetscCall(Check(tl, name, PetscAbsReal(s - refs[r][4]) / PetscAbsReal(refs[r][4]), 1e-13));
  }
  { /* the naive image sum at sigma = 0.005: every term underflows, 0/0 */
    volatile PetscReal num = 0, den = 0, s2 = 0.005 * 0.005, naive;
    PetscReal          s;
    for (PetscInt k = -3; k <= 3; k++) {
      PetscReal e = PetscExpReal(-(0.25 + k) * (0.25 + k) / (2 * s2));
      num += -(0.25 + k) / s2 * e;
      den += e;
    }
    naive = num / den;
    PetscCall(SgmWrappedNormalEval(0.25, 0.005, 3, NULL, &s));
    PetscCall(Check(tl, "WN sigma=0.005: naive sum is NaN, stable sum finite", (naive != naive && PetscIsNormalReal(s)) ? 0 : 1, 0));
  }
  /* truncation: actual error against K = 400 never above the stated bound, for K = 0..8 */
  for (size_t is = 0; is < sizeof(sigmas) / sizeof(sigmas[0]); is++) {
    PetscReal sg = sigmas[is], worst = 0, el, es, maxl = 0, maxs = 0;
    for (PetscInt k = 0; k <= 8; k++) {
      PetscCall(SgmWrappedNormalTruncationBound(sg, k, &el, &es));
      for (PetscInt i = 0; i <= 200; i++) {
        PetscReal x = -0.5 + i / 200.0 + 1e-3, l0, s0, l1, s1;
        PetscCall(SgmWrappedNormalEval(x, sg, k, &l0, &s0));
        PetscCall(SgmWrappedNormalEval(x, sg, 400, &l1, &s1));
        /* ratio of the error to its bound (bounds below 1e-300 are 0 by underflow: compare to eps) */
        worst = PetscMax(worst, PetscAbsReal(l0 - l1) / (el + 4e-16 * PetscMax(1, PetscAbsReal(l1))));
        worst = PetscMax(worst, PetscAbsReal(s0 - s1) / (es + 4e-16 * PetscMax(1, PetscAbsReal(s1))));
      }
    }
    PetscCall(PetscSNPrintf(name, sizeof(name), "WN sigma=%g: error/bound, K=0..8 vs K=400", (double)sg));
    PetscCall(Check(tl, name, worst, 1));
    PetscCall(SgmWrappedNormalImages(sg, 1e-12, &K));
    for (PetscInt i = 0; i <= 1000; i++) {
      PetscReal x = i / 1000.0, l0, s0, l1, s1;
      PetscCall(SgmWrappedNormalEval(x, sg, K, &l0, &s0));
      PetscCall(SgmWrappedNormalEval(x, sg, 400, &l1, &s1));
      maxl = PetscMax(maxl, PetscAbsReal(l0 - l1));
      maxs = PetscMax(maxs, PetscAbsReal(s0 - s1));
    }
    PetscCall(SgmWrappedNormalTruncationBound(sg, K, &el, &es));
    PetscCall(PetscSNPrintf(name, sizeof(name), "WN sigma=%g: K=%" PetscInt_FMT " (tol 1e-12), bounds %.1e %.1e, err logp", (double)sg, K, (double)el, (double)es));
    PetscCall(Check(tl, name, maxl, 1e-12 + 1e-15 * 8));
    PetscCall(PetscSNPrintf(name, sizeof(name), "WN sigma=%g: K=%" PetscInt_FMT ", err score (abs, |score| <= %.3g)", (double)sg, K, (double)(0.5 / (sg * sg))));
    PetscCall(Check(tl, name, maxs, 1e-12 + 4e-16 * 0.5 / (sg * sg)));
  }
  for (size_t is = 1; is < sizeof(sigmas) / sizeof(sigmas[0]); is++) { /* FD, normalisation, period */
    PetscReal sg = sigmas[is], fd = 0, integ = 0, per = 0, h = 1e-5 * sg;
    PetscCall(SgmWrappedNormalImages(sg, 1e-14, &K));
    for (PetscInt i = 0; i < 2000; i++) {
      PetscReal x = (i + 0.5) / 2000, lp, lm, l, s, l3;
      PetscCall(SgmWrappedNormalEval(x + h, sg, K, &lp, NULL));
      PetscCall(SgmWrappedNormalEval(x - h, sg, K, &lm, NULL));
      PetscCall(SgmWrappedNormalEval(x, sg, K, &l, &s));
      PetscCall(SgmWrappedNormalEval(x + 3, sg, K, &l3, NULL));
      fd  = PetscMax(fd, PetscAbsReal((lp - lm) / (2 * h) - s) / (1 + PetscAbsReal(s)));
      integ += PetscExpReal(l) / 2000;
      per = PetscMax(per, PetscAbsReal(l3 - l));
    }
    PetscCall(PetscSNPrintf(name, sizeof(name), "WN sigma=%g: score vs d log p/dx (central differences)", (double)sg));
    PetscCall(Check(tl, name, fd, 1e-6));
    PetscCall(PetscSNPrintf(name, sizeof(name), "WN sigma=%g: int_0^1 p dx = 1 (midpoint, 2000)", (double)sg));
    PetscCall(Check(tl, name, PetscAbsReal(integ - 1), 1e-12));
    PetscCall(PetscSNPrintf(name, sizeof(name), "WN sigma=%g: log p(x + 3) = log p(x)", (double)sg));
    PetscCall(Check(tl, name, per, 1e-11));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- (c) periodic multi-graph ------------------------------------------------------------- */
static int EdgeCmp(const void *pa, const void *pb)
{
  const SgmEdge *a = (const SgmEdge *)pa, *b = (const SgmEdge *)pb;
  PetscInt       ka[5] = {a->i, a->j, a->k[0], a->k[1], a->k[2]}, kb[5] = {b->i, b->j, b->k[0], b->k[1], b->k[2]};
  for (int c = 0; c < 5; c++)
    if (ka[c] != kb[c]) return ka[c] < kb[c] ? -1 : 1;
  return 0;
}

static PetscErrorCode BruteForce(PetscInt n, const PetscReal L[], const PetscReal f[], PetscReal r, PetscInt M, PetscInt *ne, SgmEdge **e)
{
  PetscInt cap = 1024, m = 0;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(cap, e));
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < n; j++)
      for (PetscInt a = -M; a <= M; a++)
        for (PetscInt b = -M; b <= M; b++)
          for (PetscInt c = -M; c <= M; c++) {
            PetscReal df[3], v[3], d;
            if (i == j && !a && !b && !c) continue;
            for (int q = 0; q < 3; q++) df[q] = (f[3 * j + q] - PetscFloorReal(f[3 * j + q])) - (f[3 * i + q] - PetscFloorReal(f[3 * i + q]));
            for (int q = 0; q < 3; q++) v[q] = (df[0] + a) * L[q] + (df[1] + b) * L[3 + q] + (df[2] + c) * L[6 + q];
            d = PetscSqrtReal(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
            if (d >= r) continue;
            if (m == cap) {
              cap *= 2;
              PetscCall(PetscRealloc(cap * sizeof(SgmEdge), e));
            }
            (*e)[m] = (SgmEdge){i, j, {a, b, c}, {v[0], v[1], v[2]}, d};
            m++;
          }
  *ne = m;
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  const char *name;
  PetscReal   L[9];
} Cell;

static const Cell cells[] = {
  {"cubic a=4",                {4, 0, 0, 0, 4, 0, 0, 0, 4}                           },
  {"fcc primitive a=4",        {0, 2, 2, 2, 0, 2, 2, 2, 0}                           },
  {"triclinic",                {4.2, 0, 0, 1.3, 3.7, 0, -0.9, 0.8, 5.1}              },
  {"strongly skewed (gamma~12deg)", {5, 0, 0, 4.9, 1.0, 0, 0.3, -0.2, 3}           },
};

static PetscErrorCode TestEdges(Tally *tl)
{
  const PetscInt n = 6;
  PetscReal      f[18], w[3];
  char           name[160];

  PetscFunctionBegin;
  Uniforms(2, 3 * n, f);
  f[0] += 2; /* unwrapped input is wrapped */
  f[4] -= 1;
  for (size_t c = 0; c < sizeof(cells) / sizeof(cells[0]); c++) {
    PetscCall(SgmLatticeWidths(cells[c].L, w));
    PetscReal wmin = PetscMin(w[0], PetscMin(w[1], w[2]));
    for (int rr = 0; rr < 2; rr++) {
      PetscReal r = rr ? 2.5 * wmin : 0.9 * wmin, dd = 0;
      PetscInt  ne, nb, M = 12, bad = 0, nopair = 0; /* brute force: independent of the width argument */
      SgmEdge  *e, *b;
      PetscCall(SgmPeriodicEdges(n, cells[c].L, f, r, &ne, &e));
      PetscCall(BruteForce(n, cells[c].L, f, r, M, &nb, &b));
      qsort(e, ne, sizeof(SgmEdge), EdgeCmp);
      qsort(b, nb, sizeof(SgmEdge), EdgeCmp);
      if (ne != nb) bad = 1;
      for (PetscInt m = 0; !bad && m < ne; m++) {
        if (EdgeCmp(&e[m], &b[m])) bad = 1;
        dd = PetscMax(dd, PetscAbsReal(e[m].d - b[m].d));
      }
      for (PetscInt m = 0; m < ne; m++) {
        SgmEdge key = {e[m].j, e[m].i, {-e[m].k[0], -e[m].k[1], -e[m].k[2]}, {0, 0, 0}, 0};
        if (!bsearch(&key, e, ne, sizeof(SgmEdge), EdgeCmp)) nopair++;
      }
      PetscCall(PetscSNPrintf(name, sizeof(name), "edges %s r=%.2f (min width %.2f): %" PetscInt_FMT " vs brute |k|<=%" PetscInt_FMT " %" PetscInt_FMT, cells[c].name, (double)r, (double)wmin, ne, M, nb));
      PetscCall(Check(tl, name, bad ? 1 : dd, 1e-12));
      PetscCall(PetscSNPrintf(name, sizeof(name), "edges %s r=%.2f: (i,j,k) <-> (j,i,-k)", cells[c].name, (double)r));
      PetscCall(Check(tl, name, (PetscReal)nopair, 0));
      PetscCall(PetscFree(e));
      PetscCall(PetscFree(b));
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- (d) distance-based atom scores -------------------------------------------------------- */
/* phi(d) = (r - d)^3 inside the cutoff: C^1 across it, so the edge set may change under the FD step */
static PetscErrorCode PhiSum(PetscInt n, const PetscReal L[], const PetscReal f[], PetscReal r, PetscReal *E, PetscReal s[])
{
  PetscInt   ne;
  SgmEdge   *e;
  PetscReal *se;

  PetscFunctionBegin;
  PetscCall(SgmPeriodicEdges(n, L, f, r, &ne, &e));
  PetscCall(PetscMalloc1(PetscMax(ne, 1), &se));
  *E = 0;
  for (PetscInt m = 0; m < ne; m++) {
    *E += 0.5 * PetscPowRealInt(r - e[m].d, 3); /* each undirected edge twice */
    se[m] = -3 * (r - e[m].d) * (r - e[m].d);
  }
  if (s) PetscCall(SgmDistanceScoreToAtoms(n, ne, e, se, s));
  PetscCall(PetscFree(se));
  PetscCall(PetscFree(e));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void Inverse3(const PetscReal A[], PetscReal B[])
{
  PetscReal det = A[0] * (A[4] * A[8] - A[5] * A[7]) - A[1] * (A[3] * A[8] - A[5] * A[6]) + A[2] * (A[3] * A[7] - A[4] * A[6]);
  B[0] = (A[4] * A[8] - A[5] * A[7]) / det;
  B[1] = (A[2] * A[7] - A[1] * A[8]) / det;
  B[2] = (A[1] * A[5] - A[2] * A[4]) / det;
  B[3] = (A[5] * A[6] - A[3] * A[8]) / det;
  B[4] = (A[0] * A[8] - A[2] * A[6]) / det;
  B[5] = (A[2] * A[3] - A[0] * A[5]) / det;
  B[6] = (A[3] * A[7] - A[4] * A[6]) / det;
  B[7] = (A[1] * A[6] - A[0] * A[7]) / det;
  B[8] = (A[0] * A[4] - A[1] * A[3]) / det;
}

static PetscErrorCode TestDistanceScore(Tally *tl)
{
  const PetscInt n = 6;
  const Cell    *cell = &cells[2];
  PetscReal      f[18], g[18], s[18], s2[18], Li[9], Q[9], LQ[9], E, Ep, Em, r = 6.0, err = 0, h = 1e-4, smax = 0;
  PetscReal      ax[3] = {0.3, -0.5, 0.81}, th = 1.1, nrm;

  PetscFunctionBegin;
  Uniforms(3, 3 * n, f);
  PetscCall(PhiSum(n, cell->L, f, r, &E, s));
  Inverse3(cell->L, Li);
  for (PetscInt i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) { /* x_i += h e_c  <=>  f_i += h (row c of L^-1) */
      PetscCall(PetscArraycpy(g, f, 3 * n));
      for (int a = 0; a < 3; a++) g[3 * i + a] = f[3 * i + a] + h * Li[3 * c + a];
      PetscCall(PhiSum(n, cell->L, g, r, &Ep, NULL));
      for (int a = 0; a < 3; a++) g[3 * i + a] = f[3 * i + a] - h * Li[3 * c + a];
      PetscCall(PhiSum(n, cell->L, g, r, &Em, NULL));
      err  = PetscMax(err, PetscAbsReal((Ep - Em) / (2 * h) - s[3 * i + c]));
      smax = PetscMax(smax, PetscAbsReal(s[3 * i + c]));
    }
  PetscCall(Check(tl, "distance score vs d/dx sum phi(d) (central differences, rel.)", err / smax, 1e-7));
  /* rotation Q (Rodrigues) of the lattice vectors: s -> Q s */
  nrm = PetscSqrtReal(ax[0] * ax[0] + ax[1] * ax[1] + ax[2] * ax[2]);
  for (int a = 0; a < 3; a++) ax[a] /= nrm;
  {
    const PetscReal K[9] = {0, -ax[2], ax[1], ax[2], 0, -ax[0], -ax[1], ax[0], 0}; /* K v = ax x v */
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++) Q[3 * a + b] = (a == b) * PetscCosReal(th) + PetscSinReal(th) * K[3 * a + b] + (1 - PetscCosReal(th)) * ax[a] * ax[b];
  }
  for (int a = 0; a < 3; a++)
    for (int c = 0; c < 3; c++) LQ[3 * a + c] = Q[3 * c + 0] * cell->L[3 * a] + Q[3 * c + 1] * cell->L[3 * a + 1] + Q[3 * c + 2] * cell->L[3 * a + 2];
  PetscCall(PhiSum(n, LQ, f, r, &Ep, s2));
  err = 0;
  for (PetscInt i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) err = PetscMax(err, PetscAbsReal(s2[3 * i + c] - (Q[3 * c] * s[3 * i] + Q[3 * c + 1] * s[3 * i + 1] + Q[3 * c + 2] * s[3 * i + 2])));
  {
    PetscReal QtQ = 0;
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++) QtQ = PetscMax(QtQ, PetscAbsReal(Q[a] * Q[b] + Q[3 + a] * Q[3 + b] + Q[6 + a] * Q[6 + b] - (a == b)));
    PetscCall(Check(tl, "rotation used is orthogonal", QtQ, 1e-15));
  }
  PetscCall(Check(tl, "distance score: rotation equivariance s(QL) = Q s(L) (rel.)", err / smax, 1e-12));
  for (PetscInt i = 0; i < n; i++) /* reversed atom order */
    for (int a = 0; a < 3; a++) g[3 * (n - 1 - i) + a] = f[3 * i + a];
  PetscCall(PhiSum(n, cell->L, g, r, &Ep, s2));
  err = 0;
  for (PetscInt i = 0; i < n; i++)
    for (int a = 0; a < 3; a++) err = PetscMax(err, PetscAbsReal(s2[3 * (n - 1 - i) + a] - s[3 * i + a]));
  PetscCall(Check(tl, "distance score: permutation equivariance (rel.)", err / smax, 1e-12));
  for (PetscInt i = 0; i < n; i++) /* periodic translation w(f + t) */
    for (int a = 0; a < 3; a++) g[3 * i + a] = f[3 * i + a] + 0.37 * (a + 1);
  PetscCall(PhiSum(n, cell->L, g, r, &Ep, s2));
  err = 0;
  for (PetscInt i = 0; i < 3 * n; i++) err = PetscMax(err, PetscAbsReal(s2[i] - s[i]));
  PetscCall(Check(tl, "distance score: periodic translation invariance (rel.)", err / smax, 1e-12));
  PetscCall(Check(tl, "distance score: sum_i phi(d) invariant under rotation", PetscAbsReal(Ep - E) / PetscAbsReal(E), 1e-12));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  Tally tl = {0, 0};

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SgmInitializePackage());
  PetscCall(TestCoM(&tl));
  PetscCall(TestWrapped(&tl));
  PetscCall(TestEdges(&tl));
  PetscCall(TestDistanceScore(&tl));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  PetscCall(PetscFinalize());
  return tl.fail != 0;
}
