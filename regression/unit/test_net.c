/*
  Unit test of the MLP score network and its training losses (src/nn).
    (a) every loss (simple dsm esm ssm ssmvr ism) for every output form (eps score edm), with and
        without residual connections, with and without classes, both time embeddings (and the t
        time input): the hand-written gradient against central differences of the loss in theta.
        Measure: for each parameter block (Wt, bt, class table, Win, bin, W_l, b_l, P_l, Wout, bout)
        and for the whole vector, a random unit direction u restricted to it;
        err = |g.u - fd| / max(|g.u|, 1e-2 |g_block|), fd = Richardson-extrapolated central
        difference (h = 1e-3, 5e-4; O(h^4)); the line reports the worst block.  Bound 1e-6.
    (b) SgmNetScoreJacobianVector against central differences of SgmNetScore in x; the exact trace
        (SgmNetScoreDivergence, which ism uses) against the sum of finite-difference JVPs.
    (c) the output conversion: with F = bout (all other weights zero) s matches eps / score / edm
        formulas written here (EDM c_skip, c_out, c_in); with general weights the edm score matches
        the formula applied to F(c_in x/alpha) obtained from a score-output twin of the net.
    (d) loss values against the same formulas evaluated from SgmNetScore / JVP / divergence.
    (e) a batch split into chunks (tangent losses on many samples) gives the same loss and gradient.
    (f) Save/Load through a temporary HDF5 file: weights bitwise equal, scores bitwise equal; a
        file whose theta has the wrong length, a net of another width, and data of another
        dimension are refused; and a save/load through a file opened with MPI-IO on all ranks.
        test_net_2ranks.sh runs the whole test on 2 ranks (every check reduced over them).
    (g) the shared-time path (all samples at one time and label, as a sampler calls the net: the
        time embedding and P_l temb computed once) against the general path forced by net->noshare:
        score, JVP, trace, and the loss gradient (whose backward pass then sums the time adjoint
        first), relative to the largest entry.  Bound 1e-14 (only the summation order differs).
  -ref_print: print three networks with inputs and outputs for the NumPy reference net_ref.py
  (run by test_net_ref.sh): an independent forward pass of the documented architecture.
  -bench: instead time forward+backward of the simple loss (batch 1024, width 256, depth 3, d 2/64).
  Prints one line per check and "N passed, M failed"; exit status M != 0.  A few seconds.
*/
#include <sgm.h>
#include <sgm/private/netimpl.h>
#include <sgmio.h>
#include <unistd.h>

#include "check.h"

#define NS 5 /* samples */
#define DD 3 /* dimension */
#define NP 2 /* probes */

typedef struct {
  PetscInt  n, d, nclasses;
  PetscReal x[NS * DD], t[NS], alpha[NS], sigma[NS], eps[NS * DD], starget[NS * DD], probes[NS * NP * DD], w[NS];
  PetscInt  labels[NS];
} Data;

static uint64_t rngstep = 100;

static void Normals(PetscInt count, PetscReal *z)
{
  SgmRandomNormalSample(12345, SGM_STREAM_PRIOR, (PetscInt)rngstep++, 0, count, z);
}

static void MakeData(PetscInt nclasses, Data *D)
{
  PetscReal z[NS * NP * DD];

  D->n = NS;
  D->d = DD;
  D->nclasses = nclasses;
  Normals(NS * DD, D->x);
  Normals(NS * DD, D->eps);
  Normals(NS * DD, D->starget);
  Normals(NS * NP * DD, D->probes);
  Normals(NS * NP * DD, z);
  for (PetscInt q = 0; q < NS * NP * DD; q += 2) D->probes[q] = z[q] > 0 ? 1 : -1; /* half Rademacher */
  for (PetscInt i = 0; i < NS; i++) {
    D->t[i]     = 0.05 + 0.9 * i / (NS - 1);
    D->alpha[i] = PetscExpReal(-0.8 * D->t[i]);
    D->sigma[i] = 0.08 + 1.5 * D->t[i];
    D->w[i]     = 0.5 + 0.25 * i;
    D->labels[i] = nclasses ? (i % (nclasses + 1)) - 1 : -1; /* includes the null label -1 */
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
  if (perturb > 0) { /* generic weights: nonzero biases, output layer not small */
    PetscCall(PetscMalloc1(P, &z));
    Normals(P, z);
    for (PetscInt q = 0; q < P; q++) th[q] += perturb * z[q];
    PetscCall(PetscFree(z));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Loss(SgmNet net, SgmLossType type, const Data *D, PetscReal *L, PetscReal *g)
{
  PetscFunctionBegin;
  PetscCall(SgmNetLoss(net, type, D->n, D->x, D->t, D->alpha, D->sigma, D->nclasses ? D->labels : NULL, D->eps, D->starget, NP, D->probes, D->w, L, g));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Worst relative error of g.u against Richardson-extrapolated central differences, over blocks. */
static PetscErrorCode GradientError(SgmNet net, SgmLossType type, const Data *D, PetscReal *err)
{
  PetscInt        P, nb = 0, off[64], len[64];
  PetscReal      *th, *g, *u, L;
  const PetscInt  W    = net->width;
  const PetscReal h[2] = {1e-3, 5e-4};

  PetscFunctionBegin;
  PetscCall(SgmNetGetParameters(net, &P, &th));
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
  off[nb] = 0;          len[nb++] = P;
  PetscCall(PetscCalloc1(P, &g));
  PetscCall(PetscMalloc1(P, &u));
  PetscCall(Loss(net, type, D, &L, g));
  *err = 0;
  for (PetscInt b = 0; b < nb; b++) {
    PetscReal gu = 0, gn = 0, un = 0, fd[2], fdx;
    PetscCall(PetscArrayzero(u, P));
    Normals(len[b], u + off[b]);
    for (PetscInt q = off[b]; q < off[b] + len[b]; q++) un += u[q] * u[q];
    un = PetscSqrtReal(un);
    for (PetscInt q = off[b]; q < off[b] + len[b]; q++) {
      u[q] /= un;
      gu += g[q] * u[q];
      gn += g[q] * g[q];
    }
    gn = PetscSqrtReal(gn);
    for (int k = 0; k < 2; k++) {
      PetscReal Lp, Lm;
      for (PetscInt q = off[b]; q < off[b] + len[b]; q++) th[q] += h[k] * u[q];
      PetscCall(Loss(net, type, D, &Lp, NULL));
      for (PetscInt q = off[b]; q < off[b] + len[b]; q++) th[q] -= 2 * h[k] * u[q];
      PetscCall(Loss(net, type, D, &Lm, NULL));
      for (PetscInt q = off[b]; q < off[b] + len[b]; q++) th[q] += h[k] * u[q];
      fd[k] = (Lp - Lm) / (2 * h[k]);
    }
    fdx  = (4 * fd[1] - fd[0]) / 3;
    *err = PetscMax(*err, PetscAbsReal(gu - fdx) / PetscMax(PetscAbsReal(gu), 1e-2 * gn + 1e-300));
  }
  PetscCall(PetscFree(g));
  PetscCall(PetscFree(u));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (b) JVP against FD of the score in x, and the exact trace against the sum of FD JVPs. */
static PetscErrorCode TestJacobian(Tally *tl, const char *label, SgmNet net, const Data *D)
{
  const PetscInt  n = D->n, d = D->d;
  const PetscInt *lab = D->nclasses ? D->labels : NULL;
  PetscReal       s[NS * DD], jv[NS * DD], sp[NS * DD], sm[NS * DD], xp[NS * DD], div[NS], jmax = 0, ej = 0, et = 0, tmax = 0, econs = 0;
  const PetscReal h[2] = {1e-3, 5e-4};
  char            name[128];

  PetscFunctionBegin;
  PetscCall(SgmNetScoreJacobianVector(net, n, D->x, D->t, D->alpha, D->sigma, lab, D->probes, s, jv));
  { /* direction: the first n*d entries of the probes, read as [n][d] */
    PetscReal fd[2][NS * DD];
    for (int k = 0; k < 2; k++) {
      for (PetscInt q = 0; q < n * d; q++) xp[q] = D->x[q] + h[k] * D->probes[q];
      PetscCall(SgmNetScore(net, n, xp, D->t, D->alpha, D->sigma, lab, sp));
      for (PetscInt q = 0; q < n * d; q++) xp[q] = D->x[q] - h[k] * D->probes[q];
      PetscCall(SgmNetScore(net, n, xp, D->t, D->alpha, D->sigma, lab, sm));
      for (PetscInt q = 0; q < n * d; q++) fd[k][q] = (sp[q] - sm[q]) / (2 * h[k]);
    }
    for (PetscInt q = 0; q < n * d; q++) {
      jmax = PetscMax(jmax, PetscAbsReal(jv[q]));
      ej   = PetscMax(ej, PetscAbsReal(jv[q] - (4 * fd[1][q] - fd[0][q]) / 3));
    }
  }
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s JVP vs FD (max abs err / max |Jv|)", label));
  PetscCall(Check(tl, name, ej / jmax, 1e-7));
  PetscCall(SgmNetScoreDivergence(net, n, D->x, D->t, D->alpha, D->sigma, lab, NULL, div));
  for (PetscInt i = 0; i < n; i++) {
    PetscReal tr = 0, trj = 0;
    for (PetscInt k = 0; k < d; k++) {
      PetscReal fd[2], e[DD] = {0}, xs[DD], a, b;
      e[k] = 1;
      for (int r = 0; r < 2; r++) {
        for (PetscInt j = 0; j < d; j++) xs[j] = D->x[i * d + j] + h[r] * e[j];
        PetscCall(SgmNetScore(net, 1, xs, D->t + i, D->alpha + i, D->sigma + i, lab ? lab + i : NULL, sp));
        a = sp[k];
        for (PetscInt j = 0; j < d; j++) xs[j] = D->x[i * d + j] - h[r] * e[j];
        PetscCall(SgmNetScore(net, 1, xs, D->t + i, D->alpha + i, D->sigma + i, lab ? lab + i : NULL, sp));
        b     = sp[k];
        fd[r] = (a - b) / (2 * h[r]);
      }
      tr += (4 * fd[1] - fd[0]) / 3;
      PetscCall(SgmNetScoreJacobianVector(net, 1, D->x + i * d, D->t + i, D->alpha + i, D->sigma + i, lab ? lab + i : NULL, e, sp, sm));
      trj += sm[k];
    }
    tmax  = PetscMax(tmax, PetscAbsReal(div[i]));
    et    = PetscMax(et, PetscAbsReal(div[i] - tr));
    econs = PetscMax(econs, PetscAbsReal(div[i] - trj));
  }
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s trace vs sum of FD JVPs (/ max|tr|)", label));
  PetscCall(Check(tl, name, et / tmax, 1e-7));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s trace vs sum of unit JVPs (/ max|tr|)", label));
  PetscCall(Check(tl, name, econs / tmax, 1e-13));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (a) + (b) over the architecture variants */
static PetscErrorCode TestGradients(Tally *tl)
{
  const char *outs[3] = {"eps", "score", "edm"}, *embs[2] = {"fourier", "sinusoidal"};
  char        opts[512], name[128];

  PetscFunctionBegin;
  for (int o = 0; o < 3; o++)
    for (int e = 0; e < 2; e++)
      for (int r = 0; r < 2; r++)
        for (int c = 0; c < 2; c++) {
          SgmNet net;
          Data   D;
          PetscCall(PetscSNPrintf(opts, sizeof(opts), "-net_width 7 -net_depth 2 -net_embed_dim 6 -net_fourier_scale 1 -net_output %s -net_embedding %s -net_residual %s -net_classes %d -net_time_input %s", outs[o], embs[e], r ? "true" : "false", c ? 3 : 0, (e && !r) ? "t" : "logsigma"));
          PetscCall(MakeNet(opts, DD, 7 + o + 3 * e, 0.3, &net));
          MakeData(c ? 3 : 0, &D);
          for (int l = 0; l <= SGM_LOSS_SSMVR; l++) {
            PetscReal err = 0;
            PetscCall(GradientError(net, (SgmLossType)l, &D, &err));
            PetscCall(PetscSNPrintf(name, sizeof(name), "grad %-6s %-5s %-10s %s%s%s", SgmLossTypes[l], outs[o], embs[e], r ? "res" : "plain", c ? " cls" : "", (e && !r) ? " t" : ""));
            PetscCall(Check(tl, name, err, 1e-6));
          }
          if (!c) {
            PetscCall(PetscSNPrintf(name, sizeof(name), "%s %s %s", outs[o], embs[e], r ? "res" : "plain"));
            PetscCall(TestJacobian(tl, name, net, &D));
          }
          PetscCall(SgmNetDestroy(&net));
        }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* EDM score from the formula of Karras et al. (2022), Table 1, with F given. */
static PetscReal EDMScore(PetscReal x, PetscReal F, PetscReal alpha, PetscReal sigma, PetscReal sd)
{
  long double sh = (long double)sigma / alpha, y = (long double)x / alpha, q = sh * sh + (long double)sd * sd;
  long double cskip = sd * sd / q, cout = sh * sd / sqrtl(q), D = cskip * y + cout * F;
  return (PetscReal)(((long double)alpha * D - x) / ((long double)sigma * sigma));
}

/* (c) the output conversion */
static PetscErrorCode TestConversion(Tally *tl)
{
  const char *outs[3] = {"eps", "score", "edm"};
  char        opts[256], name[128];
  Data        D;

  PetscFunctionBegin;
  MakeData(0, &D);
  for (int o = 0; o < 3; o++) { /* F = bout */
    SgmNet     net;
    PetscInt   P;
    PetscReal *th, s[NS * DD], err = 0, smax = 0;
    PetscCall(PetscSNPrintf(opts, sizeof(opts), "-net_width 5 -net_depth 2 -net_embed_dim 4 -net_output %s -net_sigma_data 0.7", outs[o]));
    PetscCall(MakeNet(opts, DD, 3, 0, &net));
    PetscCall(SgmNetGetParameters(net, &P, &th));
    PetscCall(PetscArrayzero(th, P));
    for (PetscInt j = 0; j < DD; j++) th[net->obout + j] = 0.3 + j;
    PetscCall(SgmNetScore(net, NS, D.x, D.t, D.alpha, D.sigma, NULL, s));
    for (PetscInt i = 0; i < NS; i++)
      for (PetscInt j = 0; j < DD; j++) {
        PetscReal F = 0.3 + j, ref = o == 0 ? -F / D.sigma[i] : o == 1 ? F / D.sigma[i] : EDMScore(D.x[i * DD + j], F, D.alpha[i], D.sigma[i], 0.7);
        err  = PetscMax(err, PetscAbsReal(s[i * DD + j] - ref));
        smax = PetscMax(smax, PetscAbsReal(ref));
      }
    PetscCall(PetscSNPrintf(name, sizeof(name), "conversion %s, F = const (rel)", outs[o]));
    PetscCall(Check(tl, name, err / smax, 1e-14));
    PetscCall(SgmNetDestroy(&net));
  }
  { /* edm with general weights: F(c_in x/alpha, c) read off a score-output twin with the same theta */
    SgmNet     edm, twin;
    PetscInt   P;
    PetscReal *th, *th2, s[NS * DD], s2[NS * DD], xin[NS * DD], err = 0, smax = 0;
    PetscCall(MakeNet("-net_width 6 -net_depth 2 -net_embed_dim 4 -net_output edm -net_sigma_data 0.7", DD, 5, 0.3, &edm));
    PetscCall(MakeNet("-net_width 6 -net_depth 2 -net_embed_dim 4 -net_output score", DD, 5, 0, &twin));
    PetscCall(SgmNetGetParameters(edm, &P, &th));
    PetscCall(SgmNetGetParameters(twin, NULL, &th2));
    PetscCall(PetscArraycpy(th2, th, P));
    for (PetscInt i = 0; i < NS; i++) {
      PetscReal sh = D.sigma[i] / D.alpha[i], cin = 1 / PetscSqrtReal(sh * sh + 0.49);
      for (PetscInt j = 0; j < DD; j++) xin[i * DD + j] = cin * D.x[i * DD + j] / D.alpha[i];
    }
    PetscCall(SgmNetScore(edm, NS, D.x, D.t, D.alpha, D.sigma, NULL, s));
    PetscCall(SgmNetScore(twin, NS, xin, D.t, D.alpha, D.sigma, NULL, s2)); /* = F / sigma */
    for (PetscInt i = 0; i < NS; i++)
      for (PetscInt j = 0; j < DD; j++) {
        PetscReal ref = EDMScore(D.x[i * DD + j], D.sigma[i] * s2[i * DD + j], D.alpha[i], D.sigma[i], 0.7);
        err  = PetscMax(err, PetscAbsReal(s[i * DD + j] - ref));
        smax = PetscMax(smax, PetscAbsReal(ref));
      }
    PetscCall(Check(tl, "conversion edm, general F via a score-output twin (rel)", err / smax, 1e-13));
    PetscCall(SgmNetDestroy(&edm));
    PetscCall(SgmNetDestroy(&twin));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (d) loss values from the score, JVP and divergence; (e) chunked batches */
static PetscErrorCode TestLossValues(Tally *tl)
{
  SgmNet    net;
  Data      D;
  PetscReal s[NS * DD], jv[NS * DD], div[NS], L, ref[SGM_LOSS_SSMVR + 1] = {0};
  char      name[128];

  PetscFunctionBegin;
  MakeData(3, &D);
  PetscCall(MakeNet("-net_width 8 -net_depth 3 -net_embed_dim 6 -net_output edm -net_classes 3", DD, 11, 0.3, &net));
  PetscCall(SgmNetScore(net, NS, D.x, D.t, D.alpha, D.sigma, D.labels, s));
  PetscCall(SgmNetScoreDivergence(net, NS, D.x, D.t, D.alpha, D.sigma, D.labels, NULL, div));
  for (PetscInt i = 0; i < NS; i++) {
    PetscReal a = 0, b = 0, c = 0, n2 = 0, sl = 0, sv = 0;
    for (PetscInt j = 0; j < DD; j++) {
      const PetscInt  q = i * DD + j;
      const PetscReal e = D.eps[q] + D.sigma[i] * s[q]; /* eps - eps_theta */
      a += e * e;
      b += PetscSqr(s[q] + D.eps[q] / D.sigma[i]);
      c += PetscSqr(s[q] - D.starget[q]);
      n2 += s[q] * s[q];
    }
    for (PetscInt k = 0; k < NP; k++) {
      const PetscReal *v = D.probes + (i * NP + k) * DD;
      PetscReal        vjv = 0, vs = 0;
      PetscCall(SgmNetScoreJacobianVector(net, 1, D.x + i * DD, D.t + i, D.alpha + i, D.sigma + i, D.labels + i, v, NULL, jv));
      for (PetscInt j = 0; j < DD; j++) {
        vjv += v[j] * jv[j];
        vs += v[j] * s[i * DD + j];
      }
      sl += (vjv + 0.5 * vs * vs) / NP;
      sv += vjv / NP;
    }
    ref[SGM_LOSS_SIMPLE] += D.w[i] * a;
    ref[SGM_LOSS_DSM] += D.w[i] * b;
    ref[SGM_LOSS_ESM] += D.w[i] * c;
    ref[SGM_LOSS_SSM] += D.w[i] * sl;
    ref[SGM_LOSS_SSMVR] += D.w[i] * (0.5 * n2 + sv);
    ref[SGM_LOSS_ISM] += D.w[i] * (div[i] + 0.5 * n2);
  }
  for (int l = 0; l <= SGM_LOSS_SSMVR; l++) {
    PetscCall(Loss(net, (SgmLossType)l, &D, &L, NULL));
    PetscCall(PetscSNPrintf(name, sizeof(name), "loss value %s from score/JVP/trace (rel)", SgmLossTypes[l]));
    PetscCall(Check(tl, name, PetscAbsReal(L - ref[l]) / PetscAbsReal(ref[l]), 1e-13));
  }
  PetscCall(SgmNetDestroy(&net));
  { /* (e) 2100 samples with 3 probes each run as 2048 + 52; compare with two calls of 1000 + 1100 */
    const PetscInt n = 2100, d = 2, m = 3;
    PetscReal     *x, *al, *sg, *v, *g1, *g2, L1, L2, La, Lb, eg = 0, gmax = 0;
    PetscInt       P;
    PetscCall(MakeNet("-net_width 6 -net_depth 2 -net_embed_dim 4 -net_output eps", d, 2, 0.3, &net));
    PetscCall(SgmNetGetParameters(net, &P, NULL));
    PetscCall(PetscMalloc6(n * d, &x, n, &al, n, &sg, n * m * d, &v, P, &g1, P, &g2));
    Normals(n * d, x);
    Normals(n * m * d, v);
    for (PetscInt i = 0; i < n; i++) {
      al[i] = 1 - 0.4 * i / n;
      sg[i] = 0.1 + (PetscReal)i / n;
    }
    PetscCall(PetscArrayzero(g1, P));
    PetscCall(PetscArrayzero(g2, P));
    PetscCall(SgmNetLoss(net, SGM_LOSS_SSM, n, x, NULL, al, sg, NULL, NULL, NULL, m, v, NULL, &L1, g1));
    PetscCall(SgmNetLoss(net, SGM_LOSS_SSM, 1000, x, NULL, al, sg, NULL, NULL, NULL, m, v, NULL, &La, g2));
    PetscCall(SgmNetLoss(net, SGM_LOSS_SSM, n - 1000, x + 1000 * d, NULL, al + 1000, sg + 1000, NULL, NULL, NULL, m, v + 1000 * m * d, NULL, &Lb, g2));
    L2 = La + Lb;
    for (PetscInt q = 0; q < P; q++) {
      eg   = PetscMax(eg, PetscAbsReal(g1[q] - g2[q]));
      gmax = PetscMax(gmax, PetscAbsReal(g1[q]));
    }
    PetscCall(Check(tl, "chunked batch (ssm, 2100 x 3 probes): loss (rel)", PetscAbsReal(L1 - L2) / PetscAbsReal(L1), 1e-12));
    PetscCall(Check(tl, "chunked batch (ssm, 2100 x 3 probes): grad (max/max)", eg / gmax, 1e-12));
    PetscCall(PetscFree6(x, al, sg, v, g1, g2));
    PetscCall(SgmNetDestroy(&net));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (f) Save/Load */
static PetscErrorCode ExpectError(Tally *tl, const char *name, PetscErrorCode ierr)
{
  const char *text, *msg = NULL;

  PetscFunctionBegin;
  if (ierr) PetscCall(PetscErrorMessage(ierr, &text, (char **)&msg));
  PetscCall(Check(tl, name, ierr ? 0 : 1, 0));
  if (ierr && msg) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "    message: %s\n", msg));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TestSaveLoad(Tally *tl)
{
  SgmNet         net, net2, net3;
  char           fname[PETSC_MAX_PATH_LEN] = "/tmp/sgm_test_net_XXXXXX";
  hid_t          file, group;
  int            fd;
  PetscInt       P, P2;
  PetscReal     *th, *th2, s[NS * DD], s2[NS * DD];
  Data           D;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  MakeData(2, &D);
  fd = mkstemp(fname);
  PetscCheck(fd >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot create a temporary file");
  close(fd);
  PetscCall(MakeNet("-net_width 9 -net_depth 2 -net_embed_dim 8 -net_output edm -net_classes 2 -net_residual false -net_sigma_data 0.3", DD, 21, 0.3, &net));
  PetscCallHDF5(file = H5Fcreate(fname, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  PetscCallHDF5(group = H5Gcreate2(file, "/model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(SgmNetSave(net, group));
  PetscCallHDF5(H5Gclose(group));
  PetscCallHDF5(H5Fclose(file));

  PetscCall(PetscOptionsClear(NULL));
  PetscCall(SgmNetCreate(PETSC_COMM_WORLD, &net2)); /* defaults: width 128 etc., overridden by the file */
  PetscCallHDF5(file = H5Fopen(fname, H5F_ACC_RDONLY, H5P_DEFAULT));
  PetscCallHDF5(group = H5Gopen2(file, "/model", H5P_DEFAULT));
  PetscCall(SgmNetLoad(net2, group));
  PetscCall(SgmNetGetParameters(net, &P, &th));
  PetscCall(SgmNetGetParameters(net2, &P2, &th2));
  PetscCall(Check(tl, "save/load: parameters bitwise (1 if not)", P != P2 || memcmp(th, th2, P * sizeof(PetscReal)) || memcmp(net->freq, net2->freq, net->E / 2 * sizeof(PetscReal)), 0));
  PetscCall(SgmNetScore(net, NS, D.x, D.t, D.alpha, D.sigma, D.labels, s));
  PetscCall(SgmNetScore(net2, NS, D.x, D.t, D.alpha, D.sigma, D.labels, s2));
  PetscCall(Check(tl, "save/load: scores bitwise (1 if not)", memcmp(s, s2, sizeof(s)) != 0, 0));

  PetscCall(MakeNet("-net_width 10 -net_depth 2 -net_embed_dim 8 -net_output edm -net_classes 2 -net_residual false -net_sigma_data 0.3", DD, 1, 0, &net3));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SgmNetLoad(net3, group);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectError(tl, "load into a net of another width is refused", ierr));
  PetscCall(SgmNetDestroy(&net3));
  PetscCall(SgmNetCreate(PETSC_COMM_WORLD, &net3));
  PetscCall(SgmNetSetDimension(net3, DD + 1));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SgmNetLoad(net3, group);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectError(tl, "load for data of another dimension is refused", ierr));
  PetscCall(SgmNetDestroy(&net3));
  PetscCallHDF5(H5Gclose(group));
  PetscCallHDF5(H5Fclose(file));

  { /* a theta of the wrong length */
    hsize_t dims[1] = {(hsize_t)(P - 1)};
    hid_t   space, dset;
    PetscCallHDF5(file = H5Fopen(fname, H5F_ACC_RDWR, H5P_DEFAULT));
    PetscCallHDF5(H5Ldelete(file, "/model/theta", H5P_DEFAULT));
    PetscCallHDF5(space = H5Screate_simple(1, dims, NULL));
    PetscCallHDF5(dset = H5Dcreate2(file, "/model/theta", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    PetscCallHDF5(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, th));
    PetscCallHDF5(H5Dclose(dset));
    PetscCallHDF5(H5Sclose(space));
    PetscCallHDF5(H5Fclose(file));
    PetscCall(SgmNetCreate(PETSC_COMM_WORLD, &net3));
    PetscCallHDF5(file = H5Fopen(fname, H5F_ACC_RDONLY, H5P_DEFAULT));
    PetscCallHDF5(group = H5Gopen2(file, "/model", H5P_DEFAULT));
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = SgmNetLoad(net3, group);
    PetscCall(PetscPopErrorHandler());
    PetscCall(ExpectError(tl, "load of a theta of the wrong length is refused", ierr));
    PetscCallHDF5(H5Gclose(group));
    PetscCallHDF5(H5Fclose(file));
    PetscCall(SgmNetDestroy(&net3));
  }
  PetscCall(SgmNetDestroy(&net));
  PetscCall(SgmNetDestroy(&net2));
  (void)unlink(fname);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (f) the same through a file opened with MPI-IO on every rank (as the trainer writes checkpoints) */
static PetscErrorCode TestSaveLoadParallel(Tally *tl)
{
  SgmNet      net, net2;
  char        fname[PETSC_MAX_PATH_LEN] = "/tmp/sgm_test_net_XXXXXX";
  hid_t       fapl, file, group;
  PetscMPIInt rank;
  PetscInt    P, P2;
  PetscReal  *th, *th2;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  if (!rank) {
    int fd = mkstemp(fname);
    PetscCheck(fd >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot create a temporary file");
    close(fd);
  }
  PetscCallMPI(MPI_Bcast(fname, sizeof(fname), MPI_CHAR, 0, PETSC_COMM_WORLD));
  PetscCall(MakeNet("-net_width 11 -net_depth 3 -net_embedding sinusoidal -net_embed_dim 4 -net_output score -net_time_input t", DD, 4, 0.3, &net));
  PetscCallHDF5(fapl = H5Pcreate(H5P_FILE_ACCESS));
  PetscCallHDF5(H5Pset_fapl_mpio(fapl, PETSC_COMM_WORLD, MPI_INFO_NULL));
  PetscCallHDF5(file = H5Fcreate(fname, H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
  PetscCallHDF5(H5Pclose(fapl));
  PetscCallHDF5(group = H5Gcreate2(file, "/model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(SgmNetSave(net, group));
  PetscCallHDF5(H5Gclose(group));
  PetscCallHDF5(H5Fclose(file));
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(SgmNetCreate(PETSC_COMM_WORLD, &net2));
  PetscCall(SgmH5OpenParallel(PETSC_COMM_WORLD, fname, &file));
  PetscCallHDF5(group = H5Gopen2(file, "/model", H5P_DEFAULT));
  PetscCall(SgmNetLoad(net2, group));
  PetscCallHDF5(H5Gclose(group));
  PetscCallHDF5(H5Fclose(file));
  PetscCall(SgmNetGetParameters(net, &P, &th));
  PetscCall(SgmNetGetParameters(net2, &P2, &th2));
  PetscCall(Check(tl, "save/load via MPI-IO on all ranks: bitwise (1 if not)", P != P2 || memcmp(th, th2, P * sizeof(PetscReal)) || memcmp(net->freq, net2->freq, net->E / 2 * sizeof(PetscReal)) || net2->time_input != SGM_NET_TIME_T || net2->output != SGM_NET_OUTPUT_SCORE, 0));
  PetscCall(SgmNetDestroy(&net));
  PetscCall(SgmNetDestroy(&net2));
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  if (!rank) (void)unlink(fname);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -ref_print: weights, inputs and outputs as text, for the NumPy reference net_ref.py */
static PetscErrorCode PrintArray(const char *name, PetscInt n, const PetscReal *v)
{
  PetscFunctionBegin;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s %d", name, (int)n));
  for (PetscInt i = 0; i < n; i++) PetscCall(PetscPrintf(PETSC_COMM_WORLD, " %.17g", (double)v[i]));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RefPrint(const char *opts, PetscInt nclasses)
{
  SgmNet     net;
  Data       D;
  PetscInt   P;
  PetscReal *th, s[NS * DD], jv[NS * DD], div[NS], lab[NS];

  PetscFunctionBegin;
  MakeData(nclasses, &D);
  PetscCall(MakeNet(opts, DD, 31, 0.3, &net));
  PetscCall(SgmNetGetParameters(net, &P, &th));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "arch %d %d %d %d %d %d %s %.17g %s\n", (int)net->d, (int)net->width, (int)net->depth, (int)net->E, (int)net->nclasses, (int)net->residual, SgmNetOutputs[net->output], (double)net->sigma_data, SgmNetTimeInputs[net->time_input]));
  PetscCall(PrintArray("theta", P, th));
  PetscCall(PrintArray("freq", net->E / 2, net->freq));
  for (PetscInt i = 0; i < NS; i++) lab[i] = D.labels[i];
  PetscCall(PrintArray("x", NS * DD, D.x));
  PetscCall(PrintArray("t", NS, D.t));
  PetscCall(PrintArray("alpha", NS, D.alpha));
  PetscCall(PrintArray("sigma", NS, D.sigma));
  PetscCall(PrintArray("labels", NS, lab));
  PetscCall(PrintArray("v", NS * DD, D.probes));
  PetscCall(SgmNetScoreJacobianVector(net, NS, D.x, D.t, D.alpha, D.sigma, nclasses ? D.labels : NULL, D.probes, s, jv));
  PetscCall(SgmNetScoreDivergence(net, NS, D.x, D.t, D.alpha, D.sigma, nclasses ? D.labels : NULL, NULL, div));
  PetscCall(PrintArray("score", NS * DD, s));
  PetscCall(PrintArray("jv", NS * DD, jv));
  PetscCall(PrintArray("div", NS, div));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "end\n"));
  PetscCall(SgmNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* max |a - b| / max |b| */
static PetscReal RelDiff(PetscInt n, const PetscReal *a, const PetscReal *b)
{
  PetscReal e = 0, m = 0;
  for (PetscInt q = 0; q < n; q++) {
    e = PetscMax(e, PetscAbsReal(a[q] - b[q]));
    m = PetscMax(m, PetscAbsReal(b[q]));
  }
  return e / m;
}

/* (g) the shared-time fast path against the general path */
static PetscErrorCode TestSharedTime(Tally *tl)
{
  const char *opts[3] = {"-net_width 20 -net_depth 3 -net_embed_dim 6 -net_output edm -net_classes 3",
                         "-net_width 17 -net_depth 2 -net_embed_dim 8 -net_residual false -net_output eps",
                         "-net_width 9 -net_depth 1 -net_embedding sinusoidal -net_time_input t -net_output score"};
  char        name[128];

  PetscFunctionBegin;
  for (int c = 0; c < 3; c++) {
    SgmNet     net;
    Data       D;
    PetscInt   P, nc = c ? 0 : 3;
    PetscReal  s[2][NS * DD], jv[2][NS * DD], div[2][NS], L[2], *g[2], e[5];
    PetscBool  took = PETSC_TRUE;

    PetscCall(MakeNet(opts[c], DD, 11 + c, 0.3, &net));
    PetscCall(SgmNetGetParameters(net, &P, NULL));
    PetscCall(PetscCalloc2(P, &g[0], P, &g[1]));
    MakeData(nc, &D);
    for (PetscInt i = 0; i < NS; i++) { /* one time and one label for all samples */
      D.t[i]      = D.t[2];
      D.alpha[i]  = D.alpha[2];
      D.sigma[i]  = D.sigma[2];
      D.labels[i] = nc ? 1 : -1;
    }
    for (int k = 0; k < 2; k++) {
      const PetscInt *lab = nc ? D.labels : NULL;
      net->noshare = (PetscBool)k;
      PetscCall(SgmNetScore(net, NS, D.x, D.t, D.alpha, D.sigma, lab, s[k]));
      if (!k && net->w.nt != 1) took = PETSC_FALSE;
      PetscCall(SgmNetScoreJacobianVector(net, NS, D.x, D.t, D.alpha, D.sigma, lab, D.probes, NULL, jv[k]));
      PetscCall(SgmNetScoreDivergence(net, NS, D.x, D.t, D.alpha, D.sigma, lab, NULL, div[k]));
      PetscCall(SgmNetLoss(net, SGM_LOSS_SSM, NS, D.x, D.t, D.alpha, D.sigma, lab, D.eps, NULL, NP, D.probes, D.w, &L[k], g[k]));
      if (!k && net->w.nt != 1) took = PETSC_FALSE;
    }
    e[0] = RelDiff(NS * DD, s[0], s[1]);
    e[1] = RelDiff(NS * DD, jv[0], jv[1]);
    e[2] = RelDiff(NS, div[0], div[1]);
    e[3] = RelDiff(1, &L[0], &L[1]);
    e[4] = RelDiff(P, g[0], g[1]);
    PetscCall(PetscSNPrintf(name, sizeof(name), "shared time vs general, net %d: path taken (0/1)", c));
    PetscCall(Check(tl, name, took ? 0 : 1, 0));
    PetscCall(PetscSNPrintf(name, sizeof(name), "shared time vs general, net %d: score, JVP, trace", c));
    PetscCall(Check(tl, name, PetscMax(e[0], PetscMax(e[1], e[2])), 1e-14));
    PetscCall(PetscSNPrintf(name, sizeof(name), "shared time vs general, net %d: ssm loss, gradient", c));
    PetscCall(Check(tl, name, PetscMax(e[3], e[4]), 1e-14));
    PetscCall(PetscFree2(g[0], g[1]));
    PetscCall(SgmNetDestroy(&net));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -bench: ms per forward+backward of the simple loss */
static PetscErrorCode Bench(PetscInt d, PetscInt width)
{
  const PetscInt n = 1024, reps = 10;
  SgmNet         net;
  PetscReal     *x, *eps, *al, *sg, *g, L;
  PetscInt       P;
  PetscLogDouble t0, t1;
  char           opts[256];

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-net_width %d -net_depth 3", (int)width));
  PetscCall(MakeNet(opts, d, 1, 0, &net));
  PetscCall(SgmNetGetParameters(net, &P, NULL));
  PetscCall(PetscMalloc5(n * d, &x, n * d, &eps, n, &al, n, &sg, P, &g));
  Normals(n * d, x);
  Normals(n * d, eps);
  for (PetscInt i = 0; i < n; i++) {
    al[i] = 0.9;
    sg[i] = 0.1 + (PetscReal)i / n;
  }
  PetscCall(SgmNetLoss(net, SGM_LOSS_SIMPLE, n, x, NULL, al, sg, NULL, eps, NULL, 0, NULL, NULL, &L, g));
  PetscCall(PetscTime(&t0));
  for (PetscInt r = 0; r < reps; r++) PetscCall(SgmNetLoss(net, SGM_LOSS_SIMPLE, n, x, NULL, al, sg, NULL, eps, NULL, 0, NULL, NULL, &L, g));
  PetscCall(PetscTime(&t1));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "bench: simple loss fwd+bwd, batch %d, width %d, depth 3, d %d, P %d: %.2f ms/step\n", (int)n, (int)width, (int)d, (int)P, 1e3 * (t1 - t0) / reps));
  PetscCall(PetscFree5(x, eps, al, sg, g));
  PetscCall(SgmNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  Tally     tl = {0, 0};
  PetscBool bench = PETSC_FALSE, refprint = PETSC_FALSE;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SgmInitializePackage());
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-bench", &bench, NULL));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-ref_print", &refprint, NULL));
  if (refprint) {
    PetscCall(RefPrint("-net_width 7 -net_depth 3 -net_embed_dim 6 -net_fourier_scale 2 -net_output edm -net_sigma_data 0.6 -net_classes 3", 3));
    PetscCall(RefPrint("-net_width 5 -net_depth 2 -net_embed_dim 4 -net_embedding sinusoidal -net_output eps -net_residual false -net_time_input t", 0));
    PetscCall(RefPrint("-net_width 6 -net_depth 1 -net_embed_dim 8 -net_output score", 0));
  } else if (bench) {
    PetscCall(Bench(2, 256));
    PetscCall(Bench(64, 256));
    PetscCall(Bench(2, 128));
    PetscCall(Bench(2, 512));
  } else {
    PetscCall(TestConversion(&tl));
    PetscCall(TestLossValues(&tl));
    PetscCall(TestSaveLoad(&tl));
    PetscCall(TestSaveLoadParallel(&tl));
    PetscCall(TestGradients(&tl));
    PetscCall(TestSharedTime(&tl));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  }
  PetscCall(PetscFinalize());
  return tl.fail != 0;
}
