/*
  Sliced Wasserstein-2 (Rabin et al. 2011; Bonneel et al. 2015):
      SW2(X, Y)^2 = mean over directions theta_p of W2^2(theta_p . X, theta_p . Y),
  theta_p = z_p / |z_p|, z_p ~ N(0, I_d) from the counter-based generator (stream SGM_STREAM_EVAL,
  step 0, index p, seed -eval_seed): the same directions on every rank and for every rank count.

  The 1-D W2^2 between empirical measures is the integral over u in (0,1) of (F^-1(u) - G^-1(u))^2
  with the empirical quantile functions, piecewise constant between the breakpoints i/N1 and j/N2.
  For N1 = N2 that is (1/N) sum_i (a_(i) - b_(i))^2 of the sorted values ("sorted samples"); for
  N1 != N2 the breakpoints are merged, in integers scaled by N1 N2 so that the interval lengths are
  exact ("quantile functions").

  Work and memory: directions are processed in rounds of (ranks x q); in a round each rank projects
  its own rows on all the round's directions and an MPI_Alltoallv hands every rank the complete
  projected columns (N1 + N2 values) of its own q directions, which it sorts.  q is capped so that
  a rank holds at most about 2^23 doubles (64 MB) of projected values; the P x d directions are kept
  on every rank.  W2^2 of direction p is computed by one rank only and summed by an allreduce in
  which every other rank adds 0, so the result has the same bits on any rank count.
*/
#include "evalimpl.h"

static int CmpReal(const void *a, const void *b)
{
  const PetscReal x = *(const PetscReal *)a, y = *(const PetscReal *)b;
  return (x > y) - (x < y);
}

/* W_p^p (p = 1 or 2) of the empirical measures of sorted a[n1] and b[n2]: the integral over u of
   |F^-1(u) - G^-1(u)|^p (also the point-cloud metrics of pointcloud.c). */
PetscReal SgmEvalWassersteinSorted_Private(PetscInt p, PetscInt n1, const PetscReal a[], PetscInt n2, const PetscReal b[])
{
  PetscReal s = 0;

  if (n1 == n2) {
    for (PetscInt i = 0; i < n1; i++) s += p == 1 ? PetscAbsReal(a[i] - b[i]) : (a[i] - b[i]) * (a[i] - b[i]);
    return s / (PetscReal)n1;
  }
  {
    const int64_t total = (int64_t)n1 * n2;
    int64_t       u = 0, i = 0, j = 0;
    while (u < total) { /* on (u, next]: F^-1 = a[i], G^-1 = b[j] (u in units of 1/(n1 n2)) */
      const int64_t ua = (i + 1) * (int64_t)n2, ub = (j + 1) * (int64_t)n1, next = PetscMin(ua, ub);
      const PetscReal diff = a[i] - b[j];
      s += (PetscReal)(next - u) * (p == 1 ? PetscAbsReal(diff) : diff * diff);
      u = next;
      if (ua == next) i++;
      if (ub == next) j++;
    }
    return s / (PetscReal)total;
  }
}

/* Projections of this rank's rows on the round's directions [p0, p0 + S q) exchanged so that this
   rank gets the full columns of its own qme directions: col[pp * N + global row]. */
static PetscErrorCode ExchangeProjections(const SgmBatch *b, const PetscReal x[], const PetscMPIInt nrow[], PetscInt P, PetscInt p0, PetscInt q, const PetscReal dirs[], PetscReal *send, PetscReal *recv, PetscReal col[])
{
  PetscMPIInt size, rank, *scnt, *sdsp, *rcnt, *rdsp;
  const PetscInt d = b->d;
  PetscInt    qme, off = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(b->comm, &size));
  PetscCallMPI(MPI_Comm_rank(b->comm, &rank));
  PetscCall(PetscMalloc4(size, &scnt, size, &sdsp, size, &rcnt, size, &rdsp));
  qme = PetscMax(0, PetscMin(q, P - (p0 + rank * q)));
  for (PetscMPIInt r = 0; r < size; r++) {
    const PetscInt pr = p0 + r * q, qr = PetscMax(0, PetscMin(q, P - pr));
    sdsp[r] = (PetscMPIInt)off;
    for (PetscInt pp = 0; pp < qr; pp++) {
      const PetscReal *th = dirs + (pr + pp) * d;
      for (PetscInt i = 0; i < b->n; i++) {
        PetscReal v = 0;
        for (PetscInt c = 0; c < d; c++) v += th[c] * x[i * d + c];
        send[off++] = v;
      }
    }
    PetscCall(PetscMPIIntCast(off - sdsp[r], &scnt[r]));
  }
  off = 0;
  for (PetscMPIInt s = 0; s < size; s++) {
    PetscCall(PetscMPIIntCast(off, &rdsp[s]));
    PetscCall(PetscMPIIntCast(qme * nrow[s], &rcnt[s]));
    off += qme * nrow[s];
  }
  PetscCallMPI(MPI_Alltoallv(send, scnt, sdsp, MPIU_REAL, recv, rcnt, rdsp, MPIU_REAL, b->comm));
  for (PetscInt pp = 0; pp < qme; pp++) { /* sources in rank order are rows in global order */
    PetscInt g = 0;
    for (PetscMPIInt s = 0; s < size; s++) {
      PetscCall(PetscArraycpy(col + pp * b->N + g, recv + rdsp[s] + pp * nrow[s], nrow[s]));
      g += nrow[s];
    }
  }
  PetscCall(PetscFree4(scnt, sdsp, rcnt, rdsp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEvalSliced_Private(SgmEval ev)
{
  const PetscInt d = ev->bx.d, P = ev->nproj, N1 = ev->bx.N, N2 = ev->by.N;
  MPI_Comm       comm = ev->bx.comm;
  PetscMPIInt    size, rank, *n1, *n2;
  PetscInt       q, nsend;
  PetscReal     *send, *recv, *a, *bcol, sum = 0;
  const PetscScalar *x, *y;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_EvalSliced, 0, 0, 0, 0));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscFree2(ev->w2sq, ev->dirs));
  PetscCall(PetscMalloc2(P, &ev->w2sq, P * d, &ev->dirs));
  for (PetscInt p = 0; p < P; p++) {
    PetscReal *th = ev->dirs + p * d, nrm = 0;
    SgmRandomNormalSample((uint64_t)ev->seed, SGM_STREAM_EVAL, 0, p, d, th);
    for (PetscInt c = 0; c < d; c++) nrm += th[c] * th[c];
    nrm = PetscSqrtReal(nrm);
    for (PetscInt c = 0; c < d; c++) th[c] /= nrm;
    ev->w2sq[p] = 0;
  }
  q = PetscMin((P + size - 1) / size, PetscMax(1, ((PetscInt)1 << 23) / (N1 + N2)));
  PetscCall(PetscMalloc2(size, &n1, size, &n2));
  {
    PetscMPIInt m1, m2;
    PetscCall(PetscMPIIntCast(ev->bx.n, &m1));
    PetscCall(PetscMPIIntCast(ev->by.n, &m2));
    PetscCallMPI(MPI_Allgather(&m1, 1, MPI_INT, n1, 1, MPI_INT, comm));
    PetscCallMPI(MPI_Allgather(&m2, 1, MPI_INT, n2, 1, MPI_INT, comm));
  }
  nsend = PetscMax(ev->bx.n, ev->by.n) * q * size;
  PetscCall(PetscMalloc4(nsend, &send, q * PetscMax(N1, N2), &recv, q * N1, &a, q * N2, &bcol));
  PetscCall(VecGetArrayRead(ev->X, &x));
  PetscCall(VecGetArrayRead(ev->Y, &y));
  for (PetscInt p0 = 0; p0 < P; p0 += size * q) {
    const PetscInt pme = p0 + rank * q, qme = PetscMax(0, PetscMin(q, P - pme));
    PetscCall(ExchangeProjections(&ev->bx, x, n1, P, p0, q, ev->dirs, send, recv, a));
    PetscCall(ExchangeProjections(&ev->by, y, n2, P, p0, q, ev->dirs, send, recv, bcol));
    for (PetscInt pp = 0; pp < qme; pp++) {
      qsort(a + pp * N1, (size_t)N1, sizeof(PetscReal), CmpReal);
      qsort(bcol + pp * N2, (size_t)N2, sizeof(PetscReal), CmpReal);
      ev->w2sq[pme + pp] = SgmEvalWassersteinSorted_Private(2, N1, a + pp * N1, N2, bcol + pp * N2);
    }
  }
  PetscCall(VecRestoreArrayRead(ev->X, &x));
  PetscCall(VecRestoreArrayRead(ev->Y, &y));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, ev->w2sq, (PetscMPIInt)P, MPIU_REAL, MPIU_SUM, comm)); /* one nonzero term each: exact */
  for (PetscInt p = 0; p < P; p++) sum += ev->w2sq[p];
  ev->value[SGM_EVAL_SLICED_W2] = PetscSqrtReal(sum / (PetscReal)P);
  ev->has[SGM_EVAL_SLICED_W2]   = PETSC_TRUE;
  ev->swformula                 = N1 == N2 ? "sorted samples (N1 = N2)" : "quantile functions (N1 != N2)";
  PetscCall(PetscFree4(send, recv, a, bcol));
  PetscCall(PetscFree2(n1, n2));
  PetscCall(PetscLogFlops(2.0 * P * (ev->bx.n + ev->by.n) * d));
  PetscCall(PetscLogEventEnd(SGM_EvalSliced, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}
