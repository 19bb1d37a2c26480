/*
  -net_type egnn: the E(n)-equivariant graph network of Satorras et al. (2021) as EDM uses it for the
  noise (Hoogeboom et al. 2022, sec. 3.3 and egnn_new.py), on a fully connected cloud of n atoms
  x_i in R^sd, width H, L layers, SiLU:

    h_i^0     = w_emb c + b_emb                               (time input c; one atom type)
    layer l:  r_ij = |x_i - x_j|^2,  d_ij = sqrt(r_ij)        (i != j, ordered pairs)
              m_ij = phi_e(h_i, h_j, r_ij)  = SiLU(W_e2 SiLU(W_ea h_i + W_eb h_j + w_er r_ij + b_e1) + b_e2)
              x_i <- x_i + sum_{j != i} (x_i - x_j)/(d_ij + 1) phi_x(m_ij),
                           phi_x(m) = w_x2 . SiLU(W_x1 m + b_x1)              (no bias, EDM/Satorras)
              h_i <- h_i + phi_h(h_i, M_i),  M_i = sum_{j != i} m_ij,
                           phi_h(h, M) = W_h2 SiLU(W_ha h + W_hb M + b_h1) + b_h2
              (messages and both updates from the layer's input; the last layer has no phi_h, its h
              would not reach the output)
    output:   F = P (x^L - x^0),  P: subtract the mean over the atoms (zero CoM; EDM remove_mean)

  Invariant feature channels (GeoLDM latents z_h; SgmNetSetCloudFeatures, -net_egnn_features): an
  atom's sd input channels are sx = sd - kin coordinates and kin invariant features u_h, which enter
  as h_i^0 = w_emb c + b_emb + W_in u_h,i; with kout > 0 output features the last layer keeps its
  phi_h and an atom's output is [P (x^L - x^0), W_out h^L + b_out] (sx + kout channels; the features
  are not centred: they are invariant, EDM's h part).  Without features the layout below is unchanged.

  The coordinate normalisation (x_i - x_j)/(d_ij + 1) is EDM's (norm_constant = 1).  F is invariant
  to translations and equivariant to orthogonal maps and permutations: it depends on x only through
  differences and distances.

  Parameter layout (column-major matrices): w_emb [H], b_emb [H], then layer l at olay + l*lay:
    W_ea [HxH], W_eb [HxH], w_er [H], b_e1 [H], W_e2 [HxH], b_e2 [H], W_x1 [HxH], b_x1 [H], w_x2 [H],
    W_ha [HxH], W_hb [HxH], b_h1 [H], W_h2 [HxH], b_h2 [H]          (the last layer stops after w_x2
  unless kout > 0); with features W_in [H x kin] sits between b_emb and the layers, and W_out
  [kout x H], b_out [kout] follow the layers.

  Activations are stored column-major, one column per node (nb clouds x n atoms) or per ordered edge
  e = i (n-1) + k (node i, its k-th neighbour j = k or k + 1 within the cloud), so each linear map of
  a layer is one dgemm over all nodes or edges of the pass.  The backward pass is reverse mode through
  the same passes (comments there).
*/
#include <sgm/private/netimpl.h>
#include <sgmio.h>

typedef struct {
  PetscReal *We_a, *We_b, *we_r, *be1, *We2, *be2, *Wx1, *bx1, *wx2, *Wh_a, *Wh_b, *bh1, *Wh2, *bh2;
} Layer;

typedef struct {
  PetscInt oemb, oin, olay, lay, lastlay, oout; /* offsets; sizes of a layer and of the last one */
  PetscInt sx;                                  /* coordinates per atom: sd - kin */
  /* tape of the last pass (capacity cap clouds) */
  PetscInt    cap, nb;
  PetscReal  *cb;                                     /* [nb] time inputs */
  PetscReal **X, **Hn;                                /* [L+1] node coordinates [nn sd] and features [H nn] */
  PetscReal **A1, **Z1, **A2, **Mg, **B1, **Y1, **Ph; /* [L] edge pre-activations, activations, phi_x */
  PetscReal **Ms, **C1, **U1;                         /* [L] aggregated messages, phi_h pre-activation, activation */
  PetscReal  *EA, *EB, *E1, *E2, *N1, *N2, *Hb, *Hbp, *Xb, *Xbp;
  PetscReal  *Uh; /* [kin nn] input features of the pass */
  PetscInt   *ei, *ej;
} Net_EGNN;

static void LayerAt(PetscReal *q, PetscInt H, PetscBool last, Layer *p)
{
  p->We_a = q; q += H * H;
  p->We_b = q; q += H * H;
  p->we_r = q; q += H;
  p->be1  = q; q += H;
  p->We2  = q; q += H * H;
  p->be2  = q; q += H;
  p->Wx1  = q; q += H * H;
  p->bx1  = q; q += H;
  p->wx2  = q; q += H;
  if (last) {
    p->Wh_a = p->Wh_b = p->bh1 = p->Wh2 = p->bh2 = NULL;
    return;
  }
  p->Wh_a = q; q += H * H;
  p->Wh_b = q; q += H * H;
  p->bh1  = q; q += H;
  p->Wh2  = q; q += H * H;
  p->bh2  = q;
}

static PetscErrorCode SgmNetSetUp_EGNN(SgmNet net)
{
  Net_EGNN      *eg = (Net_EGNN *)net->data;
  const PetscInt H  = net->width;

  PetscFunctionBegin;
  PetscCall(SgmNetCloudSetUp_Private(net));
  PetscCheck(net->kin < net->sd, PetscObjectComm((PetscObject)net), PETSC_ERR_USER_INPUT, "The egnn network has %" PetscInt_FMT " input channels per atom, of which %" PetscInt_FMT " are invariant features: at least one coordinate is needed", net->sd, net->kin);
  PetscCheck(net->kin <= net->width && net->kout <= net->width, PetscObjectComm((PetscObject)net), PETSC_ERR_USER_INPUT, "The egnn network has %" PetscInt_FMT " input and %" PetscInt_FMT " output feature channels per atom: at most its width %" PetscInt_FMT, net->kin, net->kout, net->width);
  eg->sx      = net->sd - net->kin;
  eg->oemb    = 0;
  eg->oin     = 2 * H;
  eg->olay    = eg->oin + H * net->kin;
  eg->lay     = 7 * H * H + 7 * H;
  eg->lastlay = net->kout > 0 ? eg->lay : 4 * H * H + 5 * H;
  eg->oout    = eg->olay + (net->depth - 1) * eg->lay + eg->lastlay;
  net->P      = eg->oout + net->kout * H + net->kout;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Weights N(0, 1/fan_in) (fan_in of a concatenated input: its whole length), biases zero, w_x2 with
   scale 1e-3/sqrt(H) so the first coordinate updates are small (EDM: xavier gain 0.001). */
static PetscErrorCode SgmNetInitialize_EGNN(SgmNet net, uint64_t seed)
{
  Net_EGNN      *eg = (Net_EGNN *)net->data;
  const PetscInt H  = net->width, L = net->depth;
  PetscReal     *th = net->theta;
  const PetscReal s2 = 1 / PetscSqrtReal(2.0 * H + 1), s1 = 1 / PetscSqrtReal((PetscReal)H), sh = 1 / PetscSqrtReal(2.0 * H);

  PetscFunctionBegin;
  SgmRandomNormalSample(seed, SGM_STREAM_NET_INIT, 0, 0, net->P, th);
  for (PetscInt q = 0; q < H; q++) th[eg->oemb + H + q] = 0;
  for (PetscInt q = 0; q < H * net->kin; q++) th[eg->oin + q] /= PetscSqrtReal((PetscReal)net->kin);
  for (PetscInt q = 0; q < H * net->kout; q++) th[eg->oout + q] *= s1;
  for (PetscInt q = 0; q < net->kout; q++) th[eg->oout + H * net->kout + q] = 0;
  for (PetscInt l = 0; l < L; l++) {
    Layer p;
    LayerAt(th + eg->olay + l * eg->lay, H, (PetscBool)(l == L - 1 && !net->kout), &p);
    for (PetscInt q = 0; q < H * H; q++) {
      p.We_a[q] *= s2;
      p.We_b[q] *= s2;
      p.We2[q] *= s1;
      p.Wx1[q] *= s1;
    }
    for (PetscInt q = 0; q < H; q++) {
      p.we_r[q] *= s2;
      p.be1[q] = p.be2[q] = p.bx1[q] = 0;
      p.wx2[q] *= 1e-3 * s1;
    }
    if (p.Wh_a) {
      for (PetscInt q = 0; q < H * H; q++) {
        p.Wh_a[q] *= sh;
        p.Wh_b[q] *= sh;
        p.Wh2[q] *= s1;
      }
      for (PetscInt q = 0; q < H; q++) p.bh1[q] = p.bh2[q] = 0;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TapeFree(SgmNet net)
{
  Net_EGNN *eg = (Net_EGNN *)net->data;

  PetscFunctionBegin;
  if (!eg->cap) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt l = 0; l <= net->depth; l++) {
    PetscCall(PetscFree2(eg->X[l], eg->Hn[l]));
    if (l < net->depth) PetscCall(PetscFree6(eg->A1[l], eg->Z1[l], eg->A2[l], eg->Mg[l], eg->B1[l], eg->Y1[l]));
    if (l < net->depth) PetscCall(PetscFree4(eg->Ph[l], eg->Ms[l], eg->C1[l], eg->U1[l]));
  }
  PetscCall(PetscFree(eg->Uh));
  PetscCall(PetscFree6(eg->X, eg->Hn, eg->A1, eg->Z1, eg->A2, eg->Mg));
  PetscCall(PetscFree6(eg->B1, eg->Y1, eg->Ph, eg->Ms, eg->C1, eg->U1));
  PetscCall(PetscFree6(eg->EA, eg->EB, eg->E1, eg->E2, eg->N1, eg->N2));
  PetscCall(PetscFree4(eg->Hb, eg->Hbp, eg->Xb, eg->Xbp));
  PetscCall(PetscFree3(eg->ei, eg->ej, eg->cb));
  eg->cap = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TapeReserve(SgmNet net, PetscInt nb)
{
  Net_EGNN      *eg = (Net_EGNN *)net->data;
  const PetscInt H = net->width, L = net->depth, n = net->natoms, sd = net->sd;
  PetscInt       nn, ne;

  PetscFunctionBegin;
  if (nb <= eg->cap) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(TapeFree(net));
  nn = nb * n;
  ne = nn * (n - 1);
  PetscCall(PetscMalloc6(L + 1, &eg->X, L + 1, &eg->Hn, L, &eg->A1, L, &eg->Z1, L, &eg->A2, L, &eg->Mg));
  PetscCall(PetscMalloc6(L, &eg->B1, L, &eg->Y1, L, &eg->Ph, L, &eg->Ms, L, &eg->C1, L, &eg->U1));
  for (PetscInt l = 0; l <= L; l++) {
    PetscCall(PetscMalloc2(nn * sd, &eg->X[l], H * nn, &eg->Hn[l]));
    if (l < L) PetscCall(PetscMalloc6(H * ne, &eg->A1[l], H * ne, &eg->Z1[l], H * ne, &eg->A2[l], H * ne, &eg->Mg[l], H * ne, &eg->B1[l], H * ne, &eg->Y1[l]));
    if (l < L) PetscCall(PetscMalloc4(ne, &eg->Ph[l], H * nn, &eg->Ms[l], H * nn, &eg->C1[l], H * nn, &eg->U1[l]));
  }
  PetscCall(PetscMalloc6(H * nn, &eg->EA, H * nn, &eg->EB, H * ne, &eg->E1, H * ne, &eg->E2, H * nn, &eg->N1, H * nn, &eg->N2));
  PetscCall(PetscMalloc4(H * nn, &eg->Hb, H * nn, &eg->Hbp, nn * sd, &eg->Xb, nn * sd, &eg->Xbp));
  PetscCall(PetscMalloc3(ne, &eg->ei, ne, &eg->ej, nb, &eg->cb));
  PetscCall(PetscMalloc1(net->kin * nn + 1, &eg->Uh));
  for (PetscInt i = 0; i < nn; i++) {
    const PetscInt b = i / n, a = i % n;
    for (PetscInt k = 0; k < n - 1; k++) {
      eg->ei[i * (n - 1) + k] = i;
      eg->ej[i * (n - 1) + k] = b * n + (k < a ? k : k + 1);
    }
  }
  eg->cap = nb;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* C[H x N] = b broadcast over the columns (a dgemm then adds with beta = 1) */
static void Broadcast(PetscInt H, PetscInt N, const PetscReal *b, PetscReal *C)
{
  for (PetscInt e = 0; e < N; e++)
    for (PetscInt q = 0; q < H; q++) C[e * H + q] = b[q];
}

/* gb[q] += sum over columns of A[H x N] */
static void RowSum(PetscInt H, PetscInt N, const PetscReal *A, PetscReal *gb)
{
  for (PetscInt e = 0; e < N; e++)
    for (PetscInt q = 0; q < H; q++) gb[q] += A[e * H + q];
}

/* u [nn sd] (per atom sx coordinates, then kin features) -> F [nn (sx + kout)]; c [nb] time inputs */
static PetscErrorCode SgmNetCloudForward_EGNN(SgmNet net, PetscInt nb, const PetscReal u[], const PetscReal c[], PetscReal F[])
{
  Net_EGNN      *eg = (Net_EGNN *)net->data;
  const PetscInt H = net->width, L = net->depth, n = net->natoms, sd = eg->sx, sin = net->sd, kin = net->kin, kout = net->kout, so = sd + kout, nn = nb * n, ne = nn * (n - 1);
  PetscReal     *th = net->theta;
  const PetscReal *wemb = th + eg->oemb, *bemb = wemb + H;

  PetscFunctionBegin;
  PetscCall(TapeReserve(net, nb));
  eg->nb = nb;
  for (PetscInt b = 0; b < nb; b++) eg->cb[b] = c[b];
  for (PetscInt i = 0; i < nn; i++) {
    for (PetscInt a = 0; a < sd; a++) eg->X[0][i * sd + a] = u[i * sin + a];
    for (PetscInt q = 0; q < kin; q++) eg->Uh[i * kin + q] = u[i * sin + sd + q];
  }
  for (PetscInt i = 0; i < nn; i++)
    for (PetscInt q = 0; q < H; q++) eg->Hn[0][i * H + q] = wemb[q] * c[i / n] + bemb[q];
  if (kin) PetscCall(SgmGemm("N", "N", H, nn, kin, 1, th + eg->oin, H, eg->Uh, kin, 1, eg->Hn[0], H));
  for (PetscInt l = 0; l < L; l++) {
    const PetscBool  last = (PetscBool)(l == L - 1 && !kout);
    const PetscReal *X = eg->X[l], *Hl = eg->Hn[l];
    PetscReal       *A1 = eg->A1[l], *Z1 = eg->Z1[l], *A2 = eg->A2[l], *Mg = eg->Mg[l], *B1 = eg->B1[l], *Y1 = eg->Y1[l], *Ph = eg->Ph[l], *Xn = eg->X[l + 1];
    Layer            p;

    LayerAt(th + eg->olay + l * eg->lay, H, last, &p);
    /* phi_e: W_ea h_i and W_eb h_j once per node, then gathered on the edges */
    PetscCall(SgmGemm("N", "N", H, nn, H, 1, p.We_a, H, Hl, H, 0, eg->EA, H));
    PetscCall(SgmGemm("N", "N", H, nn, H, 1, p.We_b, H, Hl, H, 0, eg->EB, H));
    for (PetscInt e = 0; e < ne; e++) {
      const PetscInt   i = eg->ei[e], j = eg->ej[e];
      const PetscReal *ea = eg->EA + i * H, *eb = eg->EB + j * H;
      PetscReal        r = 0;
      for (PetscInt k = 0; k < sd; k++) r += (X[i * sd + k] - X[j * sd + k]) * (X[i * sd + k] - X[j * sd + k]);
      for (PetscInt q = 0; q < H; q++) A1[e * H + q] = ea[q] + eb[q] + p.we_r[q] * r + p.be1[q];
    }
    SgmNetSiLU_Private(H * ne, A1, Z1);
    Broadcast(H, ne, p.be2, A2);
    PetscCall(SgmGemm("N", "N", H, ne, H, 1, p.We2, H, Z1, H, 1, A2, H));
    SgmNetSiLU_Private(H * ne, A2, Mg);
    /* phi_x */
    Broadcast(H, ne, p.bx1, B1);
    PetscCall(SgmGemm("N", "N", H, ne, H, 1, p.Wx1, H, Mg, H, 1, B1, H));
    SgmNetSiLU_Private(H * ne, B1, Y1);
    for (PetscInt e = 0; e < ne; e++) {
      PetscReal s = 0;
      for (PetscInt q = 0; q < H; q++) s += p.wx2[q] * Y1[e * H + q];
      Ph[e] = s;
    }
    /* coordinate update (EDM normalisation 1/(d + 1)) */
    for (PetscInt i = 0; i < nn; i++) {
      PetscReal acc[16] = {0};
      for (PetscInt k = 0; k < n - 1; k++) {
        const PetscInt e = i * (n - 1) + k, j = eg->ej[e];
        PetscReal      v[16], r = 0;
        for (PetscInt a = 0; a < sd; a++) {
          v[a] = X[i * sd + a] - X[j * sd + a];
          r += v[a] * v[a];
        }
        for (PetscInt a = 0; a < sd; a++) acc[a] += v[a] / (PetscSqrtReal(r) + 1) * Ph[e];
      }
      for (PetscInt a = 0; a < sd; a++) Xn[i * sd + a] = X[i * sd + a] + acc[a];
    }
    if (last) break;
    /* phi_h on h_i and M_i = sum_j m_ij */
    {
      PetscReal *Ms = eg->Ms[l], *C1 = eg->C1[l], *U1 = eg->U1[l], *Hn = eg->Hn[l + 1];
      for (PetscInt i = 0; i < nn; i++) {
        for (PetscInt q = 0; q < H; q++) Ms[i * H + q] = 0;
        for (PetscInt k = 0; k < n - 1; k++)
          for (PetscInt q = 0; q < H; q++) Ms[i * H + q] += Mg[(i * (n - 1) + k) * H + q];
      }
      Broadcast(H, nn, p.bh1, C1);
      PetscCall(SgmGemm("N", "N", H, nn, H, 1, p.Wh_a, H, Hl, H, 1, C1, H));
      PetscCall(SgmGemm("N", "N", H, nn, H, 1, p.Wh_b, H, Ms, H, 1, C1, H));
      SgmNetSiLU_Private(H * nn, C1, U1);
      for (PetscInt i = 0; i < nn; i++)
        for (PetscInt q = 0; q < H; q++) Hn[i * H + q] = Hl[i * H + q] + p.bh2[q];
      PetscCall(SgmGemm("N", "N", H, nn, H, 1, p.Wh2, H, U1, H, 1, Hn, H));
    }
  }
  /* F = P (x^L - x^0) per cloud */
  for (PetscInt b = 0; b < nb; b++) {
    PetscReal m[16] = {0};
    for (PetscInt i = b * n; i < (b + 1) * n; i++)
      for (PetscInt a = 0; a < sd; a++) {
        F[i * so + a] = eg->X[L][i * sd + a] - eg->X[0][i * sd + a];
        m[a] += F[i * so + a];
      }
    for (PetscInt a = 0; a < sd; a++) m[a] /= n;
    for (PetscInt i = b * n; i < (b + 1) * n; i++)
      for (PetscInt a = 0; a < sd; a++) F[i * so + a] -= m[a];
  }
  if (kout) { /* invariant outputs W_out h^L + b_out (N1 as scratch: [kout nn] <= [H nn]) */
    const PetscReal *Wo = th + eg->oout, *bo = Wo + kout * H;
    PetscCall(SgmGemm("N", "N", kout, nn, H, 1, Wo, kout, eg->Hn[L], H, 0, eg->N1, kout));
    for (PetscInt i = 0; i < nn; i++)
      for (PetscInt q = 0; q < kout; q++) F[i * so + sd + q] = eg->N1[i * kout + q] + bo[q];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grad += d(sum Fb . F)/d theta for the pass on the tape, and ub = (dF/du)^T Fb unless ub is NULL */
PetscErrorCode SgmNetEGNNAdjoint_Private(SgmNet net, PetscInt nb, const PetscReal Fb[], PetscReal grad[], PetscReal ub[])
{
  Net_EGNN      *eg = (Net_EGNN *)net->data;
  const PetscInt H = net->width, L = net->depth, n = net->natoms, sd = eg->sx, sin = net->sd, kin = net->kin, kout = net->kout, so = sd + kout, nn = nb * n, ne = nn * (n - 1);
  PetscReal     *th = net->theta, *Xb = eg->Xb, *Xbp = eg->Xbp, *Hb = eg->Hb, *Hbp = eg->Hbp;
  const PetscBool xin = (PetscBool)(ub != NULL); /* carry the adjoint down to x^0 */

  PetscFunctionBegin;
  PetscCheck(nb == eg->nb, PetscObjectComm((PetscObject)net), PETSC_ERR_PLIB, "Backward pass of %" PetscInt_FMT " clouds after a forward pass of %" PetscInt_FMT, nb, eg->nb);
  /* F = P (x^L - x^0): the adjoint of x^L is P Fb (P symmetric) */
  for (PetscInt b = 0; b < nb; b++) {
    PetscReal m[16] = {0};
    for (PetscInt i = b * n; i < (b + 1) * n; i++)
      for (PetscInt a = 0; a < sd; a++) m[a] += Fb[i * so + a];
    for (PetscInt a = 0; a < sd; a++) m[a] /= n;
    for (PetscInt i = b * n; i < (b + 1) * n; i++)
      for (PetscInt a = 0; a < sd; a++) Xb[i * sd + a] = Fb[i * so + a] - m[a];
  }
  if (xin)
    for (PetscInt i = 0; i < nn; i++)
      for (PetscInt a = 0; a < sd; a++) ub[i * sin + a] = -Xb[i * sd + a]; /* the -P Fb of x^0 (then the layers' part) */
  PetscCall(PetscArrayzero(Hb, H * nn));
  if (kout) { /* F_h = W_out h^L + b_out */
    const PetscReal *Wo = th + eg->oout;
    PetscReal       *gWo = grad + eg->oout, *gbo = gWo + kout * H, *Fh = eg->N1;
    for (PetscInt i = 0; i < nn; i++)
      for (PetscInt q = 0; q < kout; q++) Fh[i * kout + q] = Fb[i * so + sd + q];
    PetscCall(SgmGemm("N", "T", kout, H, nn, 1, Fh, kout, eg->Hn[L], H, 1, gWo, kout));
    RowSum(kout, nn, Fh, gbo);
    PetscCall(SgmGemm("T", "N", H, nn, kout, 1, Wo, kout, Fh, kout, 0, Hb, H));
  }
    for (PetscInt l = L - 1; l >= 0; l--) {
    const PetscBool  last = (PetscBool)(l == L - 1 && !kout);
    const PetscReal *X = eg->X[l], *Hl = eg->Hn[l], *A1 = eg->A1[l], *Z1 = eg->Z1[l], *A2 = eg->A2[l], *Mg = eg->Mg[l], *B1 = eg->B1[l], *Y1 = eg->Y1[l], *Ph = eg->Ph[l];
    PetscReal       *E1 = eg->E1, *E2 = eg->E2, *Mb = eg->N2;
    Layer            p, g;

    LayerAt(th + eg->olay + l * eg->lay, H, last, &p);
    LayerAt(grad + eg->olay + l * eg->lay, H, last, &g);
    /* h' = h + W_h2 SiLU(C1) + b_h2, C1 = W_ha h + W_hb M + b_h1 */
    PetscCall(PetscArraycpy(Hbp, Hb, H * nn));
    if (!last) {
      const PetscReal *C1 = eg->C1[l], *U1 = eg->U1[l], *Ms = eg->Ms[l];
      PetscReal       *C1b = eg->N1;
      PetscCall(SgmGemm("N", "T", H, H, nn, 1, Hb, H, U1, H, 1, g.Wh2, H));
      RowSum(H, nn, Hb, g.bh2);
      PetscCall(SgmGemm("T", "N", H, nn, H, 1, p.Wh2, H, Hb, H, 0, C1b, H));
      SgmNetSiLUAdjoint_Private(H * nn, C1, C1b);
      PetscCall(SgmGemm("N", "T", H, H, nn, 1, C1b, H, Hl, H, 1, g.Wh_a, H));
      PetscCall(SgmGemm("N", "T", H, H, nn, 1, C1b, H, Ms, H, 1, g.Wh_b, H));
      RowSum(H, nn, C1b, g.bh1);
      PetscCall(SgmGemm("T", "N", H, nn, H, 1, p.Wh_a, H, C1b, H, 1, Hbp, H));
      PetscCall(SgmGemm("T", "N", H, nn, H, 1, p.Wh_b, H, C1b, H, 0, Mb, H));
    }
    /* x_i' = x_i + sum_j g_ij phi_ij, g = v/(d + 1), v = x_i - x_j:
       phi_ij adjoint = xb_i . g_ij; v adjoint = phi (xb_i/(d+1) - v (v . xb_i)/(d (d+1)^2)) */
    PetscCall(PetscArraycpy(Xbp, Xb, nn * sd));
    for (PetscInt e = 0; e < ne; e++) {
      const PetscInt i = eg->ei[e], j = eg->ej[e];
      PetscReal      v[16], r = 0, dd, vx = 0, phb = 0;
      for (PetscInt a = 0; a < sd; a++) {
        v[a] = X[i * sd + a] - X[j * sd + a];
        r += v[a] * v[a];
        vx += v[a] * Xb[i * sd + a];
      }
      dd = PetscSqrtReal(r);
      phb = vx / (dd + 1);
      for (PetscInt a = 0; a < sd; a++) {
        PetscReal vb = Ph[e] * Xb[i * sd + a] / (dd + 1);
        if (dd > 0) vb -= Ph[e] * v[a] * vx / (dd * (dd + 1) * (dd + 1));
        if (l > 0 || xin) {
          Xbp[i * sd + a] += vb;
          Xbp[j * sd + a] -= vb;
        }
      }
      /* phi = w_x2 . Y1: Y1 adjoint = w_x2 phb, through SiLU into E1 = B1 adjoint */
      for (PetscInt q = 0; q < H; q++) {
        g.wx2[q] += phb * Y1[e * H + q];
        E1[e * H + q] = p.wx2[q] * phb;
      }
    }
    SgmNetSiLUAdjoint_Private(H * ne, B1, E1);
    PetscCall(SgmGemm("N", "T", H, H, ne, 1, E1, H, Mg, H, 1, g.Wx1, H));
    RowSum(H, ne, E1, g.bx1);
    /* m_ij adjoint: through phi_x, plus M_i's */
    PetscCall(SgmGemm("T", "N", H, ne, H, 1, p.Wx1, H, E1, H, 0, E2, H));
    if (!last)
      for (PetscInt e = 0; e < ne; e++)
        for (PetscInt q = 0; q < H; q++) E2[e * H + q] += Mb[eg->ei[e] * H + q];
    SgmNetSiLUAdjoint_Private(H * ne, A2, E2); /* A2 adjoint */
    PetscCall(SgmGemm("N", "T", H, H, ne, 1, E2, H, Z1, H, 1, g.We2, H));
    RowSum(H, ne, E2, g.be2);
    PetscCall(SgmGemm("T", "N", H, ne, H, 1, p.We2, H, E2, H, 0, E1, H));
    SgmNetSiLUAdjoint_Private(H * ne, A1, E1); /* A1 adjoint */
    RowSum(H, ne, E1, g.be1);
    /* A1 = EA_i + EB_j + w_er r_ij + b_e1 */
    PetscCall(PetscArrayzero(eg->EA, H * nn));
    PetscCall(PetscArrayzero(eg->EB, H * nn));
    for (PetscInt e = 0; e < ne; e++) {
      const PetscInt i = eg->ei[e], j = eg->ej[e];
      PetscReal      v[16], r = 0, rb = 0;
      for (PetscInt a = 0; a < sd; a++) {
        v[a] = X[i * sd + a] - X[j * sd + a];
        r += v[a] * v[a];
      }
      for (PetscInt q = 0; q < H; q++) {
        const PetscReal ab = E1[e * H + q];
        g.we_r[q] += ab * r;
        rb += p.we_r[q] * ab;
        eg->EA[i * H + q] += ab;
        eg->EB[j * H + q] += ab;
      }
      if (l > 0 || xin)
        for (PetscInt a = 0; a < sd; a++) {
          Xbp[i * sd + a] += 2 * rb * v[a];
          Xbp[j * sd + a] -= 2 * rb * v[a];
        }
    }
    PetscCall(SgmGemm("N", "T", H, H, nn, 1, eg->EA, H, Hl, H, 1, g.We_a, H));
    PetscCall(SgmGemm("N", "T", H, H, nn, 1, eg->EB, H, Hl, H, 1, g.We_b, H));
    PetscCall(SgmGemm("T", "N", H, nn, H, 1, p.We_a, H, eg->EA, H, 1, Hbp, H));
    PetscCall(SgmGemm("T", "N", H, nn, H, 1, p.We_b, H, eg->EB, H, 1, Hbp, H));
    {
      PetscReal *t = Hb;
      Hb = Hbp; Hbp = t;
      t = Xb; Xb = Xbp; Xbp = t;
    }
  }
  /* h^0 = w_emb c + b_emb + W_in u_h */
  {
    PetscReal *gw = grad + eg->oemb, *gb = gw + H;
    for (PetscInt i = 0; i < nn; i++)
      for (PetscInt q = 0; q < H; q++) {
        gw[q] += Hb[i * H + q] * eg->cb[i / n];
        gb[q] += Hb[i * H + q];
      }
    if (kin) {
      PetscCall(SgmGemm("N", "T", H, kin, nn, 1, Hb, H, eg->Uh, kin, 1, grad + eg->oin, H));
      if (xin) { /* u_h adjoint W_in^T Hb (Hbp as scratch [kin nn]) */
        PetscCall(SgmGemm("T", "N", kin, nn, H, 1, th + eg->oin, H, Hb, H, 0, Hbp, kin));
        for (PetscInt i = 0; i < nn; i++)
          for (PetscInt q = 0; q < kin; q++) ub[i * sin + sd + q] = Hbp[i * kin + q];
      }
    }
  }
  if (xin) /* the layers' part of the x^0 adjoint */
    for (PetscInt i = 0; i < nn; i++)
      for (PetscInt a = 0; a < sd; a++) ub[i * sin + a] += Xb[i * sd + a];
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetCloudBackward_EGNN(SgmNet net, PetscInt nb, const PetscReal Fb[], PetscReal grad[])
{
  PetscFunctionBegin;
  PetscCall(SgmNetEGNNAdjoint_Private(net, nb, Fb, grad, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* F = network(u) with time input c = 0, in chunks of the tape; F has nb clouds of natoms (sx + kout) */
PetscErrorCode SgmNetEGNNApply_Private(SgmNet net, PetscInt nb, const PetscReal u[], PetscReal F[])
{
  Net_EGNN      *eg = (Net_EGNN *)net->data;
  const PetscInt n = net->natoms, so = eg->sx + net->kout;
  PetscInt       ns;
  PetscReal     *c;

  PetscFunctionBegin;
  if (!nb) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SgmNetCloudChunk_Private(net, nb, &ns));
  PetscCall(PetscCalloc1(ns, &c));
  for (PetscInt b0 = 0; b0 < nb; b0 += ns) PetscCall(SgmNetCloudForward_EGNN(net, PetscMin(ns, nb - b0), u + b0 * n * net->sd, c, F + b0 * n * so));
  PetscCall(PetscFree(c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetView_EGNN(SgmNet net, PetscViewer viewer)
{
  Net_EGNN *eg = (Net_EGNN *)net->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "EGNN (EDM) on clouds of %" PetscInt_FMT " atoms in %" PetscInt_FMT " dimensions: width %" PetscInt_FMT ", %" PetscInt_FMT " layers, %" PetscInt_FMT " parameters\n", net->natoms, eg->sx, net->width, net->depth, net->P));
  if (net->kin || net->kout) PetscCall(PetscViewerASCIIPrintf(viewer, "  invariant feature channels per atom: %" PetscInt_FMT " in, %" PetscInt_FMT " out\n", net->kin, net->kout));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetSetFromOptions_EGNN(SgmNet net, PetscOptionItems *PetscOptionsObject)
{
  PetscInt  k = net->kin;
  PetscBool set;

  PetscFunctionBegin;
  PetscCall(SgmNetCloudSetFromOptions_Private(net, PetscOptionsObject));
  PetscOptionsHeadBegin(PetscOptionsObject, "EGNN network (-net_type egnn) options");
  PetscCall(PetscOptionsInt("-net_egnn_features", "Invariant feature channels per atom, diffused with the coordinates (GeoLDM latents z_h): the last k of an atom's d/natoms channels; `sgm train -latent egnn_ae` sets it", "SgmNetSetCloudFeatures", k, &k, &set));
  PetscOptionsHeadEnd();
  if (set) PetscCall(SgmNetSetCloudFeatures(net, k, k));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetSave_EGNN(SgmNet net, hid_t group, PetscBool writer)
{
  PetscFunctionBegin;
  PetscCall(SgmNetCloudSave_Private(net, group, writer));
  if (net->kin || net->kout) {
    PetscCall(SgmH5AttrInt(group, "net_features_in", net->kin));
    PetscCall(SgmH5AttrInt(group, "net_features_out", net->kout));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the feature channels first (files without them: none), then the shared attributes and theta */
static PetscErrorCode SgmNetLoad_EGNN(SgmNet net, hid_t group)
{
  PetscInt kin = 0, kout = 0;

  PetscFunctionBegin;
  if (H5Aexists(group, "net_features_in") > 0) PetscCall(SgmNetLoadIntAttr_Private(net, group, "net_features_in", "-net_egnn_features", &kin));
  if (H5Aexists(group, "net_features_out") > 0) PetscCall(SgmNetLoadIntAttr_Private(net, group, "net_features_out", "-net_egnn_features", &kout));
  PetscCheck(!net->setupcalled || (kin == net->kin && kout == net->kout), PetscObjectComm((PetscObject)net), PETSC_ERR_FILE_UNEXPECTED, "The network in the file has %" PetscInt_FMT "/%" PetscInt_FMT " feature channels in/out but this network %" PetscInt_FMT "/%" PetscInt_FMT, kin, kout, net->kin, net->kout);
  net->kin  = kin;
  net->kout = kout;
  PetscCall(SgmNetCloudLoad_Private(net, group));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* As a score network the input and output carry the same channels (-net_egnn_features). */
static PetscErrorCode CheckScoreChannels(SgmNet net)
{
  PetscFunctionBegin;
  PetscCheck(net->kin == net->kout, PetscObjectComm((PetscObject)net), PETSC_ERR_ARG_WRONGSTATE, "This egnn network maps %" PetscInt_FMT " to %" PetscInt_FMT " feature channels (an autoencoder part): it is not a score network", net->kin, net->kout);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetScore_EGNN(SgmNet net, PetscInt n, const PetscReal x[], const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], const PetscInt labels[], PetscReal s[])
{
  PetscFunctionBegin;
  PetscCall(CheckScoreChannels(net));
  PetscCall(SgmNetCloudScore_Private(net, n, x, t, alpha, sigma, labels, s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetLoss_EGNN(SgmNet net, SgmLossType type, PetscInt n, const PetscReal xt[], const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], const PetscInt labels[], const PetscReal eps[], const PetscReal starget[], PetscInt nprobe, const PetscReal probes[], const PetscReal wt[], PetscReal *loss, PetscReal grad[])
{
  PetscFunctionBegin;
  PetscCall(CheckScoreChannels(net));
  PetscCall(SgmNetCloudLoss_Private(net, type, n, xt, t, alpha, sigma, labels, eps, starget, nprobe, probes, wt, loss, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetDestroy_EGNN(SgmNet net)
{
  PetscFunctionBegin;
  PetscCall(TapeFree(net));
  PetscCall(PetscFree(net->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetCreate_EGNN(SgmNet net)
{
  Net_EGNN *eg;

  PetscFunctionBegin;
  PetscCall(PetscNew(&eg));
  net->data                = eg;
  net->width               = 64;
  net->depth               = 4;
  net->ops->setfromoptions = SgmNetSetFromOptions_EGNN;
  net->ops->setup          = SgmNetSetUp_EGNN;
  net->ops->initialize     = SgmNetInitialize_EGNN;
  net->ops->score          = SgmNetScore_EGNN;
  net->ops->loss           = SgmNetLoss_EGNN;
  net->ops->save           = SgmNetSave_EGNN;
  net->ops->load           = SgmNetLoad_EGNN;
  net->ops->view           = SgmNetView_EGNN;
  net->ops->destroy        = SgmNetDestroy_EGNN;
  net->ops->cforward       = SgmNetCloudForward_EGNN;
  net->ops->cbackward      = SgmNetCloudBackward_EGNN;
  PetscFunctionReturn(PETSC_SUCCESS);
}
