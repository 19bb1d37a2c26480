/*
  Unit test of the point-cloud score networks -net_type egnn and distance (src/nn/impls, cloud.c).
    (a) Loss gradients: for each type, clouds of 4 atoms in 2-D and 5 atoms in 3-D, the losses simple
        and dsm, outputs eps and edm, time inputs logsigma and t: the hand-written gradient against
        Richardson-extrapolated central differences of the loss (h = 2.5e-4, 1.25e-4; O(h^4)) along a
        random unit direction in each segment of H consecutive parameters (so every parameter is in
        one direction) and in the whole vector.  err = |g.u - fd| / max(|g.u|, 1e-2 |g_segment|,
        1e-6 |g|); the line reports the worst segment.  Bound 1e-6.  Weights: the initial ones plus
        0.3 N(0,1), so that no block is small.
    (b) Equivariance, relative to the largest score entry: s(Qx + b) = Q s(x) for a random rotation
        and a random reflection Q (det -1), s(x + b) = s(x) for a translation b (output eps: the
        score has no A x term), s(Pi x) = Pi s(x) for a random permutation of the atoms; the output
        sums to zero over the atoms.  Bound 1e-10 (1e-12 for the centre of mass).
    (c) Chunks: 60 clouds of 13 atoms in 3-D (three passes of at most 26 clouds) against one cloud
        at a time: score, loss and gradient.  Bound 1e-13 relative.
    (d) Save/Load through a temporary HDF5 file: weights and scores bitwise equal; a file of another
        type, a net of another number of atoms are refused; so are the esm/ssm losses, a missing
        -net_atoms, -net_atoms not dividing d, and classes.
  Prints one line per check and "N passed, M failed"; exit status M != 0.  A few seconds.
*/
#include <sgm.h>
#include <sgm/private/netimpl.h>
#include <sgmio.h>
#include <unistd.h>

#include "check.h"

#define NS   5  /* clouds */
#define MAXD 39 /* 13 atoms x 3 */
#define FDH  2.5e-4 /* h of the central differences: at 1e-3 the O(h^4) truncation of the EGNN reaches 9e-6 (it falls 190x at 2.5e-4, as h^4 does); rounding reaches 1e-7 at 6e-5 */

typedef struct {
  PetscInt  n, natoms, sd, d;
  PetscReal x[NS * MAXD], t[NS], alpha[NS], sigma[NS], eps[NS * MAXD], w[NS];
} Data;

static uint64_t rngstep = 100;

static void Normals(PetscInt count, PetscReal *z)
{
  SgmRandomNormalSample(4242, SGM_STREAM_PRIOR, (PetscInt)rngstep++, 0, count, z);
}

static void MakeData(PetscInt natoms, PetscInt sd, Data *D)
{
  D->n      = NS;
  D->natoms = natoms;
  D->sd     = sd;
  D->d      = natoms * sd;
  Normals(NS * D->d, D->x);
  Normals(NS * D->d, D->eps);
  for (PetscInt q = 0; q < NS * D->d; q++) D->x[q] *= 1.5;
  for (PetscInt i = 0; i < NS; i++) {
    D->t[i]     = 0.05 + 0.9 * i / (NS - 1);
    D->alpha[i] = PetscExpReal(-0.8 * D->t[i]);
    D->sigma[i] = 0.08 + 1.5 * D->t[i];
    D->w[i]     = 0.5 + 0.25 * i;
  }
}

static PetscErrorCode MakeNet(const char *opts, PetscInt d, uint64_t seed, PetscReal perturb, SgmNet *net)
{
  PetscInt   P;
  PetscReal *th, *z;

  PetscFunctionBegin;
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(PetscOptionsInsertString(NULL, opts));
  PetscCall(SgmNetCreate(PETSC_COMM_WORLD, net));
  PetscCall(SgmNetSetFromOptions(*net));
  PetscCall(SgmNetSetDimension(*net, d));
  PetscCall(SgmNetSetUp(*net));
  PetscCall(SgmNetInitialize(*net, seed));
  PetscCall(SgmNetGetParameters(*net, &P, &th));
  if (perturb > 0) {
    PetscCall(PetscMalloc1(P, &z));
    Normals(P, z);
    for (PetscInt q = 0; q < P; q++) th[q] += perturb * z[q];
    PetscCall(PetscFree(z));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode GradientError(SgmNet net, SgmLossType type, const Data *D, PetscReal *err)
{
  PetscInt        P, seg = net->width;
  PetscReal      *th, *g, *u, L, gtot = 0;
  const PetscReal h[2] = {FDH, FDH / 2};

  PetscFunctionBegin;
  PetscCall(SgmNetGetParameters(net, &P, &th));
  PetscCall(PetscCalloc1(P, &g));
  PetscCall(PetscMalloc1(P, &u));
  PetscCall(SgmNetLoss(net, type, D->n, D->x, D->t, D->alpha, D->sigma, NULL, D->eps, NULL, 0, NULL, D->w, &L, g));
  for (PetscInt q = 0; q < P; q++) gtot += g[q] * g[q];
  gtot = PetscSqrtReal(gtot);
  *err = 0;
  for (PetscInt o = 0; o <= P; o += seg) {
    const PetscInt off = o < P ? o : 0, len = o < P ? PetscMin(seg, P - o) : P; /* last: the whole vector */
    PetscReal      gu = 0, gn = 0, un = 0, fd[2], fdx;
    PetscCall(PetscArrayzero(u, P));
    Normals(len, u + off);
    for (PetscInt q = off; q < off + len; q++) un += u[q] * u[q];
    un = PetscSqrtReal(un);
    for (PetscInt q = off; q < off + len; q++) {
      u[q] /= un;
      gu += g[q] * u[q];
      gn += g[q] * g[q];
    }
    gn = PetscSqrtReal(gn);
    for (int k = 0; k < 2; k++) {
      PetscReal Lp, Lm;
      for (PetscInt q = off; q < off + len; q++) th[q] += h[k] * u[q];
      PetscCall(SgmNetLoss(net, type, D->n, D->x, D->t, D->alpha, D->sigma, NULL, D->eps, NULL, 0, NULL, D->w, &Lp, NULL));
      for (PetscInt q = off; q < off + len; q++) th[q] -= 2 * h[k] * u[q];
      PetscCall(SgmNetLoss(net, type, D->n, D->x, D->t, D->alpha, D->sigma, NULL, D->eps, NULL, 0, NULL, D->w, &Lm, NULL));
      for (PetscInt q = off; q < off + len; q++) th[q] += h[k] * u[q];
      fd[k] = (Lp - Lm) / (2 * h[k]);
    }
    fdx  = (4 * fd[1] - fd[0]) / 3;
    *err = PetscMax(*err, PetscAbsReal(gu - fdx) / PetscMax(PetscMax(PetscAbsReal(gu), 1e-2 * gn), 1e-6 * gtot + 1e-300));
    if (o >= P) break;
  }
  PetscCall(PetscFree(g));
  PetscCall(PetscFree(u));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void ApplyQ(const Data *D, const PetscReal Q[], const PetscReal b[], const PetscReal x[], PetscReal y[])
{
  const PetscInt sd = D->sd;
  for (PetscInt i = 0; i < D->n * D->natoms; i++)
    for (PetscInt a = 0; a < sd; a++) {
      PetscReal s = b ? b[a] : 0;
      for (PetscInt c = 0; c < sd; c++) s += Q[a * sd + c] * x[i * sd + c];
      y[i * sd + a] = s;
    }
}

static PetscReal MaxAbs(PetscInt len, const PetscReal v[])
{
  PetscReal m = 0;
  for (PetscInt q = 0; q < len; q++) m = PetscMax(m, PetscAbsReal(v[q]));
  return m;
}

static PetscReal MaxDiff(PetscInt len, const PetscReal a[], const PetscReal b[])
{
  PetscReal m = 0;
  for (PetscInt q = 0; q < len; q++) m = PetscMax(m, PetscAbsReal(a[q] - b[q]));
  return m;
}

/* types: the atom types of -net_distance_types (NULL: none), so only type-preserving permutations apply */
static PetscErrorCode TestEquivariance(Tally *tl, const char *label, SgmNet net, const Data *D, const PetscInt *types)
{
  const PetscInt n = D->n, d = D->d, sd = D->sd, na = D->natoms, len = n * d;
  PetscReal      s[NS * MAXD], y[NS * MAXD], sy[NS * MAXD], qs[NS * MAXD], Q[9], b[3], Id[9] = {0}, smax, e, com = 0;
  PetscInt       perm[13];
  char           name[128];

  PetscFunctionBegin;
  PetscCall(SgmNetScore(net, n, D->x, D->t, D->alpha, D->sigma, NULL, s));
  smax = MaxAbs(len, s);
  for (int reflect = 0; reflect < 2; reflect++) {
    RandomReflectionOrRotation(Normals, sd, (PetscBool)reflect, Q);
    Normals(sd, b);
    ApplyQ(D, Q, b, D->x, y);
    PetscCall(SgmNetScore(net, n, y, D->t, D->alpha, D->sigma, NULL, sy));
    ApplyQ(D, Q, NULL, s, qs);
    e = MaxDiff(len, sy, qs) / smax;
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s: s(Qx+b) = Q s(x), %s", label, reflect ? "reflection" : "rotation"));
    PetscCall(Check(tl, name, e, 1e-10));
  }
  for (PetscInt a = 0; a < sd; a++) Id[a * sd + a] = 1;
  Normals(sd, b);
  for (PetscInt a = 0; a < sd; a++) b[a] *= 3;
  ApplyQ(D, Id, b, D->x, y);
  PetscCall(SgmNetScore(net, n, y, D->t, D->alpha, D->sigma, NULL, sy));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s: s(x+b) = s(x)", label));
  PetscCall(Check(tl, name, MaxDiff(len, sy, s) / smax, 1e-10));
  { /* a permutation of the atoms of every cloud: a Fisher-Yates shuffle from normals */
    PetscReal z[13];
    Normals(na, z);
    for (PetscInt i = 0; i < na; i++) perm[i] = i;
    for (PetscInt i = na - 1; i > 0; i--) {
      PetscInt j = (PetscInt)(PetscAbsReal(z[i]) * 1000) % (i + 1), tmp = perm[i];
      perm[i] = perm[j];
      perm[j] = tmp;
    }
    if (types) { /* typed: each type's atoms (in index order) take the next one's place, cyclically */
      for (PetscInt i = 0; i < na; i++) {
        PetscInt j = (i + 1) % na;
        while (types[j] != types[i]) j = (j + 1) % na;
        perm[i] = j;
      }
    }
    for (PetscInt c = 0; c < n; c++)
      for (PetscInt i = 0; i < na; i++)
        for (PetscInt a = 0; a < sd; a++) y[(c * na + i) * sd + a] = D->x[(c * na + perm[i]) * sd + a];
    PetscCall(SgmNetScore(net, n, y, D->t, D->alpha, D->sigma, NULL, sy));
    for (PetscInt c = 0; c < n; c++)
      for (PetscInt i = 0; i < na; i++)
        for (PetscInt a = 0; a < sd; a++) qs[(c * na + i) * sd + a] = s[(c * na + perm[i]) * sd + a];
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s: s(Pi x) = Pi s(x)%s", label, types ? " (Pi within types)" : ""));
    PetscCall(Check(tl, name, MaxDiff(len, sy, qs) / smax, 1e-10));
  }
  if (types) { /* swapping two atoms of different types is not a symmetry: the types reach the output */
    PetscInt i0 = 0, j0 = 1;
    while (types[j0] == types[i0]) j0++;
    for (PetscInt c = 0; c < n; c++)
      for (PetscInt i = 0; i < na; i++) perm[i] = i == i0 ? j0 : (i == j0 ? i0 : i);
    for (PetscInt c = 0; c < n; c++)
      for (PetscInt i = 0; i < na; i++)
        for (PetscInt a = 0; a < sd; a++) {
          y[(c * na + i) * sd + a]  = D->x[(c * na + perm[i]) * sd + a];
          qs[(c * na + i) * sd + a] = s[(c * na + perm[i]) * sd + a];
        }
    PetscCall(SgmNetScore(net, n, y, D->t, D->alpha, D->sigma, NULL, sy));
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s: swapping atoms of two types changes the score: -(difference)", label));
    PetscCall(Check(tl, name, -MaxDiff(len, sy, qs) / smax, -1e-3));
  }
  for (PetscInt c = 0; c < n; c++)
    for (PetscInt a = 0; a < sd; a++) {
      PetscReal m = 0;
      for (PetscInt i = 0; i < na; i++) m += s[(c * na + i) * sd + a];
      com = PetscMax(com, PetscAbsReal(m));
    }
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s: sum_i s_i = 0", label));
  PetscCall(Check(tl, name, com / smax, 1e-12));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TestChunks(Tally *tl, const char *type, const char *extra)
{
  const PetscInt na = 13, sd = 3, d = na * sd, n = 60;
  SgmNet         net;
  PetscReal     *x, *e, *t, *al, *si, *s1, *s2, *g1, *g2, L1 = 0, L2 = 0, Li;
  PetscInt       P;
  char           opts[256], name[128];

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-net_type %s -net_atoms %d -net_width 6 -net_depth 2 %s", type, (int)na, extra));
  PetscCall(MakeNet(opts, d, 3, 0.3, &net));
  PetscCall(SgmNetGetParameters(net, &P, NULL));
  PetscCall(PetscMalloc5(n * d, &x, n * d, &e, n, &t, n, &al, n, &si));
  PetscCall(PetscMalloc4(n * d, &s1, n * d, &s2, P, &g1, P, &g2));
  Normals(n * d, x);
  Normals(n * d, e);
  for (PetscInt i = 0; i < n; i++) {
    t[i]  = (i + 0.5) / n;
    al[i] = PetscExpReal(-t[i]);
    si[i] = PetscSqrtReal(1 - al[i] * al[i]);
  }
  PetscCall(PetscArrayzero(g1, P));
  PetscCall(PetscArrayzero(g2, P));
  PetscCall(SgmNetScore(net, n, x, t, al, si, NULL, s1));
  PetscCall(SgmNetLoss(net, SGM_LOSS_DSM, n, x, t, al, si, NULL, e, NULL, 0, NULL, NULL, &L1, g1));
  for (PetscInt i = 0; i < n; i++) {
    PetscCall(SgmNetScore(net, 1, x + i * d, t + i, al + i, si + i, NULL, s2 + i * d));
    PetscCall(SgmNetLoss(net, SGM_LOSS_DSM, 1, x + i * d, t + i, al + i, si + i, NULL, e + i * d, NULL, 0, NULL, NULL, &Li, g2));
    L2 += Li;
  }
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s%s: 60 clouds of 13 atoms in chunks vs one by one: score", type, extra[0] ? " (rbf, types)" : ""));
  PetscCall(Check(tl, name, MaxDiff(n * d, s1, s2) / MaxAbs(n * d, s1), 1e-13));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s: ... loss and gradient", type));
  PetscCall(Check(tl, name, PetscMax(PetscAbsReal(L1 - L2) / PetscAbsReal(L1), MaxDiff(P, g1, g2) / MaxAbs(P, g1)), 1e-13));
  PetscCall(PetscFree5(x, e, t, al, si));
  PetscCall(PetscFree4(s1, s2, g1, g2));
  PetscCall(SgmNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Does the call fail (with the error handler returning instead of aborting)? */
#define EXPECT_FAIL(tl, name, call) \
  do { \
    PetscErrorCode ierr_; \
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL)); \
    ierr_ = (call); \
    PetscCall(PetscPopErrorHandler()); \
    PetscCall(Check(tl, name, ierr_ ? 0 : 1, 0)); \
  } while (0)

static PetscErrorCode TrySetUp(const char *opts, PetscInt d)
{
  SgmNet         net;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(PetscOptionsInsertString(NULL, opts));
  PetscCall(SgmNetCreate(PETSC_COMM_WORLD, &net));
  PetscCall(SgmNetSetFromOptions(net));
  PetscCall(SgmNetSetDimension(net, d));
  ierr = SgmNetSetUp(net);
  PetscCall(SgmNetDestroy(&net));
  PetscFunctionReturn(ierr);
}

static PetscErrorCode TryLoad(const char *opts, PetscInt d, const char *fname)
{
  SgmNet         net;
  PetscErrorCode ierr;
  hid_t          f, g;

  PetscFunctionBegin;
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(PetscOptionsInsertString(NULL, opts));
  PetscCall(SgmNetCreate(PETSC_COMM_WORLD, &net));
  PetscCall(SgmNetSetFromOptions(net));
  PetscCall(SgmNetSetDimension(net, d));
  PetscCall(SgmNetSetUp(net));
  PetscCallHDF5(f = H5Fopen(fname, H5F_ACC_RDONLY, H5P_DEFAULT));
  PetscCallHDF5(g = H5Gopen2(f, "model", H5P_DEFAULT));
  ierr = SgmNetLoad(net, g);
  PetscCallHDF5(H5Gclose(g));
  PetscCallHDF5(H5Fclose(f));
  PetscCall(SgmNetDestroy(&net));
  PetscFunctionReturn(ierr);
}

static PetscErrorCode TestSaveLoad(Tally *tl, const char *type, const char *extra, const char *tag)
{
  SgmNet      net, net2;
  Data        D;
  PetscReal   s1[NS * MAXD], s2[NS * MAXD], *th1, *th2, l;
  PetscInt    P1, P2;
  char        opts[256], fname[PETSC_MAX_PATH_LEN], name[128];
  hid_t       f, g;
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  MakeData(4, 2, &D);
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-net_type %s -net_atoms 4 -net_width 8 -net_depth 2 %s", type, extra));
  PetscCall(MakeNet(opts, D.d, 5, 0.3, &net));
  PetscCall(PetscSNPrintf(fname, sizeof(fname), "test_cloudnet_%s_%d_%d.h5", tag, (int)getpid(), rank));
  PetscCallHDF5(f = H5Fcreate(fname, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  PetscCallHDF5(g = H5Gcreate2(f, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(SgmNetSave(net, g));
  PetscCallHDF5(H5Gclose(g));
  PetscCallHDF5(H5Fclose(f));
  PetscCall(SgmNetCreate(PETSC_COMM_WORLD, &net2)); /* as the mlp score type does: no type, no options */
  PetscCallHDF5(f = H5Fopen(fname, H5F_ACC_RDONLY, H5P_DEFAULT));
  PetscCallHDF5(g = H5Gopen2(f, "model", H5P_DEFAULT));
  PetscCall(SgmNetLoad(net2, g));
  PetscCallHDF5(H5Gclose(g));
  PetscCallHDF5(H5Fclose(f));
  PetscCall(SgmNetGetParameters(net, &P1, &th1));
  PetscCall(SgmNetGetParameters(net2, &P2, &th2));
  PetscCall(SgmNetScore(net, D.n, D.x, D.t, D.alpha, D.sigma, NULL, s1));
  PetscCall(SgmNetScore(net2, D.n, D.x, D.t, D.alpha, D.sigma, NULL, s2));
  {
    PetscInt nd = P1 != P2;
    for (PetscInt q = 0; !nd && q < P1; q++) nd += th1[q] != th2[q];
    for (PetscInt q = 0; q < D.n * D.d; q++) nd += s1[q] != s2[q];
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s: save/load, weights and scores bitwise (entries differing)", tag));
    PetscCall(Check(tl, name, (double)nd, 0));
  }
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s: refused: the file into an mlp net", tag));
  EXPECT_FAIL(tl, name, TryLoad("-net_type mlp", D.d, fname));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s: refused: the file into a net of 2 atoms", tag));
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-net_type %s -net_atoms 2 -net_width 8 -net_depth 2", type));
  EXPECT_FAIL(tl, name, TryLoad(opts, D.d, fname));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s: refused: loss esm", tag));
  EXPECT_FAIL(tl, name, SgmNetLoss(net, SGM_LOSS_ESM, D.n, D.x, D.t, D.alpha, D.sigma, NULL, D.eps, D.eps, 0, NULL, NULL, &l, NULL));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s: refused: loss ssm", tag));
  EXPECT_FAIL(tl, name, SgmNetLoss(net, SGM_LOSS_SSM, D.n, D.x, D.t, D.alpha, D.sigma, NULL, D.eps, NULL, 1, D.eps, NULL, &l, NULL));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s: refused: JVP", tag));
  EXPECT_FAIL(tl, name, SgmNetScoreJacobianVector(net, D.n, D.x, D.t, D.alpha, D.sigma, NULL, D.eps, s1, s2));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s: refused: no -net_atoms", tag));
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-net_type %s", type));
  EXPECT_FAIL(tl, name, TrySetUp(opts, 8));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s: refused: -net_atoms 3 with d = 8", tag));
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-net_type %s -net_atoms 3", type));
  EXPECT_FAIL(tl, name, TrySetUp(opts, 8));
  if (extra[0]) { /* the typed distance net: its file refuses nets of other types or basis, and bad options are refused */
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s: refused: the file into a net with other atom types", tag));
    EXPECT_FAIL(tl, name, TryLoad("-net_type distance -net_atoms 4 -net_width 8 -net_depth 2 -net_distance_rbf 5 -net_distance_rbf_max 3 -net_distance_types 0,0,1,1", D.d, fname));
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s: refused: the file into a net without atom types", tag));
    EXPECT_FAIL(tl, name, TryLoad("-net_type distance -net_atoms 4 -net_width 8 -net_depth 2 -net_distance_rbf 5 -net_distance_rbf_max 3", D.d, fname));
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s: refused: the file into a net with another basis", tag));
    EXPECT_FAIL(tl, name, TryLoad("-net_type distance -net_atoms 4 -net_width 8 -net_depth 2 -net_distance_rbf 5 -net_distance_rbf_max 4 -net_distance_types 0,1,1,0", D.d, fname));
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s: refused: 3 types for 4 atoms", tag));
    EXPECT_FAIL(tl, name, TrySetUp("-net_type distance -net_atoms 4 -net_distance_types 0,1,1", 8));
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s: refused: a negative type", tag));
    EXPECT_FAIL(tl, name, TrySetUp("-net_type distance -net_atoms 4 -net_distance_types 0,1,-1,0", 8));
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s: refused: -net_distance_rbf 1", tag));
    EXPECT_FAIL(tl, name, TrySetUp("-net_type distance -net_atoms 4 -net_distance_rbf 1", 8));
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s: refused: -net_distance_rbf_max 0", tag));
    EXPECT_FAIL(tl, name, TrySetUp("-net_type distance -net_atoms 4 -net_distance_rbf 4 -net_distance_rbf_max 0", 8));
  }
  PetscCall(SgmNetDestroy(&net));
  PetscCall(SgmNetDestroy(&net2));
  (void)unlink(fname);
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  Tally             tl    = {0, 0};
  const char *const types[3] = {"egnn", "distance", "distance"};
  /* the third: the distance net with a radial basis and fixed atom types (-net_distance_*) */
  const char *const typed[2] = {"-net_distance_rbf 6 -net_distance_rbf_max 4 -net_distance_types 0,1,0,1", "-net_distance_rbf 6 -net_distance_rbf_max 4 -net_distance_types 0,1,2,0,1"};
  const PetscInt    tyv[2][5] = {{0, 1, 0, 1, 0}, {0, 1, 2, 0, 1}};
  const char *const outs[2]  = {"eps", "edm"};

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SgmInitializePackage());
  for (int ty = 0; ty < 3; ty++)
    for (int geo = 0; geo < 2; geo++) {
      const PetscInt na = geo ? 5 : 4, sd = geo ? 3 : 2;
      Data           D;
      MakeData(na, sd, &D);
      for (int o = 0; o < 2; o++)
        for (int ti = 0; ti < 2; ti++) {
          SgmNet net;
          char   opts[256], label[128], name[160];
          PetscCall(PetscSNPrintf(opts, sizeof(opts), "-net_type %s -net_atoms %d -net_width 8 -net_depth 3 -net_output %s -net_time_input %s %s", types[ty], (int)na, outs[o], ti ? "t" : "logsigma", ty == 2 ? typed[geo] : ""));
          PetscCall(MakeNet(opts, D.d, 11 + o, 0.3, &net));
          PetscCall(PetscSNPrintf(label, sizeof(label), "%s%s %d atoms %dD %s %s", types[ty], ty == 2 ? " (rbf, types)" : "", (int)na, (int)sd, outs[o], ti ? "t" : "logsigma"));
          for (int lt = 0; lt < 2; lt++) {
            PetscReal err = 0;
            PetscCall(GradientError(net, lt ? SGM_LOSS_DSM : SGM_LOSS_SIMPLE, &D, &err));
            PetscCall(PetscSNPrintf(name, sizeof(name), "%s: %s gradient vs FD", label, lt ? "dsm" : "simple"));
            PetscCall(Check(&tl, name, err, 1e-6));
          }
          if (o == 0) PetscCall(TestEquivariance(&tl, label, net, &D, ty == 2 ? tyv[geo] : NULL));
          PetscCall(SgmNetDestroy(&net));
        }
    }
  for (int ty = 0; ty < 2; ty++) PetscCall(TestChunks(&tl, types[ty], ""));
  PetscCall(TestChunks(&tl, "distance", "-net_distance_rbf 6 -net_distance_rbf_max 4 -net_distance_types 0,1,2,0,1,2,0,1,2,0,1,2,0"));
  for (int ty = 0; ty < 2; ty++) PetscCall(TestSaveLoad(&tl, types[ty], "", types[ty]));
  PetscCall(TestSaveLoad(&tl, "distance", "-net_distance_rbf 5 -net_distance_rbf_max 3 -net_distance_types 0,1,1,0", "distance-typed"));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  PetscCall(PetscFinalize());
  return tl.fail != 0;
}
