/*
  -net_type distance: the distance-based score of ConfGF (Shi et al. 2021, eq. 6) and SyMat (Luo et
  al. 2023, eq. 3) on a fully connected cloud of n atoms (no periodic images):

    f_ij = MLP(d_ij, c)          (d_ij = |x_i - x_j|, time input c; one atom type)
    F_i  = sum_{j != i} f_ij (x_i - x_j) / d_ij

  with f_ij = f_ji (its inputs are symmetric), so F is the chain rule of a scalar function of the
  distances when f_ij is its derivative, sums to zero over the atoms (zero centre of mass) and is
  equivariant to orthogonal maps, translations and permutations.  This is the non-periodic case of
  SgmDistanceScoreToAtoms (src/geometric/pbc.c), for any space dimension.

  MLP: z_1 = SiLU(W_1 [d; c] + b_1), z_l = SiLU(W_l z_{l-1} + b_l) (l = 2..L), f = w_o . z_L + b_o.
  Parameter layout: W_1 [H x 2], b_1 [H], then W_l [H x H], b_l [H] for l = 2..L, w_o [H], b_o [1].
  One column per unordered pair e = (i < j) of each cloud; every layer is one dgemm over them.
*/
#include <sgm/private/netimpl.h>

typedef struct {
  PetscInt    cap, nb, np; /* capacity (clouds), clouds of the last pass, pairs per cloud */
  PetscInt   *pi, *pj;     /* [np] atoms of pair e within a cloud */
  PetscReal  *U, *f, *V, *Dd;   /* [2 x ne] inputs, [ne] pair scores, [ne sd] x_i - x_j, [ne] d_ij */
  PetscReal **A, **Z;      /* [L] pre-activations and activations [H x ne] */
  PetscReal  *Zb, *Ab, *fb;
} Net_Distance;

static PetscErrorCode SgmNetSetUp_Distance(SgmNet net)
{
  const PetscInt H = net->width;

  PetscFunctionBegin;
  PetscCall(SgmNetCloudSetUp_Private(net));
  net->P = 3 * H + (net->depth - 1) * (H * H + H) + H + 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* offsets of W_l, b_l (l = 0..L-1) and w_o, b_o */
static void Offsets(SgmNet net, PetscInt l, PetscInt *oW, PetscInt *ob)
{
  const PetscInt H = net->width;
  if (l == 0) {
    *oW = 0;
    *ob = 2 * H;
  } else if (l < net->depth) {
    *oW = 3 * H + (l - 1) * (H * H + H);
    *ob = *oW + H * H;
  } else { /* output */
    *oW = 3 * H + (net->depth - 1) * (H * H + H);
    *ob = *oW + H;
  }
}

/* Weights N(0, 1/fan_in), biases zero, the output layer scaled by 0.1 */
static PetscErrorCode SgmNetInitialize_Distance(SgmNet net, uint64_t seed)
{
  const PetscInt H  = net->width;
  PetscReal     *th = net->theta;

  PetscFunctionBegin;
  SgmRandomNormalSample(seed, SGM_STREAM_NET_INIT, 0, 0, net->P, th);
  for (PetscInt l = 0; l <= net->depth; l++) {
    PetscInt        oW, ob, nW = l == 0 ? 2 * H : (l < net->depth ? H * H : H), nbias = l < net->depth ? H : 1;
    const PetscReal s = (l == 0 ? 1 / PetscSqrtReal(2.0) : 1 / PetscSqrtReal((PetscReal)H)) * (l == net->depth ? 0.1 : 1);
    Offsets(net, l, &oW, &ob);
    for (PetscInt q = 0; q < nW; q++) th[oW + q] *= s;
    for (PetscInt q = 0; q < nbias; q++) th[ob + q] = 0;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TapeFree(SgmNet net)
{
  Net_Distance *ds = (Net_Distance *)net->data;

  PetscFunctionBegin;
  if (!ds->cap) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt l = 0; l < net->depth; l++) PetscCall(PetscFree2(ds->A[l], ds->Z[l]));
  PetscCall(PetscFree2(ds->A, ds->Z));
  PetscCall(PetscFree4(ds->U, ds->f, ds->V, ds->Dd));
  PetscCall(PetscFree3(ds->Zb, ds->Ab, ds->fb));
  PetscCall(PetscFree2(ds->pi, ds->pj));
  ds->cap = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TapeReserve(SgmNet net, PetscInt nb)
{
  Net_Distance  *ds = (Net_Distance *)net->data;
  const PetscInt H = net->width, n = net->natoms, np = n * (n - 1) / 2, ne = nb * np;
  PetscInt       e = 0;

  PetscFunctionBegin;
  if (nb <= ds->cap) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(TapeFree(net));
  PetscCall(PetscMalloc2(net->depth, &ds->A, net->depth, &ds->Z));
  for (PetscInt l = 0; l < net->depth; l++) PetscCall(PetscMalloc2(H * ne, &ds->A[l], H * ne, &ds->Z[l]));
  PetscCall(PetscMalloc4(2 * ne, &ds->U, ne, &ds->f, ne * net->sd, &ds->V, ne, &ds->Dd));
  PetscCall(PetscMalloc3(H * ne, &ds->Zb, H * ne, &ds->Ab, ne, &ds->fb));
  PetscCall(PetscMalloc2(np, &ds->pi, np, &ds->pj));
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = i + 1; j < n; j++) {
      ds->pi[e]   = i;
      ds->pj[e++] = j;
    }
  ds->np  = np;
  ds->cap = nb;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetCloudForward_Distance(SgmNet net, PetscInt nb, const PetscReal u[], const PetscReal c[], PetscReal F[])
{
  Net_Distance  *ds = (Net_Distance *)net->data;
  const PetscInt H = net->width, L = net->depth, n = net->natoms, sd = net->sd;
  PetscInt       np, ne, oW, ob;
  PetscReal     *th = net->theta;

  PetscFunctionBegin;
  PetscCall(TapeReserve(net, nb));
  np     = ds->np;
  ne     = nb * np;
  ds->nb = nb;
  for (PetscInt b = 0; b < nb; b++)
    for (PetscInt k = 0; k < np; k++) {
      const PetscInt e = b * np + k, i = b * n + ds->pi[k], j = b * n + ds->pj[k];
      PetscReal      r = 0;
      for (PetscInt a = 0; a < sd; a++) {
        const PetscReal v = u[i * sd + a] - u[j * sd + a];
        ds->V[e * sd + a] = v;
        r += v * v;
      }
      ds->Dd[e]       = PetscSqrtReal(r);
      ds->U[2 * e]     = ds->Dd[e];
      ds->U[2 * e + 1] = c[b];
    }
  for (PetscInt l = 0; l < L; l++) {
    const PetscInt   K  = l == 0 ? 2 : H;
    const PetscReal *in = l == 0 ? ds->U : ds->Z[l - 1];
    Offsets(net, l, &oW, &ob);
    for (PetscInt e = 0; e < ne; e++)
      for (PetscInt q = 0; q < H; q++) ds->A[l][e * H + q] = th[ob + q];
    PetscCall(SgmNetGemm_Private("N", "N", H, ne, K, 1, th + oW, H, in, K, 1, ds->A[l], H));
    SgmNetSiLU_Private(H * ne, ds->A[l], ds->Z[l]);
  }
  Offsets(net, L, &oW, &ob);
  for (PetscInt e = 0; e < ne; e++) {
    PetscReal s = th[ob];
    for (PetscInt q = 0; q < H; q++) s += th[oW + q] * ds->Z[L - 1][e * H + q];
    ds->f[e] = s;
  }
  /* F_i = sum_j f_ij (x_i - x_j)/d_ij; a pair at distance 0 has no direction and adds nothing */
  PetscCall(PetscArrayzero(F, nb * n * sd));
  for (PetscInt b = 0; b < nb; b++)
    for (PetscInt k = 0; k < np; k++) {
      const PetscInt e = b * np + k, i = b * n + ds->pi[k], j = b * n + ds->pj[k];
      if (ds->Dd[e] == 0) continue;
      for (PetscInt a = 0; a < sd; a++) {
        const PetscReal g = ds->f[e] * ds->V[e * sd + a] / ds->Dd[e];
        F[i * sd + a] += g;
        F[j * sd + a] -= g;
      }
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetCloudBackward_Distance(SgmNet net, PetscInt nb, const PetscReal Fb[], PetscReal grad[])
{
  Net_Distance  *ds = (Net_Distance *)net->data;
  const PetscInt H = net->width, L = net->depth, n = net->natoms, sd = net->sd, np = ds->np, ne = nb * np;
  PetscInt       oW, ob;
  PetscReal     *th = net->theta;

  PetscFunctionBegin;
  PetscCheck(nb == ds->nb, PetscObjectComm((PetscObject)net), PETSC_ERR_PLIB, "Backward pass of %" PetscInt_FMT " clouds after a forward pass of %" PetscInt_FMT, nb, ds->nb);
  /* f_e adjoint: (Fb_i - Fb_j) . (x_i - x_j)/d */
  for (PetscInt b = 0; b < nb; b++)
    for (PetscInt k = 0; k < np; k++) {
      const PetscInt e = b * np + k, i = b * n + ds->pi[k], j = b * n + ds->pj[k];
      PetscReal      s = 0;
      if (ds->Dd[e] > 0)
        for (PetscInt a = 0; a < sd; a++) s += (Fb[i * sd + a] - Fb[j * sd + a]) * ds->V[e * sd + a] / ds->Dd[e];
      ds->fb[e] = s;
    }
  Offsets(net, L, &oW, &ob);
  for (PetscInt e = 0; e < ne; e++) {
    grad[ob] += ds->fb[e];
    for (PetscInt q = 0; q < H; q++) {
      grad[oW + q] += ds->fb[e] * ds->Z[L - 1][e * H + q];
      ds->Ab[e * H + q] = th[oW + q] * ds->fb[e];
    }
  }
  for (PetscInt l = L - 1; l >= 0; l--) {
    const PetscInt   K  = l == 0 ? 2 : H;
    const PetscReal *in = l == 0 ? ds->U : ds->Z[l - 1];
    SgmNetSiLUAdjoint_Private(H * ne, ds->A[l], ds->Ab); /* Ab: adjoint of A[l] */
    Offsets(net, l, &oW, &ob);
    PetscCall(SgmNetGemm_Private("N", "T", H, K, ne, 1, ds->Ab, H, in, K, 1, grad + oW, H));
    for (PetscInt e = 0; e < ne; e++)
      for (PetscInt q = 0; q < H; q++) grad[ob + q] += ds->Ab[e * H + q];
    if (l > 0) {
      PetscCall(SgmNetGemm_Private("T", "N", H, ne, H, 1, th + oW, H, ds->Ab, H, 0, ds->Zb, H));
      PetscCall(PetscArraycpy(ds->Ab, ds->Zb, H * ne));
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetView_Distance(SgmNet net, PetscViewer viewer)
{
  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "distance (ConfGF/SyMat pair scores) on clouds of %" PetscInt_FMT " atoms in %" PetscInt_FMT " dimensions: pair MLP of width %" PetscInt_FMT ", %" PetscInt_FMT " hidden layers, %" PetscInt_FMT " parameters\n", net->natoms, net->sd, net->width, net->depth, net->P));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetDestroy_Distance(SgmNet net)
{
  PetscFunctionBegin;
  PetscCall(TapeFree(net));
  PetscCall(PetscFree(net->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetCreate_Distance(SgmNet net)
{
  Net_Distance *ds;

  PetscFunctionBegin;
  PetscCall(PetscNew(&ds));
  net->data                = ds;
  net->width               = 64;
  net->depth               = 3;
  net->ops->setfromoptions = SgmNetCloudSetFromOptions_Private;
  net->ops->setup          = SgmNetSetUp_Distance;
  net->ops->initialize     = SgmNetInitialize_Distance;
  net->ops->score          = SgmNetCloudScore_Private;
  net->ops->loss           = SgmNetCloudLoss_Private;
  net->ops->save           = SgmNetCloudSave_Private;
  net->ops->load           = SgmNetCloudLoad_Private;
  net->ops->view           = SgmNetView_Distance;
  net->ops->destroy        = SgmNetDestroy_Distance;
  net->ops->cforward       = SgmNetCloudForward_Distance;
  net->ops->cbackward      = SgmNetCloudBackward_Distance;
  PetscFunctionReturn(PETSC_SUCCESS);
}
