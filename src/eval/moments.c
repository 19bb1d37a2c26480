/*
  Mean and covariance of a sample set spread over ranks, two-pass: the mean first, then the centred
  products (x_i - mu)(x_i - mu)^T, which avoids the cancellation of E[x x^T] - mu mu^T.  Both passes
  are fixed-point sums, so the result has the same bits on any number of ranks:
    - the mean by SgmReproducibleSum;
    - the d(d+1)/2 product sums by the same scheme (src/sys/reprosum.c) streamed row by row, so no
      [n, d(d+1)/2] buffer is needed: term (j,k) is rounded once to the grid 2^(e_jk - 62), with
      2^e_jk > M_j M_k >= |c_j c_k| (M_j = global max |x_ij - mu_j|), and the integers are summed
      exactly in any order.  Each term carries a relative error <= 2^-61 of M_j M_k.
  The covariance uses the divisor N - 1 (numpy.cov's default).
*/
#include "evalimpl.h"
#include <math.h>

PetscErrorCode SgmEvalMoments_Private(const SgmBatch *b, const PetscReal x[], PetscReal mu[], PetscReal S[])
{
  const PetscInt d = b->d, m = d * (d + 1) / 2;
  PetscReal     *M, *scale, *c;
  int           *e;
  int64_t       *acc; /* [2m]: high and low 31-bit parts */

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_EvalMoments, 0, 0, 0, 0));
  PetscCall(SgmReproducibleSum(b->comm, b->n, d, x, mu));
  for (PetscInt j = 0; j < d; j++) mu[j] /= (PetscReal)b->N;
  PetscCall(PetscMalloc5(d, &M, m, &scale, d, &c, m, &e, 2 * m, &acc));
  for (PetscInt j = 0; j < d; j++) M[j] = 0;
  for (PetscInt i = 0; i < b->n; i++)
    for (PetscInt j = 0; j < d; j++) M[j] = PetscMax(M[j], PetscAbsReal(x[i * d + j] - mu[j]));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, M, (PetscMPIInt)d, MPIU_REAL, MPI_MAX, b->comm));
  for (PetscInt j = 0, t = 0; j < d; j++)
    for (PetscInt k = j; k < d; k++, t++) {
      const PetscReal bound = M[j] * M[k];
      e[t]     = bound > 0 ? ilogb(bound) + 1 : 0; /* bound < 2^e */
      scale[t] = bound > 0 ? ldexp(1.0, 62 - e[t]) : 0;
    }
  PetscCall(PetscArrayzero(acc, 2 * m));
  for (PetscInt i = 0; i < b->n; i++) {
    for (PetscInt j = 0; j < d; j++) c[j] = x[i * d + j] - mu[j];
    for (PetscInt j = 0, t = 0; j < d; j++)
      for (PetscInt k = j; k < d; k++, t++) {
        const int64_t q = llrint(c[j] * c[k] * scale[t]); /* |q| <= 2^62; scaling by 2^k is exact */
        acc[2 * t] += q >> 31;                             /* arithmetic shift: floor */
        acc[2 * t + 1] += q & (((int64_t)1 << 31) - 1);
      }
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, acc, (PetscMPIInt)(2 * m), MPI_INT64_T, MPI_SUM, b->comm));
  for (PetscInt j = 0, t = 0; j < d; j++)
    for (PetscInt k = j; k < d; k++, t++) {
      const __int128 total = ((__int128)acc[2 * t] << 31) + acc[2 * t + 1];
      S[j * d + k] = S[k * d + j] = scale[t] > 0 ? ldexp((double)total, e[t] - 62) / (PetscReal)(b->N - 1) : 0;
    }
  PetscCall(PetscFree5(M, scale, c, e, acc));
  PetscCall(PetscLogFlops(3.0 * b->n * m));
  PetscCall(PetscLogEventEnd(SGM_EvalMoments, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}
