/*
  The distributed dense Gaussian (score type gaussian_dense, doc/dense.md).
  Default mode, with -gaussian_file FILE (/mean [d], /covariance [d,d]):
    the score, JVP, divergence and log density of gaussian_dense against the replicated gaussian type
    (LAPACK eigendecomposition, per-sample products) from the same file, at t = 1e-3, 0.1, 0.5, 1 of
    the VP SDE, for 50 points spread unevenly over the ranks; relative error <= 1e-12 (scale: the
    largest entry of the reference).  The sample mean of 4000 exact draws
    (SgmScoreGaussianDenseSampleExact) against m within 5 standard errors per coordinate.
  With -draws N -output FILE: writes N exact draws as /samples [N,d] (for test_gaussian_dense_stats.py).
  Prints one line per check and "N passed, M failed"; about 1 s for d = 64.
*/
#include <sgm.h>
#include <sgmdense.h>
#include <sgmio.h>

#include "../unit/check.h"

static PetscErrorCode MakeScore(const char *type, SgmScore *score)
{
  SgmSDE sde;

  PetscFunctionBegin;
  PetscCall(SgmScoreCreate(PETSC_COMM_WORLD, score));
  PetscCall(SgmScoreSetType(*score, type));
  PetscCall(SgmSDECreate(PETSC_COMM_WORLD, &sde));
  PetscCall(SgmSDESetType(sde, SGMSDEVP));
  PetscCall(SgmScoreSetSDE(*score, sde));
  PetscCall(SgmSDEDestroy(&sde));
  PetscCall(SgmScoreSetFromOptions(*score));
  PetscCall(SgmScoreSetUp(*score));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscReal RelErr(PetscInt n, const PetscScalar *a, const PetscScalar *ref)
{
  PetscReal e = 0, m = 0;
  for (PetscInt i = 0; i < n; i++) {
    e = PetscMax(e, PetscAbsReal(PetscRealPart(a[i] - ref[i])));
    m = PetscMax(m, PetscAbsReal(PetscRealPart(ref[i])));
  }
  return m > 0 ? e / m : e;
}

static PetscErrorCode Compare(Tally *tl)
{
  const PetscReal times[4] = {1e-3, 0.1, 0.5, 1};
  const PetscInt  N        = 50;
  SgmScore        ser, dns;
  SgmSDE          sde;
  PetscInt        d, n, lo, tot;
  PetscMPIInt     size, rank;
  PetscScalar    *x, *v, *s1, *s2;
  PetscReal      *r1, *r2, es = 0, ej = 0, ediv = 0, elp = 0;

  PetscFunctionBegin;
  PetscCall(MakeScore(SGMSCOREGAUSSIAN, &ser));
  PetscCall(MakeScore(SGMSCOREGAUSSIANDENSE, &dns));
  PetscCall(SgmScoreGetDimension(dns, &d));
  PetscCall(SgmScoreGetSDE(ser, &sde));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  tot = size * (size + 1) / 2; /* rank r holds a share proportional to r + 1 */
  lo  = N * (rank * (rank + 1) / 2) / tot;
  n   = N * ((rank + 1) * (rank + 2) / 2) / tot - lo;
  PetscCall(PetscMalloc6(n * d + 1, &x, n * d + 1, &v, n * d + 1, &s1, n * d + 1, &s2, n + 1, &r1, n + 1, &r2));
  for (int it = 0; it < 4; it++) {
    PetscReal t = times[it], alpha, sigma;
    PetscCall(SgmSDEMarginal(sde, t, &alpha, &sigma));
    for (PetscInt i = 0; i < n; i++) {
      PetscScalar z[4096];
      PetscCheck(d <= 4096, PETSC_COMM_SELF, PETSC_ERR_SUP, "test limited to d <= 4096");
      SgmRandomNormalSample(11, SGM_STREAM_SAMPLER, it, lo + i, d, z);
      for (PetscInt j = 0; j < d; j++) x[i * d + j] = 2 * z[j];
      SgmRandomNormalSample(12, SGM_STREAM_SAMPLER, it, lo + i, d, z);
      for (PetscInt j = 0; j < d; j++) v[i * d + j] = z[j];
    }
    PetscCall(SgmScoreApplyArray(ser, t, n, x, s1));
    PetscCall(SgmScoreApplyArray(dns, t, n, x, s2));
    es = PetscMax(es, RelErr(n * d, s2, s1));
    PetscCall(SgmScoreJacobianVector(ser, t, n, x, v, s1));
    PetscCall(SgmScoreJacobianVector(dns, t, n, x, v, s2));
    ej = PetscMax(ej, RelErr(n * d, s2, s1));
    PetscCall(SgmScoreDivergence(ser, t, n, x, r1));
    PetscCall(SgmScoreDivergence(dns, t, n, x, r2));
    ediv = PetscMax(ediv, RelErr(n, r2, r1));
    PetscCall(SgmScoreLogDensity(ser, t, n, x, r1));
    PetscCall(SgmScoreLogDensity(dns, t, n, x, r2));
    elp = PetscMax(elp, RelErr(n, r2, r1));
  }
  PetscCall(Check(tl, "gaussian_dense vs gaussian: score (rel)", es, 1e-12));
  PetscCall(Check(tl, "gaussian_dense vs gaussian: JVP (rel)", ej, 1e-12));
  PetscCall(Check(tl, "gaussian_dense vs gaussian: divergence (rel)", ediv, 1e-12));
  PetscCall(Check(tl, "gaussian_dense vs gaussian: log density (rel)", elp, 1e-12));
  PetscCall(PetscFree6(x, v, s1, s2, r1, r2));
  PetscCall(SgmScoreDestroy(&ser));
  /* exact draws: sample mean within 5 SE of m per coordinate (SE from the eigenvalue bound) */
  {
    SgmBatch   b;
    Vec        X;
    PetscReal *mu, *sum, zmax = 0, lmax;
    PetscInt   dm[1];
    const PetscScalar *xa;
    char       file[PETSC_MAX_PATH_LEN];
    PetscReal *cov;
    PetscInt   dc[2];

    PetscCall(PetscOptionsGetString(NULL, NULL, "-gaussian_file", file, sizeof(file), NULL));
    PetscCall(SgmH5ReadReal(PETSC_COMM_WORLD, file, "/mean", 1, dm, &mu));
    PetscCall(SgmH5ReadReal(PETSC_COMM_WORLD, file, "/covariance", 2, dc, &cov));
    PetscCall(SgmBatchCreate(PETSC_COMM_WORLD, 4000, d, &b));
    PetscCall(SgmBatchCreateVec(&b, &X));
    PetscCall(SgmScoreGaussianDenseSampleExact(dns, 5, &b, X));
    PetscCall(PetscCalloc1(d, &sum));
    PetscCall(VecGetArrayRead(X, &xa));
    for (PetscInt i = 0; i < b.n; i++)
      for (PetscInt j = 0; j < d; j++) sum[j] += PetscRealPart(xa[i * d + j]);
    PetscCall(VecRestoreArrayRead(X, &xa));
    PetscCallMPI(MPIU_Allreduce(MPI_IN_PLACE, sum, d, MPIU_REAL, MPIU_SUM, PETSC_COMM_WORLD));
    for (PetscInt j = 0; j < d; j++) {
      lmax = PetscSqrtReal(cov[j * d + j] / b.N);
      zmax = PetscMax(zmax, PetscAbsReal(sum[j] / b.N - mu[j]) / lmax);
    }
    PetscCall(Check(tl, "exact draws (N=4000): max_j |mean_j - m_j| / SE_j", zmax, 5));
    PetscCall(PetscFree(sum));
    PetscCall(PetscFree(mu));
    PetscCall(PetscFree(cov));
    PetscCall(VecDestroy(&X));
  }
  PetscCall(SgmScoreDestroy(&dns));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Draws(PetscInt N, const char *path)
{
  SgmScore  dns;
  SgmBatch  b;
  Vec       X;
  PetscInt  d;
  SgmOutput out;
  PetscLogDouble t0, t1;

  PetscFunctionBegin;
  PetscCall(MakeScore(SGMSCOREGAUSSIANDENSE, &dns));
  PetscCall(SgmScoreGetDimension(dns, &d));
  PetscCall(SgmBatchCreate(PETSC_COMM_WORLD, N, d, &b));
  PetscCall(SgmBatchCreateVec(&b, &X));
  PetscCall(PetscTime(&t0));
  PetscCall(SgmScoreGaussianDenseSampleExact(dns, 7, &b, X));
  PetscCall(PetscTime(&t1));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%" PetscInt_FMT " exact draws in d = %" PetscInt_FMT ": %.2f s\n", N, d, t1 - t0));
  PetscCall(SgmOutputCreate(PETSC_COMM_WORLD, path, PETSC_TRUE, &out));
  PetscCall(SgmOutputWriteBatch(out, "samples", &b, X));
  PetscCall(SgmOutputClose(&out));
  PetscCall(VecDestroy(&X));
  PetscCall(SgmScoreDestroy(&dns));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  Tally     tl = {0, 0};
  PetscInt  N  = 0;
  char      path[PETSC_MAX_PATH_LEN] = "";

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SgmInitializePackage());
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-draws", &N, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-output", path, sizeof(path), NULL));
  if (N > 0) {
    PetscCall(Draws(N, path));
    PetscCall(PetscFinalize());
    return 0;
  }
  PetscCall(Compare(&tl));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  PetscCall(PetscFinalize());
  return tl.pass > 0 && tl.fail == 0 ? 0 : 1;
}
