/*
  Unit test of -net_precision single (src/nn/mlp.c, the float training passes of the MLP): the loss
  and its gradient in single precision against the double-precision ones (whose gradient test_net
  checks against finite differences) on the same weights and the same batch.

  (a) For the losses simple, dsm and esm and several architectures (residual or not, classes, eps /
      score / edm output, depth 1..4, width 16..256, d 2..64, batches of 64..9000 samples, the last
      in two chunks): rel. error of the loss |L_s - L_d| / |L_d|, of the whole gradient
      ||g_s - g_d|| / ||g_d||, and per parameter segment (Wt, bt, class table, Win, bin, W_l, b_l,
      P_l, Wout, bout) ||g_s - g_d||_seg / max(||g_d||_seg, 1e-3 ||g_d||) (a segment whose gradient
      is a thousandth of the whole is measured against that thousandth).
      Bound: 16 u (L + 2), u = 2^-24 the float unit roundoff, L the depth: a float pass rounds once
      per stored activation and per product, and its errors grow roughly linearly with the number
      of layers the signal crosses (L blocks plus the input and output layers); the gemm inner
      products of length w and the batch sums add errors of about sqrt(w) u and sqrt(n) u at random
      (the bias sums are accumulated in double).  Measured: at most 5.1e-7 (w = 256, L = 3), a tenth
      of the bound; for L = 3 the bound is 4.8e-6.
  (b) That the check can fail: the single gradient with the gradient of W_1 transposed, and the
      double gradient of weights whose Wout is scaled by 1 + 1e-4, both have errors more than 10x
      the bound.
  (c) The tangent losses ssm, ssmvr, ism are refused in single precision (one sentence).
  (d) The precision is saved as the model attribute net_precision and read back by a fresh net;
      a file without the attribute loads as double.
  Prints one line per check and "N passed, M failed"; exit status M != 0.  About a second.
*/
#include <sgm.h>
#include <sgm/private/netimpl.h>
#include <sgmio.h>
#include <unistd.h>

#include "check.h"

static uint64_t rngstep = 500;

static void Normals(PetscInt count, PetscReal *z)
{
  SgmRandomNormalSample(4242, SGM_STREAM_PRIOR, (PetscInt)rngstep++, 0, count, z);
}

typedef struct {
  PetscInt   n, d, nclasses;
  PetscReal *x, *t, *alpha, *sigma, *eps, *starget, *w;
  PetscInt  *labels;
} Batch;

static PetscErrorCode MakeBatch(PetscInt n, PetscInt d, PetscInt nclasses, Batch *B)
{
  PetscFunctionBegin;
  B->n = n;
  B->d = d;
  B->nclasses = nclasses;
  PetscCall(PetscMalloc6(n * d, &B->x, n, &B->t, n, &B->alpha, n, &B->sigma, n * d, &B->eps, n * d, &B->starget));
  PetscCall(PetscMalloc2(n, &B->w, n, &B->labels));
  Normals(n * d, B->x);
  Normals(n * d, B->eps);
  Normals(n * d, B->starget);
  Normals(n, B->t);
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal u = 0.5 * (1 + PetscErfReal(B->t[i] / PetscSqrtReal(2.0))); /* uniform in (0, 1) */
    B->t[i]      = 0.02 + 0.96 * u;
    B->alpha[i]  = PetscExpReal(-0.8 * B->t[i]);
    B->sigma[i]  = PetscSqrtReal(1 - B->alpha[i] * B->alpha[i]);
    B->w[i]      = 0.5 + (PetscReal)(i % 7) / 7;
    B->labels[i] = nclasses ? (i % (nclasses + 1)) - 1 : -1;
    for (PetscInt j = 0; j < d; j++) B->x[i * d + j] = B->alpha[i] * B->x[i * d + j] + B->sigma[i] * B->eps[i * d + j];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode FreeBatch(Batch *B)
{
  PetscFunctionBegin;
  PetscCall(PetscFree6(B->x, B->t, B->alpha, B->sigma, B->eps, B->starget));
  PetscCall(PetscFree2(B->w, B->labels));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MakeNet(const char *opts, PetscInt d, SgmNet *net)
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
  PetscCall(SgmNetInitialize(*net, 7));
  PetscCall(SgmNetGetParameters(*net, &P, &th));
  PetscCall(PetscMalloc1(P, &z));
  Normals(P, z);
  for (PetscInt q = 0; q < P; q++) th[q] += 0.05 * z[q]; /* generic weights: nonzero biases and output layer */
  PetscCall(PetscFree(z));
  PetscCall(PetscOptionsClear(NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Loss(SgmNet net, SgmNetPrecision prec, SgmLossType type, const Batch *B, PetscReal *L, PetscReal *g)
{
  PetscFunctionBegin;
  net->precision = prec;
  PetscCall(PetscArrayzero(g, net->P));
  PetscCall(SgmNetLoss(net, type, B->n, B->x, B->t, B->alpha, B->sigma, B->nclasses ? B->labels : NULL, B->eps, B->starget, 0, NULL, B->w, L, g));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* worst segment error and the whole-vector error of g against the reference gr */
static PetscErrorCode GradError(SgmNet net, const PetscReal *g, const PetscReal *gr, PetscReal *eseg, PetscReal *eall)
{
  PetscInt       nb = 0, off[64], len[64];
  const PetscInt W  = net->width;
  PetscReal      dn = 0, rn = 0;

  PetscFunctionBegin;
  off[nb] = net->oWt;  len[nb++] = W * net->E;
  off[nb] = net->obt;  len[nb++] = W;
  if (net->nclasses) { off[nb] = net->ocls; len[nb++] = (net->nclasses + 1) * W; }
  off[nb] = net->oWin; len[nb++] = W * net->d;
  off[nb] = net->obin; len[nb++] = W;
  for (PetscInt l = 0; l < net->depth; l++) {
    PetscInt o = net->oblk + l * net->blk;
    off[nb] = o;             len[nb++] = W * W;
    off[nb] = o + W * W;     len[nb++] = W;
    off[nb] = o + W * W + W; len[nb++] = W * W;
  }
  off[nb] = net->oWout; len[nb++] = net->d * W;
  off[nb] = net->obout; len[nb++] = net->d;
  for (PetscInt p = 0; p < net->P; p++) {
    dn += (g[p] - gr[p]) * (g[p] - gr[p]);
    rn += gr[p] * gr[p];
  }
  *eall = PetscSqrtReal(dn / rn);
  *eseg = 0;
  for (PetscInt b = 0; b < nb; b++) {
    PetscReal sd = 0, sr = 0;
    for (PetscInt p = off[b]; p < off[b] + len[b]; p++) {
      sd += (g[p] - gr[p]) * (g[p] - gr[p]);
      sr += gr[p] * gr[p];
    }
    *eseg = PetscMax(*eseg, PetscSqrtReal(sd) / PetscMax(PetscSqrtReal(sr), 1e-3 * PetscSqrtReal(rn)));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscReal Bound(SgmNet net)
{
  return 16 * PetscPowReal(2.0, -24) * (net->depth + 2);
}

static PetscErrorCode TestAgreement(Tally *tl, const char *opts, PetscInt d, PetscInt n, PetscInt nclasses, PetscBool canfail)
{
  SgmNet     net;
  Batch      B;
  PetscReal *gd, *gs, Ld, Ls, es, ea, bound;
  char       name[256];

  PetscFunctionBegin;
  PetscCall(MakeNet(opts, d, &net));
  PetscCall(MakeBatch(n, d, nclasses, &B));
  PetscCall(PetscMalloc2(net->P, &gd, net->P, &gs));
  bound = Bound(net);
  for (int k = 0; k < 3; k++) {
    const SgmLossType type = k == 0 ? SGM_LOSS_SIMPLE : (k == 1 ? SGM_LOSS_DSM : SGM_LOSS_ESM);
    PetscCall(Loss(net, SGM_NET_PRECISION_DOUBLE, type, &B, &Ld, gd));
    PetscCall(Loss(net, SGM_NET_PRECISION_SINGLE, type, &B, &Ls, gs));
    PetscCall(GradError(net, gs, gd, &es, &ea));
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s n=%d %s: loss", opts, (int)n, SgmLossTypes[type]));
    PetscCall(Check(tl, name, PetscAbsReal(Ls - Ld) / PetscAbsReal(Ld), bound));
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s n=%d %s: gradient", opts, (int)n, SgmLossTypes[type]));
    PetscCall(Check(tl, name, ea, bound));
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s n=%d %s: worst segment", opts, (int)n, SgmLossTypes[type]));
    PetscCall(Check(tl, name, es, bound));
    if (canfail && k == 0) {
      const PetscInt W = net->width, o = net->oblk;
      PetscReal     *th, *g2, Lp;
      PetscInt       P;

      /* (b) the gradient of W_1 transposed */
      PetscCall(PetscMalloc1(net->P, &g2));
      PetscCall(PetscArraycpy(g2, gs, net->P));
      for (PetscInt r = 0; r < W; r++)
        for (PetscInt c = 0; c < W; c++) g2[o + r * W + c] = gs[o + c * W + r];
      PetscCall(GradError(net, g2, gd, &es, &ea));
      PetscCall(Check(tl, "can fail: W_1 gradient transposed, worst segment > 10 bound", 10 * bound / es, 1));
      /* (b) weights of Wout scaled by 1 + 1e-4: a real difference of that size is seen */
      PetscCall(SgmNetGetParameters(net, &P, &th));
      for (PetscInt p = net->oWout; p < net->oWout + net->d * W; p++) th[p] *= 1 + 1e-4;
      PetscCall(Loss(net, SGM_NET_PRECISION_DOUBLE, type, &B, &Lp, g2));
      PetscCall(GradError(net, g2, gd, &es, &ea));
      PetscCall(Check(tl, "can fail: Wout scaled by 1 + 1e-4, worst segment > 10 bound", 10 * bound / es, 1));
      for (PetscInt p = net->oWout; p < net->oWout + net->d * W; p++) th[p] /= 1 + 1e-4;
      PetscCall(PetscFree(g2));
    }
  }
  PetscCall(PetscFree2(gd, gs));
  PetscCall(FreeBatch(&B));
  PetscCall(SgmNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ExpectError(Tally *tl, const char *name, PetscErrorCode ierr)
{
  const char *text, *msg = NULL;

  PetscFunctionBegin;
  if (ierr) PetscCall(PetscErrorMessage(ierr, &text, (char **)&msg));
  PetscCall(Check(tl, name, ierr ? 0 : 1, 0));
  if (ierr && msg) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "    message: %s\n", msg));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TestRefuse(Tally *tl)
{
  SgmNet         net;
  Batch          B;
  PetscReal     *g, *probes, L;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(MakeNet("-net_width 8 -net_depth 2 -net_embed_dim 4 -net_precision single", 3, &net));
  PetscCall(MakeBatch(4, 3, 0, &B));
  PetscCall(PetscMalloc2(net->P, &g, 4 * 2 * 3, &probes));
  Normals(4 * 2 * 3, probes);
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SgmNetLoss(net, SGM_LOSS_SSM, B.n, B.x, B.t, B.alpha, B.sigma, NULL, B.eps, NULL, 2, probes, B.w, &L, g);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectError(tl, "single precision refuses ssm", ierr));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SgmNetLoss(net, SGM_LOSS_ISM, B.n, B.x, B.t, B.alpha, B.sigma, NULL, B.eps, NULL, 0, NULL, B.w, &L, g);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectError(tl, "single precision refuses ism", ierr));
  PetscCall(PetscFree2(g, probes));
  PetscCall(FreeBatch(&B));
  PetscCall(SgmNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TestSaveLoad(Tally *tl)
{
  SgmNet      net, back;
  char        fname[PETSC_MAX_PATH_LEN];
  hid_t       f;
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(PetscSNPrintf(fname, sizeof(fname), "test_netsingle_%d_%d.h5", (int)getpid(), (int)rank));
  PetscCall(MakeNet("-net_width 8 -net_depth 2 -net_embed_dim 4 -net_precision single", 3, &net));
  PetscCallHDF5(f = H5Fcreate(fname, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(SgmNetSave(net, f));
  PetscCallHDF5(H5Fclose(f));
  PetscCallHDF5(f = H5Fopen(fname, H5F_ACC_RDWR, H5P_DEFAULT));
  PetscCall(SgmNetCreate(PETSC_COMM_SELF, &back));
  PetscCall(SgmNetLoad(back, f));
  PetscCall(Check(tl, "net_precision single saved and loaded", back->precision == SGM_NET_PRECISION_SINGLE ? 0 : 1, 0));
  PetscCall(SgmNetDestroy(&back));
  PetscCallHDF5(H5Adelete(f, "net_precision"));
  PetscCall(SgmNetCreate(PETSC_COMM_SELF, &back));
  back->precision = SGM_NET_PRECISION_SINGLE; /* a fresh net must take double from a file without the attribute */
  PetscCall(SgmNetLoad(back, f));
  PetscCall(Check(tl, "file without net_precision loads as double", back->precision == SGM_NET_PRECISION_DOUBLE ? 0 : 1, 0));
  PetscCall(SgmNetDestroy(&back));
  PetscCallHDF5(H5Fclose(f));
  (void)unlink(fname);
  PetscCall(SgmNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  Tally tl = {0, 0};

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SgmInitializePackage());
  PetscCall(TestAgreement(&tl, "-net_width 64 -net_depth 3", 2, 512, 0, PETSC_TRUE));
  PetscCall(TestAgreement(&tl, "-net_width 16 -net_depth 1 -net_residual false -net_output score", 3, 64, 0, PETSC_FALSE));
  PetscCall(TestAgreement(&tl, "-net_width 32 -net_depth 4 -net_classes 3 -net_output edm -net_embedding sinusoidal", 5, 300, 3, PETSC_FALSE));
  PetscCall(TestAgreement(&tl, "-net_width 256 -net_depth 3 -net_time_input t", 64, 256, 0, PETSC_FALSE));
  PetscCall(TestAgreement(&tl, "-net_width 16 -net_depth 2", 2, 9000, 0, PETSC_FALSE));
  PetscCall(TestRefuse(&tl));
  PetscCall(TestSaveLoad(&tl));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  PetscCall(PetscFinalize());
  return tl.fail != 0;
}
