/* The SgmNet object: architecture, the flat parameter array, its layout, and the workspaces of one
   forward/backward pass (src/nn/mlp.c). */
#pragma once

#include <sgmnet.h>
#include <petsc/private/petscimpl.h>

typedef struct _SgmNetOps *SgmNetOps;
struct _SgmNetOps {
  PetscErrorCode (*view)(SgmNet, PetscViewer); /* unused: one architecture, no variants yet */
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
};

#define SGM_NET_MAXCOLS 8192 /* columns of one pass; larger batches (and tangent losses) go in chunks */

PETSC_INTERN PetscLogEvent SGM_NetForward, SGM_NetBackward;

/* src/nn/mlp.c */
PETSC_INTERN PetscErrorCode SgmNetWorkReserve(SgmNet, PetscInt, PetscInt);
PETSC_INTERN PetscErrorCode SgmNetWorkFree(SgmNet);
PETSC_INTERN PetscErrorCode SgmNetChunkSize(SgmNet, PetscInt, PetscInt, PetscInt *);
PETSC_INTERN PetscErrorCode SgmNetForward(SgmNet, PetscInt, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[], const PetscInt[], const PetscReal[]);
PETSC_INTERN PetscErrorCode SgmNetBackward(SgmNet, PetscInt, PetscInt, PetscReal[]);
