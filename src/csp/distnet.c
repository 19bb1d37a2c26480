/*
  The periodic distance-based crystal score network `distance` (sgm csp train -csp_net distance;
  issue 9: ConfGF, Shi et al. 2021, eq. 6, and SyMat, Luo et al. 2023, sec. 3.3, on the periodic
  multi-graph; doc/geometric.md "Distance network").  Task 1 only (the lattice is fixed): the
  network has no lattice output.  One crystal (F, L) at the step t:

    edges   e = (i, j, k): every directed edge of the periodic multi-graph with
            d_e = |x_j + sum_a k_a L_a - x_i| < r (SgmPeriodicEdges: more images than the 27 nearest
            when r exceeds a perpendicular width of the cell, so no edge is missed)
    a^1_e   = Wr rbf(d_e) + Wt tau(t) + b1 + E[z_i] + E[z_j]         (symmetric in the two types)
    a^l_e   = W_l silu(a^(l-1)_e) + b_l,   l = 2..nl
    s_e     = (w . silu(a^nl_e) + b) fc(d_e),     fc(d) = (1 + cos(pi d / r)) / 2
    s_x,i   = sum_{e = (i, j, k)} s_e (x_i - x_j - k L) / d_e          (SgmDistanceScoreToAtoms)
    eps_F,i = L s_x,i,  i.e. eps_F[3i + a] = sum_c L[3a + c] s_x[3i + c]

  rbf_m(d) = exp(-(d - mu_m)^2 / (2 delta^2)), mu_m = m delta, delta = r / (nr - 1), m = 0..nr-1;
  tau(t) the sinusoidal features of the step t as in cspnet.c.  s_e plays d log p / d d_e: since
  s_e depends on d_e, t and the unordered pair of types only, the edges (i, j, k) and (j, i, -k)
  carry the same s_e and s_x is the gradient w.r.t. the Cartesian positions of
  sum over undirected edges of G(d_e) with dG/dd = s_e (a conservative field).

  Chain rule to the fractional coordinates.  With lattice rows, x_i = sum_a F[3i + a] L_a, so
  dx_i,c / dF_i,a = L[3a + c] and d/dF_i,a = sum_c L[3a + c] d/dx_i,c: eps_F,i = L s_x,i (L as
  stored, rows = lattice vectors).  This is the score of the fractional coordinates that the
  DiffCSP trainer regresses on (the wrapped-normal score / sqrt(sn_t), train.c); the network
  learns the scale.  Symmetries (test_distnet): s_e depends on distances only, so eps_F is
  invariant to integer shifts of F, to origin shifts mod 1 and to L -> L R^T for any orthogonal R
  (s_x -> R s_x, L R^T R s_x = L s_x), and permutation equivariant; fc makes eps_F continuous
  (indeed C^1) when an edge crosses the cutoff.

  One MLP per undirected edge.  (i, j, k) and (j, i, -k) carry the same s_e and opposite edge
  vectors v (the multi-graph computes them from negated fractional differences, so d and |v| are
  the same bits), so only the edges with i < j are kept: s_x,i -= s_e v / d, s_x,j += s_e v / d.
  Self-image edges (i, i, k) are dropped: their length |k L| does not depend on the positions, and
  the pair (i, i, k), (i, i, -k) adds -s_e v/d + s_e v/d = 0 to s_x,i.

  Parameters: one flat array theta (layout in SgmCSPDistNetSetUp).  The backward pass returns
  d/dtheta of sum_i gF_i . eps_F,i (a vector-Jacobian product).  Cost: the undirected edges between
  different atoms of a crystal, about (2 pi / 3) r^3 / (V / n) per atom, times one small MLP each.
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

PetscErrorCode SgmCSPDistNetSetUp(SgmCSPDistNet *net)
{
  const PetscInt H = net->H;
  PetscInt       o = 0;

  PetscFunctionBegin;
  PetscCheck(H >= 1 && H <= SGM_CSPNET_MAXH && net->nl >= 1 && net->nl <= SGM_CSPDIST_MAXLAYERS && net->nr >= 2 && net->nt >= 4 && net->nt % 2 == 0 && net->maxatoms >= 1 && net->rc > 0, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT,
             "The distance network needs hidden width 1..%d, layers 1..%d, radial basis functions >= 2, an even time dimension >= 4, max atoms >= 1 and a positive cutoff; got %" PetscInt_FMT ", %" PetscInt_FMT ", %" PetscInt_FMT ", %" PetscInt_FMT ", %" PetscInt_FMT ", %g",
             SGM_CSPNET_MAXH, SGM_CSPDIST_MAXLAYERS, H, net->nl, net->nr, net->nt, net->maxatoms, (double)net->rc);
  net->oE  = o, o += SGM_CSP_MAXZ * H;
  net->oWr = o, o += H * net->nr;
  net->oWt = o, o += H * net->nt;
  net->ob1 = o, o += H;
  for (PetscInt l = 1; l < net->nl; l++) {
    net->oW[l] = o, o += H * H;
    net->ob[l] = o, o += H;
  }
  net->ow   = o, o += H;
  net->bout = o, o += 1;
  net->P    = o;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights, zero biases, embedding rows uniform(-1/2, 1/2)
   (E[z_i] + E[z_j] then has standard deviation 0.41); a pure function of the seed. */
PetscErrorCode SgmCSPDistNetInitialize(const SgmCSPDistNet *net, uint64_t seed, PetscReal theta[])
{
  const PetscInt H = net->H;
  PetscReal     *u;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(net->P, &u));
  SgmRandomUniformSample(seed, SGM_STREAM_CSP_INIT, 0, 0, net->P, u);
  PetscCall(PetscArrayzero(theta, net->P));
#define FILL(off, cnt, a) \
  for (PetscInt q = 0; q < (cnt); q++) theta[(off) + q] = (a) * (2 * u[(off) + q] - 1)
  FILL(net->oE, SGM_CSP_MAXZ * H, 0.5);
  FILL(net->oWr, H * net->nr, 1.0);
  FILL(net->oWt, H * net->nt, 1 / PetscSqrtReal((PetscReal)net->nt));
  for (PetscInt l = 1; l < net->nl; l++) FILL(net->oW[l], H * H, 1 / PetscSqrtReal((PetscReal)H));
  FILL(net->ow, H, 1 / PetscSqrtReal((PetscReal)H));
#undef FILL
  PetscCall(PetscFree(u));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCSPDistNetWorkCreate(const SgmCSPDistNet *net, SgmCSPDistNetWork *w)
{
  PetscFunctionBegin;
  PetscCall(PetscMemzero(w, sizeof(*w)));
  PetscCall(PetscCalloc4(net->nt, &w->tau, net->H, &w->ct, 3 * net->maxatoms, &w->sx, 3 * net->maxatoms, &w->gx));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCSPDistNetWorkDestroy(SgmCSPDistNetWork *w)
{
  PetscFunctionBegin;
  PetscCall(PetscFree4(w->tau, w->ct, w->sx, w->gx));
  PetscCall(PetscFree(w->e));
  PetscCall(PetscFree4(w->rbf, w->act, w->fc, w->se));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The chain rule of the distance model: edge scores se[ne] on the undirected edges e of a crystal of
  n atoms in the lattice L (rows) -- the edges (i, j, k) of the multi-graph with i < j, each standing
  for itself and its mirror (j, i, -k); no self-image edges, whose length does not depend on the
  positions -- to Cartesian atom scores sx[3n] (s_x,i -= s_e v/d, s_x,j += s_e v/d, as
  SgmDistanceScoreToAtoms over both directed copies) and fractional scores
  sF[3i + a] = sum_c L[3a + c] sx[3i + c].  With se = d log p / d d_e of a pair density
  (se = -phi'(d) for p ~ exp(-sum phi)), sF is d log p / dF.
*/
PetscErrorCode SgmCSPDistanceScoreToFractional(PetscInt n, const PetscReal L[], PetscInt ne, const SgmEdge e[], const PetscReal se[], PetscReal sx[], PetscReal sF[])
{
  PetscFunctionBegin;
  PetscCall(PetscArrayzero(sx, 3 * n));
  for (PetscInt m = 0; m < ne; m++) {
    PetscCheck(e[m].i < e[m].j, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "Edge %" PetscInt_FMT " is (%" PetscInt_FMT ", %" PetscInt_FMT "): pass the undirected edges, i < j", m, e[m].i, e[m].j);
    for (int cc = 0; cc < 3; cc++) {
      const PetscReal g = se[m] * e[m].v[cc] / e[m].d;
      sx[3 * e[m].i + cc] -= g;
      sx[3 * e[m].j + cc] += g;
    }
  }
  for (PetscInt i = 0; i < n; i++)
    for (int a = 0; a < 3; a++) sF[3 * i + a] = L[3 * a] * sx[3 * i] + L[3 * a + 1] * sx[3 * i + 1] + L[3 * a + 2] * sx[3 * i + 2];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The smooth cutoff envelope: 0 with zero slope at d = r, so an edge enters and leaves continuously
   (its derivative in d is not needed: the network is differentiated w.r.t. its parameters only). */
static inline PetscReal Envelope(PetscReal d, PetscReal rc)
{
  return d < rc ? 0.5 * (1 + PetscCosReal(PETSC_PI * d / rc)) : 0;
}

PetscErrorCode SgmCSPDistNetForward(const SgmCSPDistNet *net, const PetscReal theta[], const SgmCrystal *c, PetscReal t, SgmCSPDistNetWork *w, PetscReal epsF[], PetscReal epsL[])
{
  const PetscInt  H = net->H, nr = net->nr, nl = net->nl, half = net->nt / 2, n = c->n;
  const PetscReal delta = net->rc / (nr - 1);

  PetscFunctionBegin;
  PetscCheck(n >= 1 && n <= net->maxatoms, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "The distance network was set up for 1 to %" PetscInt_FMT " atoms; got %" PetscInt_FMT, net->maxatoms, n);
  for (PetscInt i = 0; i < n; i++) PetscCheck(c->z[i] >= 1 && c->z[i] <= SGM_CSP_MAXZ, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Atomic number %" PetscInt_FMT " is outside 1..%d", c->z[i], SGM_CSP_MAXZ);
  w->n = n;
  PetscCall(PetscFree(w->e));
  PetscCall(SgmPeriodicEdges(n, c->L, c->f, net->rc, &w->ne, &w->e));
  { /* keep one edge of each mirror pair, i < j (see the header) */
    PetscInt k = 0;
    for (PetscInt m = 0; m < w->ne; m++)
      if (w->e[m].i < w->e[m].j) w->e[k++] = w->e[m];
    w->ne = k;
  }
  if (w->ne > w->cap) {
    PetscCall(PetscFree4(w->rbf, w->act, w->fc, w->se));
    w->cap = PetscMax(w->ne, 2 * w->cap);
    PetscCall(PetscMalloc4(w->cap * nr, &w->rbf, w->cap * nl * H, &w->act, w->cap, &w->fc, w->cap, &w->se));
  }
  for (PetscInt k = 0; k < half; k++) { /* as cspnet.c: DiffCSP's SinusoidalTimeEmbeddings */
    PetscReal fr     = PetscExpReal(-PetscLogReal(10000.0) * k / (half - 1));
    w->tau[k]        = PetscSinReal(t * fr);
    w->tau[half + k] = PetscCosReal(t * fr);
  }
  for (PetscInt o = 0; o < H; o++) { /* the edge-independent part of a^1 */
    PetscReal s = theta[net->ob1 + o];
    for (PetscInt q = 0; q < net->nt; q++) s += theta[net->oWt + o * net->nt + q] * w->tau[q];
    w->ct[o] = s;
  }
  for (PetscInt m = 0; m < w->ne; m++) {
    const SgmEdge   *e  = &w->e[m];
    const PetscReal *Ei = theta + net->oE + (c->z[e->i] - 1) * H, *Ej = theta + net->oE + (c->z[e->j] - 1) * H;
    PetscReal       *rbf = w->rbf + m * nr, *a = w->act + m * nl * H, h[SGM_CSPNET_MAXH], y;
    for (PetscInt q = 0; q < nr; q++) {
      const PetscReal x = (e->d - q * delta) / delta;
      rbf[q]            = PetscExpReal(-0.5 * x * x);
    }
    for (PetscInt o = 0; o < H; o++) {
      PetscReal s = w->ct[o] + Ei[o] + Ej[o];
      for (PetscInt q = 0; q < nr; q++) s += theta[net->oWr + o * nr + q] * rbf[q];
      a[o] = s;
    }
    for (PetscInt l = 1; l < nl; l++) {
      const PetscReal *W = theta + net->oW[l], *b = theta + net->ob[l], *ap = a + (l - 1) * H;
      PetscReal       *al = a + l * H;
      for (PetscInt q = 0; q < H; q++) h[q] = Silu(ap[q]);
      for (PetscInt o = 0; o < H; o++) {
        PetscReal s = b[o];
        for (PetscInt q = 0; q < H; q++) s += W[o * H + q] * h[q];
        al[o] = s;
      }
    }
    y = theta[net->bout];
    for (PetscInt q = 0; q < H; q++) y += theta[net->ow + q] * Silu(a[(nl - 1) * H + q]);
    w->fc[m] = Envelope(e->d, net->rc);
    w->se[m] = y * w->fc[m];
  }
  PetscCall(SgmCSPDistanceScoreToFractional(n, c->L, w->ne, w->e, w->se, w->sx, epsF));
  if (epsL) PetscCall(PetscArrayzero(epsL, 9)); /* no lattice head: task 1 only */
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grad += d/dtheta sum_i gF_i . eps_F,i at the last forward pass of w. */
PetscErrorCode SgmCSPDistNetBackward(const SgmCSPDistNet *net, const PetscReal theta[], const SgmCrystal *c, SgmCSPDistNetWork *w, const PetscReal gF[], PetscReal grad[])
{
  const PetscInt H = net->H, nr = net->nr, nl = net->nl, n = w->n;
  PetscReal      gct[SGM_CSPNET_MAXH];

  PetscFunctionBegin;
  PetscCheck(n == c->n, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "SgmCSPDistNetBackward needs the work of a forward pass of the same crystal");
  for (PetscInt i = 0; i < n; i++) /* gx = L^T gF per atom: the adjoint of eps_F,i = L s_x,i */
    for (int cc = 0; cc < 3; cc++) w->gx[3 * i + cc] = c->L[cc] * gF[3 * i] + c->L[3 + cc] * gF[3 * i + 1] + c->L[6 + cc] * gF[3 * i + 2];
  PetscCall(PetscArrayzero(gct, H));
  for (PetscInt m = 0; m < w->ne; m++) {
    const SgmEdge   *e = &w->e[m];
    const PetscReal *rbf = w->rbf + m * nr, *a = w->act + m * nl * H;
    PetscReal        gy, g[SGM_CSPNET_MAXH], gh[SGM_CSPNET_MAXH], *gEi = grad + net->oE + (c->z[e->i] - 1) * H, *gEj = grad + net->oE + (c->z[e->j] - 1) * H;
    /* s_x,i -= s_e v_e / d_e, s_x,j += s_e v_e / d_e */
    gy = 0;
    for (int cc = 0; cc < 3; cc++) gy -= (w->gx[3 * e->i + cc] - w->gx[3 * e->j + cc]) * e->v[cc] / e->d;
    gy *= w->fc[m];
    if (gy == 0) continue;
    grad[net->bout] += gy;
    for (PetscInt q = 0; q < H; q++) {
      const PetscReal x = a[(nl - 1) * H + q];
      grad[net->ow + q] += gy * Silu(x);
      g[q] = gy * theta[net->ow + q] * DSilu(x); /* d/da^nl */
    }
    for (PetscInt l = nl - 1; l >= 1; l--) {
      const PetscReal *W = theta + net->oW[l], *ap = a + (l - 1) * H;
      PetscReal       *gW = grad + net->oW[l], *gb = grad + net->ob[l];
      for (PetscInt q = 0; q < H; q++) gh[q] = 0;
      for (PetscInt o = 0; o < H; o++) {
        gb[o] += g[o];
        for (PetscInt q = 0; q < H; q++) {
          gW[o * H + q] += g[o] * Silu(ap[q]);
          gh[q] += W[o * H + q] * g[o];
        }
      }
      for (PetscInt q = 0; q < H; q++) g[q] = gh[q] * DSilu(ap[q]);
    }
    for (PetscInt o = 0; o < H; o++) {
      for (PetscInt q = 0; q < nr; q++) grad[net->oWr + o * nr + q] += g[o] * rbf[q];
      gct[o] += g[o];
      gEi[o] += g[o];
      gEj[o] += g[o];
    }
  }
  for (PetscInt o = 0; o < H; o++) {
    grad[net->ob1 + o] += gct[o];
    for (PetscInt q = 0; q < net->nt; q++) grad[net->oWt + o * net->nt + q] += gct[o] * w->tau[q];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
