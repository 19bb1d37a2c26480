/* The SgmNet object: architecture, the flat parameter array, its layout, and the workspaces of one
   forward/backward pass (src/nn/mlp.c for the mlp type; the point-cloud types egnn and distance keep
   theirs in net->data, src/nn/impls/). */
#pragma once

#include <sgmnet.h>
#include <petsc/private/petscimpl.h>

typedef struct _SgmNetOps *SgmNetOps;
/* One table per network type (SgmNetSetType); the interface (net.c, netio.c, loss.c) dispatches. */
struct _SgmNetOps {
  PetscErrorCode (*setfromoptions)(SgmNet, PetscOptionItems *);
  PetscErrorCode (*setup)(SgmNet); /* checks the architecture, sets the layout and net->P */
  PetscErrorCode (*initialize)(SgmNet, uint64_t);
  PetscErrorCode (*score)(SgmNet, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[], const PetscInt[], PetscReal[]);
  PetscErrorCode (*jvp)(SgmNet, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[], const PetscInt[], const PetscReal[], PetscReal[], PetscReal[]);
  PetscErrorCode (*divergence)(SgmNet, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[], const PetscInt[], PetscReal[], PetscReal[]);
  PetscErrorCode (*loss)(SgmNet, SgmLossType, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[], const PetscInt[], const PetscReal[], const PetscReal[], PetscInt, const PetscReal[], const PetscReal[], PetscReal *, PetscReal[]);
  PetscErrorCode (*save)(SgmNet, hid_t, PetscBool); /* the type's attributes and datasets (writer: this rank writes values) */
  PetscErrorCode (*load)(SgmNet, hid_t);            /* the type's attributes (then SgmNetSetUp), before theta is read */
  PetscErrorCode (*view)(SgmNet, PetscViewer);
  PetscErrorCode (*destroy)(SgmNet);
  /* point-cloud types (src/nn/cloud.c): F(u, c) of nb clouds, kept for the backward pass; and the
     adjoint Fb carried to the parameters (ADDED to grad) */
  PetscErrorCode (*cforward)(SgmNet, PetscInt, const PetscReal[], const PetscReal[], PetscReal[]);
  PetscErrorCode (*cbackward)(SgmNet, PetscInt, const PetscReal[], PetscReal[]);
};

/*
  Activations are stored column-major, one column per "column" j of the pass: columns [0, n) are
  the n samples (the primal pass), columns n + i*m + k the k-th tangent (forward-mode direction) of
  sample i.  A w x N block is therefore the row-major N x w batch, and every layer is one dgemm.
  When every sample of a pass has the same time input and label (a sampler's call), the time
  embedding is one column (nt = 1, "shared") and P_l temb + b_l one vector per block.
*/
typedef struct {
  PetscInt   ncap, Ncap; /* allocated samples and columns */
  PetscReal *mem;
  /* per sample */
  PetscReal *c, *A, *B, *K; /* time input and the output scalars of s = A x + B F(K x, c) */
  PetscInt  *lab;           /* row of the class table (nclasses = the null label) */
  PetscReal *e;             /* [E x n] time features */
  PetscReal *ea, *sgt;      /* [w x n] pre-activation of the time MLP and its logistic sigmoid */
  PetscReal *temb, *tembb;  /* [w x n] time(+class) embedding and its adjoint (nt columns used) */
  PetscReal *pb;            /* [w x L] shared pass: b_l + P_l temb of each block */
  PetscReal *gs;            /* [w] sum over the primal columns of a pre-activation adjoint */
  PetscInt   nt;            /* columns of the time embedding in the last pass: n, or 1 if shared */
  /* per column */
  PetscReal  *U;    /* [d x N] network input K x and tangents K v */
  PetscReal **H;    /* H[0..L] [w x N] layer outputs (H[0]: input layer) */
  PetscReal **Apre; /* Apre[1..L] [w x N] pre-activations (tangent columns: their derivative) */
  PetscReal **SG;   /* SG[1..L] [w x n] sigmoid of the primal pre-activations */
  PetscReal  *Fo;   /* [d x N] network output F and its tangents */
  PetscReal  *Fb;   /* [d x N] adjoint of Fo */
  PetscReal  *Hb, *Ab; /* [w x N] adjoints of a layer output and of a pre-activation */
} SgmNetWork;

/*
  -net_precision single (mlp, training losses without tangent columns): a float copy of the weights,
  float activations of the primal columns (same layout as SgmNetWork), a float gradient buffer for the
  sgemm products of one chunk (added to the double gradient after the chunk), and in dw the double
  per-sample scalars, time features, network output F and its adjoint Fb that the loss reads and
  writes (loss.c), plus the double column sums (bias gradients) in dw.gs.
*/
typedef struct {
  PetscInt    ncap, P;
  float      *theta, *grad; /* [P] */
  float      *mem;
  float      *e, *ea, *sgt, *temb, *tembb; /* as in SgmNetWork, nt = n */
  float      *U, **H, **Apre, **SG, *Fo, *Fb, *Hb, *Ab;
  SgmNetWork  dw; /* c, A, B, K, lab, e, gs, Fo, Fb in double */
} SgmNetWorkSingle;

struct _p_SgmNet {
  PETSCHEADER(struct _SgmNetOps);
  /* architecture */
  PetscInt        d, width, depth, E, nclasses;
  PetscBool       residual;
  SgmNetEmbedding embedding;
  PetscReal       fourier_scale;
  SgmNetOutput    output;
  PetscReal       sigma_data;
  SgmNetTimeInput time_input;
  /* parameters: offsets into theta */
  PetscInt   P;
  PetscReal *theta;
  PetscReal *freq; /* [E/2] angular frequencies of the time features (fixed, saved with the net) */
  PetscInt   oWt, obt, ocls, oWin, obin, oblk, blk, oWout, obout; /* block l (1..L) at oblk + (l-1)*blk: W, b, P */
  PetscBool  setupcalled, initialized;
  PetscBool  noshare; /* testing: never take the shared-time path (regression/unit/test_net.c) */
  SgmNetWork w;
  SgmNetPrecision  precision; /* of the training losses (mlp); scores are always double */
  SgmNetWorkSingle ws;
  /* point-cloud types: d = natoms * sd; egnn: the last kin of an atom's sd input channels and the
     last kout of its output channels are invariant features (GeoLDM latents), the rest coordinates */
  PetscInt natoms, sd, kin, kout;
  void    *data;
};

#define SGM_NET_MAXCOLS 8192 /* columns of one pass; larger batches (and tangent losses) go in chunks */

PETSC_INTERN PetscLogEvent SGM_NetForward, SGM_NetBackward;
PETSC_INTERN PetscFunctionList SgmNetList;

/* src/nn/net.c, netio.c, loss.c: the mlp type */
PETSC_INTERN PetscErrorCode SgmNetCreate_MLP(SgmNet);
PETSC_INTERN PetscErrorCode SgmNetSave_MLP(SgmNet, hid_t, PetscBool);
PETSC_INTERN PetscErrorCode SgmNetLoad_MLP(SgmNet, hid_t);
PETSC_INTERN PetscErrorCode SgmNetLoss_MLP(SgmNet, SgmLossType, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[], const PetscInt[], const PetscReal[], const PetscReal[], PetscInt, const PetscReal[], const PetscReal[], PetscReal *, PetscReal[]);
/* src/nn/netio.c: attribute helpers shared by the types */
PETSC_INTERN PetscErrorCode SgmNetLoadIntAttr_Private(SgmNet, hid_t, const char[], const char[], PetscInt *);
PETSC_INTERN PetscErrorCode SgmNetLoadEnumAttr_Private(SgmNet, hid_t, const char[], const char *const[], PetscEnum *);
PETSC_INTERN PetscErrorCode SgmNetWriteVector_Private(hid_t, const char[], PetscInt, const PetscReal[], PetscBool);
PETSC_INTERN PetscErrorCode SgmNetReadVector_Private(SgmNet, hid_t, const char[], PetscInt, PetscReal[]);

/* src/nn/cloud.c: what the point-cloud types share */
PETSC_INTERN PetscErrorCode SgmNetCloudSetFromOptions_Private(SgmNet, PetscOptionItems *);
PETSC_INTERN PetscErrorCode SgmNetCloudSetUp_Private(SgmNet);
PETSC_INTERN PetscErrorCode SgmNetCloudScore_Private(SgmNet, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[], const PetscInt[], PetscReal[]);
PETSC_INTERN PetscErrorCode SgmNetCloudLoss_Private(SgmNet, SgmLossType, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[], const PetscInt[], const PetscReal[], const PetscReal[], PetscInt, const PetscReal[], const PetscReal[], PetscReal *, PetscReal[]);
PETSC_INTERN PetscErrorCode SgmNetCloudSave_Private(SgmNet, hid_t, PetscBool);
PETSC_INTERN PetscErrorCode SgmNetCloudLoad_Private(SgmNet, hid_t);
PETSC_INTERN PetscErrorCode SgmNetCloudChunk_Private(SgmNet, PetscInt, PetscInt *);
PETSC_INTERN PetscErrorCode SgmGemmInitialize_Private(void);
PETSC_INTERN PetscErrorCode SgmGemmSetFromOptions_Private(PetscOptionItems *, PetscObject);
PETSC_INTERN void           SgmNetSiLU_Private(PetscInt, const PetscReal[], PetscReal[]);
PETSC_INTERN void           SgmNetSiLUAdjoint_Private(PetscInt, const PetscReal[], PetscReal[]);
PETSC_INTERN PetscErrorCode SgmNetCreate_EGNN(SgmNet);
/* src/nn/impls/egnn/egnn.c: the map without a time input (c = 0) and its adjoint to the input, for the
   encoder and decoder of the GeoLDM autoencoder (src/nn/ae.c) */
PETSC_INTERN PetscErrorCode SgmNetEGNNApply_Private(SgmNet, PetscInt, const PetscReal[], PetscReal[]);
PETSC_INTERN PetscErrorCode SgmNetEGNNAdjoint_Private(SgmNet, PetscInt, const PetscReal[], PetscReal[], PetscReal[]);
PETSC_INTERN PetscErrorCode SgmNetCreate_Distance(SgmNet);

/* src/nn/mlp.c */
PETSC_INTERN PetscErrorCode SgmNetWorkReserve(SgmNet, PetscInt, PetscInt);
PETSC_INTERN PetscErrorCode SgmNetWorkFree(SgmNet);
PETSC_INTERN PetscErrorCode SgmNetChunkSize(SgmNet, PetscInt, PetscInt, PetscInt *);
PETSC_INTERN PetscErrorCode SgmNetForward(SgmNet, PetscInt, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[], const PetscInt[], const PetscReal[]);
PETSC_INTERN PetscErrorCode SgmNetBackward(SgmNet, PetscInt, PetscInt, PetscReal[]);
/* -net_precision single: the float weights (once per loss call), forward/backward of primal columns */
PETSC_INTERN PetscErrorCode SgmNetSingleWeights(SgmNet);
PETSC_INTERN PetscErrorCode SgmNetForwardSingle(SgmNet, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[], const PetscInt[]);
PETSC_INTERN PetscErrorCode SgmNetBackwardSingle(SgmNet, PetscInt, PetscReal[]);
PETSC_INTERN PetscErrorCode SgmNetWorkFreeSingle(SgmNet);
