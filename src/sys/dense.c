/*
  Dense d x d matrices block-cyclic on a BLACS grid (ScaLAPACK), doc/dense.md.  A grid is built once
  per (communicator, P, Q) and shared by every matrix on it (products need one context); it is
  released with the last matrix.  Ranks beyond P*Q hold nothing and skip the ScaLAPACK calls; the
  results that are returned replicated (eigenvalues, GetReplicated) reach them by MPI.
*/
#include <sgm/private/denseimpl.h>
#include <petsc/private/petscimpl.h>

PetscLogEvent SGM_DenseEig, SGM_DenseGemm, SGM_DenseRedist;

/* ScaLAPACK / BLACS (Debian libscalapack-openmpi: the C BLACS interface and the Fortran routines) */
extern void Cblacs_pinfo(int *, int *);
extern void Cblacs_get(int, int, int *);
extern void Cblacs_gridinit(int *, const char *, int, int);
extern void Cblacs_gridinfo(int, int *, int *, int *, int *);
extern void Cblacs_gridexit(int);
extern int  Csys2blacs_handle(MPI_Comm);
extern void Cfree_blacs_system_handle(int);
extern int  numroc_(const int *, const int *, const int *, const int *, const int *);
extern void descinit_(int *, const int *, const int *, const int *, const int *, const int *, const int *, const int *, const int *, int *);
extern void pdsyevd_(const char *, const char *, const int *, double *, const int *, const int *, const int *, double *, double *, const int *, const int *, const int *, double *, const int *, int *, const int *, int *);
extern void pdgemm_(const char *, const char *, const int *, const int *, const int *, const double *, const double *, const int *, const int *, const int *, const double *, const int *, const int *, const int *, const double *, double *, const int *, const int *, const int *);
extern void pdtran_(const int *, const int *, const double *, const double *, const int *, const int *, const int *, const double *, double *, const int *, const int *, const int *);
extern void pdgemr2d_(const int *, const int *, const double *, const int *, const int *, const int *, double *, const int *, const int *, const int *, const int *);

struct _n_SgmDenseGrid {
  MPI_Comm     comm;
  int          P, Q, handle, ctxt, myrow, mycol;
  PetscInt     refct;
  SgmDenseGrid next;
};
static SgmDenseGrid SgmDenseGrids = NULL; /* the grids in use */
static PetscClassId SGM_DENSE_CLASSID;
static PetscBool    SgmDenseInitialized = PETSC_FALSE;

static PetscErrorCode SgmDenseInitialize(void)
{
  PetscFunctionBegin;
  if (SgmDenseInitialized) PetscFunctionReturn(PETSC_SUCCESS);
  SgmDenseInitialized = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("SgmDense", &SGM_DENSE_CLASSID));
  PetscCall(PetscLogEventRegister("SgmDenseEig", SGM_DENSE_CLASSID, &SGM_DenseEig));
  PetscCall(PetscLogEventRegister("SgmDenseGemm", SGM_DENSE_CLASSID, &SGM_DenseGemm));
  PetscCall(PetscLogEventRegister("SgmDenseRedist", SGM_DENSE_CLASSID, &SGM_DenseRedist));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The shared grid P x Q on comm (collective: every rank of comm looks up or builds the same grid). */
static PetscErrorCode SgmDenseGridGet(MPI_Comm comm, int P, int Q, SgmDenseGrid *grid)
{
  SgmDenseGrid g;
  int          me, np, nprow, npcol;

  PetscFunctionBegin;
  for (g = SgmDenseGrids; g; g = g->next) {
    int cmp;
    PetscCallMPI(MPI_Comm_compare(g->comm, comm, &cmp));
    if (cmp == MPI_IDENT && g->P == P && g->Q == Q) {
      g->refct++;
      *grid = g;
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  PetscCall(PetscNew(&g));
  g->comm  = comm;
  g->P     = P;
  g->Q     = Q;
  g->refct = 1;
  Cblacs_pinfo(&me, &np); /* initialises BLACS on first use */
  g->handle = Csys2blacs_handle(comm);
  g->ctxt   = g->handle;
  Cblacs_gridinit(&g->ctxt, "Row", P, Q);
  Cblacs_gridinfo(g->ctxt, &nprow, &npcol, &g->myrow, &g->mycol);
  if (g->myrow < 0 || g->myrow >= P || g->mycol < 0 || g->mycol >= Q) {
    g->myrow = g->mycol = -1;
    g->ctxt             = -1;
  } else PetscCheck(nprow == P && npcol == Q, comm, PETSC_ERR_LIB, "BLACS built a %d x %d grid where %d x %d was asked", nprow, npcol, P, Q);
  g->next       = SgmDenseGrids;
  SgmDenseGrids = g;
  *grid         = g;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmDenseGridRelease(SgmDenseGrid *grid)
{
  SgmDenseGrid g = *grid, *p;

  PetscFunctionBegin;
  *grid = NULL;
  if (!g || --g->refct > 0) PetscFunctionReturn(PETSC_SUCCESS);
  for (p = &SgmDenseGrids; *p != g; p = &(*p)->next);
  *p = g->next;
  if (g->ctxt >= 0) Cblacs_gridexit(g->ctxt);
  Cfree_blacs_system_handle(g->handle);
  PetscCall(PetscFree(g));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -dense_grid PxQ and -dense_block NB; default the most square P x Q with P <= Q and P*Q = size */
static PetscErrorCode SgmDenseGetOptions(MPI_Comm comm, int *P, int *Q, int *nb)
{
  PetscMPIInt size;
  char        str[64] = "";
  PetscInt    NB      = 64;
  PetscBool   flg;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  for (*P = 1; (*P + 1) * (*P + 1) <= size; (*P)++);
  while (size % *P) (*P)--;
  *Q = size / *P;
  PetscOptionsBegin(comm, NULL, "Dense block-cyclic matrices (ScaLAPACK)", "SgmDense");
  PetscCall(PetscOptionsString("-dense_grid", "Process grid PxQ with P*Q <= number of ranks", "SgmDenseCreate", str, str, sizeof(str), &flg));
  if (flg) {
    int p, q;
    char c;
    PetscCheck(sscanf(str, "%dx%d%c", &p, &q, &c) == 2 && p > 0 && q > 0, comm, PETSC_ERR_USER_INPUT, "-dense_grid must read PxQ with positive integers P and Q, e.g. 2x2; got '%s'", str);
    PetscCheck(p * q <= size, comm, PETSC_ERR_USER_INPUT, "-dense_grid %dx%d needs %d ranks but the run has %d: choose P*Q <= %d", p, q, p * q, (int)size, (int)size);
    *P = p;
    *Q = q;
  }
  PetscCall(PetscOptionsInt("-dense_block", "Block size of the block-cyclic layout", "SgmDenseCreate", NB, &NB, NULL));
  PetscCheck(NB >= 1 && NB <= 4096, comm, PETSC_ERR_USER_INPUT, "-dense_block must be between 1 and 4096; got %" PetscInt_FMT, NB);
  *nb = (int)NB;
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* An m x n matrix (zero) on the grid and block size given by the options; used for X^T (d x N) too. */
PetscErrorCode SgmDenseCreateRect_Private(MPI_Comm comm, PetscInt m, PetscInt n, SgmDense *A)
{
  SgmDense     B;
  int          P, Q, nb, izero = 0, info, mm, nn, lld;
  SgmDenseGrid g;

  PetscFunctionBegin;
  PetscCall(SgmDenseInitialize());
  PetscCheck(m > 0 && n > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "A dense matrix needs positive sizes; got %" PetscInt_FMT " x %" PetscInt_FMT, m, n);
  PetscCall(SgmDenseGetOptions(comm, &P, &Q, &nb));
  PetscCall(SgmDenseGridGet(comm, P, Q, &g));
  PetscCall(PetscNew(&B));
  B->comm = comm;
  B->grid = g;
  B->m    = m;
  B->n    = n;
  B->nb   = nb;
  PetscCall(PetscBLASIntCast(m, &mm));
  PetscCall(PetscBLASIntCast(n, &nn));
  if (g->ctxt >= 0) {
    B->mloc = numroc_(&mm, &nb, &g->myrow, &izero, &P);
    B->nloc = numroc_(&nn, &nb, &g->mycol, &izero, &Q);
    lld     = PetscMax(1, B->mloc);
    descinit_(B->desc, &mm, &nn, &nb, &nb, &izero, &izero, &g->ctxt, &lld, &info);
    PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "ScaLAPACK descinit failed with info %d", info);
  } else {
    B->desc[0] = 1;
    B->desc[1] = -1; /* off the grid: pdgemr2d's convention */
    B->desc[2] = mm;
    B->desc[3] = nn;
    B->desc[4] = B->desc[5] = nb;
    B->desc[8]              = 1;
  }
  PetscCall(PetscCalloc1((size_t)PetscMax(1, B->mloc) * PetscMax(1, B->nloc), &B->a));
  *A = B;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmDenseCreate(MPI_Comm comm, PetscInt d, SgmDense *A)
{
  PetscFunctionBegin;
  PetscValidPointer(A, 3);
  PetscCheck(d > 0, comm, PETSC_ERR_USER_INPUT, "The dimension of a dense matrix must be positive; got %" PetscInt_FMT, d);
  PetscCall(SgmDenseCreateRect_Private(comm, d, d, A));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the grid P x Q and the block size */
PetscErrorCode SgmDenseGetGrid_Private(SgmDense A, int *P, int *Q, int *nb)
{
  PetscFunctionBegin;
  *P  = A->grid->P;
  *Q  = A->grid->Q;
  *nb = A->nb;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmDenseDestroy(SgmDense *A)
{
  PetscFunctionBegin;
  if (!*A) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree((*A)->a));
  PetscCall(SgmDenseGridRelease(&(*A)->grid));
  PetscCall(PetscFree(*A));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* global index of local index l in a block-cyclic dimension with block nb over np processes */
static inline PetscInt SgmDenseL2G(int l, int nb, int p, int np)
{
  return ((PetscInt)(l / nb) * np + p) * nb + l % nb;
}

PetscErrorCode SgmDenseSetFromReplicated(SgmDense A, const PetscReal R[])
{
  SgmDenseGrid g = A->grid;
  int          lld = A->desc[8];

  PetscFunctionBegin;
  for (int lj = 0; lj < A->nloc; lj++) {
    PetscInt j = SgmDenseL2G(lj, A->nb, g->mycol, g->Q);
    for (int li = 0; li < A->mloc; li++) A->a[li + (size_t)lj * lld] = R[SgmDenseL2G(li, A->nb, g->myrow, g->P) * A->n + j];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Each entry has one owner and x + 0 = x, so the sum of the scattered blocks is exact. */
PetscErrorCode SgmDenseGetReplicated(SgmDense A, PetscReal R[])
{
  SgmDenseGrid g   = A->grid;
  int          lld = A->desc[8];
  PetscMPIInt  cnt;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_DenseRedist, 0, 0, 0, 0));
  PetscCall(PetscArrayzero(R, A->m * A->n));
  for (int lj = 0; lj < A->nloc; lj++) {
    PetscInt j = SgmDenseL2G(lj, A->nb, g->mycol, g->Q);
    for (int li = 0; li < A->mloc; li++) R[SgmDenseL2G(li, A->nb, g->myrow, g->P) * A->n + j] = A->a[li + (size_t)lj * lld];
  }
  PetscCall(PetscMPIIntCast(A->m * A->n, &cnt));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, R, cnt, MPIU_REAL, MPIU_SUM, A->comm));
  PetscCall(PetscLogEventEnd(SGM_DenseRedist, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmDenseCheckCompatible(SgmDense A, SgmDense B, const char *what)
{
  PetscFunctionBegin;
  PetscCheck(A->grid == B->grid && A->nb == B->nb, A->comm, PETSC_ERR_ARG_INCOMP, "%s: the matrices must live on the same communicator, grid and block size", what);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmDenseSymEig(SgmDense A, PetscReal w[], SgmDense V)
{
  SgmDense     Z = V;
  PetscReal   *a, wq;
  PetscBLASInt *iwork, one = 1, lwork, liwork = -1, iwq, info = 0, n;
  PetscReal   *work;
  PetscMPIInt  cnt;

  PetscFunctionBegin;
  PetscCheck(A->m == A->n, A->comm, PETSC_ERR_ARG_SIZ, "SgmDenseSymEig needs a square matrix; got %" PetscInt_FMT " x %" PetscInt_FMT, A->m, A->n);
  if (V) {
    PetscCall(SgmDenseCheckCompatible(A, V, "SgmDenseSymEig"));
    PetscCheck(V->m == A->m && V->n == A->n, A->comm, PETSC_ERR_ARG_SIZ, "SgmDenseSymEig: V must have the size of A");
  } else PetscCall(SgmDenseCreateRect_Private(A->comm, A->m, A->n, &Z)); /* pdsyevd always computes vectors */
  PetscCall(PetscLogEventBegin(SGM_DenseEig, 0, 0, 0, 0));
  if (A->grid->ctxt >= 0) {
    size_t sz = (size_t)PetscMax(1, A->mloc) * PetscMax(1, A->nloc);
    PetscCall(PetscBLASIntCast(A->n, &n));
    PetscCall(PetscMalloc1(sz, &a)); /* pdsyevd overwrites A */
    PetscCall(PetscArraycpy(a, A->a, sz));
    lwork = -1;
    pdsyevd_("V", "L", &n, a, &one, &one, A->desc, w, Z->a, &one, &one, Z->desc, &wq, &lwork, &iwq, &liwork, &info);
    PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "ScaLAPACK pdsyevd workspace query failed with info %d", (int)info);
    {
      /* The query comes out short when N is not much larger than NB: pdormtr, called inside, then
         rejects its workspace through pxerbla while pdsyevd returns info = 0 with the eigenvectors
         not back-transformed.  Take the documented minimum plus pdormtr's own on top. */
      PetscInt np = A->mloc, nq = A->nloc, nb = A->nb, N = A->n;
      PetscInt lw = PetscMax(1 + 6 * N + 2 * np * nq, 3 * N + PetscMax(nb * (np + 1), 3 * nb)) + 2 * N;
      lw += PetscMax(nb * (nb - 1) / 2, (np + nq) * nb) + nb * nb;
      PetscCall(PetscBLASIntCast(PetscMax((PetscInt)wq, lw), &lwork));
      PetscCall(PetscBLASIntCast(PetscMax((PetscInt)iwq, 7 * N + 8 * A->grid->Q + 2), &liwork));
    }
    PetscCall(PetscMalloc2(lwork, &work, liwork, &iwork));
    pdsyevd_("V", "L", &n, a, &one, &one, A->desc, w, Z->a, &one, &one, Z->desc, work, &lwork, iwork, &liwork, &info);
    PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "ScaLAPACK pdsyevd failed with info %d (%s)", (int)info, info < 0 ? "an illegal argument" : "an eigenvalue did not converge");
    PetscCall(PetscFree2(work, iwork));
    PetscCall(PetscFree(a));
  }
  /* rank 0 is always on the grid; the ranks off it need the eigenvalues too */
  PetscCall(PetscMPIIntCast(A->n, &cnt));
  PetscCallMPI(MPI_Bcast(w, cnt, MPIU_REAL, 0, A->comm));
  PetscCall(PetscLogEventEnd(SGM_DenseEig, 0, 0, 0, 0));
  if (!V) PetscCall(SgmDenseDestroy(&Z));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* C = op(A) op(B) */
PetscErrorCode SgmDenseMatMult(SgmDense A, PetscBool ta, SgmDense B, PetscBool tb, SgmDense C)
{
  PetscInt  m = ta ? A->n : A->m, k = ta ? A->m : A->n, kb = tb ? B->n : B->m, n = tb ? B->m : B->n;
  int       mm, nn, kk, one = 1;
  PetscReal alpha = 1, beta = 0;

  PetscFunctionBegin;
  PetscCall(SgmDenseCheckCompatible(A, B, "SgmDenseMatMult"));
  PetscCall(SgmDenseCheckCompatible(A, C, "SgmDenseMatMult"));
  PetscCheck(k == kb && C->m == m && C->n == n, A->comm, PETSC_ERR_ARG_SIZ, "SgmDenseMatMult: sizes do not conform (%" PetscInt_FMT "x%" PetscInt_FMT " times %" PetscInt_FMT "x%" PetscInt_FMT " into %" PetscInt_FMT "x%" PetscInt_FMT ")", m, k, kb, n, C->m, C->n);
  PetscCheck(C != A && C != B, A->comm, PETSC_ERR_ARG_IDN, "SgmDenseMatMult: C must differ from A and B");
  PetscCall(PetscBLASIntCast(m, &mm));
  PetscCall(PetscBLASIntCast(n, &nn));
  PetscCall(PetscBLASIntCast(k, &kk));
  PetscCall(PetscLogEventBegin(SGM_DenseGemm, 0, 0, 0, 0));
  if (A->grid->ctxt >= 0) pdgemm_(ta ? "T" : "N", tb ? "T" : "N", &mm, &nn, &kk, &alpha, A->a, &one, &one, A->desc, B->a, &one, &one, B->desc, &beta, C->a, &one, &one, C->desc);
  if (A->grid->ctxt >= 0) PetscCall(PetscLogFlops(2.0 * m * n * k / (A->grid->P * A->grid->Q)));
  PetscCall(PetscLogEventEnd(SGM_DenseGemm, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmDenseScaleColumns(SgmDense A, const PetscReal s[])
{
  SgmDenseGrid g = A->grid;

  PetscFunctionBegin;
  for (int lj = 0; lj < A->nloc; lj++) {
    PetscReal  sj = s[SgmDenseL2G(lj, A->nb, g->mycol, g->Q)];
    PetscReal *c  = A->a + (size_t)lj * A->desc[8];
    for (int li = 0; li < A->mloc; li++) c[li] *= sj;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmDenseScaleRows_Private(SgmDense A, const PetscReal s[])
{
  SgmDenseGrid g = A->grid;

  PetscFunctionBegin;
  for (int lj = 0; lj < A->nloc; lj++) {
    PetscReal *c = A->a + (size_t)lj * A->desc[8];
    for (int li = 0; li < A->mloc; li++) c[li] *= s[SgmDenseL2G(li, A->nb, g->myrow, g->P)];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* C = alpha A^T + beta C (pdtran) */
PetscErrorCode SgmDenseAXPBY_Private(SgmDense A, PetscReal alpha, PetscReal beta, SgmDense C)
{
  int mm, nn, one = 1;

  PetscFunctionBegin;
  PetscCall(SgmDenseCheckCompatible(A, C, "SgmDenseAXPBY_Private"));
  PetscCheck(A->m == C->n && A->n == C->m, A->comm, PETSC_ERR_ARG_SIZ, "SgmDenseAXPBY_Private: C must have the size of A^T");
  PetscCall(PetscBLASIntCast(C->m, &mm));
  PetscCall(PetscBLASIntCast(C->n, &nn));
  if (A->grid->ctxt >= 0) pdtran_(&mm, &nn, &alpha, A->a, &one, &one, A->desc, &beta, C->a, &one, &one, C->desc);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  X^T (d x N) between the batch layout (rank r: n_r whole samples, row-major, i.e. n_r columns of X^T)
  and XT's block-cyclic layout, in two moves: an all-to-all to equal column blocks of
  ceil(N/size) on a 1 x size grid (a block-cyclic layout pdgemr2d understands), then pdgemr2d.
*/
static PetscErrorCode SgmDenseRowsMove(SgmDense XT, PetscInt n, PetscReal x[], PetscBool torows)
{
  MPI_Comm     comm = XT->comm;
  PetscMPIInt  size, rank, *sc, *sd, *rc, *rd;
  PetscInt     N, d = XT->m, nbc, start, *starts;
  int          one = 1, izero = 0, info, mm, nn, nbci, lldu, nu, ctxt;
  int          descu[9];
  PetscReal   *u;
  SgmDenseGrid g1;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_DenseRedist, 0, 0, 0, 0));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscMalloc5(size + 1, &starts, size, &sc, size, &sd, size, &rc, size, &rd));
  PetscCallMPI(MPI_Allgather(&n, 1, MPIU_INT, starts + 1, 1, MPIU_INT, comm));
  starts[0] = 0;
  for (PetscMPIInt r = 0; r < size; r++) starts[r + 1] += starts[r];
  N = starts[size];
  PetscCheck(N == XT->n, comm, PETSC_ERR_ARG_SIZ, "The batch has %" PetscInt_FMT " samples in all but the dense matrix has %" PetscInt_FMT " columns", N, XT->n);
  start = starts[rank];
  nbc   = (N + size - 1) / size;
  /* rank r of the uniform layout holds columns [r nbc, min(N, (r+1) nbc)) */
  for (PetscMPIInt r = 0; r < size; r++) {
    PetscInt lo = PetscMax(start, r * nbc), hi = PetscMin(start + n, (r + 1) * nbc);
    PetscInt rlo = PetscMax(starts[r], rank * nbc), rhi = PetscMin(starts[r + 1], (rank + 1) * nbc);
    PetscCall(PetscMPIIntCast(PetscMax(0, hi - lo) * d, &sc[r]));
    PetscCall(PetscMPIIntCast((lo - start) * d, &sd[r]));
    PetscCall(PetscMPIIntCast(PetscMax(0, rhi - rlo) * d, &rc[r]));
    PetscCall(PetscMPIIntCast((rlo - rank * nbc) * d, &rd[r]));
    if (hi <= lo) sd[r] = 0;
    if (rhi <= rlo) rd[r] = 0;
  }
  nu = (int)PetscMax(0, PetscMin(N, (rank + 1) * nbc) - rank * nbc);
  PetscCall(PetscMalloc1((size_t)PetscMax(1, nu) * d, &u));
  PetscCall(SgmDenseGridGet(comm, 1, size, &g1));
  PetscCall(PetscBLASIntCast(d, &mm));
  PetscCall(PetscBLASIntCast(N, &nn));
  PetscCall(PetscBLASIntCast(nbc, &nbci));
  lldu = mm;
  descinit_(descu, &mm, &nn, &mm, &nbci, &izero, &izero, &g1->ctxt, &lldu, &info);
  PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "ScaLAPACK descinit failed with info %d", info);
  ctxt = g1->ctxt; /* the 1 x size grid holds every rank, as pdgemr2d needs */
  if (!torows) {
    PetscCallMPI(MPI_Alltoallv(x, sc, sd, MPIU_REAL, u, rc, rd, MPIU_REAL, comm));
    pdgemr2d_(&mm, &nn, u, &one, &one, descu, XT->a, &one, &one, XT->desc, &ctxt);
  } else {
    pdgemr2d_(&mm, &nn, XT->a, &one, &one, XT->desc, u, &one, &one, descu, &ctxt);
    PetscCallMPI(MPI_Alltoallv(u, rc, rd, MPIU_REAL, x, sc, sd, MPIU_REAL, comm));
  }
  PetscCall(SgmDenseGridRelease(&g1));
  PetscCall(PetscFree(u));
  PetscCall(PetscFree5(starts, sc, sd, rc, rd));
  PetscCall(PetscLogEventEnd(SGM_DenseRedist, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmDenseFromRows_Private(SgmDense XT, PetscInt n, const PetscReal x[])
{
  PetscFunctionBegin;
  PetscCall(SgmDenseRowsMove(XT, n, (PetscReal *)x, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmDenseToRows_Private(SgmDense XT, PetscInt n, PetscReal x[])
{
  PetscFunctionBegin;
  PetscCall(SgmDenseRowsMove(XT, n, x, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Frechet distance between N(mu1, S1) and N(mu2, S2) (Dowson & Landau 1982; FID, Heusel et al. 2017).
  With S1 = V diag(w) V^T and T = V diag(sqrt w), S1^1/2 S2 S1^1/2 = V (T^T S2 T) V^T: the middle
  matrix M = T^T S2 T has the same eigenvalues, so two products and two eigensolves suffice.
  M is symmetrised as (M + M^T)/2 before its eigensolve.
*/
PetscErrorCode SgmFrechetDistance(MPI_Comm comm, PetscInt d, const PetscReal mu1[], const PetscReal S1[], const PetscReal mu2[], const PetscReal S2[], PetscReal *fd)
{
  SgmDense   A, V, B, W, M;
  PetscReal *w, dmu = 0, tr = 0, trs = 0;

  PetscFunctionBegin;
  PetscCheck(d > 0, comm, PETSC_ERR_USER_INPUT, "The dimension of the Frechet distance must be positive; got %" PetscInt_FMT, d);
  PetscCall(PetscMalloc1(d, &w));
  PetscCall(SgmDenseCreate(comm, d, &A));
  PetscCall(SgmDenseCreate(comm, d, &V));
  PetscCall(SgmDenseCreate(comm, d, &B));
  PetscCall(SgmDenseCreate(comm, d, &W));
  PetscCall(SgmDenseCreate(comm, d, &M));
  PetscCall(SgmDenseSetFromReplicated(A, S1));
  PetscCall(SgmDenseSymEig(A, w, V));
  for (PetscInt i = 0; i < d; i++) w[i] = PetscSqrtReal(PetscMax(w[i], 0));
  PetscCall(SgmDenseScaleColumns(V, w)); /* T */
  PetscCall(SgmDenseSetFromReplicated(B, S2));
  PetscCall(SgmDenseMatMult(B, PETSC_FALSE, V, PETSC_FALSE, W)); /* S2 T */
  PetscCall(SgmDenseMatMult(V, PETSC_TRUE, W, PETSC_FALSE, M));  /* T^T S2 T */
  PetscCall(PetscArraycpy(A->a, M->a, (size_t)PetscMax(1, M->mloc) * PetscMax(1, M->nloc)));
  PetscCall(SgmDenseAXPBY_Private(M, 0.5, 0.5, A)); /* A = (M + M^T)/2 */
  PetscCall(SgmDenseSymEig(A, w, NULL));
  for (PetscInt i = 0; i < d; i++) trs += PetscSqrtReal(PetscMax(w[i], 0));
  for (PetscInt i = 0; i < d; i++) {
    dmu += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
    tr += S1[i * d + i] + S2[i * d + i];
  }
  *fd = dmu + tr - 2 * trs;
  PetscCall(SgmDenseDestroy(&A));
  PetscCall(SgmDenseDestroy(&V));
  PetscCall(SgmDenseDestroy(&B));
  PetscCall(SgmDenseDestroy(&W));
  PetscCall(SgmDenseDestroy(&M));
  PetscCall(PetscFree(w));
  PetscFunctionReturn(PETSC_SUCCESS);
}
