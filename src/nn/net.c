/*
  SgmNet: the interface of the score networks (type registry, options, set-up, dispatch) and the mlp
  type, the time-conditioned MLP (its passes are in mlp.c, its losses in loss.c, its file layout in
  netio.c).  The point-cloud types egnn and distance are in src/nn/impls/, what they share in cloud.c.

  Output parameterisations, all of the form s = A x + B F(K x, c) with per-sample scalars
  (x_t = alpha x_0 + sigma eps):
    eps:   F predicts eps,                 s = -F/sigma                 A = 0, B = -1/sigma, K = 1
    score: F predicts sigma s (unit scale), s =  F/sigma                A = 0, B =  1/sigma, K = 1
    edm:   Karras et al. 2022, eq. (7) and Table 1, on y = x/alpha with noise level sh = sigma/alpha:
           D(y) = c_skip y + c_out F(c_in y, c_noise),  s = (alpha D - x)/sigma^2, which with
           r^2 = sigma^2 + alpha^2 sd^2 (= alpha^2 (sh^2 + sd^2)) is
                                           A = -1/r^2, B = alpha sd/(sigma r), K = 1/r
           (c_skip - 1 = -sh^2/(sh^2 + sd^2) is formed without the cancellation).
  Time input c: logsigma c = log(sigma/alpha)/4 (EDM's c_noise, one meaning for every SDE) or t.
*/
#include <sgm/private/netimpl.h>
#include <sgmio.h>

const char *const SgmNetOutputs[]    = {"eps", "score", "edm", "SgmNetOutput", "SGM_NET_OUTPUT_", NULL};
const char *const SgmNetEmbeddings[] = {"fourier", "sinusoidal", "SgmNetEmbedding", "SGM_NET_EMBEDDING_", NULL};
const char *const SgmNetTimeInputs[] = {"logsigma", "t", "SgmNetTimeInput", "SGM_NET_TIME_", NULL};
const char *const SgmNetPrecisions[] = {"double", "single", "SgmNetPrecision", "SGM_NET_PRECISION_", NULL};
const char *const SgmLossTypes[]     = {"simple", "dsm", "esm", "ssm", "ism", "ssmvr", "SgmLossType", "SGM_LOSS_", NULL};

PetscLogEvent     SGM_NetForward, SGM_NetBackward;
PetscFunctionList SgmNetList             = NULL;
static PetscBool  SgmNetEventsRegistered = PETSC_FALSE;

static PetscErrorCode SgmNetFinalizeEvents(void)
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListDestroy(&SgmNetList));
  SgmNetEventsRegistered = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Add a network type: SgmNetRegister("name", SgmNetCreate_Name); selected by -net_type name. */
PetscErrorCode SgmNetRegister(const char name[], PetscErrorCode (*create)(SgmNet))
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListAdd(&SgmNetList, name, create));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetRegisterAll(void)
{
  PetscFunctionBegin;
  PetscCall(SgmNetRegister(SGMNETMLP, SgmNetCreate_MLP));
  PetscCall(SgmNetRegister(SGMNETEGNN, SgmNetCreate_EGNN));         /* src/nn/impls/egnn */
  PetscCall(SgmNetRegister(SGMNETDISTANCE, SgmNetCreate_Distance)); /* src/nn/impls/distance */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetCreate(MPI_Comm comm, SgmNet *pnet)
{
  SgmNet net;

  PetscFunctionBegin;
  PetscValidPointer(pnet, 2);
  PetscCall(SgmInitializePackage());
  if (!SgmNetEventsRegistered) {
    PetscCall(PetscLogEventRegister("SgmNetForward", SGM_NET_CLASSID, &SGM_NetForward));
    PetscCall(PetscLogEventRegister("SgmNetBackward", SGM_NET_CLASSID, &SGM_NetBackward));
    PetscCall(SgmNetRegisterAll());
    PetscCall(SgmGemmInitialize_Private());
    PetscCall(PetscRegisterFinalize(SgmNetFinalizeEvents));
    SgmNetEventsRegistered = PETSC_TRUE;
  }
  PetscCall(PetscHeaderCreate(net, SGM_NET_CLASSID, "SgmNet", "Time-conditioned score network", "SgmNet", comm, SgmNetDestroy, SgmNetView));
  net->width         = 128;
  net->depth         = 3;
  net->embedding     = SGM_NET_EMBEDDING_FOURIER;
  net->E             = 64;
  net->fourier_scale = 16;
  net->residual      = PETSC_TRUE;
  net->nclasses      = 0;
  net->output        = SGM_NET_OUTPUT_EPS;
  net->sigma_data    = 0.5;
  net->time_input    = SGM_NET_TIME_LOGSIGMA;
  *pnet              = net;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetSetType(SgmNet net, SgmNetType type)
{
  PetscErrorCode (*create)(SgmNet);
  PetscBool match;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  PetscCall(PetscObjectTypeCompare((PetscObject)net, type, &match));
  if (match) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(!net->setupcalled, PetscObjectComm((PetscObject)net), PETSC_ERR_ORDER, "Cannot change the type of a set-up network to %s", type);
  PetscCall(PetscFunctionListFind(SgmNetList, type, &create));
  PetscCheck(create, PetscObjectComm((PetscObject)net), PETSC_ERR_USER_INPUT, "Unknown network type '%s' (-net_type): use mlp, egnn or distance", type);
  PetscTryTypeMethod(net, destroy);
  PetscCall(PetscMemzero(net->ops, sizeof(struct _SgmNetOps)));
  net->data = NULL;
  PetscCall((*create)(net));
  PetscCall(PetscObjectChangeTypeName((PetscObject)net, type));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetGetType(SgmNet net, SgmNetType *type)
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  *type = ((PetscObject)net)->type_name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetSetFromOptions(SgmNet net)
{
  MPI_Comm  comm;
  char      type[64];
  PetscBool flg;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  comm = PetscObjectComm((PetscObject)net);
  PetscCheck(!net->setupcalled, comm, PETSC_ERR_ORDER, "Call SgmNetSetFromOptions() before SgmNetSetUp()");
  PetscObjectOptionsBegin((PetscObject)net);
  PetscCall(PetscOptionsFList("-net_type", "Network type: mlp, egnn (point clouds: E(n)-equivariant graph network of EDM) or distance (point clouds: pair scores on distances, ConfGF/SyMat)", "SgmNetSetType", SgmNetList, ((PetscObject)net)->type_name ? ((PetscObject)net)->type_name : SGMNETMLP, type, sizeof(type), &flg));
  if (flg || !((PetscObject)net)->type_name) PetscCall(SgmNetSetType(net, flg ? type : SGMNETMLP));
  PetscCall(PetscOptionsInt("-net_width", "Width of the hidden layers (default by type: mlp 128, egnn 64, distance 64)", "SgmNetSetFromOptions", net->width, &net->width, NULL));
  PetscCall(PetscOptionsInt("-net_depth", "Number of hidden blocks (egnn: message-passing layers; distance: hidden layers of the pair MLP; default by type: mlp 3, egnn 4, distance 3)", "SgmNetSetFromOptions", net->depth, &net->depth, NULL));
  PetscCall(PetscOptionsEnum("-net_output", "What the network predicts: eps, score (sigma s) or edm (preconditioned denoiser)", "SgmNetSetFromOptions", SgmNetOutputs, (PetscEnum)net->output, (PetscEnum *)&net->output, NULL));
  PetscCall(PetscOptionsReal("-net_sigma_data", "Standard deviation of the data for the edm preconditioning", "SgmNetSetFromOptions", net->sigma_data, &net->sigma_data, NULL));
  PetscCall(PetscOptionsEnum("-net_time_input", "Time input: logsigma (log(sigma/alpha)/4) or t", "SgmNetSetFromOptions", SgmNetTimeInputs, (PetscEnum)net->time_input, (PetscEnum *)&net->time_input, NULL));
  PetscCall(SgmGemmSetFromOptions_Private(PetscOptionsObject, (PetscObject)net));
  PetscTryTypeMethod(net, setfromoptions, PetscOptionsObject);
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetSetFromOptions_MLP(SgmNet net, PetscOptionItems *PetscOptionsObject)
{
  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "MLP network (-net_type mlp) options");
  PetscCall(PetscOptionsEnum("-net_embedding", "Time features", "SgmNetSetFromOptions", SgmNetEmbeddings, (PetscEnum)net->embedding, (PetscEnum *)&net->embedding, NULL));
  PetscCall(PetscOptionsInt("-net_embed_dim", "Number of time features (even)", "SgmNetSetFromOptions", net->E, &net->E, NULL));
  PetscCall(PetscOptionsReal("-net_fourier_scale", "Standard deviation of the Gaussian Fourier frequencies", "SgmNetSetFromOptions", net->fourier_scale, &net->fourier_scale, NULL));
  PetscCall(PetscOptionsBool("-net_residual", "Residual connections around the hidden blocks", "SgmNetSetFromOptions", net->residual, &net->residual, NULL));
  PetscCall(PetscOptionsInt("-net_classes", "Number of classes of the learned class embedding (0: unconditional)", "SgmNetSetFromOptions", net->nclasses, &net->nclasses, NULL));
  PetscCall(PetscOptionsEnum("-net_precision", "Arithmetic of the training passes: double, or single (float activations and sgemm for the losses simple, dsm, esm; weights, gradient sums, Adam and all scores stay double)", "SgmNetSetFromOptions", SgmNetPrecisions, (PetscEnum)net->precision, (PetscEnum *)&net->precision, NULL));
  PetscOptionsHeadEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetSetDimension(SgmNet net, PetscInt d)
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  PetscCheck(!net->setupcalled || d == net->d, PetscObjectComm((PetscObject)net), PETSC_ERR_ORDER, "Cannot change the dimension of a set-up network from %" PetscInt_FMT " to %" PetscInt_FMT, net->d, d);
  net->d = d;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetGetDimension(SgmNet net, PetscInt *d)
{
  PetscFunctionBegin;
  *d = net->d;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetSetNumClasses(SgmNet net, PetscInt k)
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  PetscCheck(!net->setupcalled || k == net->nclasses, PetscObjectComm((PetscObject)net), PETSC_ERR_ORDER, "Cannot change the number of classes of a set-up network from %" PetscInt_FMT " to %" PetscInt_FMT, net->nclasses, k);
  PetscCheck(k >= 0, PetscObjectComm((PetscObject)net), PETSC_ERR_USER_INPUT, "The number of classes must be non-negative; got %" PetscInt_FMT, k);
  net->nclasses = k;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetGetNumClasses(SgmNet net, PetscInt *k)
{
  PetscFunctionBegin;
  *k = net->nclasses;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The arithmetic of the training passes (-net_precision). */
PetscErrorCode SgmNetGetPrecision(SgmNet net, SgmNetPrecision *precision)
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  *precision = net->precision;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetGetOutput(SgmNet net, SgmNetOutput *o)
{
  PetscFunctionBegin;
  *o = net->output;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetSetAtoms(SgmNet net, PetscInt natoms)
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  PetscCheck(!net->setupcalled || natoms == net->natoms, PetscObjectComm((PetscObject)net), PETSC_ERR_ORDER, "Cannot change the number of atoms of a set-up network from %" PetscInt_FMT " to %" PetscInt_FMT, net->natoms, natoms);
  PetscCheck(natoms >= 0, PetscObjectComm((PetscObject)net), PETSC_ERR_USER_INPUT, "The number of atoms must be non-negative; got %" PetscInt_FMT, natoms);
  net->natoms = natoms;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* natoms > 0 and the space dimension sd = d/natoms for a point-cloud network (the trainer then
   centres the data and projects the noise); 0, 0 for mlp.  sd is known after SgmNetSetDimension. */
PetscErrorCode SgmNetGetAtoms(SgmNet net, PetscInt *natoms, PetscInt *sd)
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  if (natoms) *natoms = net->natoms;
  if (sd) *sd = net->natoms > 0 && net->d % net->natoms == 0 ? net->d / net->natoms : 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetSetCloudFeatures(SgmNet net, PetscInt kin, PetscInt kout)
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  PetscCheck(kin >= 0 && kout >= 0, PetscObjectComm((PetscObject)net), PETSC_ERR_USER_INPUT, "The numbers of invariant feature channels must be >= 0; got %" PetscInt_FMT " and %" PetscInt_FMT, kin, kout);
  PetscCheck(!net->setupcalled || (kin == net->kin && kout == net->kout), PetscObjectComm((PetscObject)net), PETSC_ERR_ORDER, "Set the feature channels of a network before its set-up");
  net->kin  = kin;
  net->kout = kout;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetGetCloudFeatures(SgmNet net, PetscInt *kin, PetscInt *kout)
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  if (kin) *kin = net->kin;
  if (kout) *kout = net->kout;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetSetUp(SgmNet net)
{
  MPI_Comm comm;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  if (net->setupcalled) PetscFunctionReturn(PETSC_SUCCESS);
  comm = PetscObjectComm((PetscObject)net);
  if (!((PetscObject)net)->type_name) PetscCall(SgmNetSetType(net, SGMNETMLP));
  PetscCheck(net->d > 0, comm, PETSC_ERR_ORDER, "Set the data dimension with SgmNetSetDimension() before SgmNetSetUp()");
  PetscCheck(net->width > 0, comm, PETSC_ERR_USER_INPUT, "-net_width must be positive; got %" PetscInt_FMT, net->width);
  PetscCheck(net->depth >= 1, comm, PETSC_ERR_USER_INPUT, "-net_depth must be at least 1 (the time enters through the hidden blocks); got %" PetscInt_FMT, net->depth);
  PetscCheck(net->sigma_data > 0, comm, PETSC_ERR_USER_INPUT, "-net_sigma_data must be positive; got %g", (double)net->sigma_data);
  PetscUseTypeMethod(net, setup);
  PetscCall(PetscCalloc1(net->P, &net->theta));
  net->setupcalled = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Parameter layout: Wt [w x E], bt [w], Cls [(K+1) x w] (rows), Win [w x d], bin [w],
   blocks l = 1..L of W_l [w x w], b_l [w], P_l [w x w], Wout [d x w], bout [d]; matrices column-major. */
static PetscErrorCode SgmNetSetUp_MLP(SgmNet net)
{
  MPI_Comm comm;
  PetscInt w, o = 0;

  PetscFunctionBegin;
  comm = PetscObjectComm((PetscObject)net);
  w    = net->width;
  PetscCheck(net->natoms == 0, comm, PETSC_ERR_USER_INPUT, "-net_atoms is for the point-cloud networks (-net_type egnn or distance), not for mlp");
  PetscCheck(net->E >= 2 && net->E % 2 == 0, comm, PETSC_ERR_USER_INPUT, "-net_embed_dim must be a positive even number (sin and cos pairs); got %" PetscInt_FMT, net->E);
  PetscCheck(net->nclasses >= 0, comm, PETSC_ERR_USER_INPUT, "-net_classes must be non-negative; got %" PetscInt_FMT, net->nclasses);
  PetscCheck(net->fourier_scale > 0, comm, PETSC_ERR_USER_INPUT, "-net_fourier_scale must be positive; got %g", (double)net->fourier_scale);
  net->oWt  = o; o += w * net->E;
  net->obt  = o; o += w;
  net->ocls = o; o += net->nclasses ? (net->nclasses + 1) * w : 0;
  net->oWin = o; o += w * net->d;
  net->obin = o; o += w;
  net->oblk = o;
  net->blk  = 2 * w * w + w;
  o += net->depth * net->blk;
  net->oWout = o; o += net->d * w;
  net->obout = o; o += net->d;
  net->P     = o;
  PetscCall(PetscCalloc1(net->E / 2, &net->freq));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Deterministic weights from the seed, the same on every rank: Philox normals on a stream of their
  own (7: after the training streams 4-6 of sgmsys.h; step 0 for theta, step 1 for the Fourier
  frequencies).  Weights N(0, 1/fan_in); the output layer 0.1 of that
  so the initial score is small; biases zero; class rows N(0, 1).
*/
#define SGM_STREAM_NET SGM_STREAM_NET_INIT
PetscErrorCode SgmNetInitialize(SgmNet net, uint64_t seed)
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  PetscCall(SgmNetSetUp(net));
  PetscUseTypeMethod(net, initialize, seed);
  net->initialized = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetInitialize_MLP(SgmNet net, uint64_t seed)
{
  const PetscInt   w = net->width, d = net->d, E = net->E, half = E / 2;
  PetscReal       *th;
  const PetscReal  sw = 1 / PetscSqrtReal((PetscReal)w);

  PetscFunctionBegin;
  th = net->theta;
  SgmRandomNormalSample(seed, SGM_STREAM_NET, 0, 0, net->P, th);
  for (PetscInt q = 0; q < w * E; q++) th[net->oWt + q] /= PetscSqrtReal((PetscReal)E);
  for (PetscInt q = 0; q < w; q++) th[net->obt + q] = 0;
  for (PetscInt q = 0; q < w * d; q++) th[net->oWin + q] /= PetscSqrtReal((PetscReal)d);
  for (PetscInt q = 0; q < w; q++) th[net->obin + q] = 0;
  for (PetscInt l = 0; l < net->depth; l++) {
    PetscReal *Wl = th + net->oblk + l * net->blk, *bl = Wl + w * w, *Pl = bl + w;
    for (PetscInt q = 0; q < w * w; q++) Wl[q] *= sw;
    for (PetscInt q = 0; q < w; q++) bl[q] = 0;
    for (PetscInt q = 0; q < w * w; q++) Pl[q] *= sw;
  }
  for (PetscInt q = 0; q < d * w; q++) th[net->oWout + q] *= 0.1 * sw;
  for (PetscInt q = 0; q < d; q++) th[net->obout + q] = 0;
  if (net->embedding == SGM_NET_EMBEDDING_FOURIER) {
    SgmRandomNormalSample(seed, SGM_STREAM_NET, 1, 0, half, net->freq);
    for (PetscInt k = 0; k < half; k++) net->freq[k] *= 2 * PETSC_PI * net->fourier_scale;
  } else { /* transformer frequencies; t in [0, 1] is stretched to DDPM's [0, 1000] */
    for (PetscInt k = 0; k < half; k++) net->freq[k] = PetscExpReal(-PetscLogReal(10000.0) * k / half) * (net->time_input == SGM_NET_TIME_T ? 1000 : 1);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetGetParameters(SgmNet net, PetscInt *P, PetscReal **theta)
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  PetscCheck(net->setupcalled, PetscObjectComm((PetscObject)net), PETSC_ERR_ORDER, "Call SgmNetSetUp() before SgmNetGetParameters()");
  if (P) *P = net->P;
  if (theta) *theta = net->theta;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The per-sample scalars of s = A x + B F(K x, c) (see the top of this file) and the time input c. */
PetscErrorCode SgmNetOutputCoefficients(SgmNet net, PetscReal t, PetscReal alpha, PetscReal sigma, PetscReal *A, PetscReal *B, PetscReal *K, PetscReal *c)
{
  PetscFunctionBegin;
  *c = net->time_input == SGM_NET_TIME_T ? t : 0.25 * PetscLogReal(sigma / alpha);
  switch (net->output) {
  case SGM_NET_OUTPUT_EPS:
    *A = 0; *B = -1 / sigma; *K = 1;
    break;
  case SGM_NET_OUTPUT_SCORE:
    *A = 0; *B = 1 / sigma; *K = 1;
    break;
  case SGM_NET_OUTPUT_EDM: {
    const PetscReal sd = net->sigma_data, r = PetscSqrtReal(sigma * sigma + alpha * alpha * sd * sd);
    *A = -1 / (r * r);
    *B = alpha * sd / (sigma * r);
    *K = 1 / r;
  } break;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetScore(SgmNet net, PetscInt n, const PetscReal x[], const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], const PetscInt labels[], PetscReal s[])
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  PetscCheck(net->ops->score, PetscObjectComm((PetscObject)net), PETSC_ERR_SUP, "The network type %s has no the score (use central differences of the score)", ((PetscObject)net)->type_name);
  PetscCall((*net->ops->score)(net, n, x, t, alpha, sigma, labels, s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetScore_MLP(SgmNet net, PetscInt n, const PetscReal x[], const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], const PetscInt labels[], PetscReal s[])
{
  const PetscInt d = net->d;
  PetscInt       ns;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  PetscCall(SgmNetChunkSize(net, n, 0, &ns));
  for (PetscInt i0 = 0; i0 < n; i0 += ns) {
    const PetscInt nc = PetscMin(ns, n - i0);
    SgmNetWork    *w  = &net->w;
    PetscCall(SgmNetForward(net, nc, 0, x + i0 * d, t ? t + i0 : NULL, alpha + i0, sigma + i0, labels ? labels + i0 : NULL, NULL));
    for (PetscInt i = 0; i < nc; i++)
      for (PetscInt j = 0; j < d; j++) s[(i0 + i) * d + j] = w->A[i] * x[(i0 + i) * d + j] + w->B[i] * w->Fo[i * d + j];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetScoreJacobianVector(SgmNet net, PetscInt n, const PetscReal x[], const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], const PetscInt labels[], const PetscReal v[], PetscReal s[], PetscReal jv[])
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  PetscCheck(net->ops->jvp, PetscObjectComm((PetscObject)net), PETSC_ERR_SUP, "The network type %s has no Jacobian-vector products (use central differences of the score)", ((PetscObject)net)->type_name);
  PetscCall((*net->ops->jvp)(net, n, x, t, alpha, sigma, labels, v, s, jv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetScoreJacobianVector_MLP(SgmNet net, PetscInt n, const PetscReal x[], const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], const PetscInt labels[], const PetscReal v[], PetscReal s[], PetscReal jv[])
{
  const PetscInt d = net->d;
  PetscInt       ns;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  PetscCall(SgmNetChunkSize(net, n, 1, &ns));
  for (PetscInt i0 = 0; i0 < n; i0 += ns) {
    const PetscInt nc = PetscMin(ns, n - i0);
    SgmNetWork    *w  = &net->w;
    PetscCall(SgmNetForward(net, nc, 1, x + i0 * d, t ? t + i0 : NULL, alpha + i0, sigma + i0, labels ? labels + i0 : NULL, v + i0 * d));
    for (PetscInt i = 0; i < nc; i++)
      for (PetscInt j = 0; j < d; j++) {
        const PetscInt q = (i0 + i) * d + j;
        if (s) s[q] = w->A[i] * x[q] + w->B[i] * w->Fo[i * d + j];
        jv[q] = w->A[i] * v[q] + w->B[i] * w->Fo[(nc + i) * d + j];
      }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* tr(ds/dx) = A d + B sum_k e_k^T (dF/du K e_k): d tangents per sample, exact. */
PetscErrorCode SgmNetScoreDivergence(SgmNet net, PetscInt n, const PetscReal x[], const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], const PetscInt labels[], PetscReal s[], PetscReal div[])
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  PetscCheck(net->ops->divergence, PetscObjectComm((PetscObject)net), PETSC_ERR_SUP, "The network type %s has no the exact divergence (use central differences of the score)", ((PetscObject)net)->type_name);
  PetscCall((*net->ops->divergence)(net, n, x, t, alpha, sigma, labels, s, div));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetScoreDivergence_MLP(SgmNet net, PetscInt n, const PetscReal x[], const PetscReal t[], const PetscReal alpha[], const PetscReal sigma[], const PetscInt labels[], PetscReal s[], PetscReal div[])
{
  const PetscInt d = net->d;
  PetscInt       ns;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  PetscCall(SgmNetChunkSize(net, n, d, &ns));
  for (PetscInt i0 = 0; i0 < n; i0 += ns) {
    const PetscInt nc = PetscMin(ns, n - i0);
    SgmNetWork    *w  = &net->w;
    PetscCall(SgmNetForward(net, nc, d, x + i0 * d, t ? t + i0 : NULL, alpha + i0, sigma + i0, labels ? labels + i0 : NULL, NULL));
    for (PetscInt i = 0; i < nc; i++) {
      PetscReal tr = 0;
      for (PetscInt k = 0; k < d; k++) tr += w->Fo[(nc + i * d + k) * d + k];
      div[i0 + i] = w->A[i] * d + w->B[i] * tr;
      if (s)
        for (PetscInt j = 0; j < d; j++) s[(i0 + i) * d + j] = w->A[i] * x[(i0 + i) * d + j] + w->B[i] * w->Fo[i * d + j];
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetView(SgmNet net, PetscViewer viewer)
{
  PetscBool iascii;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(PetscObjectComm((PetscObject)net), &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &iascii));
  if (iascii) {
    PetscCall(PetscObjectPrintClassNamePrefixType((PetscObject)net, viewer));
    PetscCall(PetscViewerASCIIPushTab(viewer));
    PetscTryTypeMethod(net, view, viewer);
    if (net->output == SGM_NET_OUTPUT_EDM) PetscCall(PetscViewerASCIIPrintf(viewer, "time input %s, output edm (sigma_data %g)\n", SgmNetTimeInputs[net->time_input], (double)net->sigma_data));
    else PetscCall(PetscViewerASCIIPrintf(viewer, "time input %s, output %s\n", SgmNetTimeInputs[net->time_input], SgmNetOutputs[net->output]));
    PetscCall(PetscViewerASCIIPopTab(viewer));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetView_MLP(SgmNet net, PetscViewer viewer)
{
  PetscFunctionBegin;
  {
    PetscCall(PetscViewerASCIIPrintf(viewer, "MLP d=%" PetscInt_FMT " width=%" PetscInt_FMT " depth=%" PetscInt_FMT "%s, %" PetscInt_FMT " parameters\n", net->d, net->width, net->depth, net->residual ? " residual" : "", net->P));
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s embedding of dimension %" PetscInt_FMT, SgmNetEmbeddings[net->embedding], net->E));
    if (net->embedding == SGM_NET_EMBEDDING_FOURIER) PetscCall(PetscViewerASCIIPrintf(viewer, " (scale %g)", (double)net->fourier_scale));
    PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
    if (net->nclasses) PetscCall(PetscViewerASCIIPrintf(viewer, "class embedding: %" PetscInt_FMT " classes + the null label\n", net->nclasses));
    if (net->precision == SGM_NET_PRECISION_SINGLE) PetscCall(PetscViewerASCIIPrintf(viewer, "training passes in single precision (scores in double)\n"));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetDestroy(SgmNet *net)
{
  PetscFunctionBegin;
  if (!*net) PetscFunctionReturn(PETSC_SUCCESS);
  PetscValidHeaderSpecific(*net, SGM_NET_CLASSID, 1);
  if (--((PetscObject)(*net))->refct > 0) {
    *net = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscTryTypeMethod(*net, destroy);
  PetscCall(PetscFree((*net)->theta));
  PetscCall(PetscHeaderDestroy(net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmNetDestroy_MLP(SgmNet net)
{
  PetscFunctionBegin;
  PetscCall(SgmNetWorkFree(net));
  PetscCall(SgmNetWorkFreeSingle(net));
  PetscCall(PetscFree(net->freq));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetCreate_MLP(SgmNet net)
{
  PetscFunctionBegin;
  net->width               = 128;
  net->depth               = 3;
  net->ops->setfromoptions = SgmNetSetFromOptions_MLP;
  net->ops->setup          = SgmNetSetUp_MLP;
  net->ops->initialize     = SgmNetInitialize_MLP;
  net->ops->score          = SgmNetScore_MLP;
  net->ops->jvp            = SgmNetScoreJacobianVector_MLP;
  net->ops->divergence     = SgmNetScoreDivergence_MLP;
  net->ops->loss           = SgmNetLoss_MLP;
  net->ops->save           = SgmNetSave_MLP;
  net->ops->load           = SgmNetLoad_MLP;
  net->ops->view           = SgmNetView_MLP;
  net->ops->destroy        = SgmNetDestroy_MLP;
  PetscFunctionReturn(PETSC_SUCCESS);
}
