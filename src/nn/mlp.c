/*
  The passes of the time-conditioned MLP, for a chunk of n samples and m forward-mode tangents per
  sample (src/include/sgm/private/netimpl.h gives the column layout):

    time:    e = [sin(f c), cos(f c)],  temb = SiLU(Wt e + bt) + Cls[label]
    input:   h_0 = Win u + bin,                        u = K x
    block l: a_l = W_l h_{l-1} + b_l + P_l temb,  h_l = SiLU(a_l) [+ h_{l-1} with -net_residual]
    output:  F = Wout h_L + bout

  A tangent column carries the directional derivative in u (forward mode): du = K v, dh_0 = Win du,
  da_l = W_l dh_{l-1}, dh_l = SiLU'(a_l) da_l [+ dh_{l-1}], dF = Wout dh_L.  The backward pass is
  reverse mode through both: a tangent column's adjoint reaches the primal pre-activation through
  d(SiLU'(a) da)/da = SiLU''(a) da, which is how ssm and ism get exact parameter gradients.
  Every matrix product, forward and backward, primal and tangent columns together, is one dgemm;
  biases are written into the output first and the dgemm adds to them (beta = 1).  The elementwise
  passes (SiLU, the time features) use vecmath.h's branch-free exp and a sincos of the same kind,
  so they vectorise; a training step is then mostly dgemm (doc/performance.md).  A sampler calls
  the net with one time for all samples: the forward pass then computes the time embedding once.
  With -net_precision single the trainer's losses without tangent columns (simple, dsm, esm) use
  float twins of the two passes instead (SgmNetForwardSingle, SgmNetBackwardSingle at the end of
  this file: sgemm, a float SiLU, double weights and gradient sums); scores are always double.
*/
#include <sgm/private/netimpl.h>
#include <sgm/private/vecmath.h>

/* C = alpha op(A) op(B) + beta C, column-major (src/nn/gemm.c: -net_gemm blas or avx512) */
#define Gemm  SgmGemm
#define GemmF SgmGemmFloat

/* sigmoid(a) from z = e^-|a| <= 1, which cannot overflow: 1/(1+z) for a >= 0, z/(1+z) below.  The
   exp is vecmath.h's branch-free one (1 ulp), so the SiLU loops vectorise (libm's exp is a call). */
SGM_INLINE double SigmoidLane(double a)
{
  const double z = SgmExpNonPositive(a >= 0 ? -a : a);
  return (a >= 0 ? 1.0 : z) / (1.0 + z);
}

/* sin and cos of x for |x| < 2^19 pi/2 (larger arguments: libm, in TimeFeatures).  q = round(2x/pi);
   r = x - q pi/2 with pi/2 in three 33-bit pieces (fdlibm's pio2_1..3): q pio2_1 and q pio2_2 are
   exact, the first subtraction is exact (Sterbenz), so r is within an ulp or two; |r| <= pi/4 + ulp.
   Then vecmath.h's SgmSinCosReduced (Taylor to r^19 / r^18, the quadrant). */
SGM_INLINE void SinCosLane(double x, double *sn, double *cs)
{
  const double   t = x * 0.63661977236758134308 + SGM_ROUND_MAGIC; /* 2/pi */
  const double   q = t - SGM_ROUND_MAGIC;
  const uint64_t iq = SgmAsU64(t) & 3;
  const double   r = ((x - q * 1.57079632673412561417e+00) - q * 6.07710050630396597660e-11) - q * 2.02226624871116645580e-21;
  SgmSinCosReduced(r, iq, sn, cs);
}

static SGM_HOT void SinCosBlock(const double *restrict x, double *restrict sn, double *restrict cs)
{
  SGM_LANE_LOOP
  for (int l = 0; l < SGM_LANES; l++) SinCosLane(x[l], &sn[l], &cs[l]);
}

/* The time features of one column, e = [sin(f c), cos(f c)], in blocks of SGM_LANES frequencies
   (libm's sin and cos are calls, which do not vectorise; they were 4% of a width-128 training step) */
static void TimeFeatures(PetscInt half, const PetscReal *freq, PetscReal c, PetscReal *e)
{
  for (PetscInt k0 = 0; k0 < half; k0 += SGM_LANES) {
    const PetscInt             nk = PetscMin(SGM_LANES, half - k0);
    _Alignas(SGM_ALIGN) double x[SGM_LANES] = {0}, sn[SGM_LANES], cs[SGM_LANES];

    for (PetscInt k = 0; k < nk; k++) x[k] = freq[k0 + k] * c;
    SinCosBlock(x, sn, cs);
    for (PetscInt k = 0; k < nk; k++) {
      const PetscBool big = (PetscBool)!(PetscAbsReal(x[k]) < 8e5); /* also NaN */
      e[k0 + k]        = big ? PetscSinReal(x[k]) : sn[k];
      e[half + k0 + k] = big ? PetscCosReal(x[k]) : cs[k];
    }
  }
}

/* s = sigmoid(a), h = a s [+ hp] on one block of SGM_LANES entries */
static SGM_HOT void SiLUBlock(const double *restrict a, const double *restrict hp, double *restrict s, double *restrict h)
{
  if (hp) {
    SGM_LANE_LOOP
    for (int l = 0; l < SGM_LANES; l++) {
      s[l] = SigmoidLane(a[l]);
      h[l] = a[l] * s[l] + hp[l];
    }
  } else {
    SGM_LANE_LOOP
    for (int l = 0; l < SGM_LANES; l++) {
      s[l] = SigmoidLane(a[l]);
      h[l] = a[l] * s[l];
    }
  }
}

/* s = sigmoid(a), h = SiLU(a) [+ hp] over len entries, in whole blocks of SGM_LANES (a partial last
   block is padded, so every entry goes through the same instructions wherever it sits: a sample's
   score does not depend on its position in a rank's range) */
static void SiLUForward(PetscInt len, const PetscReal *a, const PetscReal *hp, PetscReal *s, PetscReal *h)
{
  const PetscInt nfull = len / SGM_LANES * SGM_LANES;

  for (PetscInt q = 0; q < nfull; q += SGM_LANES) SiLUBlock(a + q, hp ? hp + q : NULL, s + q, h + q);
  if (nfull < len) {
    _Alignas(SGM_ALIGN) double at[SGM_LANES] = {0}, hpt[SGM_LANES] = {0}, st[SGM_LANES], ht[SGM_LANES];
    for (PetscInt q = nfull; q < len; q++) {
      at[q - nfull] = a[q];
      if (hp) hpt[q - nfull] = hp[q];
    }
    SiLUBlock(at, hp ? hpt : NULL, st, ht);
    for (PetscInt q = nfull; q < len; q++) {
      s[q] = st[q - nfull];
      h[q] = ht[q - nfull];
    }
  }
}

/* Backward through SiLU for the primal columns (m = 0): ab = SiLU'(a) hb, gs += ab over n columns. */
static SGM_HOT void SiLUAdjoint(PetscInt W, PetscInt n, const double *restrict a, const double *restrict s, const double *restrict hb, double *restrict ab, double *restrict gs)
{
  for (PetscInt i = 0; i < n; i++) {
    const double *ai = a + i * W, *si = s + i * W, *hbi = hb + i * W;
    double       *abi = ab + i * W;
    for (PetscInt r = 0; r < W; r++) {
      abi[r] = si[r] * (1 + ai[r] * (1 - si[r])) * hbi[r];
      gs[r] += abi[r];
    }
  }
}

/* g += sum of the n columns of X [W x n] */
static SGM_HOT void AddColumnSum(PetscInt W, PetscInt n, const double *restrict X, double *restrict g)
{
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt r = 0; r < W; r++) g[r] += X[i * W + r];
}

/* Workspaces for ncap samples and Ncap columns, kept across calls and grown only. */
PetscErrorCode SgmNetWorkReserve(SgmNet net, PetscInt n, PetscInt N)
{
  SgmNetWork *w = &net->w;
  PetscInt    d = net->d, W = net->width, L = net->depth, E = net->E, total;
  PetscReal  *p;

  PetscFunctionBegin;
  if (n <= w->ncap && N <= w->Ncap) PetscFunctionReturn(PETSC_SUCCESS);
  n = PetscMax(n, w->ncap);
  N = PetscMax(N, w->Ncap);
  PetscCall(SgmNetWorkFree(net));
  total = 4 * n + E * n + 4 * W * n + L * W * n + L * W + W + d * N * 3 + (L + 1) * W * N + L * W * N + 2 * W * N;
  PetscCall(PetscMalloc1(total, &w->mem));
  PetscCall(PetscMalloc1(n, &w->lab));
  PetscCall(PetscMalloc3(L + 1, &w->H, L + 1, &w->Apre, L + 1, &w->SG));
  p = w->mem;
#define CARVE(ptr, len) do { ptr = p; p += (len); } while (0)
  CARVE(w->c, n); CARVE(w->A, n); CARVE(w->B, n); CARVE(w->K, n);
  CARVE(w->e, E * n);
  CARVE(w->ea, W * n); CARVE(w->sgt, W * n); CARVE(w->temb, W * n); CARVE(w->tembb, W * n);
  CARVE(w->pb, L * W); CARVE(w->gs, W);
  w->SG[0] = NULL;
  for (PetscInt l = 1; l <= L; l++) CARVE(w->SG[l], W * n);
  CARVE(w->U, d * N); CARVE(w->Fo, d * N); CARVE(w->Fb, d * N);
  for (PetscInt l = 0; l <= L; l++) CARVE(w->H[l], W * N);
  w->Apre[0] = NULL;
  for (PetscInt l = 1; l <= L; l++) CARVE(w->Apre[l], W * N);
  CARVE(w->Hb, W * N); CARVE(w->Ab, W * N);
#undef CARVE
  PetscCheck(p - w->mem <= total, PETSC_COMM_SELF, PETSC_ERR_PLIB, "SgmNet workspace overrun");
  w->ncap = n;
  w->Ncap = N;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetWorkFree(SgmNet net)
{
  SgmNetWork *w = &net->w;

  PetscFunctionBegin;
  PetscCall(PetscFree(w->mem));
  PetscCall(PetscFree(w->lab));
  PetscCall(PetscFree3(w->H, w->Apre, w->SG));
  w->ncap = w->Ncap = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Samples per chunk when each carries m tangents: the columns of a pass stay below SGM_NET_MAXCOLS. */
PetscErrorCode SgmNetChunkSize(SgmNet net, PetscInt n, PetscInt m, PetscInt *ns)
{
  PetscFunctionBegin;
  *ns = PetscMax(1, PetscMin(n, SGM_NET_MAXCOLS / (1 + m)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The per-sample scalars A, B, K, the time input c and the class row of n samples, into w. */
static PetscErrorCode SampleScalars(SgmNet net, SgmNetWork *w, PetscInt n, const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], const PetscInt labels[])
{
  MPI_Comm comm = PetscObjectComm((PetscObject)net);

  PetscFunctionBegin;
  for (PetscInt i = 0; i < n; i++) {
    PetscInt y = labels ? labels[i] : -1;
    PetscCheck(sigma[i] > 0 && alpha[i] > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "The network needs sigma > 0 and alpha > 0; sample %" PetscInt_FMT " has alpha %g, sigma %g", i, (double)alpha[i], (double)sigma[i]);
    PetscCall(SgmNetOutputCoefficients(net, t ? t[i] : 0, alpha[i], sigma[i], &w->A[i], &w->B[i], &w->K[i], &w->c[i]));
    if (net->nclasses) {
      PetscCheck(y >= -1 && y < net->nclasses, comm, PETSC_ERR_ARG_OUTOFRANGE, "Class label %" PetscInt_FMT " of sample %" PetscInt_FMT " is outside [-1, %" PetscInt_FMT ") (-net_classes %" PetscInt_FMT ")", y, i, net->nclasses, net->nclasses);
      w->lab[i] = y < 0 ? net->nclasses : y;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Forward pass of n samples with m tangents v[n][m][d] (v NULL: m = 0, or m = d and the tangents
  are the unit vectors e_0..e_{d-1}, for exact traces).  Leaves in the
  workspace the per-sample A, B, K, the outputs F (columns [0, n)) and dF (columns n + i*m + k),
  and everything the backward pass needs.  If all samples share the time input and the label (a
  sampler's call), the time embedding is computed once and P_l temb + b_l is one bias vector per
  block: that saves the w x n x E and L w x n x w products and n E sines and cosines.
*/
PetscErrorCode SgmNetForward(SgmNet net, PetscInt n, PetscInt m, const PetscReal x[], const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], const PetscInt labels[], const PetscReal v[])
{
  SgmNetWork      *w = &net->w;
  const PetscInt   d = net->d, W = net->width, L = net->depth, E = net->E, half = E / 2, N = n * (1 + m);
  const PetscReal *th = net->theta;
  MPI_Comm         comm = PetscObjectComm((PetscObject)net);
  PetscBool        shared;
  PetscInt         nt;

  PetscFunctionBegin;
  PetscCheck(net->initialized, comm, PETSC_ERR_ORDER, "The network has no weights: call SgmNetInitialize() or SgmNetLoad() first");
  PetscCheck(t || net->time_input != SGM_NET_TIME_T, comm, PETSC_ERR_ARG_NULL, "The network takes t as its time input (-net_time_input t) but no times were given");
  PetscCheck(v || !m || m == net->d, comm, PETSC_ERR_PLIB, "Without tangents given, m must be d (the unit vectors)");
  PetscCall(SgmNetWorkReserve(net, n, N));
  PetscCall(PetscLogEventBegin(SGM_NetForward, net, 0, 0, 0));
  PetscCall(SampleScalars(net, w, n, t, alpha, sigma, labels));
  shared = (PetscBool)!net->noshare; /* also for n = 1: a sample's bits must not depend on how many share its rank */
  for (PetscInt i = 1; i < n && shared; i++)
    if (w->c[i] != w->c[0] || (net->nclasses && w->lab[i] != w->lab[0])) shared = PETSC_FALSE;
  nt = w->nt = shared ? 1 : n;
  /* time embedding */
  for (PetscInt i = 0; i < nt; i++) TimeFeatures(half, net->freq, w->c[i], w->e + i * E);
  for (PetscInt i = 0; i < nt; i++) PetscCall(PetscArraycpy(w->ea + i * W, th + net->obt, W));
  PetscCall(Gemm("N", "N", W, nt, E, 1, th + net->oWt, W, w->e, E, 1, w->ea, W));
  SiLUForward(W * nt, w->ea, NULL, w->sgt, w->temb);
  if (net->nclasses)
    for (PetscInt i = 0; i < nt; i++) {
      const PetscReal *cls = th + net->ocls + w->lab[i] * W;
      PetscReal       *te  = w->temb + i * W;
      for (PetscInt r = 0; r < W; r++) te[r] += cls[r];
    }
  /* input layer */
  for (PetscInt i = 0; i < n; i++) {
    for (PetscInt j = 0; j < d; j++) w->U[i * d + j] = w->K[i] * x[i * d + j];
    for (PetscInt k = 0; k < m; k++)
      for (PetscInt j = 0; j < d; j++) w->U[(n + i * m + k) * d + j] = w->K[i] * (v ? v[(i * m + k) * d + j] : (PetscReal)(j == k));
  }
  for (PetscInt i = 0; i < n; i++) PetscCall(PetscArraycpy(w->H[0] + i * W, th + net->obin, W));
  PetscCall(PetscArrayzero(w->H[0] + n * W, (N - n) * W));
  PetscCall(Gemm("N", "N", W, N, d, 1, th + net->oWin, W, w->U, d, 1, w->H[0], W));
  /* hidden blocks: a = b_l (+ P_l temb) first, then += W_l h_{l-1} */
  for (PetscInt l = 1; l <= L; l++) {
    const PetscReal *Wl = th + net->oblk + (l - 1) * net->blk, *bl = Wl + W * W, *Pl = bl + W;
    PetscReal       *a = w->Apre[l], *h = w->H[l], *hp = w->H[l - 1], *sg = w->SG[l];

    if (shared) {
      PetscReal *pb = w->pb + (l - 1) * W;
      PetscCall(PetscArraycpy(pb, bl, W));
      PetscCall(Gemm("N", "N", W, 1, W, 1, Pl, W, w->temb, W, 1, pb, W));
      for (PetscInt i = 0; i < n; i++) PetscCall(PetscArraycpy(a + i * W, pb, W));
    } else {
      for (PetscInt i = 0; i < n; i++) PetscCall(PetscArraycpy(a + i * W, bl, W));
      PetscCall(Gemm("N", "N", W, n, W, 1, Pl, W, w->temb, W, 1, a, W));
    }
    PetscCall(PetscArrayzero(a + n * W, (N - n) * W));
    PetscCall(Gemm("N", "N", W, N, W, 1, Wl, W, hp, W, 1, a, W));
    SiLUForward(W * n, a, net->residual ? hp : NULL, sg, h);
    for (PetscInt i = 0; i < n; i++) {
      const PetscReal *ai = a + i * W, *si = sg + i * W;
      for (PetscInt k = 0; k < m; k++) {
        const PetscInt   j   = n + i * m + k;
        const PetscReal *dj  = a + j * W;
        PetscReal       *hj  = h + j * W;
        if (net->residual) {
          const PetscReal *hpj = hp + j * W;
          for (PetscInt r = 0; r < W; r++) hj[r] = si[r] * (1 + ai[r] * (1 - si[r])) * dj[r] + hpj[r];
        } else
          for (PetscInt r = 0; r < W; r++) hj[r] = si[r] * (1 + ai[r] * (1 - si[r])) * dj[r];
      }
    }
  }
  /* output layer */
  for (PetscInt i = 0; i < n; i++) PetscCall(PetscArraycpy(w->Fo + i * d, th + net->obout, d));
  PetscCall(PetscArrayzero(w->Fo + n * d, (N - n) * d));
  PetscCall(Gemm("N", "N", d, N, W, 1, th + net->oWout, d, w->H[L], W, 1, w->Fo, d));
  PetscCall(PetscLogEventEnd(SGM_NetForward, net, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Reverse pass after SgmNetForward(n, m): the caller has put the adjoint of F (of every column) in
  w->Fb; the gradient with respect to theta is ADDED to grad.  Overwrites Fb, Hb, Ab, ea, gs.  After
  a shared-time forward pass the time embedding is one column, so its adjoint is P_l^T times the
  column sum of Ab (exact: the same sum the general pass forms column by column).
*/
PetscErrorCode SgmNetBackward(SgmNet net, PetscInt n, PetscInt m, PetscReal grad[])
{
  SgmNetWork      *w = &net->w;
  const PetscInt   d = net->d, W = net->width, L = net->depth, E = net->E, N = n * (1 + m), nt = w->nt;
  const PetscReal *th = net->theta;
  PetscReal       *Hb = w->Hb, *Ab = w->Ab, *gs = w->gs;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_NetBackward, net, 0, 0, 0));
  /* output layer */
  PetscCall(Gemm("N", "T", d, W, N, 1, w->Fb, d, w->H[L], W, 1, grad + net->oWout, d));
  AddColumnSum(d, n, w->Fb, grad + net->obout);
  PetscCall(Gemm("T", "N", W, N, d, 1, th + net->oWout, d, w->Fb, d, 0, Hb, W));
  /* hidden blocks, last first; Hb holds the adjoint of h_l on entry, of h_{l-1} on exit */
  for (PetscInt l = L; l >= 1; l--) {
    const PetscReal *Wl = th + net->oblk + (l - 1) * net->blk, *Pl = Wl + W * W + W;
    PetscReal       *gW = grad + net->oblk + (l - 1) * net->blk, *gb = gW + W * W, *gP = gb + W;
    const PetscReal *a = w->Apre[l], *sg = w->SG[l];

    PetscCall(PetscArrayzero(gs, W));
    if (!m) SiLUAdjoint(W, n, a, sg, Hb, Ab, gs);
    else {
      for (PetscInt i = 0; i < n; i++) {
        const PetscReal *ai = a + i * W, *si = sg + i * W, *hbi = Hb + i * W;
        PetscReal       *abi = Ab + i * W;
        for (PetscInt r = 0; r < W; r++) abi[r] = si[r] * (1 + ai[r] * (1 - si[r])) * hbi[r]; /* SiLU'(a) */
        for (PetscInt k = 0; k < m; k++) {
          const PetscInt   j   = n + i * m + k;
          const PetscReal *daj = a + j * W, *hbj = Hb + j * W;
          PetscReal       *abj = Ab + j * W;
          for (PetscInt r = 0; r < W; r++) {
            const PetscReal s = si[r], s1 = s * (1 + ai[r] * (1 - s)), s2 = s * (1 - s) * (2 + ai[r] * (1 - 2 * s)); /* SiLU', SiLU'' */
            abj[r] = s1 * hbj[r];
            abi[r] += s2 * daj[r] * hbj[r];
          }
        }
        for (PetscInt r = 0; r < W; r++) gs[r] += abi[r];
      }
    }
    for (PetscInt r = 0; r < W; r++) gb[r] += gs[r];
    PetscCall(Gemm("N", "T", W, W, N, 1, Ab, W, w->H[l - 1], W, 1, gW, W));
    PetscCall(Gemm("N", "T", W, W, nt, 1, nt < n ? gs : Ab, W, w->temb, W, 1, gP, W));
    PetscCall(Gemm("T", "N", W, nt, W, 1, Pl, W, nt < n ? gs : Ab, W, l == L ? 0 : 1, w->tembb, W));
    PetscCall(Gemm("T", "N", W, N, W, 1, Wl, W, Ab, W, net->residual ? 1 : 0, Hb, W));
  }
  /* input layer */
  PetscCall(Gemm("N", "T", W, d, N, 1, Hb, W, w->U, d, 1, grad + net->oWin, W));
  AddColumnSum(W, n, Hb, grad + net->obin);
  /* time MLP: the class row gets the embedding's adjoint, the linear layer it through SiLU' */
  for (PetscInt i = 0; i < nt; i++) {
    const PetscReal *tb = w->tembb + i * W, *sg = w->sgt + i * W;
    PetscReal       *ea = w->ea + i * W, *gcls = net->nclasses ? grad + net->ocls + w->lab[i] * W : NULL;
    for (PetscInt r = 0; r < W; r++) {
      if (gcls) gcls[r] += tb[r];
      ea[r] = sg[r] * (1 + ea[r] * (1 - sg[r])) * tb[r];
      grad[net->obt + r] += ea[r];
    }
  }
  PetscCall(Gemm("N", "T", W, E, nt, 1, w->ea, W, w->e, E, 1, grad + net->oWt, W));
  PetscCall(PetscLogEventEnd(SGM_NetBackward, net, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  -net_precision single.  The passes above for the primal columns only (m = 0: the losses simple,
  dsm and esm), with float activations and sgemm: a step of a gemm-bound training run does twice the
  flops per cycle.  What stays double: the weights (converted to a float copy by SgmNetSingleWeights
  once per loss call, i.e. once per training step), the per-sample scalars A, B, K and the time
  input, the time features e (computed in double, then rounded), the network output F handed to the
  loss and the adjoint Fb it returns, the bias gradients (column sums of float adjoints accumulated in
  double), and the gradient across chunks: the sgemm products of one chunk go into a float buffer
  that is zeroed before and added to the double gradient after the chunk.  The elementwise SiLU is
  computed in float with a branch-free float exp (ExpNonPositiveF), which vectorises 16 wide: 3.5
  times faster than computing it in double from the float inputs (measured below SiLUBlockF), within
  3 u of the exact sigmoid.  The time embedding is never shared (nt = n): the training batch has one time per
  sample.
*/

/* exp(y) in float for y <= 0: y is clamped at -80 (exp(-80) = 1.8e-35, still a normal float; below
   that a sigmoid's z is negligible next to 1 and SiLU's a z next to anything the pass adds); n =
   round(y log2 e) by the 1.5 2^23 magic, r = y - n ln2 with ln2 split (0.693359375 has 9 bits, so
   n * it is exact for |n| < 2^15) into [-0.35, 0.35]; Taylor to r^7 (r^8/8! < 6e-9 < u/10); times 2^n
   built from the exponent bits (n + 127 in [11, 127]: normal).  Only +, *, selects and a float to int
   conversion: it vectorises 16 floats wide with AVX-512. */
SGM_INLINE float ExpNonPositiveF(float y)
{
  const float   yc = y < -80.0f ? -80.0f : y;
  const float   t  = yc * 1.44269504088896341f + 12582912.0f;
  const float   n  = t - 12582912.0f;
  const float   r  = (yc - n * 0.693359375f) - n * -2.12194440e-4f;
  const float   p  = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720 + r * (1.0f / 5040)))))));
  const int32_t e  = ((int32_t)n + 127) << 23;
  float         sc;

  memcpy(&sc, &e, sizeof sc);
  return p * sc;
}

/* the logistic sigmoid in float, as SigmoidLane: z = e^-|a| <= 1 cannot overflow */
SGM_INLINE float SigmoidLaneF(float a)
{
  const float z = ExpNonPositiveF(a >= 0 ? -a : a);
  return (a >= 0 ? 1.0f : z) / (1.0f + z);
}

/* s = sigmoid(a), h = a s [+ hp] on one block, in float.  Measured (this file's machine, AMD EPYC with
   AVX-512, SGM_LANES blocks of 786432 entries): 0.37 ns per entry, against 1.28 ns for the same
   block computed in double from the float inputs with SigmoidLane (double lanes are half as wide and
   the conversions add); the sigmoid is within 1.7e-7 relative (3 u) of libm's double one. */
static SGM_HOT void SiLUBlockF(const float *restrict a, const float *restrict hp, float *restrict s, float *restrict h)
{
  if (hp) {
    SGM_LANE_LOOP
    for (int l = 0; l < SGM_LANES; l++) {
      s[l] = SigmoidLaneF(a[l]);
      h[l] = a[l] * s[l] + hp[l];
    }
  } else {
    SGM_LANE_LOOP
    for (int l = 0; l < SGM_LANES; l++) {
      s[l] = SigmoidLaneF(a[l]);
      h[l] = a[l] * s[l];
    }
  }
}

static void SiLUForwardF(PetscInt len, const float *a, const float *hp, float *s, float *h)
{
  const PetscInt nfull = len / SGM_LANES * SGM_LANES;

  for (PetscInt q = 0; q < nfull; q += SGM_LANES) SiLUBlockF(a + q, hp ? hp + q : NULL, s + q, h + q);
  if (nfull < len) {
    _Alignas(SGM_ALIGN) float at[SGM_LANES] = {0}, hpt[SGM_LANES] = {0}, st[SGM_LANES], ht[SGM_LANES];
    for (PetscInt q = nfull; q < len; q++) {
      at[q - nfull] = a[q];
      if (hp) hpt[q - nfull] = hp[q];
    }
    SiLUBlockF(at, hp ? hpt : NULL, st, ht);
    for (PetscInt q = nfull; q < len; q++) {
      s[q] = st[q - nfull];
      h[q] = ht[q - nfull];
    }
  }
}

/* ab = SiLU'(a) hb (float), gs += ab (double) over n columns */
static SGM_HOT void SiLUAdjointF(PetscInt W, PetscInt n, const float *restrict a, const float *restrict s, const float *restrict hb, float *restrict ab, double *restrict gs)
{
  for (PetscInt i = 0; i < n; i++) {
    const float *ai = a + i * W, *si = s + i * W, *hbi = hb + i * W;
    float       *abi = ab + i * W;
    for (PetscInt r = 0; r < W; r++) {
      abi[r] = si[r] * (1 + ai[r] * (1 - si[r])) * hbi[r];
      gs[r] += abi[r];
    }
  }
}

/* g += sum of the n float columns of X [W x n], in double */
static SGM_HOT void AddColumnSumF(PetscInt W, PetscInt n, const float *restrict X, double *restrict g)
{
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt r = 0; r < W; r++) g[r] += X[i * W + r];
}

static PetscErrorCode WorkReserveSingle(SgmNet net, PetscInt n)
{
  SgmNetWorkSingle *ws = &net->ws;
  SgmNetWork       *dw = &ws->dw;
  const PetscInt    d = net->d, W = net->width, L = net->depth, E = net->E;
  PetscInt          total, dtotal;
  float            *p;
  PetscReal        *q;

  PetscFunctionBegin;
  if (!ws->theta) {
    PetscCall(PetscMalloc2(net->P, &ws->theta, net->P, &ws->grad));
    ws->P = net->P;
  }
  if (n <= ws->ncap) PetscFunctionReturn(PETSC_SUCCESS);
  n = PetscMax(n, ws->ncap);
  PetscCall(PetscFree(ws->mem));
  PetscCall(PetscFree(dw->mem));
  PetscCall(PetscFree(dw->lab));
  PetscCall(PetscFree3(ws->H, ws->Apre, ws->SG));
  total  = E * n + 4 * W * n + L * W * n + 3 * d * n + (L + 1) * W * n + L * W * n + 2 * W * n;
  dtotal = 4 * n + E * n + W + 2 * d * n;
  PetscCall(PetscMalloc1(total, &ws->mem));
  PetscCall(PetscMalloc1(dtotal, &dw->mem));
  PetscCall(PetscMalloc1(n, &dw->lab));
  PetscCall(PetscMalloc3(L + 1, &ws->H, L + 1, &ws->Apre, L + 1, &ws->SG));
  p = ws->mem;
#define CARVE(ptr, len) do { ptr = p; p += (len); } while (0)
  CARVE(ws->e, E * n);
  CARVE(ws->ea, W * n); CARVE(ws->sgt, W * n); CARVE(ws->temb, W * n); CARVE(ws->tembb, W * n);
  ws->SG[0] = ws->Apre[0] = NULL;
  for (PetscInt l = 1; l <= L; l++) CARVE(ws->SG[l], W * n);
  CARVE(ws->U, d * n); CARVE(ws->Fo, d * n); CARVE(ws->Fb, d * n);
  for (PetscInt l = 0; l <= L; l++) CARVE(ws->H[l], W * n);
  for (PetscInt l = 1; l <= L; l++) CARVE(ws->Apre[l], W * n);
  CARVE(ws->Hb, W * n); CARVE(ws->Ab, W * n);
  PetscCheck(p - ws->mem <= total, PETSC_COMM_SELF, PETSC_ERR_PLIB, "SgmNet single workspace overrun");
  q = dw->mem;
#define CARVED(ptr, len) do { ptr = q; q += (len); } while (0)
  CARVED(dw->c, n); CARVED(dw->A, n); CARVED(dw->B, n); CARVED(dw->K, n);
  CARVED(dw->e, E * n); CARVED(dw->gs, W); CARVED(dw->Fo, d * n); CARVED(dw->Fb, d * n);
#undef CARVE
#undef CARVED
  PetscCheck(q - dw->mem <= dtotal, PETSC_COMM_SELF, PETSC_ERR_PLIB, "SgmNet single workspace overrun");
  ws->ncap = dw->ncap = dw->Ncap = n;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetWorkFreeSingle(SgmNet net)
{
  SgmNetWorkSingle *ws = &net->ws;

  PetscFunctionBegin;
  PetscCall(PetscFree2(ws->theta, ws->grad));
  PetscCall(PetscFree(ws->mem));
  PetscCall(PetscFree(ws->dw.mem));
  PetscCall(PetscFree(ws->dw.lab));
  PetscCall(PetscFree3(ws->H, ws->Apre, ws->SG));
  ws->ncap = ws->dw.ncap = ws->dw.Ncap = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* theta (double) -> the float copy the single passes use */
PetscErrorCode SgmNetSingleWeights(SgmNet net)
{
  PetscFunctionBegin;
  PetscCheck(net->initialized, PetscObjectComm((PetscObject)net), PETSC_ERR_ORDER, "The network has no weights: call SgmNetInitialize() or SgmNetLoad() first");
  PetscCall(WorkReserveSingle(net, 1));
  for (PetscInt p = 0; p < net->P; p++) net->ws.theta[p] = (float)net->theta[p];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* SgmNetForward(n, 0) in float; the double F of the n samples in net->ws.dw.Fo */
PetscErrorCode SgmNetForwardSingle(SgmNet net, PetscInt n, const PetscReal x[], const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], const PetscInt labels[])
{
  SgmNetWorkSingle *ws = &net->ws;
  SgmNetWork       *dw = &ws->dw;
  const PetscInt    d = net->d, W = net->width, L = net->depth, E = net->E, half = E / 2;
  const float      *th;
  MPI_Comm          comm = PetscObjectComm((PetscObject)net);

  PetscFunctionBegin;
  PetscCheck(t || net->time_input != SGM_NET_TIME_T, comm, PETSC_ERR_ARG_NULL, "The network takes t as its time input (-net_time_input t) but no times were given");
  PetscCall(WorkReserveSingle(net, n));
  th = ws->theta;
  PetscCall(PetscLogEventBegin(SGM_NetForward, net, 0, 0, 0));
  PetscCall(SampleScalars(net, dw, n, t, alpha, sigma, labels));
  dw->nt = n;
  /* time embedding */
  for (PetscInt i = 0; i < n; i++) TimeFeatures(half, net->freq, dw->c[i], dw->e + i * E);
  for (PetscInt q = 0; q < E * n; q++) ws->e[q] = (float)dw->e[q];
  for (PetscInt i = 0; i < n; i++) PetscCall(PetscArraycpy(ws->ea + i * W, th + net->obt, W));
  PetscCall(GemmF("N", "N", W, n, E, 1, th + net->oWt, W, ws->e, E, 1, ws->ea, W));
  SiLUForwardF(W * n, ws->ea, NULL, ws->sgt, ws->temb);
  if (net->nclasses)
    for (PetscInt i = 0; i < n; i++) {
      const float *cls = th + net->ocls + dw->lab[i] * W;
      float       *te  = ws->temb + i * W;
      for (PetscInt r = 0; r < W; r++) te[r] += cls[r];
    }
  /* input layer */
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < d; j++) ws->U[i * d + j] = (float)(dw->K[i] * x[i * d + j]);
  for (PetscInt i = 0; i < n; i++) PetscCall(PetscArraycpy(ws->H[0] + i * W, th + net->obin, W));
  PetscCall(GemmF("N", "N", W, n, d, 1, th + net->oWin, W, ws->U, d, 1, ws->H[0], W));
  /* hidden blocks */
  for (PetscInt l = 1; l <= L; l++) {
    const float *Wl = th + net->oblk + (l - 1) * net->blk, *bl = Wl + W * W, *Pl = bl + W;
    float       *a = ws->Apre[l], *hp = ws->H[l - 1];

    for (PetscInt i = 0; i < n; i++) PetscCall(PetscArraycpy(a + i * W, bl, W));
    PetscCall(GemmF("N", "N", W, n, W, 1, Pl, W, ws->temb, W, 1, a, W));
    PetscCall(GemmF("N", "N", W, n, W, 1, Wl, W, hp, W, 1, a, W));
    SiLUForwardF(W * n, a, net->residual ? hp : NULL, ws->SG[l], ws->H[l]);
  }
  /* output layer */
  for (PetscInt i = 0; i < n; i++) PetscCall(PetscArraycpy(ws->Fo + i * d, th + net->obout, d));
  PetscCall(GemmF("N", "N", d, n, W, 1, th + net->oWout, d, ws->H[L], W, 1, ws->Fo, d));
  for (PetscInt q = 0; q < d * n; q++) dw->Fo[q] = ws->Fo[q];
  PetscCall(PetscLogEventEnd(SGM_NetForward, net, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* SgmNetBackward(n, 0) in float from the double adjoint in net->ws.dw.Fb; ADDS to the double grad */
PetscErrorCode SgmNetBackwardSingle(SgmNet net, PetscInt n, PetscReal grad[])
{
  SgmNetWorkSingle *ws = &net->ws;
  SgmNetWork       *dw = &ws->dw;
  const PetscInt    d = net->d, W = net->width, L = net->depth, E = net->E;
  const float      *th = ws->theta;
  float            *g = ws->grad, *Hb = ws->Hb, *Ab = ws->Ab;
  PetscReal        *gs = dw->gs;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_NetBackward, net, 0, 0, 0));
  PetscCall(PetscArrayzero(g, net->P));
  for (PetscInt q = 0; q < d * n; q++) ws->Fb[q] = (float)dw->Fb[q];
  /* output layer */
  PetscCall(GemmF("N", "T", d, W, n, 1, ws->Fb, d, ws->H[L], W, 1, g + net->oWout, d));
  AddColumnSumF(d, n, ws->Fb, grad + net->obout);
  PetscCall(GemmF("T", "N", W, n, d, 1, th + net->oWout, d, ws->Fb, d, 0, Hb, W));
  /* hidden blocks, last first */
  for (PetscInt l = L; l >= 1; l--) {
    const float *Wl = th + net->oblk + (l - 1) * net->blk, *Pl = Wl + W * W + W;
    float       *gW = g + net->oblk + (l - 1) * net->blk, *gP = gW + W * W + W;
    PetscReal   *gb = grad + net->oblk + (l - 1) * net->blk + W * W;

    PetscCall(PetscArrayzero(gs, W));
    SiLUAdjointF(W, n, ws->Apre[l], ws->SG[l], Hb, Ab, gs);
    for (PetscInt r = 0; r < W; r++) gb[r] += gs[r];
    PetscCall(GemmF("N", "T", W, W, n, 1, Ab, W, ws->H[l - 1], W, 1, gW, W));
    PetscCall(GemmF("N", "T", W, W, n, 1, Ab, W, ws->temb, W, 1, gP, W));
    PetscCall(GemmF("T", "N", W, n, W, 1, Pl, W, Ab, W, l == L ? 0 : 1, ws->tembb, W));
    PetscCall(GemmF("T", "N", W, n, W, 1, Wl, W, Ab, W, net->residual ? 1 : 0, Hb, W));
  }
  /* input layer */
  PetscCall(GemmF("N", "T", W, d, n, 1, Hb, W, ws->U, d, 1, g + net->oWin, W));
  AddColumnSumF(W, n, Hb, grad + net->obin);
  /* time MLP */
  for (PetscInt i = 0; i < n; i++) {
    const float *tb = ws->tembb + i * W, *sg = ws->sgt + i * W;
    float       *ea = ws->ea + i * W;
    PetscReal   *gcls = net->nclasses ? grad + net->ocls + dw->lab[i] * W : NULL;
    for (PetscInt r = 0; r < W; r++) {
      if (gcls) gcls[r] += tb[r];
      ea[r] = sg[r] * (1 + ea[r] * (1 - sg[r])) * tb[r];
    }
  }
  AddColumnSumF(W, n, ws->ea, grad + net->obt);
  PetscCall(GemmF("N", "T", W, E, n, 1, ws->ea, W, ws->e, E, 1, g + net->oWt, W));
  for (PetscInt p = 0; p < net->P; p++) grad[p] += g[p];
  PetscCall(PetscLogEventEnd(SGM_NetBackward, net, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}
