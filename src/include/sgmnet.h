/*
  SgmNet: a time-conditioned score network and its training losses, with exact gradients written by
  hand (doc: the comments of src/nn/net.c and src/nn/loss.c).  Types (SgmNetSetType, -net_type):
  mlp (the default: an MLP on R^d), and for point clouds of natoms atoms in sd = d/natoms dimensions
  (-net_atoms) the E(n)-equivariant egnn (EDM) and distance (ConfGF/SyMat), src/nn/impls/.

  The network F(u, c) maps an input u (dimension d) and a time input c to d outputs; the score is
      s(x, t) = A x + B F(K x, c),
  with per-sample scalars (A, B, K) fixed by the output parameterisation (SgmNetOutput) and the
  marginal q(x_t|x_0) = N(alpha x_0, sigma^2 I).  All trainable parameters are one flat array.
*/
#pragma once

#include <sgmsys.h>

typedef struct _p_SgmNet *SgmNet;

typedef const char *SgmNetType;
#define SGMNETMLP      "mlp"
#define SGMNETEGNN     "egnn"
#define SGMNETDISTANCE "distance"

PETSC_EXTERN PetscClassId SGM_NET_CLASSID;

typedef enum {
  SGM_NET_OUTPUT_EPS,   /* F predicts the noise:            s = -F / sigma */
  SGM_NET_OUTPUT_SCORE, /* F predicts sigma times the score: s =  F / sigma */
  SGM_NET_OUTPUT_EDM    /* Karras et al. 2022 preconditioned denoiser D, s = (alpha D - x) / sigma^2 */
} SgmNetOutput;
PETSC_EXTERN const char *const SgmNetOutputs[];

typedef enum {
  SGM_NET_EMBEDDING_FOURIER,   /* Gaussian Fourier features, frequencies ~ N(0, scale^2), fixed */
  SGM_NET_EMBEDDING_SINUSOIDAL /* transformer frequencies 10000^(-k/half) */
} SgmNetEmbedding;
PETSC_EXTERN const char *const SgmNetEmbeddings[];

typedef enum {
  SGM_NET_TIME_LOGSIGMA, /* c = log(sigma/alpha)/4, EDM's c_noise: the same meaning for every SDE */
  SGM_NET_TIME_T         /* c = t */
} SgmNetTimeInput;
PETSC_EXTERN const char *const SgmNetTimeInputs[];

typedef enum {
  SGM_NET_PRECISION_DOUBLE, /* every pass in double (dgemm) */
  SGM_NET_PRECISION_SINGLE  /* mlp: the training losses simple, dsm, esm in float (sgemm); weights, gradient sums, scores double */
} SgmNetPrecision;
PETSC_EXTERN const char *const SgmNetPrecisions[];

typedef enum {
  SGM_LOSS_SIMPLE, /* ||eps + sigma s||^2                               (DDPM "simple") */
  SGM_LOSS_DSM,    /* ||s + eps/sigma||^2                               (denoising score matching) */
  SGM_LOSS_ESM,    /* ||s - s_target||^2                                (explicit score matching) */
  SGM_LOSS_SSM,    /* mean_v [v^T J_s v + (v^T s)^2 / 2]                (sliced score matching) */
  SGM_LOSS_ISM,    /* tr J_s + ||s||^2 / 2, exact trace                 (Hyvarinen) */
  SGM_LOSS_SSMVR   /* ||s||^2 / 2 + mean_v v^T J_s v                    (sliced, variance reduced) */
} SgmLossType;
PETSC_EXTERN const char *const SgmLossTypes[];

/* The kernel of the networks' dense products (src/nn/gemm.c, -net_gemm): process-wide */
typedef enum {
  SGM_GEMM_AUTO,  /* avx512 where the CPU has AVX-512F, otherwise blas */
  SGM_GEMM_BLAS,  /* the system BLAS (dgemm_, sgemm_) */
  SGM_GEMM_AVX512 /* sgm's packed AVX-512 product */
} SgmGemmType;
PETSC_EXTERN const char *const SgmGemmTypes[];
PETSC_EXTERN PetscErrorCode    SgmGemmSetType(SgmGemmType);
PETSC_EXTERN PetscErrorCode    SgmGemmGetType(SgmGemmType *);
PETSC_EXTERN PetscErrorCode    SgmGemmGetKernel(SgmGemmType *);
PETSC_EXTERN PetscErrorCode    SgmGemmHaveAVX512(PetscBool *);
/* C = alpha op(A) op(B) + beta C, column-major, C M x N, inner dimension K; op: "N" or "T" */
PETSC_EXTERN PetscErrorCode SgmGemm(const char *, const char *, PetscInt, PetscInt, PetscInt, PetscReal, const PetscReal *, PetscInt, const PetscReal *, PetscInt, PetscReal, PetscReal *, PetscInt);
PETSC_EXTERN PetscErrorCode SgmGemmFloat(const char *, const char *, PetscInt, PetscInt, PetscInt, float, const float *, PetscInt, const float *, PetscInt, float, float *, PetscInt);

PETSC_EXTERN PetscErrorCode SgmNetCreate(MPI_Comm, SgmNet *);
PETSC_EXTERN PetscErrorCode SgmNetSetFromOptions(SgmNet);
PETSC_EXTERN PetscErrorCode SgmNetRegister(const char[], PetscErrorCode (*)(SgmNet));
PETSC_EXTERN PetscErrorCode SgmNetSetType(SgmNet, SgmNetType);
PETSC_EXTERN PetscErrorCode SgmNetGetType(SgmNet, SgmNetType *);
/* point-cloud types: the number of atoms (the space dimension is then d/natoms); mlp: 0 */
PETSC_EXTERN PetscErrorCode SgmNetSetAtoms(SgmNet, PetscInt);
PETSC_EXTERN PetscErrorCode SgmNetGetAtoms(SgmNet, PetscInt *, PetscInt *);
/* egnn: invariant per-atom feature channels of the input and of the output (GeoLDM latents); before set-up */
PETSC_EXTERN PetscErrorCode SgmNetSetCloudFeatures(SgmNet, PetscInt, PetscInt);
PETSC_EXTERN PetscErrorCode SgmNetDistanceSetTypes(SgmNet, PetscInt, const PetscInt[]);
PETSC_EXTERN PetscErrorCode SgmNetGetCloudFeatures(SgmNet, PetscInt *, PetscInt *);
PETSC_EXTERN PetscErrorCode SgmNetSetDimension(SgmNet, PetscInt);
PETSC_EXTERN PetscErrorCode SgmNetGetDimension(SgmNet, PetscInt *);
PETSC_EXTERN PetscErrorCode SgmNetSetNumClasses(SgmNet, PetscInt);
PETSC_EXTERN PetscErrorCode SgmNetGetNumClasses(SgmNet, PetscInt *);
PETSC_EXTERN PetscErrorCode SgmNetGetOutput(SgmNet, SgmNetOutput *);
PETSC_EXTERN PetscErrorCode SgmNetGetPrecision(SgmNet, SgmNetPrecision *);
PETSC_EXTERN PetscErrorCode SgmNetSetUp(SgmNet);
PETSC_EXTERN PetscErrorCode SgmNetInitialize(SgmNet, uint64_t);
PETSC_EXTERN PetscErrorCode SgmNetGetParameters(SgmNet, PetscInt *, PetscReal **);
PETSC_EXTERN PetscErrorCode SgmNetView(SgmNet, PetscViewer);
PETSC_EXTERN PetscErrorCode SgmNetSave(SgmNet, hid_t);
PETSC_EXTERN PetscErrorCode SgmNetLoad(SgmNet, hid_t);
PETSC_EXTERN PetscErrorCode SgmNetDestroy(SgmNet *);

/* The per-sample scalars of s = A x + B F(K x, c) and the time input c. */
PETSC_EXTERN PetscErrorCode SgmNetOutputCoefficients(SgmNet, PetscReal, PetscReal, PetscReal, PetscReal *, PetscReal *, PetscReal *, PetscReal *);

/* s[n*d] for n samples x[n*d] (row-major) at per-sample t, alpha, sigma; labels NULL or -1: null label */
PETSC_EXTERN PetscErrorCode SgmNetScore(SgmNet, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[], const PetscInt[], PetscReal[]);
/* jv = (ds/dx) v by forward mode; s is returned too */
PETSC_EXTERN PetscErrorCode SgmNetScoreJacobianVector(SgmNet, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[], const PetscInt[], const PetscReal[], PetscReal[], PetscReal[]);
/* div[n] = tr(ds/dx) exactly, by d forward-mode products with unit vectors; s may be NULL */
PETSC_EXTERN PetscErrorCode SgmNetScoreDivergence(SgmNet, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[], const PetscInt[], PetscReal[], PetscReal[]);

/*
  Sum over the n local samples of w_i l_i (not divided by n), and the gradient of that sum with
  respect to theta ADDED to grad[P].  xt = alpha x0 + sigma eps; eps for simple/dsm; starget for
  esm; probes [n][nprobe][d] for ssm/ssmvr; w may be NULL (all ones); grad NULL: value only.
*/
PETSC_EXTERN PetscErrorCode SgmNetLoss(SgmNet, SgmLossType, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[], const PetscInt[], const PetscReal[], const PetscReal[], PetscInt, const PetscReal[], const PetscReal[], PetscReal *, PetscReal[]);
