/*
  Unit test of the ScaLAPACK layer (src/sys/dense.c, doc/dense.md).
    (a) SgmDenseSymEig of random SPD matrices (d = 1, 7, 50, 130) against LAPACK dsyev on one rank:
        eigenvalues, eigenvectors up to sign, residual ||A V - V diag(w)|| / ||A||, ||V^T V - I||,
        A left unchanged;
    (b) SgmDenseMatMult for the four transpose combinations against a triple loop; ScaleColumns;
    (c) the batch layout <-> block-cyclic X^T moves (rows spread unevenly over the ranks): exact;
    (d) SgmFrechetDistance against the closed form sum (sqrt a_i - sqrt b_i)^2 + |dmu|^2 for
        commuting covariances, and (with -fd_ref FILE from regression/dense/fd_ref.py) against
        SciPy's sqrtm on non-commuting ones;
    (e) every grid P x Q <= size and block sizes 2 and 64 give the eigenvalues, S^1/2 and the Frechet
        distance of the 1 x 1 grid to 1e-12 (relative).  The 1 x 1 grid is one process running the
        same code whatever the rank count, so runs on 1-4 ranks agree with each other too.
  Matrices are pure functions of a seed, identical on all ranks.  Prints one line per check and ends
  with "N passed, M failed"; exit status is M != 0.  About 1 s on 1 rank.
*/
#include <sgm/private/denseimpl.h>
#include <petscblaslapack.h>

#include "check.h"

static uint64_t rngstate;
static double   Uniform(void) /* xorshift64*: test data only */
{
  rngstate ^= rngstate >> 12;
  rngstate ^= rngstate << 25;
  rngstate ^= rngstate >> 27;
  return (double)((rngstate * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}
static double Normal(void)
{
  double u = Uniform(), v = Uniform();
  return PetscSqrtReal(-2 * PetscLogReal(1 - u)) * PetscCosReal(2 * PETSC_PI * v);
}

/* A = G G^T / d + 0.1 I, G with N(0,1) entries */
static PetscErrorCode RandomSPD(PetscInt d, uint64_t seed, PetscReal A[])
{
  PetscReal *G;

  PetscFunctionBegin;
  rngstate = seed * 0x9E3779B97F4A7C15ULL + 1;
  PetscCall(PetscMalloc1(d * d, &G));
  for (PetscInt i = 0; i < d * d; i++) G[i] = Normal();
  for (PetscInt i = 0; i < d; i++)
    for (PetscInt j = 0; j < d; j++) {
      PetscReal s = 0;
      for (PetscInt k = 0; k < d; k++) s += G[i * d + k] * G[j * d + k];
      A[i * d + j] = s / d + (i == j ? 0.1 : 0);
    }
  PetscCall(PetscFree(G));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* random orthogonal Q (row-major) by Gram-Schmidt, twice */
static void RandomOrthogonal(PetscInt d, PetscReal Q[])
{
  for (PetscInt i = 0; i < d * d; i++) Q[i] = Normal();
  for (PetscInt j = 0; j < d; j++)
    for (int pass = 0; pass < 2; pass++) {
      PetscReal nrm = 0;
      for (PetscInt k = 0; k < j; k++) {
        PetscReal s = 0;
        for (PetscInt i = 0; i < d; i++) s += Q[i * d + j] * Q[i * d + k];
        for (PetscInt i = 0; i < d; i++) Q[i * d + j] -= s * Q[i * d + k];
      }
      for (PetscInt i = 0; i < d; i++) nrm += Q[i * d + j] * Q[i * d + j];
      for (PetscInt i = 0; i < d; i++) Q[i * d + j] /= PetscSqrtReal(nrm);
    }
}

static PetscReal MaxAbs(PetscInt n, const PetscReal a[])
{
  PetscReal m = 0;
  for (PetscInt i = 0; i < n; i++) m = PetscMax(m, PetscAbsReal(a[i]));
  return m;
}

static PetscErrorCode TestEig(Tally *tl, PetscInt d)
{
  PetscReal   *A, *A2, *V, *w, *Aref, *wref, *work, lw, eres = 0, vres = 0, res = 0, orth = 0, unch = 0, nA;
  PetscBLASInt n, lwork = -1, info;
  SgmDense     Ad, Vd;
  char         name[80];

  PetscFunctionBegin;
  PetscCall(PetscMalloc6(d * d, &A, d * d, &A2, d * d, &V, d, &w, d * d, &Aref, d, &wref));
  PetscCall(RandomSPD(d, 1000 + d, A));
  PetscCall(SgmDenseCreate(PETSC_COMM_WORLD, d, &Ad));
  PetscCall(SgmDenseCreate(PETSC_COMM_WORLD, d, &Vd));
  PetscCall(SgmDenseSetFromReplicated(Ad, A));
  PetscCall(SgmDenseSymEig(Ad, w, Vd));
  PetscCall(SgmDenseGetReplicated(Vd, V));
  PetscCall(SgmDenseGetReplicated(Ad, A2));
  for (PetscInt i = 0; i < d * d; i++) unch = PetscMax(unch, PetscAbsReal(A2[i] - A[i]));
  /* LAPACK on this rank; row-major A is its own column-major transpose */
  PetscCall(PetscArraycpy(Aref, A, d * d));
  PetscCall(PetscBLASIntCast(d, &n));
  LAPACKsyev_("V", "L", &n, Aref, &n, wref, &lw, &lwork, &info);
  PetscCall(PetscBLASIntCast((PetscInt)lw, &lwork));
  PetscCall(PetscMalloc1(lwork, &work));
  LAPACKsyev_("V", "L", &n, Aref, &n, wref, work, &lwork, &info);
  PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "LAPACK dsyev failed with info %d", (int)info);
  PetscCall(PetscFree(work));
  nA = MaxAbs(d, wref);
  for (PetscInt j = 0; j < d; j++) {
    PetscReal dot = 0;
    eres = PetscMax(eres, PetscAbsReal(w[j] - wref[j]) / nA);
    for (PetscInt i = 0; i < d; i++) dot += V[i * d + j] * Aref[j * d + i]; /* LAPACK vector j: column j */
    vres = PetscMax(vres, 1 - PetscAbsReal(dot));
    for (PetscInt i = 0; i < d; i++) {
      PetscReal s = 0, o = 0;
      for (PetscInt k = 0; k < d; k++) {
        s += A[i * d + k] * V[k * d + j];
        o += V[k * d + i] * V[k * d + j];
      }
      res  = PetscMax(res, PetscAbsReal(s - w[j] * V[i * d + j]) / nA);
      orth = PetscMax(orth, PetscAbsReal(o - (i == j ? 1 : 0)));
    }
  }
  PetscCall(PetscSNPrintf(name, sizeof(name), "eig d=%" PetscInt_FMT ": eigenvalues vs dsyev (rel)", d));
  PetscCall(Check(tl, name, eres, 1e-12));
  PetscCall(PetscSNPrintf(name, sizeof(name), "eig d=%" PetscInt_FMT ": eigenvectors vs dsyev, 1-|v.vref|", d));
  PetscCall(Check(tl, name, vres, 1e-9));
  PetscCall(PetscSNPrintf(name, sizeof(name), "eig d=%" PetscInt_FMT ": ||A V - V diag(w)||_max / ||A||", d));
  PetscCall(Check(tl, name, res, 1e-13 * PetscMax(10, d)));
  PetscCall(PetscSNPrintf(name, sizeof(name), "eig d=%" PetscInt_FMT ": ||V^T V - I||_max", d));
  PetscCall(Check(tl, name, orth, 1e-13 * PetscMax(10, d)));
  PetscCall(PetscSNPrintf(name, sizeof(name), "eig d=%" PetscInt_FMT ": A unchanged", d));
  PetscCall(Check(tl, name, unch, 0));
  PetscCall(SgmDenseDestroy(&Ad));
  PetscCall(SgmDenseDestroy(&Vd));
  PetscCall(PetscFree6(A, A2, V, w, Aref, wref));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TestGemm(Tally *tl, PetscInt d)
{
  PetscReal *A, *B, *C, *s, err = 0, serr = 0;
  SgmDense   Ad, Bd, Cd;

  PetscFunctionBegin;
  PetscCall(PetscMalloc4(d * d, &A, d * d, &B, d * d, &C, d, &s));
  rngstate = 77;
  for (PetscInt i = 0; i < d * d; i++) A[i] = Normal();
  for (PetscInt i = 0; i < d * d; i++) B[i] = Normal();
  for (PetscInt i = 0; i < d; i++) s[i] = Normal();
  PetscCall(SgmDenseCreate(PETSC_COMM_WORLD, d, &Ad));
  PetscCall(SgmDenseCreate(PETSC_COMM_WORLD, d, &Bd));
  PetscCall(SgmDenseCreate(PETSC_COMM_WORLD, d, &Cd));
  PetscCall(SgmDenseSetFromReplicated(Ad, A));
  PetscCall(SgmDenseSetFromReplicated(Bd, B));
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) {
      PetscCall(SgmDenseMatMult(Ad, (PetscBool)ta, Bd, (PetscBool)tb, Cd));
      PetscCall(SgmDenseGetReplicated(Cd, C));
      for (PetscInt i = 0; i < d; i++)
        for (PetscInt j = 0; j < d; j++) {
          PetscReal r = 0;
          for (PetscInt k = 0; k < d; k++) r += (ta ? A[k * d + i] : A[i * d + k]) * (tb ? B[j * d + k] : B[k * d + j]);
          err = PetscMax(err, PetscAbsReal(C[i * d + j] - r) / PetscSqrtReal((PetscReal)d));
        }
    }
  PetscCall(SgmDenseScaleColumns(Ad, s));
  PetscCall(SgmDenseGetReplicated(Ad, C));
  for (PetscInt i = 0; i < d * d; i++) serr = PetscMax(serr, PetscAbsReal(C[i] - A[i] * s[i % d]));
  PetscCall(Check(tl, "gemm d=70: op(A) op(B), 4 transposes, vs loop", err, 1e-14));
  PetscCall(Check(tl, "scale columns d=70", serr, 0));
  PetscCall(SgmDenseDestroy(&Ad));
  PetscCall(SgmDenseDestroy(&Bd));
  PetscCall(SgmDenseDestroy(&Cd));
  PetscCall(PetscFree4(A, B, C, s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* X (N x d) spread unevenly: rank r owns r+1 parts in N = 37 */
static PetscErrorCode TestRows(Tally *tl)
{
  const PetscInt N = 37, d = 5;
  PetscMPIInt    size, rank;
  PetscInt       tot, lo, n;
  PetscReal     *XT, *x, err = 0, rerr = 0;
  SgmDense       XTd;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  tot = size * (size + 1) / 2;
  lo  = N * (rank * (rank + 1) / 2) / tot;
  n   = N * ((rank + 1) * (rank + 2) / 2) / tot - lo;
  PetscCall(PetscMalloc2(N * d, &XT, PetscMax(1, n * d), &x));
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt k = 0; k < d; k++) x[i * d + k] = 1000 * (lo + i) + k;
  PetscCall(SgmDenseCreateRect_Private(PETSC_COMM_WORLD, d, N, &XTd));
  PetscCall(SgmDenseFromRows_Private(XTd, n, x));
  PetscCall(SgmDenseGetReplicated(XTd, XT));
  for (PetscInt k = 0; k < d; k++)
    for (PetscInt i = 0; i < N; i++) err = PetscMax(err, PetscAbsReal(XT[k * N + i] - (1000 * i + k)));
  PetscCall(PetscArrayzero(x, n * d));
  PetscCall(SgmDenseToRows_Private(XTd, n, x));
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt k = 0; k < d; k++) rerr = PetscMax(rerr, PetscAbsReal(x[i * d + k] - (1000 * (lo + i) + k)));
  PetscCall(Check(tl, "batch rows -> block-cyclic X^T (N=37, d=5)", err, 0));
  PetscCall(Check(tl, "block-cyclic X^T -> batch rows", rerr, 0));
  PetscCall(SgmDenseDestroy(&XTd));
  PetscCall(PetscFree2(XT, x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* commuting covariances S1 = Q diag(a) Q^T, S2 = Q diag(b) Q^T: FD = |dmu|^2 + sum (sqrt a - sqrt b)^2 */
static PetscErrorCode TestFrechetClosed(Tally *tl, PetscInt d)
{
  PetscReal *Q, *a, *b, *S1, *S2, *mu1, *mu2, fd, ref = 0;
  char       name[80];

  PetscFunctionBegin;
  PetscCall(PetscMalloc7(d * d, &Q, d, &a, d, &b, d * d, &S1, d * d, &S2, d, &mu1, d, &mu2));
  rngstate = 4242 + d;
  RandomOrthogonal(d, Q);
  for (PetscInt i = 0; i < d; i++) {
    a[i]   = PetscExpReal(4 * Uniform() - 3);
    b[i]   = PetscExpReal(4 * Uniform() - 3);
    mu1[i] = Normal();
    mu2[i] = Normal();
    ref += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]) + PetscSqr(PetscSqrtReal(a[i]) - PetscSqrtReal(b[i]));
  }
  for (PetscInt i = 0; i < d; i++)
    for (PetscInt j = 0; j < d; j++) {
      PetscReal s1 = 0, s2 = 0;
      for (PetscInt k = 0; k < d; k++) {
        s1 += Q[i * d + k] * a[k] * Q[j * d + k];
        s2 += Q[i * d + k] * b[k] * Q[j * d + k];
      }
      S1[i * d + j] = s1;
      S2[i * d + j] = s2;
    }
  PetscCall(SgmFrechetDistance(PETSC_COMM_WORLD, d, mu1, S1, mu2, S2, &fd));
  PetscCall(PetscSNPrintf(name, sizeof(name), "Frechet d=%" PetscInt_FMT ", commuting: vs closed form (rel)", d));
  PetscCall(Check(tl, name, PetscAbsReal(fd - ref) / ref, 1e-10));
  /* FD(N, N) = 0 up to rounding of the traces */
  PetscCall(SgmFrechetDistance(PETSC_COMM_WORLD, d, mu1, S1, mu1, S1, &fd));
  PetscCall(PetscSNPrintf(name, sizeof(name), "Frechet d=%" PetscInt_FMT ": FD(P,P) / Tr S", d));
  {
    PetscReal tr = 0;
    for (PetscInt i = 0; i < d; i++) tr += S1[i * d + i];
    PetscCall(Check(tl, name, PetscAbsReal(fd) / tr, 1e-12));
  }
  PetscCall(PetscFree7(Q, a, b, S1, S2, mu1, mu2));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* regression/dense/fd_ref.py: int64 d, then float64 mu1[d], S1[d*d], mu2[d], S2[d*d], fd */
static PetscErrorCode TestFrechetSciPy(Tally *tl, const char *file)
{
  FILE      *f;
  int64_t    d64;
  PetscInt   d;
  PetscReal *mu1, *S1, *mu2, *S2, ref, fd;
  size_t     ok = 0;
  char       name[96];
  PetscLogDouble t0, t1;

  PetscFunctionBegin;
  f = fopen(file, "rb");
  PetscCheck(f, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot open -fd_ref file %s", file);
  PetscCheck(fread(&d64, 8, 1, f) == 1, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "Cannot read %s", file);
  d = (PetscInt)d64;
  PetscCall(PetscMalloc4(d, &mu1, d * d, &S1, d, &mu2, d * d, &S2));
  ok += fread(mu1, 8, d, f);
  ok += fread(S1, 8, d * d, f);
  ok += fread(mu2, 8, d, f);
  ok += fread(S2, 8, d * d, f);
  ok += fread(&ref, 8, 1, f);
  fclose(f);
  PetscCheck(ok == (size_t)(2 * d + 2 * d * d + 1), PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s is short", file);
  PetscCall(PetscTime(&t0));
  PetscCall(SgmFrechetDistance(PETSC_COMM_WORLD, d, mu1, S1, mu2, S2, &fd));
  PetscCall(PetscTime(&t1));
  PetscCall(PetscSNPrintf(name, sizeof(name), "Frechet d=%" PetscInt_FMT " vs scipy.linalg.sqrtm (rel)", d));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  FD = %.15e, SciPy %.15e, time %.3f s\n", (double)fd, (double)ref, t1 - t0));
  PetscCall(Check(tl, name, PetscAbsReal(fd - ref) / PetscAbsReal(ref), 1e-8));
  PetscCall(PetscFree4(mu1, S1, mu2, S2));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* eigenvalues, S^1/2 = V diag(sqrt w) V^T and FD on the current -dense_grid/-dense_block */
static PetscErrorCode GridRun(PetscInt d, const PetscReal *S1, const PetscReal *S2, const PetscReal *mu, PetscReal *w, PetscReal *R, PetscReal *fd)
{
  SgmDense A, V, T, C;

  PetscFunctionBegin;
  PetscCall(SgmDenseCreate(PETSC_COMM_WORLD, d, &A));
  PetscCall(SgmDenseCreate(PETSC_COMM_WORLD, d, &V));
  PetscCall(SgmDenseCreate(PETSC_COMM_WORLD, d, &T));
  PetscCall(SgmDenseCreate(PETSC_COMM_WORLD, d, &C));
  PetscCall(SgmDenseSetFromReplicated(A, S1));
  PetscCall(SgmDenseSymEig(A, w, V));
  PetscCall(PetscArraycpy(T->a, V->a, (size_t)PetscMax(1, V->mloc) * PetscMax(1, V->nloc)));
  {
    PetscReal *s;
    PetscCall(PetscMalloc1(d, &s));
    for (PetscInt i = 0; i < d; i++) s[i] = PetscSqrtReal(w[i]);
    PetscCall(SgmDenseScaleColumns(T, s));
    PetscCall(PetscFree(s));
  }
  PetscCall(SgmDenseMatMult(T, PETSC_FALSE, V, PETSC_TRUE, C));
  PetscCall(SgmDenseGetReplicated(C, R));
  PetscCall(SgmFrechetDistance(PETSC_COMM_WORLD, d, mu, S1, mu + d, S2, fd));
  PetscCall(SgmDenseDestroy(&A));
  PetscCall(SgmDenseDestroy(&V));
  PetscCall(SgmDenseDestroy(&T));
  PetscCall(SgmDenseDestroy(&C));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TestGrids(Tally *tl, PetscInt d)
{
  PetscMPIInt size;
  PetscReal  *S1, *S2, *mu, *w0, *R0, *w, *R, fd0, fd;
  const int   nbs[2] = {2, 64};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscMalloc7(d * d, &S1, d * d, &S2, 2 * d, &mu, d, &w0, d * d, &R0, d, &w, d * d, &R));
  PetscCall(RandomSPD(d, 31, S1));
  PetscCall(RandomSPD(d, 32, S2));
  for (PetscInt i = 0; i < 2 * d; i++) mu[i] = Normal();
  PetscCall(PetscOptionsSetValue(NULL, "-dense_grid", "1x1"));
  PetscCall(PetscOptionsSetValue(NULL, "-dense_block", "64"));
  PetscCall(GridRun(d, S1, S2, mu, w0, R0, &fd0));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  grid 1x1 block 64: FD = %.15e, lambda_max = %.15e\n", (double)fd0, (double)w0[d - 1]));
  for (int P = 1; P <= size; P++)
    for (int Q = 1; P * Q <= size; Q++)
      for (int ib = 0; ib < 2; ib++) {
        char      g[32], b[16], name[96];
        PetscReal ew = 0, er = 0, nr = MaxAbs(d * d, R0);
        PetscCall(PetscSNPrintf(g, sizeof(g), "%dx%d", P, Q));
        PetscCall(PetscSNPrintf(b, sizeof(b), "%d", nbs[ib]));
        PetscCall(PetscOptionsSetValue(NULL, "-dense_grid", g));
        PetscCall(PetscOptionsSetValue(NULL, "-dense_block", b));
        PetscCall(GridRun(d, S1, S2, mu, w, R, &fd));
        for (PetscInt i = 0; i < d; i++) ew = PetscMax(ew, PetscAbsReal(w[i] - w0[i]) / w0[d - 1]);
        for (PetscInt i = 0; i < d * d; i++) er = PetscMax(er, PetscAbsReal(R[i] - R0[i]) / nr);
        PetscCall(PetscSNPrintf(name, sizeof(name), "grid %s block %2d vs 1x1: eig, S^1/2, FD (rel)", g, nbs[ib]));
        PetscCall(Check(tl, name, PetscMax(PetscMax(ew, er), PetscAbsReal(fd - fd0) / fd0), 1e-12));
      }
  PetscCall(PetscOptionsClearValue(NULL, "-dense_grid"));
  PetscCall(PetscOptionsClearValue(NULL, "-dense_block"));
  PetscCall(PetscFree7(S1, S2, mu, w0, R0, w, R));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -bench_eig d: time SgmDenseSymEig (with vectors) of A = G/sqrt(d) symmetrised + 3 I, generated in O(d^2) */
static PetscErrorCode BenchEig(PetscInt d)
{
  PetscReal     *A, *w;
  SgmDense       Ad, Vd;
  PetscLogDouble t0, t1;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(d * d, &A, d, &w));
  rngstate = 99;
  for (PetscInt i = 0; i < d; i++)
    for (PetscInt j = 0; j <= i; j++) A[i * d + j] = A[j * d + i] = Normal() / PetscSqrtReal((PetscReal)d) + (i == j ? 3 : 0);
  PetscCall(SgmDenseCreate(PETSC_COMM_WORLD, d, &Ad));
  PetscCall(SgmDenseCreate(PETSC_COMM_WORLD, d, &Vd));
  PetscCall(SgmDenseSetFromReplicated(Ad, A));
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  PetscCall(PetscTime(&t0));
  PetscCall(SgmDenseSymEig(Ad, w, Vd));
  PetscCall(PetscTime(&t1));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "eig d=%" PetscInt_FMT " time %.3f s\n", d, t1 - t0));
  PetscCall(SgmDenseDestroy(&Ad));
  PetscCall(SgmDenseDestroy(&Vd));
  PetscCall(PetscFree2(A, w));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  Tally     tl = {0, 0};
  char      file[PETSC_MAX_PATH_LEN];
  PetscBool flg;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SgmInitializePackage());
  PetscInt  dbench = 0;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_eig", &dbench, NULL));
  if (dbench > 0) {
    PetscCall(BenchEig(dbench));
    PetscCall(PetscFinalize());
    return 0;
  }
  PetscCall(PetscOptionsGetString(NULL, NULL, "-fd_ref", file, sizeof(file), &flg));
  if (flg) PetscCall(TestFrechetSciPy(&tl, file));
  else {
    const PetscInt ds[] = {1, 7, 50, 130};
    for (int i = 0; i < 4; i++) PetscCall(TestEig(&tl, ds[i]));
    PetscCall(TestGemm(&tl, 70));
    PetscCall(TestRows(&tl));
    PetscCall(TestFrechetClosed(&tl, 3));
    PetscCall(TestFrechetClosed(&tl, 90));
    PetscCall(TestGrids(&tl, 100));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  PetscCall(PetscFinalize());
  return tl.pass > 0 && tl.fail == 0 ? 0 : 1;
}
