/*
  What the point-cloud network types (egnn, distance; src/nn/impls/) share: the options -net_atoms,
  the checks of the architecture, the score and the losses in the form of net.c,
      s = A x + B F(K x, c),
  with F the type's equivariant output (cforward) and the adjoint of F carried to the parameters by
  the type (cbackward), the file layout, and the dense kernels (dgemm, SiLU).

  A sample is one cloud of natoms atoms in sd = d/natoms dimensions, x[i*sd + c].  F is translation
  invariant, rotation/reflection and permutation equivariant and has zero centre of mass, so the score
  is the score of a distribution on the zero-CoM subspace (EDM sec. 3.2) when x lies in it; the trainer
  centres the data and projects the noise (SgmNetGetAtoms).  Losses: simple and dsm only (the tangent
  losses need forward-mode passes these types do not have).
*/
#include <sgm/private/netimpl.h>
#include <sgmio.h>

/* logistic sigmoid without overflow */
static inline PetscReal Sigmoid(PetscReal a)
{
  if (a >= 0) return 1 / (1 + PetscExpReal(-a));
  else {
    const PetscReal z = PetscExpReal(a);
    return z / (1 + z);
  }
}

/* z = SiLU(a) = a sigmoid(a) */
void SgmNetSiLU_Private(PetscInt len, const PetscReal a[], PetscReal z[])
{
  for (PetscInt q = 0; q < len; q++) z[q] = a[q] * Sigmoid(a[q]);
}

/* zb <- zb SiLU'(a), SiLU'(a) = sigmoid(a) (1 + a (1 - sigmoid(a))) */
void SgmNetSiLUAdjoint_Private(PetscInt len, const PetscReal a[], PetscReal zb[])
{
  for (PetscInt q = 0; q < len; q++) {
    const PetscReal g = Sigmoid(a[q]);
    zb[q] *= g * (1 + a[q] * (1 - g));
  }
}

PetscErrorCode SgmNetCloudSetFromOptions_Private(SgmNet net, PetscOptionItems *PetscOptionsObject)
{
  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Point-cloud network (-net_type egnn, distance) options");
  PetscCall(PetscOptionsInt("-net_atoms", "Number of atoms of a point cloud (egnn, distance): a sample of dimension d is natoms atoms in d/natoms dimensions, x[i*sd + c]", "SgmNetSetAtoms", net->natoms, &net->natoms, NULL));
  PetscOptionsHeadEnd();
  { /* options of the mlp would be reported as unknown: say whose they are */
    const char *const mlp_only[] = {"-net_precision", "-net_embedding", "-net_embed_dim", "-net_fourier_scale", "-net_residual", "-net_classes"};
    for (size_t i = 0; i < sizeof(mlp_only) / sizeof(mlp_only[0]); i++) {
      PetscBool set;
      PetscCall(PetscOptionsHasName(((PetscObject)net)->options, ((PetscObject)net)->prefix, mlp_only[i], &set));
      PetscCheck(!set, PetscObjectComm((PetscObject)net), PETSC_ERR_USER_INPUT, "%s is an option of -net_type mlp; the %s network has no such setting: drop it", mlp_only[i], ((PetscObject)net)->type_name);
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetCloudSetUp_Private(SgmNet net)
{
  MPI_Comm comm = PetscObjectComm((PetscObject)net);

  PetscFunctionBegin;
  PetscCheck(net->natoms >= 2, comm, PETSC_ERR_USER_INPUT, "The %s network needs the number of atoms of a point cloud: give -net_atoms n (at least 2; e.g. 4 for DW4, 13 for LJ13); got %" PetscInt_FMT, ((PetscObject)net)->type_name, net->natoms);
  PetscCheck(net->d % net->natoms == 0, comm, PETSC_ERR_USER_INPUT, "-net_atoms %" PetscInt_FMT " does not divide the data dimension %" PetscInt_FMT " (a sample is natoms x space dimension)", net->natoms, net->d);
  net->sd = net->d / net->natoms;
  PetscCheck(net->sd <= 16, comm, PETSC_ERR_USER_INPUT, "Point clouds of space dimension %" PetscInt_FMT " (= %" PetscInt_FMT "/%" PetscInt_FMT "): at most 16 dimensions", net->sd, net->d, net->natoms);
  {
    PetscBool egnn;
    PetscCall(PetscObjectTypeCompare((PetscObject)net, SGMNETEGNN, &egnn));
    PetscCheck(egnn || (!net->kin && !net->kout), comm, PETSC_ERR_USER_INPUT, "Invariant feature channels (-net_egnn_features) are for -net_type egnn, not %s", ((PetscObject)net)->type_name);
  }
  PetscCheck(net->nclasses == 0, comm, PETSC_ERR_USER_INPUT, "The %s network is unconditional: class labels (-net_classes, -train_conditional) are for -net_type mlp", ((PetscObject)net)->type_name);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Clouds per pass: about 4096 edges (ordered pairs) at most, so the tape of a pass stays small. */
PetscErrorCode SgmNetCloudChunk_Private(SgmNet net, PetscInt n, PetscInt *ns)
{
  const PetscInt pairs = net->natoms * (net->natoms - 1);

  PetscFunctionBegin;
  *ns = PetscMax(1, PetscMin(n, 4096 / pairs));
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  PetscInt   cap;
  PetscReal *u, *c, *A, *B, *F, *Fb;
} CloudWork;

static PetscErrorCode CloudWorkGet(SgmNet net, PetscInt nc, CloudWork *w)
{
  const PetscInt d = net->d;

  PetscFunctionBegin;
  w->cap = nc;
  PetscCall(PetscMalloc6(nc * d, &w->u, nc, &w->c, nc, &w->A, nc, &w->B, nc * d, &w->F, nc * d, &w->Fb));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CloudWorkFree(CloudWork *w)
{
  PetscFunctionBegin;
  PetscCall(PetscFree6(w->u, w->c, w->A, w->B, w->F, w->Fb));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* u = K x and the per-sample A, B, c of samples i0 .. i0+nc-1 */
static PetscErrorCode CloudInputs(SgmNet net, PetscInt i0, PetscInt nc, const PetscReal x[], const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], CloudWork *w)
{
  const PetscInt d = net->d;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < nc; i++) {
    PetscReal K;
    PetscCheck(t || net->time_input != SGM_NET_TIME_T, PetscObjectComm((PetscObject)net), PETSC_ERR_ARG_NULL, "The time input t of the network needs the times t");
    PetscCall(SgmNetOutputCoefficients(net, t ? t[i0 + i] : 0, alpha[i0 + i], sigma[i0 + i], &w->A[i], &w->B[i], &K, &w->c[i]));
    for (PetscInt j = 0; j < d; j++) w->u[i * d + j] = K * x[(i0 + i) * d + j];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetCloudScore_Private(SgmNet net, PetscInt n, const PetscReal x[], const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], const PetscInt labels[], PetscReal s[])
{
  const PetscInt d = net->d;
  PetscInt       ns;
  CloudWork      w;

  PetscFunctionBegin;
  (void)labels;
  if (!n) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SgmNetCloudChunk_Private(net, n, &ns));
  PetscCall(CloudWorkGet(net, ns, &w));
  for (PetscInt i0 = 0; i0 < n; i0 += ns) {
    const PetscInt nc = PetscMin(ns, n - i0);
    PetscCall(CloudInputs(net, i0, nc, x, t, alpha, sigma, &w));
    PetscCall(PetscLogEventBegin(SGM_NetForward, net, 0, 0, 0));
    PetscCall((*net->ops->cforward)(net, nc, w.u, w.c, w.F));
    PetscCall(PetscLogEventEnd(SGM_NetForward, net, 0, 0, 0));
    for (PetscInt i = 0; i < nc; i++)
      for (PetscInt j = 0; j < d; j++) s[(i0 + i) * d + j] = w.A[i] * x[(i0 + i) * d + j] + w.B[i] * w.F[i * d + j];
  }
  PetscCall(CloudWorkFree(&w));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* simple ||eps + sigma s||^2 and dsm ||s + eps/sigma||^2 (loss.c), weighted and summed; the adjoint
   of F is B times that of s. */
PetscErrorCode SgmNetCloudLoss_Private(SgmNet net, SgmLossType type, PetscInt n, const PetscReal xt[], const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], const PetscInt labels[], const PetscReal eps[], const PetscReal starget[], PetscInt nprobe, const PetscReal probes[], const PetscReal wt[], PetscReal *loss, PetscReal grad[])
{
  MPI_Comm       comm = PetscObjectComm((PetscObject)net);
  const PetscInt d    = net->d;
  PetscInt       ns;
  PetscReal      total = 0;
  CloudWork      w;

  PetscFunctionBegin;
  (void)labels;
  (void)starget;
  (void)nprobe;
  (void)probes;
  PetscCheck(type == SGM_LOSS_SIMPLE || type == SGM_LOSS_DSM, comm, PETSC_ERR_USER_INPUT, "The %s loss is not available for the %s network: use -train_loss simple or dsm", SgmLossTypes[type], ((PetscObject)net)->type_name);
  PetscCheck(eps, comm, PETSC_ERR_ARG_NULL, "The %s loss needs the noise eps", SgmLossTypes[type]);
  *loss = 0;
  if (!n) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SgmNetCloudChunk_Private(net, n, &ns));
  PetscCall(CloudWorkGet(net, ns, &w));
  for (PetscInt i0 = 0; i0 < n; i0 += ns) {
    const PetscInt nc = PetscMin(ns, n - i0);
    PetscCall(CloudInputs(net, i0, nc, xt, t, alpha, sigma, &w));
    PetscCall(PetscLogEventBegin(SGM_NetForward, net, 0, 0, 0));
    PetscCall((*net->ops->cforward)(net, nc, w.u, w.c, w.F));
    PetscCall(PetscLogEventEnd(SGM_NetForward, net, 0, 0, 0));
    for (PetscInt i = 0; i < nc; i++) {
      const PetscInt   ig = i0 + i;
      const PetscReal  A = w.A[i], B = w.B[i], wi = wt ? wt[ig] : 1, sg = sigma[ig];
      const PetscReal *x = xt + ig * d, *F = w.F + i * d, *e = eps + ig * d;
      PetscReal       *Fb = w.Fb + i * d, l = 0;

      for (PetscInt j = 0; j < d; j++) {
        const PetscReal s = A * x[j] + B * F[j];
        if (type == SGM_LOSS_SIMPLE) {
          const PetscReal r = e[j] + sg * s;
          l += r * r;
          Fb[j] = 2 * wi * sg * r * B;
        } else {
          const PetscReal r = s + e[j] / sg;
          l += r * r;
          Fb[j] = 2 * wi * r * B;
        }
      }
      total += wi * l;
    }
    if (grad) {
      PetscCall(PetscLogEventBegin(SGM_NetBackward, net, 0, 0, 0));
      PetscCall((*net->ops->cbackward)(net, nc, w.Fb, grad));
      PetscCall(PetscLogEventEnd(SGM_NetBackward, net, 0, 0, 0));
    }
  }
  PetscCall(CloudWorkFree(&w));
  *loss = total;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetCloudSave_Private(SgmNet net, hid_t group, PetscBool writer)
{
  PetscFunctionBegin;
  PetscCall(SgmH5AttrInt(group, "net_dimension", net->d));
  PetscCall(SgmH5AttrInt(group, "net_atoms", net->natoms));
  PetscCall(SgmH5AttrInt(group, "net_width", net->width));
  PetscCall(SgmH5AttrInt(group, "net_depth", net->depth));
  PetscCall(SgmH5AttrString(group, "net_output", SgmNetOutputs[net->output]));
  PetscCall(SgmH5AttrReal(group, "net_sigma_data", net->sigma_data));
  PetscCall(SgmH5AttrString(group, "net_time_input", SgmNetTimeInputs[net->time_input]));
  PetscCall(SgmH5AttrInt(group, "net_parameters", net->P));
  PetscCall(SgmNetWriteVector_Private(group, "theta", net->P, net->theta, writer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetCloudLoad_Private(SgmNet net, hid_t group)
{
  MPI_Comm   comm = PetscObjectComm((PetscObject)net);
  PetscReal  sd;
  PetscInt64 v;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrGetInt(comm, group, "net_dimension", &v));
  PetscCheck(!net->d || v == net->d, comm, PETSC_ERR_FILE_UNEXPECTED, "The network in the file is for data of dimension %" PetscInt64_FMT " but the data here have dimension %" PetscInt_FMT, v, net->d);
  net->d = (PetscInt)v;
  PetscCall(SgmNetLoadIntAttr_Private(net, group, "net_atoms", "-net_atoms", &net->natoms));
  PetscCall(SgmNetLoadIntAttr_Private(net, group, "net_width", "-net_width", &net->width));
  PetscCall(SgmNetLoadIntAttr_Private(net, group, "net_depth", "-net_depth", &net->depth));
  PetscCall(SgmNetLoadEnumAttr_Private(net, group, "net_output", SgmNetOutputs, (PetscEnum *)&net->output));
  PetscCall(SgmNetLoadEnumAttr_Private(net, group, "net_time_input", SgmNetTimeInputs, (PetscEnum *)&net->time_input));
  PetscCall(SgmH5AttrGetReal(comm, group, "net_sigma_data", &sd));
  PetscCheck(!net->setupcalled || sd == net->sigma_data, comm, PETSC_ERR_FILE_UNEXPECTED, "The network in the file has sigma_data %g but this network has %g (-net_sigma_data)", (double)sd, (double)net->sigma_data);
  net->sigma_data = sd;
  PetscCall(SgmNetSetUp(net));
  PetscCall(SgmH5AttrGetInt(comm, group, "net_parameters", &v));
  PetscCheck((PetscInt)v == net->P, comm, PETSC_ERR_FILE_UNEXPECTED, "The network in the file says it has %" PetscInt64_FMT " parameters but its architecture has %" PetscInt_FMT, v, net->P);
  PetscCall(SgmNetReadVector_Private(net, group, "theta", net->P, net->theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}
