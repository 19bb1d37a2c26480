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
  Every matrix product, forward and backward, primal and tangent columns together, is one dgemm.
*/
#include <sgm/private/netimpl.h>
#include <petscblaslapack.h>

/* C = alpha op(A) op(B) + beta C, column-major */
static inline PetscErrorCode Gemm(const char *ta, const char *tb, PetscInt M, PetscInt N, PetscInt K, PetscReal alpha, const PetscReal *A, PetscInt lda, const PetscReal *B, PetscInt ldb, PetscReal beta, PetscReal *C, PetscInt ldc)
{
  PetscBLASInt m, n, k, la, lb, lc;

  PetscFunctionBegin;
  if (!M || !N) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscBLASIntCast(M, &m));
  PetscCall(PetscBLASIntCast(N, &n));
  PetscCall(PetscBLASIntCast(K, &k));
  PetscCall(PetscBLASIntCast(lda, &la));
  PetscCall(PetscBLASIntCast(ldb, &lb));
  PetscCall(PetscBLASIntCast(ldc, &lc));
  PetscCallBLAS("BLASgemm", BLASgemm_(ta, tb, &m, &n, &k, &alpha, A, &la, B, &lb, &beta, C, &lc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static inline PetscReal Sigmoid(PetscReal a)
{
  return 1 / (1 + PetscExpReal(-a));
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
  total = 4 * n + E * n + 4 * W * n + L * W * n + d * N * 3 + (L + 1) * W * N + L * W * N + 2 * W * N;
  PetscCall(PetscMalloc1(total, &w->mem));
  PetscCall(PetscMalloc1(n, &w->lab));
  PetscCall(PetscMalloc3(L + 1, &w->H, L + 1, &w->Apre, L + 1, &w->SG));
  p = w->mem;
#define CARVE(ptr, len) do { ptr = p; p += (len); } while (0)
  CARVE(w->c, n); CARVE(w->A, n); CARVE(w->B, n); CARVE(w->K, n);
  CARVE(w->e, E * n);
  CARVE(w->ea, W * n); CARVE(w->sgt, W * n); CARVE(w->temb, W * n); CARVE(w->tembb, W * n);
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

/*
  Forward pass of n samples with m tangents v[n][m][d] (v NULL: m = 0, or m = d and the tangents
  are the unit vectors e_0..e_{d-1}, for exact traces).  Leaves in the
  workspace the per-sample A, B, K, the outputs F (columns [0, n)) and dF (columns n + i*m + k),
  and everything the backward pass needs.
*/
PetscErrorCode SgmNetForward(SgmNet net, PetscInt n, PetscInt m, const PetscReal x[], const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], const PetscInt labels[], const PetscReal v[])
{
  SgmNetWork      *w = &net->w;
  const PetscInt   d = net->d, W = net->width, L = net->depth, E = net->E, half = E / 2, N = n * (1 + m);
  const PetscReal *th = net->theta;
  MPI_Comm         comm = PetscObjectComm((PetscObject)net);

  PetscFunctionBegin;
  PetscCheck(net->initialized, comm, PETSC_ERR_ORDER, "The network has no weights: call SgmNetInitialize() or SgmNetLoad() first");
  PetscCheck(t || net->time_input != SGM_NET_TIME_T, comm, PETSC_ERR_ARG_NULL, "The network takes t as its time input (-net_time_input t) but no times were given");
  PetscCheck(v || !m || m == net->d, comm, PETSC_ERR_PLIB, "Without tangents given, m must be d (the unit vectors)");
  PetscCall(SgmNetWorkReserve(net, n, N));
  PetscCall(PetscLogEventBegin(SGM_NetForward, net, 0, 0, 0));
  for (PetscInt i = 0; i < n; i++) {
    PetscInt y = labels ? labels[i] : -1;
    PetscCheck(sigma[i] > 0 && alpha[i] > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "The network needs sigma > 0 and alpha > 0; sample %" PetscInt_FMT " has alpha %g, sigma %g", i, (double)alpha[i], (double)sigma[i]);
    PetscCall(SgmNetOutputCoefficients(net, t ? t[i] : 0, alpha[i], sigma[i], &w->A[i], &w->B[i], &w->K[i], &w->c[i]));
    if (net->nclasses) {
      PetscCheck(y >= -1 && y < net->nclasses, comm, PETSC_ERR_ARG_OUTOFRANGE, "Class label %" PetscInt_FMT " of sample %" PetscInt_FMT " is outside [-1, %" PetscInt_FMT ") (-net_classes %" PetscInt_FMT ")", y, i, net->nclasses, net->nclasses);
      w->lab[i] = y < 0 ? net->nclasses : y;
    }
  }
  /* time embedding */
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt k = 0; k < half; k++) {
      const PetscReal a = net->freq[k] * w->c[i];
      w->e[i * E + k]        = PetscSinReal(a);
      w->e[i * E + half + k] = PetscCosReal(a);
    }
  PetscCall(Gemm("N", "N", W, n, E, 1, th + net->oWt, W, w->e, E, 0, w->ea, W));
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal *bt  = th + net->obt, *cls = net->nclasses ? th + net->ocls + w->lab[i] * W : NULL;
    PetscReal       *ea = w->ea + i * W, *sg = w->sgt + i * W, *te = w->temb + i * W;
    for (PetscInt r = 0; r < W; r++) {
      ea[r] += bt[r];
      sg[r] = Sigmoid(ea[r]);
      te[r] = ea[r] * sg[r] + (cls ? cls[r] : 0);
    }
  }
  /* input layer */
  for (PetscInt i = 0; i < n; i++) {
    for (PetscInt j = 0; j < d; j++) w->U[i * d + j] = w->K[i] * x[i * d + j];
    for (PetscInt k = 0; k < m; k++)
      for (PetscInt j = 0; j < d; j++) w->U[(n + i * m + k) * d + j] = w->K[i] * (v ? v[(i * m + k) * d + j] : (PetscReal)(j == k));
  }
  PetscCall(Gemm("N", "N", W, N, d, 1, th + net->oWin, W, w->U, d, 0, w->H[0], W));
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt r = 0; r < W; r++) w->H[0][i * W + r] += th[net->obin + r];
  /* hidden blocks */
  for (PetscInt l = 1; l <= L; l++) {
    const PetscReal *Wl = th + net->oblk + (l - 1) * net->blk, *bl = Wl + W * W, *Pl = bl + W;
    PetscReal       *a = w->Apre[l], *h = w->H[l], *hp = w->H[l - 1], *sg = w->SG[l];

    PetscCall(Gemm("N", "N", W, N, W, 1, Wl, W, hp, W, 0, a, W));
    PetscCall(Gemm("N", "N", W, n, W, 1, Pl, W, w->temb, W, 1, a, W));
    for (PetscInt i = 0; i < n; i++) {
      PetscReal *ai = a + i * W, *si = sg + i * W, *hi = h + i * W;
      for (PetscInt r = 0; r < W; r++) {
        ai[r] += bl[r];
        si[r] = Sigmoid(ai[r]);
        hi[r] = ai[r] * si[r];
      }
      for (PetscInt k = 0; k < m; k++) {
        const PetscInt   j  = n + i * m + k;
        const PetscReal *dj = a + j * W;
        PetscReal       *hj = h + j * W;
        for (PetscInt r = 0; r < W; r++) hj[r] = si[r] * (1 + ai[r] * (1 - si[r])) * dj[r];
      }
    }
    if (net->residual)
      for (PetscInt q = 0; q < N * W; q++) h[q] += hp[q];
  }
  /* output layer */
  PetscCall(Gemm("N", "N", d, N, W, 1, th + net->oWout, d, w->H[L], W, 0, w->Fo, d));
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < d; j++) w->Fo[i * d + j] += th[net->obout + j];
  PetscCall(PetscLogEventEnd(SGM_NetForward, net, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Reverse pass after SgmNetForward(n, m): the caller has put the adjoint of F (of every column) in
  w->Fb; the gradient with respect to theta is ADDED to grad.  Overwrites Fb, Hb, Ab, ea.
*/
PetscErrorCode SgmNetBackward(SgmNet net, PetscInt n, PetscInt m, PetscReal grad[])
{
  SgmNetWork      *w = &net->w;
  const PetscInt   d = net->d, W = net->width, L = net->depth, E = net->E, N = n * (1 + m);
  const PetscReal *th = net->theta;
  PetscReal       *Hb = w->Hb, *Ab = w->Ab;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_NetBackward, net, 0, 0, 0));
  /* output layer */
  PetscCall(Gemm("N", "T", d, W, N, 1, w->Fb, d, w->H[L], W, 1, grad + net->oWout, d));
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < d; j++) grad[net->obout + j] += w->Fb[i * d + j];
  PetscCall(Gemm("T", "N", W, N, d, 1, th + net->oWout, d, w->Fb, d, 0, Hb, W));
  /* hidden blocks, last first; Hb holds the adjoint of h_l on entry, of h_{l-1} on exit */
  for (PetscInt l = L; l >= 1; l--) {
    const PetscReal *Wl = th + net->oblk + (l - 1) * net->blk, *Pl = Wl + W * W + W;
    PetscReal       *gW = grad + net->oblk + (l - 1) * net->blk, *gb = gW + W * W, *gP = gb + W;
    const PetscReal *a = w->Apre[l], *sg = w->SG[l];

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
    }
    PetscCall(Gemm("N", "T", W, W, N, 1, Ab, W, w->H[l - 1], W, 1, gW, W));
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt r = 0; r < W; r++) gb[r] += Ab[i * W + r];
    PetscCall(Gemm("N", "T", W, W, n, 1, Ab, W, w->temb, W, 1, gP, W));
    PetscCall(Gemm("T", "N", W, n, W, 1, Pl, W, Ab, W, l == L ? 0 : 1, w->tembb, W));
    PetscCall(Gemm("T", "N", W, N, W, 1, Wl, W, Ab, W, net->residual ? 1 : 0, Hb, W));
  }
  /* input layer */
  PetscCall(Gemm("N", "T", W, d, N, 1, Hb, W, w->U, d, 1, grad + net->oWin, W));
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt r = 0; r < W; r++) grad[net->obin + r] += Hb[i * W + r];
  /* time MLP: the class row gets the embedding's adjoint, the linear layer it through SiLU' */
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal *tb = w->tembb + i * W, *sg = w->sgt + i * W;
    PetscReal       *ea = w->ea + i * W, *gcls = net->nclasses ? grad + net->ocls + w->lab[i] * W : NULL;
    for (PetscInt r = 0; r < W; r++) {
      if (gcls) gcls[r] += tb[r];
      ea[r] = sg[r] * (1 + ea[r] * (1 - sg[r])) * tb[r];
      grad[net->obt + r] += ea[r];
    }
  }
  PetscCall(Gemm("N", "T", W, E, n, 1, w->ea, W, w->e, E, 1, grad + net->oWt, W));
  PetscCall(PetscLogEventEnd(SGM_NetBackward, net, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}
