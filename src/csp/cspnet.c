/*
  The CSPNet-like score network of DiffCSP (Jiao et al. 2023, sec. 4, eq. 6-8; jiaor17/DiffCSP
  cspnet.py), with a hand-written backward pass.  One crystal of n atoms at a time, fully connected
  over the atoms of the cell (every ordered pair i, j including i = j, as DiffCSP's 'fc' edges):

    h_i^0   = E[z_i] + W_t tau(t) + b_t                       tau: sinusoidal features of the step t
    u_ij    = W1a h_i + W1b h_j + W1c (s L L^T) + W1d psi(f_j - f_i) + b1
    m_ij    = silu(W2 silu(u_ij) + b2)                        (message, eq. 6)
    h_i'    = h_i + silu(W4 silu(W3a h_i + W3b mean_j m_ij + b3) + b4)   (eq. 7)
    eps_F,i = Wf h_i^K                                        (3 numbers per atom)
    eps_L   = M L,  M = reshape(Wl mean_i h_i^K, 3x3)         (eq. 8: rotates with L)

  psi(d) = (sin 2 pi k d_c, cos 2 pi k d_c), k = 0..nf-1, c = 0..2: invariant to integer shifts of
  the fractional coordinates and, as a function of differences, to origin shifts; L L^T (lattice
  rows, pymatgen/DiffCSP; DiffCSP's columns convention writes L^T L) is invariant to rotations
  L -> L R^T, so eps_F is invariant and eps_L = M L R^T rotates with the lattice; the network is
  permutation equivariant because the messages are averaged over all j.  s = ipscale (Angstrom^-2)
  keeps the inner products of order one.  tau(t) = (sin t w_k, cos t w_k), w_k = 10000^(-k/(nt/2-1))
  (DiffCSP's SinusoidalTimeEmbeddings of the integer step).

  Parameters are one flat array theta (layout in SgmCSPNetSetUp); the backward pass returns
  d/dtheta of sum_i gF_i . eps_F,i + gL . eps_L for given gF, gL (a vector-Jacobian product).
*/
#include <sgmcsp.h>

static inline PetscReal Sigmoid(PetscReal x)
{
  return 1 / (1 + PetscExpReal(-x));
}
static inline PetscReal Silu(PetscReal x)
{
  return x * Sigmoid(x);
}
static inline PetscReal DSilu(PetscReal x)
{
  const PetscReal s = Sigmoid(x);
  return s * (1 + x * (1 - s));
}

/* y[o] (+)= sum_i W[o*nin + i] x[i] (+ b[o]) */
static void MatVec(PetscInt nout, PetscInt nin, const PetscReal *W, const PetscReal *x, const PetscReal *b, PetscBool add, PetscReal *y)
{
  for (PetscInt o = 0; o < nout; o++) {
    PetscReal s = b ? b[o] : 0;
    for (PetscInt i = 0; i < nin; i++) s += W[o * nin + i] * x[i];
    y[o] = add ? y[o] + s : s;
  }
}
/* x[i] += sum_o W[o*nin + i] g[o];  dW[o*nin + i] += g[o] x0[i] */
static void MatVecT(PetscInt nout, PetscInt nin, const PetscReal *W, const PetscReal *g, PetscReal *x)
{
  for (PetscInt o = 0; o < nout; o++)
    for (PetscInt i = 0; i < nin; i++) x[i] += W[o * nin + i] * g[o];
}
static void Outer(PetscInt nout, PetscInt nin, const PetscReal *g, const PetscReal *x, PetscReal *dW)
{
  for (PetscInt o = 0; o < nout; o++)
    for (PetscInt i = 0; i < nin; i++) dW[o * nin + i] += g[o] * x[i];
}

PetscErrorCode SgmCSPNetSetUp(SgmCSPNet *net)
{
  const PetscInt H = net->H, nf6 = 6 * net->nf;
  PetscInt       o = 0;

  PetscFunctionBegin;
  PetscCheck(H >= 1 && net->nl >= 1 && net->nf >= 1 && net->nt >= 4 && net->nt % 2 == 0 && net->maxatoms >= 1 && net->ipscale > 0, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT,
             "The crystal network needs hidden >= 1, layers >= 1, frequencies >= 1, an even time dimension >= 4, max atoms >= 1 and ip_scale > 0; got %" PetscInt_FMT ", %" PetscInt_FMT ", %" PetscInt_FMT ", %" PetscInt_FMT ", %" PetscInt_FMT ", %g",
             H, net->nl, net->nf, net->nt, net->maxatoms, (double)net->ipscale);
  PetscCheck(net->nl <= SGM_CSPNET_MAXLAYERS, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "The crystal network has at most %d layers; got %" PetscInt_FMT, SGM_CSPNET_MAXLAYERS, net->nl);
  net->oE  = o, o += SGM_CSP_MAXZ * H;
  net->oWt = o, o += H * net->nt;
  net->obt = o, o += H;
  for (PetscInt l = 0; l < net->nl; l++) {
    net->oLayer[l] = o;
    o += H * H * 2 + H * 9 + H * nf6 + H; /* W1a W1b W1c W1d b1 */
    o += H * H + H;                       /* W2 b2 */
    o += H * H * 2 + H;                   /* W3a W3b b3 */
    o += H * H + H;                       /* W4 b4 */
  }
  net->oWf = o, o += 3 * H;
  net->oWl = o, o += 9 * H;
  net->P   = o;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Pointers into one layer's block of theta (or of a gradient of the same layout). */
typedef struct {
  PetscReal *W1a, *W1b, *W1c, *W1d, *b1, *W2, *b2, *W3a, *W3b, *b3, *W4, *b4;
} Layer;

static Layer GetLayer(const SgmCSPNet *net, PetscInt l, const PetscReal *theta)
{
  const PetscInt H = net->H, nf6 = 6 * net->nf;
  PetscReal     *p = (PetscReal *)theta + net->oLayer[l];
  Layer          L;
  L.W1a = p, p += H * H;
  L.W1b = p, p += H * H;
  L.W1c = p, p += H * 9;
  L.W1d = p, p += H * nf6;
  L.b1  = p, p += H;
  L.W2  = p, p += H * H;
  L.b2  = p, p += H;
  L.W3a = p, p += H * H;
  L.W3b = p, p += H * H;
  L.b3  = p, p += H;
  L.W4  = p, p += H * H;
  L.b4  = p;
  return L;
}

/* Initial weights: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's nn.Linear), biases 0,
   embedding rows N(0,1)-like uniform(-sqrt 3, sqrt 3); a pure function of the seed. */
PetscErrorCode SgmCSPNetInitialize(const SgmCSPNet *net, uint64_t seed, PetscReal theta[])
{
  const PetscInt H = net->H, nf6 = 6 * net->nf;
  PetscReal     *u;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(net->P, &u));
  SgmRandomUniformSample(seed, SGM_STREAM_CSP_INIT, 0, 0, net->P, u);
  PetscCall(PetscArrayzero(theta, net->P));
#define FILL(off, cnt, a) \
  for (PetscInt q = 0; q < (cnt); q++) theta[(off) + q] = (a) * (2 * u[(off) + q] - 1)
  FILL(net->oE, SGM_CSP_MAXZ * H, PetscSqrtReal(3.0));
  FILL(net->oWt, H * net->nt, 1 / PetscSqrtReal((PetscReal)net->nt));
  for (PetscInt l = 0; l < net->nl; l++) {
    Layer           L  = GetLayer(net, l, theta);
    const PetscReal a1 = 1 / PetscSqrtReal((PetscReal)(2 * H + 9 + nf6)), a2 = 1 / PetscSqrtReal((PetscReal)H), a3 = 1 / PetscSqrtReal(2.0 * H);
    FILL(L.W1a - theta, H * H, a1);
    FILL(L.W1b - theta, H * H, a1);
    FILL(L.W1c - theta, H * 9, a1);
    FILL(L.W1d - theta, H * nf6, a1);
    FILL(L.W2 - theta, H * H, a2);
    FILL(L.W3a - theta, H * H, a3);
    FILL(L.W3b - theta, H * H, a3);
    FILL(L.W4 - theta, H * H, a2);
  }
  FILL(net->oWf, 3 * H, 1 / PetscSqrtReal((PetscReal)H));
  FILL(net->oWl, 9 * H, 1 / PetscSqrtReal((PetscReal)H));
#undef FILL
  PetscCall(PetscFree(u));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCSPNetWorkCreate(const SgmCSPNet *net, SgmCSPNetWork *w)
{
  const PetscInt H = net->H, m = net->maxatoms, K = net->nl;

  PetscFunctionBegin;
  PetscCall(PetscCalloc5((K + 1) * m * H, &w->h, K * m * m * H, &w->u, K * m * m * H, &w->v, K * m * H, &w->agg, K * m * H, &w->p));
  PetscCall(PetscCalloc5(K * m * H, &w->r, m * m * 6 * net->nf, &w->psi, 4 * m * H + 2 * H, &w->tmp, m * m * H, &w->du, net->nt, &w->tau));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCSPNetWorkDestroy(SgmCSPNetWork *w)
{
  PetscFunctionBegin;
  PetscCall(PetscFree5(w->h, w->u, w->v, w->agg, w->p));
  PetscCall(PetscFree5(w->r, w->psi, w->tmp, w->du, w->tau));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCSPNetForward(const SgmCSPNet *net, const PetscReal theta[], const SgmCrystal *c, PetscReal t, SgmCSPNetWork *w, PetscReal epsF[], PetscReal epsL[])
{
  const PetscInt   H = net->H, n = c->n, nf = net->nf, nf6 = 6 * nf, half = net->nt / 2;
  const PetscReal *L = c->L;
  PetscReal        ip[9], *A = w->tmp, *B = w->tmp + n * H, *C = w->tmp + 2 * n * H, *g = w->tmp + 2 * n * H + H, M[9];

  PetscFunctionBegin;
  PetscCheck(n >= 1 && n <= net->maxatoms, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "The crystal network was set up for 1 to %" PetscInt_FMT " atoms; got %" PetscInt_FMT, net->maxatoms, n);
  w->n = n;
  for (PetscInt a = 0; a < 3; a++)
    for (PetscInt b = 0; b < 3; b++) ip[3 * a + b] = net->ipscale * (L[3 * a] * L[3 * b] + L[3 * a + 1] * L[3 * b + 1] + L[3 * a + 2] * L[3 * b + 2]);
  PetscCall(PetscArraycpy(w->ip, ip, 9));
  for (PetscInt k = 0; k < half; k++) {
    PetscReal fr  = PetscExpReal(-PetscLogReal(10000.0) * k / (half - 1));
    w->tau[k]        = PetscSinReal(t * fr);
    w->tau[half + k] = PetscCosReal(t * fr);
  }
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < n; j++) {
      PetscReal *ps = w->psi + (i * n + j) * nf6;
      for (PetscInt a = 0; a < 3; a++) {
        PetscReal d = c->f[3 * j + a] - c->f[3 * i + a];
        d -= PetscFloorReal(d); /* exact integer-shift invariance of the features' arguments */
        for (PetscInt k = 0; k < nf; k++) {
          ps[(a * nf + k) * 2]     = PetscSinReal(2 * PETSC_PI * k * d);
          ps[(a * nf + k) * 2 + 1] = PetscCosReal(2 * PETSC_PI * k * d);
        }
      }
    }
  for (PetscInt i = 0; i < n; i++) {
    PetscCheck(c->z[i] >= 1 && c->z[i] <= SGM_CSP_MAXZ, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Atomic number %" PetscInt_FMT " is outside 1..%d", c->z[i], SGM_CSP_MAXZ);
    MatVec(H, net->nt, theta + net->oWt, w->tau, theta + net->obt, PETSC_FALSE, w->h + i * H);
    for (PetscInt q = 0; q < H; q++) w->h[i * H + q] += theta[net->oE + (c->z[i] - 1) * H + q];
  }
  for (PetscInt l = 0; l < net->nl; l++) {
    Layer            P  = GetLayer(net, l, theta);
    const PetscReal *h  = w->h + l * net->maxatoms * H;
    PetscReal       *h1 = w->h + (l + 1) * net->maxatoms * H, *u = w->u + l * net->maxatoms * net->maxatoms * H, *v = w->v + l * net->maxatoms * net->maxatoms * H;
    PetscReal       *agg = w->agg + l * net->maxatoms * H, *p = w->p + l * net->maxatoms * H, *r = w->r + l * net->maxatoms * H, *a = w->du, *q = w->tmp + 3 * n * H + H;
    for (PetscInt i = 0; i < n; i++) {
      MatVec(H, H, P.W1a, h + i * H, NULL, PETSC_FALSE, A + i * H);
      MatVec(H, H, P.W1b, h + i * H, NULL, PETSC_FALSE, B + i * H);
    }
    MatVec(H, 9, P.W1c, ip, P.b1, PETSC_FALSE, C);
    PetscCall(PetscArrayzero(agg, n * H));
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt j = 0; j < n; j++) {
        PetscReal *uij = u + (i * n + j) * H, *vij = v + (i * n + j) * H;
        MatVec(H, nf6, P.W1d, w->psi + (i * n + j) * nf6, NULL, PETSC_FALSE, uij);
        for (PetscInt o = 0; o < H; o++) {
          uij[o] += A[i * H + o] + B[j * H + o] + C[o];
          a[o] = Silu(uij[o]);
        }
        MatVec(H, H, P.W2, a, P.b2, PETSC_FALSE, vij);
        for (PetscInt o = 0; o < H; o++) agg[i * H + o] += Silu(vij[o]) / n;
      }
    for (PetscInt i = 0; i < n; i++) {
      MatVec(H, H, P.W3a, h + i * H, P.b3, PETSC_FALSE, p + i * H);
      MatVec(H, H, P.W3b, agg + i * H, NULL, PETSC_TRUE, p + i * H);
      for (PetscInt o = 0; o < H; o++) q[o] = Silu(p[i * H + o]);
      MatVec(H, H, P.W4, q, P.b4, PETSC_FALSE, r + i * H);
      for (PetscInt o = 0; o < H; o++) h1[i * H + o] = h[i * H + o] + Silu(r[i * H + o]);
    }
  }
  {
    const PetscReal *hK = w->h + net->nl * net->maxatoms * H;
    for (PetscInt i = 0; i < n; i++) MatVec(3, H, theta + net->oWf, hK + i * H, NULL, PETSC_FALSE, epsF + 3 * i);
    for (PetscInt o = 0; o < H; o++) {
      g[o] = 0;
      for (PetscInt i = 0; i < n; i++) g[o] += hK[i * H + o] / n;
    }
    MatVec(9, H, theta + net->oWl, g, NULL, PETSC_FALSE, M);
    for (PetscInt a = 0; a < 3; a++)
      for (PetscInt cc = 0; cc < 3; cc++) epsL[3 * a + cc] = M[3 * a] * L[cc] + M[3 * a + 1] * L[3 + cc] + M[3 * a + 2] * L[6 + cc];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grad += d/dtheta (sum_i gF_i . eps_F,i + gL . eps_L) at the last forward pass of w (gL may be NULL). */
PetscErrorCode SgmCSPNetBackward(const SgmCSPNet *net, const PetscReal theta[], const SgmCrystal *c, SgmCSPNetWork *w, const PetscReal gF[], const PetscReal gL[], PetscReal grad[])
{
  const PetscInt H = net->H, n = w->n, nf6 = 6 * net->nf, m = net->maxatoms;
  PetscReal     *dh, *dh1, *g, *dq, *dagg, dM[9];

  PetscFunctionBegin;
  PetscCall(PetscCalloc5(m * H, &dh, m * H, &dh1, H, &g, H, &dq, m * H, &dagg));
  { /* output layer */
    const PetscReal *hK = w->h + net->nl * m * H;
    for (PetscInt i = 0; i < n; i++) {
      Outer(3, H, gF + 3 * i, hK + i * H, grad + net->oWf);
      MatVecT(3, H, theta + net->oWf, gF + 3 * i, dh1 + i * H);
    }
    if (gL) {
      for (PetscInt o = 0; o < H; o++)
        for (PetscInt i = 0; i < n; i++) g[o] += hK[i * H + o] / n;
      for (PetscInt a = 0; a < 3; a++)
        for (PetscInt b = 0; b < 3; b++) dM[3 * a + b] = gL[3 * a] * c->L[3 * b] + gL[3 * a + 1] * c->L[3 * b + 1] + gL[3 * a + 2] * c->L[3 * b + 2];
      Outer(9, H, dM, g, grad + net->oWl);
      PetscCall(PetscArrayzero(g, H));
      MatVecT(9, H, theta + net->oWl, dM, g);
      for (PetscInt i = 0; i < n; i++)
        for (PetscInt o = 0; o < H; o++) dh1[i * H + o] += g[o] / n;
    }
  }
  for (PetscInt l = net->nl - 1; l >= 0; l--) {
    Layer            P = GetLayer(net, l, theta), D = GetLayer(net, l, grad);
    const PetscReal *h = w->h + l * m * H, *u = w->u + l * m * m * H, *v = w->v + l * m * m * H, *agg = w->agg + l * m * H, *p = w->p + l * m * H, *r = w->r + l * m * H;
    PetscReal        dC[SGM_CSPNET_MAXH], a[SGM_CSPNET_MAXH], dv[SGM_CSPNET_MAXH], q[SGM_CSPNET_MAXH];
    PetscCall(PetscArraycpy(dh, dh1, n * H)); /* residual */
    PetscCall(PetscArrayzero(dagg, n * H));
    for (PetscInt i = 0; i < n; i++) {
      PetscReal dr[SGM_CSPNET_MAXH], dp[SGM_CSPNET_MAXH];
      for (PetscInt o = 0; o < H; o++) dr[o] = dh1[i * H + o] * DSilu(r[i * H + o]), q[o] = Silu(p[i * H + o]);
      Outer(H, H, dr, q, D.W4);
      for (PetscInt o = 0; o < H; o++) D.b4[o] += dr[o], dq[o] = 0;
      MatVecT(H, H, P.W4, dr, dq);
      for (PetscInt o = 0; o < H; o++) dp[o] = dq[o] * DSilu(p[i * H + o]);
      Outer(H, H, dp, h + i * H, D.W3a);
      Outer(H, H, dp, agg + i * H, D.W3b);
      for (PetscInt o = 0; o < H; o++) D.b3[o] += dp[o];
      MatVecT(H, H, P.W3a, dp, dh + i * H);
      MatVecT(H, H, P.W3b, dp, dagg + i * H);
    }
    for (PetscInt o = 0; o < H; o++) dC[o] = 0;
    PetscCall(PetscArrayzero(w->tmp, 2 * n * H)); /* dA, dB */
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt j = 0; j < n; j++) {
        const PetscReal *uij = u + (i * n + j) * H, *vij = v + (i * n + j) * H;
        PetscReal        da[SGM_CSPNET_MAXH], *du = w->du;
        for (PetscInt o = 0; o < H; o++) {
          dv[o] = dagg[i * H + o] / n * DSilu(vij[o]);
          a[o]  = Silu(uij[o]);
          da[o] = 0;
        }
        Outer(H, H, dv, a, D.W2);
        for (PetscInt o = 0; o < H; o++) D.b2[o] += dv[o];
        MatVecT(H, H, P.W2, dv, da);
        for (PetscInt o = 0; o < H; o++) {
          du[o] = da[o] * DSilu(uij[o]);
          w->tmp[i * H + o] += du[o];
          w->tmp[n * H + j * H + o] += du[o];
          dC[o] += du[o];
        }
        Outer(H, nf6, du, w->psi + (i * n + j) * nf6, D.W1d);
      }
    for (PetscInt i = 0; i < n; i++) {
      Outer(H, H, w->tmp + i * H, h + i * H, D.W1a);
      MatVecT(H, H, P.W1a, w->tmp + i * H, dh + i * H);
      Outer(H, H, w->tmp + n * H + i * H, h + i * H, D.W1b);
      MatVecT(H, H, P.W1b, w->tmp + n * H + i * H, dh + i * H);
    }
    Outer(H, 9, dC, w->ip, D.W1c);
    for (PetscInt o = 0; o < H; o++) D.b1[o] += dC[o];
    PetscCall(PetscArraycpy(dh1, dh, n * H));
  }
  for (PetscInt i = 0; i < n; i++) {
    for (PetscInt o = 0; o < H; o++) grad[net->oE + (c->z[i] - 1) * H + o] += dh1[i * H + o];
    Outer(H, net->nt, dh1 + i * H, w->tau, grad + net->oWt);
    for (PetscInt o = 0; o < H; o++) grad[net->obt + o] += dh1[i * H + o];
  }
  PetscCall(PetscFree5(dh, dh1, g, dq, dagg));
  PetscFunctionReturn(PETSC_SUCCESS);
}
