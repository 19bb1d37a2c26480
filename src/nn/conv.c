/*
  The convolutional score network of field batches (sgmconvnet.h, doc/fields.md):

    time:     c = log(sigma/alpha)/4,  e = [sin(f_k c), cos(f_k c)],  f_k = 2^(k/2)/2,  k < E/2
              temb = SiLU(Wt e + bt)                                               [C]
    input:    h_0 = x / sqrt(alpha^2 sigma_data^2 + sigma^2)                       [1 channel]
    layer l:  a_l = W_l * h_{l-1} + b_l + P_l temb,  h_l = SiLU(a_l)    (l = 1 .. L-1, C channels)
    output:   F = W_L * h_{L-1} + b_L,  s = -F / sigma                             [1 channel]

  where W * h is the box stencil of radius r: (W * h)(p)[o] = sum_{tap} sum_i W[tap][i][o] h(p + tap)[i].
  Boundaries: periodic, or zero padding (homogeneous Dirichlet, the DMDA's "ghosted" boundary whose
  outer ghost points are never written and stay zero).

  Parallel layout: a DMDA per channel count (1 and C) with the field's process grid, box stencil
  width r; before each layer its input is scattered into the ghosted local array (DMGlobalToLocal).
  Each output entry is then the same fixed-order sum (bias, then taps in order, inputs in order;
  plain loops, no BLAS whose blocking depends on the local size), so the forward pass is bitwise
  independent of the process grid.  The backward pass (the adjoint) applies the transposed stencil
  into a ghosted local adjoint and sums the ghost contributions into their owners with
  DMLocalToGlobal(ADD_VALUES); parameter gradients are this rank's partial sums (the caller's
  single MPI_Allreduce adds them over ranks: domain and batch at once).
*/
#include <sgmconvnet.h>
#include <sgmio.h>

struct _n_SgmConvNet {
  MPI_Comm  comm;
  PetscInt  L, C, r, E; /* layers (>= 2), channels, stencil radius, time features (even) */
  PetscReal sigma_data;
  PetscInt  P;
  PetscReal *theta;
  PetscInt  ci[8], co[8], oW[8], ob[8], oP[8], oWt, obt; /* per layer: channels in/out, offsets (oP < 0: output) */
  PetscReal freq[64];
  PetscBool initialized;
  /* set-up on a field grid */
  SgmField   field;
  PetscInt   dim, ntap, nloc, gn;
  PetscInt  *tap, *gidx; /* [ntap] ghosted offsets of the stencil taps; [nloc] ghosted index of owned point p */
  DM         da1, daC;
  Vec        g1, gC, l1, lC; /* array-less work vectors: placed on the buffers below */
  PetscReal *u, *h;          /* [nloc], [nloc C] global-layout input and hidden output */
  PetscReal **lin, **apre;   /* [L] ghosted layer inputs, [L] pre-activations (hidden layers) */
  PetscReal *F, *gin, *ga, *gh, *gbs; /* output; ghosted adjoint; pre-activation adjoint; hidden adjoint; [L C] per-field bias adjoint */
  PetscReal e[64], tpre[64], temb[64];
};

#define CONV_MAXL 8

PetscErrorCode SgmConvNetCreate(MPI_Comm comm, SgmConvNet *net)
{
  SgmConvNet n;

  PetscFunctionBegin;
  PetscCall(PetscNew(&n));
  n->comm       = comm;
  n->L          = 4;
  n->C          = 8;
  n->r          = 1;
  n->E          = 16;
  n->sigma_data = 1;
  *net          = n;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Layout(SgmConvNet n)
{
  PetscInt ntap = 1, p = 0;

  PetscFunctionBegin;
  PetscCheck(n->L >= 2 && n->L <= CONV_MAXL, n->comm, PETSC_ERR_USER_INPUT, "-convnet_layers must lie in [2, %d]; got %" PetscInt_FMT, CONV_MAXL, n->L);
  PetscCheck(n->C >= 1 && n->C <= 64, n->comm, PETSC_ERR_USER_INPUT, "-convnet_channels must lie in [1, 64]; got %" PetscInt_FMT, n->C);
  PetscCheck(n->r == 1 || n->r == 2, n->comm, PETSC_ERR_USER_INPUT, "-convnet_radius must be 1 (3x3 stencils) or 2 (5x5); got %" PetscInt_FMT, n->r);
  PetscCheck(n->E >= 2 && n->E <= 64 && n->E % 2 == 0, n->comm, PETSC_ERR_USER_INPUT, "-convnet_features must be an even number in [2, 64]; got %" PetscInt_FMT, n->E);
  for (PetscInt k = 0; k < n->dim; k++) ntap *= 2 * n->r + 1;
  for (PetscInt l = 0; l < n->L; l++) {
    n->ci[l] = l == 0 ? 1 : n->C;
    n->co[l] = l == n->L - 1 ? 1 : n->C;
    n->oW[l] = p;
    p += ntap * n->ci[l] * n->co[l];
    n->ob[l] = p;
    p += n->co[l];
    n->oP[l] = l == n->L - 1 ? -1 : p;
    if (l < n->L - 1) p += n->C * n->C;
  }
  n->oWt = p;
  p += n->C * n->E;
  n->obt = p;
  p += n->C;
  n->P    = p;
  n->ntap = ntap;
  for (PetscInt k = 0; k < n->E / 2; k++) n->freq[k] = 0.5 * PetscPowReal(2.0, 0.5 * k);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmConvNetSetFromOptions(SgmConvNet n)
{
  PetscFunctionBegin;
  PetscOptionsBegin(n->comm, NULL, "Convolutional score network (SgmConvNet) options", "SgmConvNet");
  PetscCall(PetscOptionsInt("-convnet_layers", "Convolution layers L (L-1 hidden SiLU layers and a linear output)", "SgmConvNetSetFromOptions", n->L, &n->L, NULL));
  PetscCall(PetscOptionsInt("-convnet_channels", "Channels C of the hidden layers", "SgmConvNetSetFromOptions", n->C, &n->C, NULL));
  PetscCall(PetscOptionsInt("-convnet_radius", "Stencil radius r: 1 = 3x3(x3) convolutions, 2 = 5x5(x5)", "SgmConvNetSetFromOptions", n->r, &n->r, NULL));
  PetscCall(PetscOptionsInt("-convnet_features", "Fourier features E of the time input", "SgmConvNetSetFromOptions", n->E, &n->E, NULL));
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmConvNetSetSigmaData(SgmConvNet n, PetscReal sd)
{
  PetscFunctionBegin;
  PetscCheck(sd > 0, n->comm, PETSC_ERR_ARG_OUTOFRANGE, "sigma_data must be positive; got %g", (double)sd);
  n->sigma_data = sd;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode FreeGrid(SgmConvNet n)
{
  PetscFunctionBegin;
  if (!n->da1) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecDestroy(&n->g1));
  PetscCall(VecDestroy(&n->gC));
  PetscCall(VecDestroy(&n->l1));
  PetscCall(VecDestroy(&n->lC));
  PetscCall(DMDestroy(&n->da1));
  PetscCall(DMDestroy(&n->daC));
  for (PetscInt l = 0; l < n->L; l++) PetscCall(PetscFree2(n->lin[l], n->apre[l]));
  PetscCall(PetscFree2(n->lin, n->apre));
  PetscCall(PetscFree2(n->tap, n->gidx));
  PetscCall(PetscFree6(n->u, n->h, n->F, n->gin, n->ga, n->gh));
  PetscCall(PetscFree(n->gbs));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A DMDA with the process grid and ownership of the field's, dof channels, box stencil of width r */
static PetscErrorCode CreateDA(SgmConvNet n, PetscInt dof, DM *da)
{
  SgmField        f = n->field;
  DMBoundaryType  bt = f->periodic ? DM_BOUNDARY_PERIODIC : DM_BOUNDARY_GHOSTED;
  PetscInt        m, np, pp;
  const PetscInt *lx, *ly, *lz;

  PetscFunctionBegin;
  PetscCall(DMDAGetInfo(f->da, NULL, NULL, NULL, NULL, &m, &np, &pp, NULL, NULL, NULL, NULL, NULL, NULL));
  PetscCall(DMDAGetOwnershipRanges(f->da, &lx, &ly, &lz));
  if (f->dim == 2) PetscCall(DMDACreate2d(f->comm, bt, bt, DMDA_STENCIL_BOX, f->M[0], f->M[1], m, np, dof, n->r, lx, ly, da));
  else PetscCall(DMDACreate3d(f->comm, bt, bt, bt, DMDA_STENCIL_BOX, f->M[0], f->M[1], f->M[2], m, np, pp, dof, n->r, lx, ly, lz, da));
  PetscCall(DMSetUp(*da));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The DMDAs, the stencil offsets in the ghosted block and the buffers of one field's passes. */
PetscErrorCode SgmConvNetSetUp(SgmConvNet n, SgmField f)
{
  PetscInt gs[3], gm[3], w;

  PetscFunctionBegin;
  PetscCheck(f->dof == 1, f->comm, PETSC_ERR_USER_INPUT, "The convnet score works on scalar fields; -field_dof is %" PetscInt_FMT, f->dof);
  PetscCheck(!n->initialized || n->dim == f->dim, f->comm, PETSC_ERR_USER_INPUT, "The network was trained on %" PetscInt_FMT "-D fields; these fields are %" PetscInt_FMT "-D", n->dim, f->dim);
  PetscCall(FreeGrid(n));
  n->field = f;
  n->dim   = f->dim;
  PetscCall(Layout(n));
  for (PetscInt k = 0; k < f->dim; k++) PetscCheck(f->xm[k] >= n->r, f->comm, PETSC_ERR_USER_INPUT, "Each rank's block must be at least %" PetscInt_FMT " points wide (the stencil radius) in every direction; got %" PetscInt_FMT " in direction %" PetscInt_FMT ": use fewer ranks or a larger grid", n->r, f->xm[k], k);
  PetscCall(CreateDA(n, 1, &n->da1));
  PetscCall(CreateDA(n, n->C, &n->daC));
  PetscCall(DMDAGetGhostCorners(n->da1, &gs[0], &gs[1], &gs[2], &gm[0], &gm[1], &gm[2]));
  if (f->dim == 2) {
    gs[2] = 0;
    gm[2] = 1;
  }
  n->nloc = f->nloc;
  n->gn   = gm[0] * gm[1] * gm[2];
  PetscCall(PetscMalloc2(n->ntap, &n->tap, n->nloc + 1, &n->gidx));
  w = 2 * n->r + 1;
  for (PetscInt t = 0; t < n->ntap; t++) {
    const PetscInt dx = t % w - n->r, dy = (t / w) % w - n->r, dz = f->dim == 3 ? t / (w * w) - n->r : 0;
    n->tap[t] = dx + gm[0] * (dy + gm[1] * dz);
  }
  for (PetscInt k = 0, p = 0; k < f->xm[2]; k++)
    for (PetscInt j = 0; j < f->xm[1]; j++)
      for (PetscInt i = 0; i < f->xm[0]; i++, p++) n->gidx[p] = (f->xs[0] + i - gs[0]) + gm[0] * ((f->xs[1] + j - gs[1]) + gm[1] * (f->xs[2] + k - gs[2]));
  PetscCall(PetscMalloc2(n->L, &n->lin, n->L, &n->apre));
  for (PetscInt l = 0; l < n->L; l++) PetscCall(PetscCalloc2(n->gn * n->ci[l], &n->lin[l], n->nloc * n->C + 1, &n->apre[l]));
  PetscCall(PetscCalloc6(n->nloc + 1, &n->u, n->nloc * n->C + 1, &n->h, n->nloc + 1, &n->F, n->gn * n->C, &n->gin, n->nloc * n->C + 1, &n->ga, n->nloc * n->C + 1, &n->gh));
  PetscCall(PetscCalloc1(n->L * n->C, &n->gbs));
  PetscCall(VecCreateMPIWithArray(f->comm, 1, n->nloc, PETSC_DECIDE, NULL, &n->g1));
  PetscCall(VecCreateMPIWithArray(f->comm, n->C, n->nloc * n->C, PETSC_DECIDE, NULL, &n->gC));
  PetscCall(VecCreateSeqWithArray(PETSC_COMM_SELF, 1, n->gn, NULL, &n->l1));
  PetscCall(VecCreateSeqWithArray(PETSC_COMM_SELF, n->C, n->gn * n->C, NULL, &n->lC));
  if (!n->theta) PetscCall(PetscCalloc1(n->P, &n->theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Weights N(0, 2/fan_in) (He) in the hidden layers, N(0, 1/fan_in) in the output and the time maps,
   biases 0; the normals come from the counter-based generator (stream SGM_STREAM_NET_INIT, step 2). */
PetscErrorCode SgmConvNetInitialize(SgmConvNet n, uint64_t seed)
{
  PetscFunctionBegin;
  PetscCheck(n->P > 0, n->comm, PETSC_ERR_ORDER, "Call SgmConvNetSetUp() before SgmConvNetInitialize()");
  for (PetscInt p = 0; p < n->P; p++) {
    PetscReal z;
    SgmRandomNormalSample(seed, SGM_STREAM_NET_INIT, 2, p, 1, &z);
    n->theta[p] = z;
  }
  for (PetscInt l = 0; l < n->L; l++) {
    const PetscReal sw = PetscSqrtReal((l < n->L - 1 ? 2.0 : 1.0) / (n->ntap * n->ci[l]));
    for (PetscInt p = n->oW[l]; p < n->ob[l]; p++) n->theta[p] *= sw;
    for (PetscInt p = n->ob[l]; p < n->ob[l] + n->co[l]; p++) n->theta[p] = 0;
    if (n->oP[l] >= 0)
      for (PetscInt p = n->oP[l]; p < n->oP[l] + n->C * n->C; p++) n->theta[p] *= 1 / PetscSqrtReal(n->C);
  }
  for (PetscInt p = n->oWt; p < n->obt; p++) n->theta[p] *= 1 / PetscSqrtReal(n->E);
  for (PetscInt p = n->obt; p < n->P; p++) n->theta[p] = 0;
  n->initialized = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmConvNetGetParameters(SgmConvNet n, PetscInt *P, PetscReal **theta)
{
  PetscFunctionBegin;
  if (P) *P = n->P;
  if (theta) *theta = n->theta;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static inline PetscReal Sigmoid(PetscReal a)
{
  return a >= 0 ? 1 / (1 + PetscExpReal(-a)) : PetscExpReal(a) / (1 + PetscExpReal(a));
}

/* e, tpre = Wt e + bt and temb = SiLU(tpre) of one field: the same arithmetic on every rank */
static void TimeEmbedding(SgmConvNet n, PetscReal a, PetscReal s)
{
  const PetscReal  c = PetscLogReal(s / a) / 4, *Wt = n->theta + n->oWt, *bt = n->theta + n->obt;
  const PetscInt   half = n->E / 2;

  for (PetscInt k = 0; k < half; k++) {
    n->e[k]        = PetscSinReal(n->freq[k] * c);
    n->e[half + k] = PetscCosReal(n->freq[k] * c);
  }
  for (PetscInt o = 0; o < n->C; o++) {
    PetscReal v = bt[o];
    for (PetscInt k = 0; k < n->E; k++) v += Wt[o * n->E + k] * n->e[k];
    n->tpre[o] = v;
    n->temb[o] = v * Sigmoid(v);
  }
}

/* out[p][o] = bias[o] + sum_t sum_i W[t][i][o] in[gidx[p] + tap[t]][i], in this order for every p */
static void Conv(SgmConvNet n, PetscInt ci, PetscInt co, const PetscReal *W, const PetscReal *bias, const PetscReal *in, PetscReal *out)
{
  for (PetscInt p = 0; p < n->nloc; p++) {
    PetscReal *acc = out + p * co;
    for (PetscInt o = 0; o < co; o++) acc[o] = bias[o];
    for (PetscInt t = 0; t < n->ntap; t++) {
      const PetscReal *v = in + (n->gidx[p] + n->tap[t]) * ci, *w = W + t * ci * co;
      for (PetscInt i = 0; i < ci; i++) {
        const PetscReal vi = v[i];
        for (PetscInt o = 0; o < co; o++) acc[o] += w[i * co + o] * vi;
      }
    }
  }
}

/* The adjoint of Conv: gW += ga (x) in, gb += ga, gin[ghosted] += W^T ga (gin NULL: not needed) */
static void ConvAdjoint(SgmConvNet n, PetscInt ci, PetscInt co, const PetscReal *W, const PetscReal *in, const PetscReal *ga, PetscReal *gW, PetscReal *gb, PetscReal *gin)
{
  for (PetscInt p = 0; p < n->nloc; p++) {
    const PetscReal *g = ga + p * co;
    for (PetscInt o = 0; o < co; o++) gb[o] += g[o];
    for (PetscInt t = 0; t < n->ntap; t++) {
      const PetscInt   q = (n->gidx[p] + n->tap[t]) * ci;
      const PetscReal *v = in + q, *w = W + t * ci * co;
      PetscReal       *gw = gW + t * ci * co;
      for (PetscInt i = 0; i < ci; i++) {
        PetscReal s = 0;
        for (PetscInt o = 0; o < co; o++) {
          gw[i * co + o] += g[o] * v[i];
          s += w[i * co + o] * g[o];
        }
        if (gin) gin[q + i] += s;
      }
    }
  }
}

/* ghosted copy of a global-layout buffer (collective) */
static PetscErrorCode Ghost(SgmConvNet n, PetscInt dof, PetscReal *glob, PetscReal *loc)
{
  DM  da = dof == 1 ? n->da1 : n->daC;
  Vec g = dof == 1 ? n->g1 : n->gC, l = dof == 1 ? n->l1 : n->lC;

  PetscFunctionBegin;
  PetscCall(VecPlaceArray(g, glob));
  PetscCall(VecPlaceArray(l, loc));
  PetscCall(DMGlobalToLocal(da, g, INSERT_VALUES, l));
  PetscCall(VecResetArray(l));
  PetscCall(VecResetArray(g));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* glob = sum of the ghosted adjoint loc into the owners of its points (collective) */
static PetscErrorCode Unghost(SgmConvNet n, PetscReal *loc, PetscReal *glob)
{
  PetscFunctionBegin;
  PetscCall(PetscArrayzero(glob, n->nloc * n->C));
  PetscCall(VecPlaceArray(n->gC, glob));
  PetscCall(VecPlaceArray(n->lC, loc));
  PetscCall(DMLocalToGlobal(n->daC, n->lC, ADD_VALUES, n->gC));
  PetscCall(VecResetArray(n->lC));
  PetscCall(VecResetArray(n->gC));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* F = the network output on this rank's block of one field x (collective) */
static PetscErrorCode Forward(SgmConvNet n, PetscReal a, PetscReal s, const PetscReal *x)
{
  const PetscReal cin = 1 / PetscSqrtReal(a * a * n->sigma_data * n->sigma_data + s * s);
  PetscReal       bias[64];

  PetscFunctionBegin;
  TimeEmbedding(n, a, s);
  for (PetscInt p = 0; p < n->nloc; p++) n->u[p] = cin * x[p];
  PetscCall(Ghost(n, 1, n->u, n->lin[0]));
  for (PetscInt l = 0; l < n->L; l++) {
    const PetscReal *th = n->theta;
    for (PetscInt o = 0; o < n->co[l]; o++) {
      bias[o] = th[n->ob[l] + o];
      if (n->oP[l] >= 0)
        for (PetscInt k = 0; k < n->C; k++) bias[o] += th[n->oP[l] + o * n->C + k] * n->temb[k];
    }
    if (l == n->L - 1) {
      Conv(n, n->ci[l], 1, th + n->oW[l], bias, n->lin[l], n->F);
      break;
    }
    Conv(n, n->ci[l], n->C, th + n->oW[l], bias, n->lin[l], n->apre[l]);
    for (PetscInt q = 0; q < n->nloc * n->C; q++) n->h[q] = n->apre[l][q] * Sigmoid(n->apre[l][q]);
    PetscCall(Ghost(n, n->C, n->h, n->lin[l + 1]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grad += d(sum_p dF[p] F[p]) / d theta after Forward() of the same field (collective) */
static PetscErrorCode Backward(SgmConvNet n, const PetscReal *dF, PetscReal *grad)
{
  const PetscReal *th = n->theta;
  PetscReal        gtemb[64] = {0};

  PetscFunctionBegin;
  PetscCall(PetscArrayzero(n->gbs, n->L * n->C));
  for (PetscInt l = n->L - 1; l >= 0; l--) {
    const PetscInt   co = n->co[l];
    const PetscReal *ga = l == n->L - 1 ? dF : n->ga;
    if (l > 0) PetscCall(PetscArrayzero(n->gin, n->gn * n->ci[l]));
    ConvAdjoint(n, n->ci[l], co, th + n->oW[l], n->lin[l], ga, grad + n->oW[l], n->gbs + l * n->C, l > 0 ? n->gin : NULL);
    if (n->oP[l] >= 0) { /* the bias P_l temb: its share of this field */
      for (PetscInt o = 0; o < co; o++)
        for (PetscInt k = 0; k < n->C; k++) {
          grad[n->oP[l] + o * n->C + k] += n->gbs[l * n->C + o] * n->temb[k];
          gtemb[k] += th[n->oP[l] + o * n->C + k] * n->gbs[l * n->C + o];
        }
    }
    for (PetscInt o = 0; o < co; o++) grad[n->ob[l] + o] += n->gbs[l * n->C + o];
    if (l == 0) break;
    PetscCall(Unghost(n, n->gin, n->gh));
    for (PetscInt q = 0; q < n->nloc * n->C; q++) { /* SiLU'(a) = sig (1 + a (1 - sig)) */
      const PetscReal av = n->apre[l - 1][q], sg = Sigmoid(av);
      n->ga[q] = n->gh[q] * sg * (1 + av * (1 - sg));
    }
  }
  for (PetscInt o = 0; o < n->C; o++) {
    const PetscReal sg = Sigmoid(n->tpre[o]), g = gtemb[o] * sg * (1 + n->tpre[o] * (1 - sg));
    grad[n->obt + o] += g;
    for (PetscInt k = 0; k < n->E; k++) grad[n->oWt + o * n->E + k] += g * n->e[k];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmConvNetScore(SgmConvNet n, PetscInt nf, const PetscReal alpha[], const PetscReal sigma[], const PetscReal x[], PetscReal s[])
{
  PetscFunctionBegin;
  PetscCheck(n->da1, n->comm, PETSC_ERR_ORDER, "Call SgmConvNetSetUp() before SgmConvNetScore()");
  for (PetscInt b = 0; b < nf; b++) {
    PetscCall(Forward(n, alpha[b], sigma[b], x + b * n->nloc));
    for (PetscInt p = 0; p < n->nloc; p++) s[b * n->nloc + p] = -n->F[p] / sigma[b];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmConvNetLossDSM(SgmConvNet n, PetscInt nf, const PetscReal alpha[], const PetscReal sigma[], const PetscReal x0[], const PetscReal eps[], PetscReal *loss, PetscReal grad[])
{
  PetscReal *xt, *dF, l = 0;

  PetscFunctionBegin;
  PetscCheck(n->da1, n->comm, PETSC_ERR_ORDER, "Call SgmConvNetSetUp() before SgmConvNetLossDSM()");
  PetscCall(PetscMalloc2(n->nloc + 1, &xt, n->nloc + 1, &dF));
  for (PetscInt b = 0; b < nf; b++) {
    const PetscReal *x = x0 + b * n->nloc, *e = eps + b * n->nloc;
    for (PetscInt p = 0; p < n->nloc; p++) xt[p] = alpha[b] * x[p] + sigma[b] * e[p];
    PetscCall(Forward(n, alpha[b], sigma[b], xt));
    for (PetscInt p = 0; p < n->nloc; p++) {
      const PetscReal d = n->F[p] - e[p];
      l += d * d;
      dF[p] = 2 * d;
    }
    if (grad) PetscCall(Backward(n, dF, grad));
  }
  *loss = l;
  PetscCall(PetscFree2(xt, dF));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The group "convnet": datasets arch = [L, C, r, E, sigma_data, dim], theta [P] (the given weights,
   e.g. their moving average; NULL: the net's own) and theta_raw [P] (the net's own).  Collective;
   rank 0 writes. */
PetscErrorCode SgmConvNetSave(SgmConvNet n, hid_t file, const PetscReal theta[])
{
  hid_t     grp;
  PetscReal arch[6] = {(PetscReal)n->L, (PetscReal)n->C, (PetscReal)n->r, (PetscReal)n->E, n->sigma_data, (PetscReal)n->dim};
  hsize_t   da[1] = {6}, dt[1] = {(hsize_t)n->P};

  PetscFunctionBegin;
  PetscCallHDF5(grp = H5Gcreate2(file, "convnet", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(SgmH5WriteSmall(n->comm, grp, "arch", 1, da, arch));
  PetscCall(SgmH5WriteSmall(n->comm, grp, "theta", 1, dt, theta ? theta : n->theta));
  PetscCall(SgmH5WriteSmall(n->comm, grp, "theta_raw", 1, dt, n->theta));
  PetscCall(SgmH5AttrString(grp, "description", "arch = [layers, channels, stencil radius, time features, sigma_data, dim]; theta = flat weights (sgmconvnet.h)"));
  PetscCallHDF5(H5Gclose(grp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Read the architecture and the weights (dataset convnet/<name>) from a model file on every rank.
   Call before SgmConvNetSetUp(). */
PetscErrorCode SgmConvNetLoad(SgmConvNet n, const char path[], const char name[])
{
  PetscInt   dims[1];
  PetscReal *arch, *theta;
  char       dset[64];

  PetscFunctionBegin;
  PetscCall(SgmH5ReadReal(n->comm, path, "convnet/arch", 1, dims, &arch));
  PetscCheck(dims[0] == 6, n->comm, PETSC_ERR_USER_INPUT, "'%s': convnet/arch must hold 6 numbers; it holds %" PetscInt_FMT, path, dims[0]);
  n->L          = (PetscInt)arch[0];
  n->C          = (PetscInt)arch[1];
  n->r          = (PetscInt)arch[2];
  n->E          = (PetscInt)arch[3];
  n->sigma_data = arch[4];
  n->dim        = (PetscInt)arch[5];
  PetscCall(PetscFree(arch));
  PetscCall(Layout(n));
  PetscCall(PetscSNPrintf(dset, sizeof(dset), "convnet/%s", name));
  PetscCall(SgmH5ReadReal(n->comm, path, dset, 1, dims, &theta));
  PetscCheck(dims[0] == n->P, n->comm, PETSC_ERR_USER_INPUT, "'%s': %s holds %" PetscInt_FMT " weights; its architecture needs %" PetscInt_FMT, path, dset, dims[0], n->P);
  PetscCall(PetscFree(n->theta));
  n->theta       = theta;
  n->initialized = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmConvNetView(SgmConvNet n, PetscViewer v)
{
  const PetscInt w = 2 * n->r + 1;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(v, "convolutional score net: %" PetscInt_FMT " layers of %" PetscInt_FMT "^%" PetscInt_FMT " stencils, %" PetscInt_FMT " channels, %" PetscInt_FMT " time features, sigma_data %g, %" PetscInt_FMT " parameters; receptive field radius %" PetscInt_FMT "\n", n->L, w, n->dim, n->C, n->E, (double)n->sigma_data, n->P, n->L * n->r));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmConvNetDestroy(SgmConvNet *net)
{
  PetscFunctionBegin;
  if (!*net) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(FreeGrid(*net));
  PetscCall(PetscFree((*net)->theta));
  PetscCall(PetscFree(*net));
  PetscFunctionReturn(PETSC_SUCCESS);
}
