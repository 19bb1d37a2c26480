/*
  The pair metrics, unbiased U-statistics over all pairs (Gretton et al. 2012, eq. 3; Szekely and
  Rizzo 2013):
      MMD^2 = 1/(N1(N1-1)) sum_{i!=j} k(x_i,x_j) + 1/(N2(N2-1)) sum_{i!=j} k(y_i,y_j) - 2/(N1 N2) sum k(x_i,y_j)
      E     = 2/(N1 N2) sum |x_i - y_j| - 1/(N1(N1-1)) sum_{i!=j} |x_i - x_j| - 1/(N2(N2-1)) sum_{i!=j} |y_i - y_j|
  with k(a,b) = exp(-|a-b|^2 / (2 h^2)).  The bandwidth h is -eval_mmd_bandwidth, or by the median
  heuristic the median of |z_a - z_b| over the pairs a < b of the pooled set Z = (X, Y), taken on
  the deterministic subsample z_floor(m (N1+N2)/M), m < M = min(-eval_median_points, N1+N2)
  (all points when N1 + N2 <= M); for an even number of pairs the mean of the two middle values.

  Distribution: both sets are all-gathered on every rank ((N1 + N2) d doubles each), each rank sums
  its own rows against all columns in global column order, and the row sums are added by
  SgmReproducibleSum: the bits do not depend on the rank count.  Cost (N1 + N2)^2 (3d + 20) flops.
*/
#include "evalimpl.h"

static int CmpReal(const void *a, const void *b)
{
  const PetscReal x = *(const PetscReal *)a, y = *(const PetscReal *)b;
  return (x > y) - (x < y);
}

static inline PetscReal Dist2(PetscInt d, const PetscReal a[], const PetscReal b[])
{
  PetscReal s = 0;
  for (PetscInt c = 0; c < d; c++) s += (a[c] - b[c]) * (a[c] - b[c]);
  return s;
}

PetscErrorCode SgmEvalAllGatherRows_Private(const SgmBatch *b, const PetscReal x[], PetscInt N, PetscReal **all)
{
  PetscMPIInt size, mine, *cnt, *dsp;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(b->comm, &size));
  PetscCall(PetscMalloc2(size, &cnt, size, &dsp));
  PetscCall(PetscMPIIntCast(b->n * b->d, &mine));
  PetscCallMPI(MPI_Allgather(&mine, 1, MPI_INT, cnt, 1, MPI_INT, b->comm));
  dsp[0] = 0;
  for (PetscMPIInt r = 1; r < size; r++) dsp[r] = dsp[r - 1] + cnt[r - 1];
  PetscCall(PetscMalloc1(N * b->d, all));
  PetscCallMPI(MPI_Allgatherv(x, mine, MPIU_REAL, *all, cnt, dsp, MPIU_REAL, b->comm));
  PetscCall(PetscFree2(cnt, dsp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Median of the pairwise distances of the subsample (every rank computes the same). */
static PetscErrorCode MedianDistance(SgmEval ev, const PetscReal X[], const PetscReal Y[], PetscReal *h)
{
  const PetscInt d = ev->bx.d, N1 = ev->bx.N, Nz = N1 + ev->by.N, M = PetscMin(ev->nmedian, Nz);
  const PetscInt np = M * (M - 1) / 2;
  const PetscReal **z;
  PetscReal        *dist;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(M, &z, np, &dist));
  for (PetscInt m = 0; m < M; m++) {
    const PetscInt k = (PetscInt)(((int64_t)m * Nz) / M);
    z[m] = k < N1 ? X + k * d : Y + (k - N1) * d;
  }
  for (PetscInt a = 0, t = 0; a < M; a++)
    for (PetscInt b = a + 1; b < M; b++) dist[t++] = PetscSqrtReal(Dist2(d, z[a], z[b]));
  qsort(dist, (size_t)np, sizeof(PetscReal), CmpReal);
  *h              = np % 2 ? dist[np / 2] : 0.5 * (dist[np / 2 - 1] + dist[np / 2]);
  ev->nmedianused = M;
  PetscCall(PetscFree2(z, dist));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Row sums of row a against the n rows of B (skipping row `self`): sum k and sum |a - b|, in
   column order.  Four distances at a time for instruction-level parallelism; each is still summed
   over the components in order, so the bits are those of the plain loop. */
static inline void RowSums(PetscInt d, const PetscReal a[], PetscInt n, const PetscReal B[], PetscInt self, PetscReal g, PetscReal *ks, PetscReal *ds)
{
  PetscReal k = 0, dd = 0, r2[4];
  PetscInt  j = 0;

  for (; j + 4 <= n; j += 4) {
    const PetscReal *b0 = B + j * d, *b1 = b0 + d, *b2 = b1 + d, *b3 = b2 + d;
    PetscReal        s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (PetscInt c = 0; c < d; c++) {
      const PetscReal ac = a[c], e0 = ac - b0[c], e1 = ac - b1[c], e2 = ac - b2[c], e3 = ac - b3[c];
      s0 += e0 * e0;
      s1 += e1 * e1;
      s2 += e2 * e2;
      s3 += e3 * e3;
    }
    r2[0] = s0; r2[1] = s1; r2[2] = s2; r2[3] = s3;
    for (PetscInt l = 0; l < 4; l++) {
      if (j + l == self) continue;
      k += PetscExpReal(-g * r2[l]);
      dd += PetscSqrtReal(r2[l]);
    }
  }
  for (; j < n; j++) {
    if (j == self) continue;
    const PetscReal r = Dist2(d, a, B + j * d);
    k += PetscExpReal(-g * r);
    dd += PetscSqrtReal(r);
  }
  *ks = k;
  *ds = dd;
}

PetscErrorCode SgmEvalPairs_Private(SgmEval ev)
{
  const PetscInt d = ev->bx.d, N1 = ev->bx.N, N2 = ev->by.N;
  PetscReal     *X, *Y, *rx, *ry, sx[4], sy[2], h = 0, g;
  const PetscScalar *x, *y;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_EvalPairs, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(ev->X, &x));
  PetscCall(VecGetArrayRead(ev->Y, &y));
  PetscCall(SgmEvalAllGatherRows_Private(&ev->bx, x, N1, &X));
  PetscCall(SgmEvalAllGatherRows_Private(&ev->by, y, N2, &Y));
  PetscCall(VecRestoreArrayRead(ev->X, &x));
  PetscCall(VecRestoreArrayRead(ev->Y, &y));
  if (ev->bandwidth > 0) {
    h               = ev->bandwidth;
    ev->nmedianused = 0;
  } else {
    PetscCall(MedianDistance(ev, X, Y, &h));
    PetscCheck(h > 0, ev->bx.comm, PETSC_ERR_USER_INPUT, "The median distance between the points is 0 (most points coincide): give the kernel bandwidth with -eval_mmd_bandwidth H");
  }
  g = 1 / (2 * h * h);
  PetscCall(PetscMalloc2(4 * ev->bx.n, &rx, 2 * ev->by.n, &ry));
  for (PetscInt i = 0; i < ev->bx.n; i++) {
    const PetscReal *a = X + (ev->bx.rstart + i) * d;
    RowSums(d, a, N1, X, ev->bx.rstart + i, g, &rx[4 * i], &rx[4 * i + 2]);
    RowSums(d, a, N2, Y, -1, g, &rx[4 * i + 1], &rx[4 * i + 3]);
  }
  for (PetscInt i = 0; i < ev->by.n; i++) RowSums(d, Y + (ev->by.rstart + i) * d, N2, Y, ev->by.rstart + i, g, &ry[2 * i], &ry[2 * i + 1]);
  PetscCall(SgmReproducibleSum(ev->bx.comm, ev->bx.n, 4, rx, sx)); /* kxx, kxy, dxx, dxy */
  PetscCall(SgmReproducibleSum(ev->by.comm, ev->by.n, 2, ry, sy)); /* kyy, dyy */
  {
    const PetscReal n11 = (PetscReal)N1 * (N1 - 1), n22 = (PetscReal)N2 * (N2 - 1), n12 = (PetscReal)N1 * N2;
    ev->value[SGM_EVAL_MMD2]      = sx[0] / n11 + sy[0] / n22 - 2 * sx[1] / n12;
    ev->value[SGM_EVAL_ENERGY]    = 2 * sx[3] / n12 - sx[2] / n11 - sy[1] / n22;
    ev->value[SGM_EVAL_BANDWIDTH] = h;
    ev->has[SGM_EVAL_MMD2] = ev->has[SGM_EVAL_ENERGY] = ev->has[SGM_EVAL_BANDWIDTH] = PETSC_TRUE;
  }
  PetscCall(PetscFree2(rx, ry));
  PetscCall(PetscFree(X));
  PetscCall(PetscFree(Y));
  PetscCall(PetscLogFlops((3.0 * d + 20) * ((PetscReal)ev->bx.n * (N1 + N2) + (PetscReal)ev->by.n * N2)));
  PetscCall(PetscLogEventEnd(SGM_EvalPairs, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}
