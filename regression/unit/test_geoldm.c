/*
  Unit test of GeoLDM's pieces (src/nn/ae.c, the feature channels of src/nn/impls/egnn/egnn.c).
    (a) Gradients: the autoencoder loss ||D(mu + sigma_0 eps) - x||^2 + w_KL ||mu||^2/2 summed over 5
        clouds (4 atoms in 2-D with k = 2 latent features, 5 atoms in 3-D with k = 1), against
        Richardson-extrapolated central differences (h = 1e-4, 5e-5) along a random unit
        direction in each segment of H consecutive parameters of encoder and decoder and in the whole
        vector; this checks the decoder's adjoint to its input (z) as well, since the encoder's
        gradient flows through it.  The same for the dsm/simple loss of an egnn score network with
        -net_egnn_features 2 (coordinates and invariant channels diffused together).  Bound 1e-6
        relative (as test_cloudnet: |g.u - fd| / max(|g.u|, 1e-2 |g_seg|, 1e-6 |g|)).  Weights: the
        initial ones plus 0.15 N(0,1) (0.3 for the score net); the stacked encoder-decoder is more
        curved than one net, its O(h^4) truncation was 5e-5 at h = 2.5e-4 with 0.3 and falls as h^4.
    (b) Equivariance, relative to the largest entry: for a random rotation and a random reflection Q,
        a translation b and a permutation Pi of the atoms: encoder mu_x(Qx + b) = Q mu_x(x),
        mu_h(Qx + b) = mu_h(x); decoder D(Q z_x + b, z_h) = Q D(z); the permuted cloud gives the
        permuted outputs; the latent and decoded coordinates have zero centre of mass; the score net
        with features: s_x(Qx + b, h) = Q s_x, s_h invariant.  Bound 1e-10 (1e-12 for the CoM).
    (c) Save/Load of the autoencoder through a temporary HDF5 file: encoding and decoding bitwise equal.
  Prints one line per check and "N passed, M failed"; exit status M != 0.  A few seconds.
*/
#include <sgm.h>
#include <sgm/private/netimpl.h>
#include <sgmae.h>
#include <sgmgeometric.h>
#include <sgmio.h>
#include <unistd.h>

#include "check.h"

#define NS   5
#define MAXD 64
#define FDH  1e-4

static uint64_t rngstep = 100;

static void Normals(PetscInt count, PetscReal *z)
{
  SgmRandomNormalSample(777, SGM_STREAM_PRIOR, (PetscInt)rngstep++, 0, count, z);
}

static void Centre(PetscInt nb, PetscInt n, PetscInt stride, PetscInt sx, PetscReal *x)
{
  PetscCallAbort(PETSC_COMM_SELF, SgmGeomRemoveCoMStrided(nb, n, stride, sx, x));
}

static void Perturb(PetscInt P, PetscReal *th, PetscReal s)
{
  PetscReal *z;
  PetscCallAbort(PETSC_COMM_SELF, PetscMalloc1(P, &z));
  Normals(P, z);
  for (PetscInt q = 0; q < P; q++) th[q] += s * z[q];
  PetscCallAbort(PETSC_COMM_SELF, PetscFree(z));
}

static PetscErrorCode MakeAE(PetscInt natoms, PetscInt sx, PetscInt k, SgmCloudAE *ae)
{
  char       opts[256];
  PetscInt   Pe, Pd;
  PetscReal *te, *td;

  PetscFunctionBegin;
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-ae_net_atoms %" PetscInt_FMT " -ae_net_width 8 -ae_net_depth 3 -ae_latent_features %" PetscInt_FMT " -ae_latent_sigma 0.3 -ae_kl_weight 0.5", natoms, k));
  PetscCall(PetscOptionsInsertString(NULL, opts));
  PetscCall(SgmCloudAECreate(PETSC_COMM_WORLD, ae));
  PetscCall(SgmCloudAESetFromOptions(*ae));
  PetscCall(SgmCloudAESetUp(*ae, natoms * sx));
  PetscCall(SgmCloudAEInitialize(*ae, 11));
  PetscCall(SgmCloudAEGetParameters(*ae, &Pe, &te, &Pd, &td));
  Perturb(Pe, te, 0.15);
  Perturb(Pd, td, 0.15);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A loss L(theta) of a flat parameter vector (the AE's two nets, or one score net) */
typedef struct {
  SgmCloudAE       ae;
  SgmNet           net;
  SgmLossType      type;
  PetscInt         nb;
  const PetscReal *x, *eps, *t, *alpha, *sigma, *w;
} Fn;

static PetscErrorCode Params(Fn *f, PetscInt *P, PetscReal **a, PetscInt *Pa, PetscReal **b)
{
  PetscFunctionBegin;
  if (f->ae) {
    PetscInt Pb;
    PetscCall(SgmCloudAEGetParameters(f->ae, Pa, a, &Pb, b));
    *P = *Pa + Pb;
  } else {
    PetscCall(SgmNetGetParameters(f->net, Pa, a));
    *b = NULL;
    *P = *Pa;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Eval(Fn *f, PetscReal *L, PetscReal *g)
{
  PetscFunctionBegin;
  if (f->ae) PetscCall(SgmCloudAELoss(f->ae, f->nb, f->x, f->eps, L, NULL, g));
  else PetscCall(SgmNetLoss(f->net, f->type, f->nb, f->x, f->t, f->alpha, f->sigma, NULL, f->eps, NULL, 0, NULL, f->w, L, g));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* theta[q] += s u[q] over the flat index range */
static void Shift(PetscInt Pa, PetscReal *a, PetscReal *b, PetscInt off, PetscInt len, const PetscReal *u, PetscReal s)
{
  for (PetscInt q = off; q < off + len; q++) {
    if (q < Pa) a[q] += s * u[q];
    else b[q - Pa] += s * u[q];
  }
}

static PetscErrorCode GradientError(Fn *f, PetscInt seg, PetscReal *err)
{
  PetscInt        P = 0, Pa = 0;
  PetscReal      *a, *b, *g, *u, L, gtot = 0;
  const PetscReal h[2] = {FDH, FDH / 2};

  PetscFunctionBegin;
  PetscCall(Params(f, &P, &a, &Pa, &b));
  PetscCall(PetscCalloc1(P, &g));
  PetscCall(PetscMalloc1(P, &u));
  PetscCall(Eval(f, &L, g));
  for (PetscInt q = 0; q < P; q++) gtot += g[q] * g[q];
  gtot = PetscSqrtReal(gtot);
  *err = 0;
  for (PetscInt o = 0; o <= P; o += seg) {
    const PetscInt off = o < P ? o : 0, len = o < P ? PetscMin(seg, P - o) : P;
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
      Shift(Pa, a, b, off, len, u, h[k]);
      PetscCall(Eval(f, &Lp, NULL));
      Shift(Pa, a, b, off, len, u, -2 * h[k]);
      PetscCall(Eval(f, &Lm, NULL));
      Shift(Pa, a, b, off, len, u, h[k]);
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

/* y = (Q x_coords + b, features unchanged) atom by atom, atoms of `stride` channels, sx coordinates */
static void ApplyQ(PetscInt natoms_total, PetscInt stride, PetscInt sx, const PetscReal Q[], const PetscReal b[], const PetscReal x[], PetscReal y[])
{
  for (PetscInt i = 0; i < natoms_total; i++) {
    for (PetscInt a = 0; a < sx; a++) {
      PetscReal s = b ? b[a] : 0;
      for (PetscInt c = 0; c < sx; c++) s += Q[a * sx + c] * x[i * stride + c];
      y[i * stride + a] = s;
    }
    for (PetscInt a = sx; a < stride; a++) y[i * stride + a] = x[i * stride + a];
  }
}

/* permute the atoms of every cloud */
static void Permute(PetscInt nb, PetscInt n, PetscInt stride, const PetscInt perm[], const PetscReal x[], PetscReal y[])
{
  for (PetscInt c = 0; c < nb; c++)
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt a = 0; a < stride; a++) y[(c * n + i) * stride + a] = x[(c * n + perm[i]) * stride + a];
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

static PetscReal MaxCoM(PetscInt nb, PetscInt n, PetscInt stride, PetscInt sx, const PetscReal x[])
{
  PetscReal m = 0;
  for (PetscInt c = 0; c < nb; c++)
    for (PetscInt a = 0; a < sx; a++) {
      PetscReal s = 0;
      for (PetscInt i = 0; i < n; i++) s += x[(c * n + i) * stride + a];
      m = PetscMax(m, PetscAbsReal(s / n));
    }
  return m;
}

/* A map f: [nb n sin] -> [nb n sout], equivariant in the first sx channels of each side */
typedef PetscErrorCode (*MapFn)(void *, PetscInt, const PetscReal[], PetscReal[]);

static PetscErrorCode EncodeMap(void *ctx, PetscInt nb, const PetscReal x[], PetscReal z[])
{
  return SgmCloudAEEncode((SgmCloudAE)ctx, nb, x, z);
}
static PetscErrorCode DecodeMap(void *ctx, PetscInt nb, const PetscReal z[], PetscReal x[])
{
  return SgmCloudAEDecode((SgmCloudAE)ctx, nb, z, x);
}
typedef struct {
  SgmNet           net;
  const PetscReal *t, *alpha, *sigma;
} ScoreCtx;
static PetscErrorCode ScoreMap(void *ctx, PetscInt nb, const PetscReal x[], PetscReal s[])
{
  ScoreCtx *c = (ScoreCtx *)ctx;
  return SgmNetScore(c->net, nb, x, c->t, c->alpha, c->sigma, NULL, s);
}

static PetscErrorCode TestEquivariance(Tally *tl, const char *label, MapFn f, void *ctx, PetscInt n, PetscInt sx, PetscInt sin, PetscInt sout, PetscBool translate_invariant_out, const PetscReal x[])
{
  const PetscInt lin = NS * n * sin, lout = NS * n * sout;
  PetscReal      s[NS * MAXD], y[NS * MAXD], sy[NS * MAXD], qs[NS * MAXD], Q[9], b[3], smax;
  PetscInt       perm[13];
  char           name[160];

  PetscFunctionBegin;
  PetscCall(f(ctx, NS, x, s));
  smax = MaxAbs(lout, s);
  for (int reflect = 0; reflect < 2; reflect++) {
    RandomReflectionOrRotation(Normals, sx, (PetscBool)reflect, Q);
    Normals(sx, b);
    for (PetscInt a = 0; a < sx; a++) b[a] *= 3;
    ApplyQ(NS * n, sin, sx, Q, b, x, y);
    PetscCall(f(ctx, NS, y, sy));
    ApplyQ(NS * n, sout, sx, Q, NULL, s, qs); /* outputs: translation invariant, zero CoM */
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s: f(Qx+b) = Q f(x), %s + translation", label, reflect ? "reflection" : "rotation"));
    PetscCall(Check(tl, name, MaxDiff(lout, sy, qs) / smax, 1e-10));
  }
  (void)translate_invariant_out;
  for (PetscInt i = 0; i < n; i++) perm[i] = (i * 3 + 1) % n; /* n = 4, 5: a permutation (3 coprime) */
  Permute(NS, n, sin, perm, x, y);
  PetscCall(f(ctx, NS, y, sy));
  Permute(NS, n, sout, perm, s, qs);
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s: f(Pi x) = Pi f(x)", label));
  PetscCall(Check(tl, name, MaxDiff(lout, sy, qs) / smax, 1e-10));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s: output coordinates have zero CoM", label));
  PetscCall(Check(tl, name, MaxCoM(NS, n, sout, sx, s) / smax, 1e-12));
  (void)lin;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TestAE(Tally *tl, PetscInt natoms, PetscInt sx, PetscInt k)
{
  SgmCloudAE ae, ae2;
  PetscReal  x[NS * MAXD], eps[NS * MAXD], z[NS * MAXD], z2[NS * MAXD], xh[NS * MAXD], xh2[NS * MAXD], err;
  const PetscInt dx = natoms * sx, dz = natoms * (sx + k);
  PetscInt   P = 0, Pe = 0, Pd = 0;
  PetscReal *te, *td;
  Fn         f = {0};
  char       name[160], label[64];

  PetscFunctionBegin;
  PetscCall(MakeAE(natoms, sx, k, &ae));
  Normals(NS * dx, x);
  Centre(NS, natoms, sx, sx, x);
  Normals(NS * dz, eps);
  Centre(NS, natoms, sx + k, sx, eps);
  f.ae = ae;
  f.nb = NS;
  f.x  = x;
  f.eps = eps;
  PetscCall(SgmCloudAEGetParameters(ae, &Pe, &te, &Pd, &td));
  P = Pe + Pd;
  PetscCall(GradientError(&f, 8, &err));
  PetscCall(PetscSNPrintf(name, sizeof(name), "AE %" PetscInt_FMT " atoms %" PetscInt_FMT "-D k=%" PetscInt_FMT ": loss gradient (%" PetscInt_FMT " params) vs FD", natoms, sx, k, P));
  PetscCall(Check(tl, name, err, 1e-6));
  PetscCall(PetscSNPrintf(label, sizeof(label), "encoder %" PetscInt_FMT "x%" PetscInt_FMT "D k=%" PetscInt_FMT, natoms, sx, k));
  PetscCall(TestEquivariance(tl, label, EncodeMap, ae, natoms, sx, sx, sx + k, PETSC_TRUE, x));
  PetscCall(SgmCloudAEEncode(ae, NS, x, z));
  for (PetscInt q = 0; q < NS * dz; q++) z[q] += 0.3 * eps[q]; /* a latent off the encoder's range */
  PetscCall(PetscSNPrintf(label, sizeof(label), "decoder %" PetscInt_FMT "x%" PetscInt_FMT "D k=%" PetscInt_FMT, natoms, sx, k));
  PetscCall(TestEquivariance(tl, label, DecodeMap, ae, natoms, sx, sx + k, sx, PETSC_TRUE, z));
  /* (c) save/load */
  {
    char  fname[] = "/tmp/sgm-test-geoldm-XXXXXX";
    int   fd      = mkstemp(fname);
    hid_t file, g;
    PetscCheck(fd >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "mkstemp");
    close(fd);
    PetscCallHDF5(file = H5Fcreate(fname, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    PetscCallHDF5(g = H5Gcreate2(file, "ae", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    PetscCall(SgmCloudAESave(ae, g));
    PetscCallHDF5(H5Gclose(g));
    PetscCallHDF5(H5Fclose(file));
    PetscCall(PetscOptionsClear(NULL));
    PetscCall(SgmCloudAECreate(PETSC_COMM_SELF, &ae2));
    PetscCallHDF5(file = H5Fopen(fname, H5F_ACC_RDONLY, H5P_DEFAULT));
    PetscCallHDF5(g = H5Gopen2(file, "ae", H5P_DEFAULT));
    PetscCall(SgmCloudAELoad(ae2, g));
    PetscCallHDF5(H5Gclose(g));
    PetscCallHDF5(H5Fclose(file));
    unlink(fname);
    PetscCall(SgmCloudAEEncode(ae, NS, x, z));
    PetscCall(SgmCloudAEEncode(ae2, NS, x, z2));
    PetscCall(SgmCloudAEDecode(ae, NS, z, xh));
    PetscCall(SgmCloudAEDecode(ae2, NS, z, xh2));
    PetscCall(PetscSNPrintf(name, sizeof(name), "AE %" PetscInt_FMT "x%" PetscInt_FMT "D: save/load, encode and decode bitwise", natoms, sx));
    PetscCall(Check(tl, name, MaxDiff(NS * dz, z, z2) + MaxDiff(NS * dx, xh, xh2), 0));
    PetscCall(SgmCloudAEDestroy(&ae2));
  }
  PetscCall(SgmCloudAEDestroy(&ae));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TestScoreFeatures(Tally *tl, PetscInt natoms, PetscInt sx, PetscInt k, SgmLossType type)
{
  SgmNet    net;
  const PetscInt d = natoms * (sx + k);
  PetscReal x[NS * MAXD], eps[NS * MAXD], t[NS], al[NS], sg[NS], w[NS], err;
  PetscInt  P;
  PetscReal *th;
  Fn        f = {0};
  ScoreCtx  sc;
  char      name[160], opts[256], label[64];

  PetscFunctionBegin;
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-net_type egnn -net_atoms %" PetscInt_FMT " -net_width 8 -net_depth 3 -net_egnn_features %" PetscInt_FMT, natoms, k));
  PetscCall(PetscOptionsInsertString(NULL, opts));
  PetscCall(SgmNetCreate(PETSC_COMM_WORLD, &net));
  PetscCall(SgmNetSetFromOptions(net));
  PetscCall(SgmNetSetDimension(net, d));
  PetscCall(SgmNetSetUp(net));
  PetscCall(SgmNetInitialize(net, 5));
  PetscCall(SgmNetGetParameters(net, &P, &th));
  Perturb(P, th, 0.3);
  Normals(NS * d, x);
  Normals(NS * d, eps);
  Centre(NS, natoms, sx + k, sx, x);
  Centre(NS, natoms, sx + k, sx, eps);
  for (PetscInt i = 0; i < NS; i++) {
    t[i]  = 0.05 + 0.9 * i / (NS - 1);
    al[i] = PetscExpReal(-0.8 * t[i]);
    sg[i] = 0.08 + 1.5 * t[i];
    w[i]  = 0.5 + 0.25 * i;
  }
  f.net   = net;
  f.type  = type;
  f.nb    = NS;
  f.x     = x;
  f.eps   = eps;
  f.t     = t;
  f.alpha = al;
  f.sigma = sg;
  f.w     = w;
  PetscCall(GradientError(&f, 8, &err));
  PetscCall(PetscSNPrintf(name, sizeof(name), "egnn score %" PetscInt_FMT "x%" PetscInt_FMT "D + %" PetscInt_FMT " features, %s: gradient vs FD", natoms, sx, k, SgmLossTypes[type]));
  PetscCall(Check(tl, name, err, 1e-6));
  sc.net   = net;
  sc.t     = t;
  sc.alpha = al;
  sc.sigma = sg;
  /* output eps: s = -F/sigma, no A x term, so the coordinate part is translation invariant */
  PetscCall(PetscSNPrintf(label, sizeof(label), "egnn score %" PetscInt_FMT "x%" PetscInt_FMT "D + %" PetscInt_FMT " features", natoms, sx, k));
  PetscCall(TestEquivariance(tl, label, ScoreMap, &sc, natoms, sx, sx + k, sx + k, PETSC_TRUE, x));
  PetscCall(SgmNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  Tally tl = {0, 0};

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SgmInitializePackage());
  PetscCall(TestAE(&tl, 4, 2, 2));
  PetscCall(TestAE(&tl, 5, 3, 1));
  PetscCall(TestScoreFeatures(&tl, 4, 2, 2, SGM_LOSS_DSM));
  PetscCall(TestScoreFeatures(&tl, 5, 3, 1, SGM_LOSS_SIMPLE));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  PetscCall(PetscFinalize());
  return tl.fail != 0;
}
