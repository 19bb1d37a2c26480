/*
  Reproducible global sums.  A floating-point MPI_Allreduce depends on how the terms are split over
  ranks; these sums do not: every term is rounded once to a fixed-point integer on a grid set by
  the global maximum (2^-61 of it), and integers add exactly in any order.  Used where a global
  quantity feeds back into the samples (batch-averaged step sizes), so that samples stay bitwise
  identical on any number of ranks.
*/
#include <sgmsys.h>
#include <math.h>

/* sum[j] = sum over all ranks and i < n of v[i*m + j], j < m. */
PetscErrorCode SgmReproducibleSum(MPI_Comm comm, PetscInt n, PetscInt m, const PetscReal v[], PetscReal sum[])
{
  PetscReal *mx;
  int64_t   *acc; /* [2m]: high and low 31-bit parts */

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(m, &mx, 2 * m, &acc));
  for (PetscInt j = 0; j < m; j++) mx[j] = 0;
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < m; j++) mx[j] = PetscMax(mx[j], PetscAbsReal(v[i * m + j])); /* NaN-free by contract */
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, mx, (PetscMPIInt)m, MPIU_REAL, MPI_MAX, comm));
  for (PetscInt j = 0; j < 2 * m; j++) acc[j] = 0;
  for (PetscInt j = 0; j < m; j++) {
    if (mx[j] == 0 || !isfinite(mx[j])) continue;
    const int e = ilogb(mx[j]) + 1; /* |v| < 2^e */
    for (PetscInt i = 0; i < n; i++) {
      int64_t q = llrint(ldexp(v[i * m + j], 62 - e)); /* |q| <= 2^62 */
      acc[2 * j] += q >> 31;                        /* arithmetic shift: floor */
      acc[2 * j + 1] += q & (((int64_t)1 << 31) - 1);
    }
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, acc, (PetscMPIInt)(2 * m), MPI_INT64_T, MPI_SUM, comm));
  for (PetscInt j = 0; j < m; j++) {
    if (mx[j] == 0 || !isfinite(mx[j])) {
      sum[j] = mx[j] == 0 ? 0 : mx[j];
      continue;
    }
    const int e     = ilogb(mx[j]) + 1;
    __int128  total = ((__int128)acc[2 * j] << 31) + acc[2 * j + 1];
    sum[j]          = ldexp((double)total, e - 62);
  }
  PetscCall(PetscFree2(mx, acc));
  PetscFunctionReturn(PETSC_SUCCESS);
}
