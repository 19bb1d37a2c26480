/*
  -net_type distance: the distance-based score of ConfGF (Shi et al. 2021, eq. 6) and SyMat (Luo et
  al. 2023, eq. 3) on a fully connected cloud of n atoms (no periodic images):

    f_ij = MLP(u_ij)             u_ij = [d_ij, c, rbf_1(d_ij) .. rbf_K(d_ij), onehot(z_i) + onehot(z_j)]
    F_i  = sum_{j != i} f_ij (x_i - x_j) / d_ij

  d_ij = |x_i - x_j|, c the time input.  Optional radial basis (-net_distance_rbf K, K >= 2):
  rbf_k(d) = exp(-(d - mu_k)^2 / (2 w^2)), mu_k = k rmax/(K-1) (k = 0..K-1), w = rmax/(K-1)
  (-net_distance_rbf_max rmax, the data's length unit), as SchNet's and SyMat's edge features.
  Optional atom types (-net_distance_types z_1,...,z_n: a fixed type per atom index, the same for
  every cloud, as ConfGF conditions on the molecule): the sum of the one-hot vectors of the pair's two
  types, symmetric in i, j.  Without either u_ij = [d_ij, c] (the layout of files without them).

  with f_ij = f_ji (its inputs are symmetric), so F is the chain rule of a scalar function of the
  distances when f_ij is its derivative, sums to zero over the atoms (zero centre of mass) and is
  equivariant to orthogonal maps, translations and permutations (with types: permutations of atoms
  of the same type).  This is the non-periodic case of
  SgmDistanceScoreToAtoms (src/geometric/pbc.c), for any space dimension.

  MLP: z_1 = SiLU(W_1 u + b_1), z_l = SiLU(W_l z_{l-1} + b_l) (l = 2..L), f = w_o . z_L + b_o.
  Parameter layout: W_1 [H x m] (m = 2 + K + T inputs, T types), b_1 [H], then W_l [H x H], b_l [H]
  for l = 2..L, w_o [H], b_o [1].
  One column per unordered pair e = (i < j) of each cloud; every layer is one dgemm over them.
*/
#include <sgm/private/netimpl.h>
#include <sgmio.h>

#define SGM_DISTANCE_MAXTYPES 64   /* distinct atom types */
#define SGM_DISTANCE_MAXATOMS 4096 /* atoms of -net_distance_types */

typedef struct {
  PetscInt    nrbf;  /* radial basis functions K (0: none) */
  PetscReal   rmax;  /* the largest centre of the basis */
  PetscInt    ntypes; /* T = 1 + the largest type (0: no types) */
  PetscInt   *types;  /* [ntypes_given] the type of each atom index, or NULL */
  PetscInt    ntypes_given;
  PetscInt    cap, nb, np; /* capacity (clouds), clouds of the last pass, pairs per cloud */
  PetscInt   *pi, *pj;     /* [np] atoms of pair e within a cloud */
  PetscReal  *U, *f, *V, *Dd;   /* [2 x ne] inputs, [ne] pair scores, [ne sd] x_i - x_j, [ne] d_ij */
  PetscReal **A, **Z;      /* [L] pre-activations and activations [H x ne] */
  PetscReal  *Zb, *Ab, *fb;
} Net_Distance;

/* inputs per pair: d, c, the K basis functions, the T type counts */
static inline PetscInt NumInputs(SgmNet net)
{
  const Net_Distance *ds = (const Net_Distance *)net->data;
  return 2 + ds->nrbf + ds->ntypes;
}

static PetscErrorCode SgmNetSetUp_Distance(SgmNet net)
{
  Net_Distance  *ds = (Net_Distance *)net->data;
  const PetscInt H  = net->width;
  MPI_Comm       comm = PetscObjectComm((PetscObject)net);

  PetscFunctionBegin;
  PetscCall(SgmNetCloudSetUp_Private(net));
  PetscCheck(ds->nrbf == 0 || ds->nrbf >= 2, comm, PETSC_ERR_USER_INPUT, "-net_distance_rbf must be 0 (no radial basis) or at least 2; got %" PetscInt_FMT, ds->nrbf);
  PetscCheck(ds->nrbf <= 1024, comm, PETSC_ERR_USER_INPUT, "-net_distance_rbf %" PetscInt_FMT " is more radial basis functions than a pair distance can use: at most 1024", ds->nrbf);
  PetscCheck(!ds->nrbf || (ds->rmax > 0 && PetscIsNormalReal(ds->rmax)), comm, PETSC_ERR_USER_INPUT, "-net_distance_rbf_max must be a positive length; got %g", (double)ds->rmax);
  if (ds->types) {
    PetscCheck(ds->ntypes_given == net->natoms, comm, PETSC_ERR_USER_INPUT, "-net_distance_types gives %" PetscInt_FMT " types but the clouds have %" PetscInt_FMT " atoms (-net_atoms)", ds->ntypes_given, net->natoms);
    ds->ntypes = 0;
    for (PetscInt i = 0; i < net->natoms; i++) ds->ntypes = PetscMax(ds->ntypes, ds->types[i] + 1);
  }
  net->P = H * NumInputs(net) + H + (net->depth - 1) * (H * H + H) + H + 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* offsets of W_l, b_l (l = 0..L-1) and w_o, b_o */
static void Offsets(SgmNet net, PetscInt l, PetscInt *oW, PetscInt *ob)
{
  const PetscInt H = net->width, m = NumInputs(net);
  if (l == 0) {
    *oW = 0;
    *ob = m * H;
  } else if (l < net->depth) {
    *oW = (m + 1) * H + (l - 1) * (H * H + H);
    *ob = *oW + H * H;
  } else { /* output */
    *oW = (m + 1) * H + (net->depth - 1) * (H * H + H);
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
    PetscInt        oW, ob, nW = l == 0 ? NumInputs(net) * H : (l < net->depth ? H * H : H), nbias = l < net->depth ? H : 1;
    const PetscReal s = (l == 0 ? 1 / PetscSqrtReal((PetscReal)NumInputs(net)) : 1 / PetscSqrtReal((PetscReal)H)) * (l == net->depth ? 0.1 : 1);
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
  PetscCall(PetscMalloc4(NumInputs(net) * ne, &ds->U, ne, &ds->f, ne * net->sd, &ds->V, ne, &ds->Dd));
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
  const PetscInt H = net->width, L = net->depth, n = net->natoms, sd = net->sd, m = NumInputs(net);
  PetscInt       np, ne, oW, ob;
  PetscReal     *th = net->theta, w = ds->nrbf ? ds->rmax / (ds->nrbf - 1) : 1;

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
      ds->Dd[e] = PetscSqrtReal(r);
      {
        PetscReal *ue = ds->U + m * e;
        ue[0]         = ds->Dd[e];
        ue[1]         = c[b];
        for (PetscInt q = 0; q < ds->nrbf; q++) {
          const PetscReal z = (ds->Dd[e] - q * w) / w;
          ue[2 + q]         = PetscExpReal(-0.5 * z * z);
        }
        if (ds->ntypes) {
          for (PetscInt q = 0; q < ds->ntypes; q++) ue[2 + ds->nrbf + q] = 0;
          ue[2 + ds->nrbf + ds->types[ds->pi[k]]] += 1;
          ue[2 + ds->nrbf + ds->types[ds->pj[k]]] += 1;
        }
      }
    }
  for (PetscInt l = 0; l < L; l++) {
    const PetscInt   K  = l == 0 ? m : H;
    const PetscReal *in = l == 0 ? ds->U : ds->Z[l - 1];
    Offsets(net, l, &oW, &ob);
    for (PetscInt e = 0; e < ne; e++)
      for (PetscInt q = 0; q < H; q++) ds->A[l][e * H + q] = th[ob + q];
    PetscCall(SgmGemm("N", "N", H, ne, K, 1, th + oW, H, in, K, 1, ds->A[l], H));
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
  const PetscInt H = net->width, L = net->depth, n = net->natoms, sd = net->sd, np = ds->np, ne = nb * np, m = NumInputs(net);
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
    const PetscInt   K  = l == 0 ? m : H;
    const PetscReal *in = l == 0 ? ds->U : ds->Z[l - 1];
    SgmNetSiLUAdjoint_Private(H * ne, ds->A[l], ds->Ab); /* Ab: adjoint of A[l] */
    Offsets(net, l, &oW, &ob);
    PetscCall(SgmGemm("N", "T", H, K, ne, 1, ds->Ab, H, in, K, 1, grad + oW, H));
    for (PetscInt e = 0; e < ne; e++)
      for (PetscInt q = 0; q < H; q++) grad[ob + q] += ds->Ab[e * H + q];
    if (l > 0) {
      PetscCall(SgmGemm("T", "N", H, ne, H, 1, th + oW, H, ds->Ab, H, 0, ds->Zb, H));
      PetscCall(PetscArraycpy(ds->Ab, ds->Zb, H * ne));
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetView_Distance(SgmNet net, PetscViewer viewer)
{
  Net_Distance *ds = (Net_Distance *)net->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "distance (ConfGF/SyMat pair scores) on clouds of %" PetscInt_FMT " atoms in %" PetscInt_FMT " dimensions: pair MLP of width %" PetscInt_FMT ", %" PetscInt_FMT " hidden layers, %" PetscInt_FMT " parameters\n", net->natoms, net->sd, net->width, net->depth, net->P));
  if (ds->nrbf) PetscCall(PetscViewerASCIIPrintf(viewer, "  radial basis: %" PetscInt_FMT " Gaussians with centres 0..%g\n", ds->nrbf, (double)ds->rmax));
  if (ds->ntypes) PetscCall(PetscViewerASCIIPrintf(viewer, "  atom types: %" PetscInt_FMT " distinct, fixed per atom index\n", ds->ntypes));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetSetFromOptions_Distance(SgmNet net, PetscOptionItems *PetscOptionsObject)
{
  Net_Distance *ds = (Net_Distance *)net->data;
  PetscInt     *types, nt = SGM_DISTANCE_MAXATOMS;
  PetscBool     set;

  PetscFunctionBegin;
  PetscCall(SgmNetCloudSetFromOptions_Private(net, PetscOptionsObject));
  PetscOptionsHeadBegin(PetscOptionsObject, "Distance network (-net_type distance) options");
  PetscCall(PetscOptionsInt("-net_distance_rbf", "Gaussian radial basis functions of the pair distance added to the pair MLP's input (0: the distance only)", "", ds->nrbf, &ds->nrbf, NULL));
  PetscCall(PetscOptionsReal("-net_distance_rbf_max", "Largest centre of the radial basis, in the data's length unit (centres k rmax/(K-1), width rmax/(K-1))", "", ds->rmax, &ds->rmax, NULL));
  PetscCall(PetscCalloc1(nt, &types)); /* -help shows types[0]: 0, not garbage */
  PetscCall(PetscOptionsIntArray("-net_distance_types", "Type of each atom index, comma-separated (0, 1, ...; the same for every cloud): the pair MLP sees the two types", "", types, &nt, &set));
  PetscOptionsHeadEnd();
  if (set) {
    MPI_Comm comm = PetscObjectComm((PetscObject)net);
    PetscCheck(nt >= 1, comm, PETSC_ERR_USER_INPUT, "-net_distance_types needs one type per atom, comma-separated");
    for (PetscInt i = 0; i < nt; i++) PetscCheck(types[i] >= 0 && types[i] < SGM_DISTANCE_MAXTYPES, comm, PETSC_ERR_USER_INPUT, "-net_distance_types: type %" PetscInt_FMT " of atom %" PetscInt_FMT " is not in 0..%d", types[i], i, SGM_DISTANCE_MAXTYPES - 1);
    PetscCall(SgmNetDistanceSetTypes(net, nt, types));
  }
  PetscCall(PetscFree(types));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@
  SgmNetDistanceSetTypes - a fixed atom type per atom index for -net_type distance (-net_distance_types)

  Input Parameters:
+ net   - the network, of type distance, before SgmNetSetUp()
. n     - the number of atoms (must equal -net_atoms)
- types - type of atom i, 0 <= types[i] < 64
@*/
PetscErrorCode SgmNetDistanceSetTypes(SgmNet net, PetscInt n, const PetscInt types[])
{
  Net_Distance *ds;
  PetscBool     isd;

  PetscFunctionBegin;
  PetscCall(PetscObjectTypeCompare((PetscObject)net, SGMNETDISTANCE, &isd));
  PetscCheck(isd, PetscObjectComm((PetscObject)net), PETSC_ERR_ARG_WRONG, "Atom types (-net_distance_types) are for -net_type distance");
  PetscCheck(!net->setupcalled, PetscObjectComm((PetscObject)net), PETSC_ERR_ARG_WRONGSTATE, "Set the atom types before SgmNetSetUp()");
  ds = (Net_Distance *)net->data;
  PetscCheck(!net->natoms || n == net->natoms, PetscObjectComm((PetscObject)net), PETSC_ERR_USER_INPUT, "-net_distance_types gives %" PetscInt_FMT " types but the clouds have %" PetscInt_FMT " atoms (-net_atoms)", n, net->natoms);
  PetscCall(PetscFree(ds->types));
  PetscCall(PetscMalloc1(n, &ds->types));
  PetscCall(PetscArraycpy(ds->types, types, n));
  ds->ntypes_given = n;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the basis and the types first (files without them: none), then the shared attributes and theta */
static PetscErrorCode SgmNetSave_Distance(SgmNet net, hid_t group, PetscBool writer)
{
  Net_Distance *ds = (Net_Distance *)net->data;

  PetscFunctionBegin;
  PetscCall(SgmNetCloudSave_Private(net, group, writer));
  if (ds->nrbf) {
    PetscCall(SgmH5AttrInt(group, "net_distance_rbf", ds->nrbf));
    PetscCall(SgmH5AttrReal(group, "net_distance_rbf_max", ds->rmax));
  }
  if (ds->types) {
    PetscReal *t;
    PetscCall(PetscMalloc1(net->natoms, &t));
    for (PetscInt i = 0; i < net->natoms; i++) t[i] = (PetscReal)ds->types[i];
    PetscCall(SgmNetWriteVector_Private(group, "distance_types", net->natoms, t, writer));
    PetscCall(PetscFree(t));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetLoad_Distance(SgmNet net, hid_t group)
{
  Net_Distance *ds   = (Net_Distance *)net->data;
  MPI_Comm      comm = PetscObjectComm((PetscObject)net);
  PetscInt      nrbf = 0;
  PetscReal     rmax = ds->rmax;
  PetscInt64    na;

  PetscFunctionBegin;
  if (H5Aexists(group, "net_distance_rbf") > 0) {
    PetscCall(SgmNetLoadIntAttr_Private(net, group, "net_distance_rbf", "-net_distance_rbf", &nrbf));
    PetscCall(SgmH5AttrGetReal(comm, group, "net_distance_rbf_max", &rmax));
  }
  PetscCheck(!net->setupcalled || (nrbf == ds->nrbf && (!nrbf || rmax == ds->rmax)), comm, PETSC_ERR_FILE_UNEXPECTED, "The network in the file has %" PetscInt_FMT " radial basis functions up to %g but this network %" PetscInt_FMT " up to %g (-net_distance_rbf, -net_distance_rbf_max)", nrbf, (double)rmax, ds->nrbf, (double)ds->rmax);
  ds->nrbf = nrbf;
  ds->rmax = rmax;
  if (H5Lexists(group, "distance_types", H5P_DEFAULT) > 0) {
    PetscReal *t;
    PetscInt  *ty;
    PetscCall(SgmH5AttrGetInt(comm, group, "net_atoms", &na));
    PetscCall(PetscMalloc2(na, &t, na, &ty));
    PetscCall(SgmNetReadVector_Private(net, group, "distance_types", (PetscInt)na, t));
    for (PetscInt i = 0; i < (PetscInt)na; i++) {
      ty[i] = (PetscInt)t[i];
      PetscCheck(ty[i] == t[i] && ty[i] >= 0 && ty[i] < SGM_DISTANCE_MAXTYPES, comm, PETSC_ERR_FILE_UNEXPECTED, "The network file's /distance_types has %g for atom %" PetscInt_FMT ": not a type 0..%d", (double)t[i], i, SGM_DISTANCE_MAXTYPES - 1);
      PetscCheck(!net->setupcalled || (ds->types && ty[i] == ds->types[i]), comm, PETSC_ERR_FILE_UNEXPECTED, "The network in the file has other atom types than this network (-net_distance_types)");
    }
    if (!net->setupcalled) {
      PetscCall(PetscFree(ds->types));
      PetscCall(PetscMalloc1(na, &ds->types));
      PetscCall(PetscArraycpy(ds->types, ty, na));
      ds->ntypes_given = (PetscInt)na;
    }
    PetscCall(PetscFree2(t, ty));
  } else PetscCheck(!net->setupcalled || !ds->types, comm, PETSC_ERR_FILE_UNEXPECTED, "The network in the file has no atom types but this network has (-net_distance_types)");
  PetscCall(SgmNetCloudLoad_Private(net, group));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetDestroy_Distance(SgmNet net)
{
  Net_Distance *ds = (Net_Distance *)net->data;

  PetscFunctionBegin;
  PetscCall(TapeFree(net));
  PetscCall(PetscFree(ds->types));
  PetscCall(PetscFree(net->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetCreate_Distance(SgmNet net)
{
  Net_Distance *ds;

  PetscFunctionBegin;
  PetscCall(PetscNew(&ds));
  net->data                = ds;
  ds->rmax                 = 5;
  net->width               = 64;
  net->depth               = 3;
  net->ops->setfromoptions = SgmNetSetFromOptions_Distance;
  net->ops->setup          = SgmNetSetUp_Distance;
  net->ops->initialize     = SgmNetInitialize_Distance;
  net->ops->score          = SgmNetCloudScore_Private;
  net->ops->loss           = SgmNetCloudLoss_Private;
  net->ops->save           = SgmNetSave_Distance;
  net->ops->load           = SgmNetLoad_Distance;
  net->ops->view           = SgmNetView_Distance;
  net->ops->destroy        = SgmNetDestroy_Distance;
  net->ops->cforward       = SgmNetCloudForward_Distance;
  net->ops->cbackward      = SgmNetCloudBackward_Distance;
  PetscFunctionReturn(PETSC_SUCCESS);
}
