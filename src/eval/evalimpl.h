/* Private to src/eval: the SgmEval object and the metric kernels shared by its files. */
#pragma once

#include <sgmeval.h>
#include <sgmmcmc.h>
#include <petsc/private/petscimpl.h>

/* The scalar metrics, in the order of the JSON line and of the /eval attributes. */
typedef enum {
  SGM_EVAL_MEAN_ERROR,   /* ||mu_X - mu_Y|| */
  SGM_EVAL_COV_ERROR,    /* ||S_X - S_Y||_F / ||S_Y||_F */
  SGM_EVAL_FRECHET,      /* Frechet distance (squared, as FID) */
  SGM_EVAL_SLICED_W2,    /* sqrt(mean_p W2^2 of the 1-D projections) */
  SGM_EVAL_MMD2,         /* unbiased MMD^2, RBF kernel */
  SGM_EVAL_BANDWIDTH,    /* the RBF bandwidth used */
  SGM_EVAL_ENERGY,       /* energy distance (U-statistics) */
  SGM_EVAL_NLL,          /* mean -log p(x) of the samples under the reference density */
  SGM_EVAL_NLL_SE,       /* its standard error */
  SGM_EVAL_NLL_REF,      /* the same for the reference set (the best a sampler can do) */
  SGM_EVAL_NLL_REF_SE,
  SGM_EVAL_ENERGY_W2,       /* point clouds: W2 between the energy distributions (-eval_energy) */
  SGM_EVAL_ENERGY_MEAN,     /* mean energy of the samples */
  SGM_EVAL_ENERGY_MEAN_REF, /* mean energy of the reference set */
  SGM_EVAL_DISTANCE_W1,     /* point clouds: W1 between the interatomic-distance distributions */
  SGM_EVAL_NMETRIC
} SgmEvalMetric;
PETSC_INTERN const char *const SgmEvalMetricNames[];

typedef struct _SgmEvalOps *SgmEvalOps;
struct _SgmEvalOps {
  PetscErrorCode (*dummy)(SgmEval);
};

struct _p_SgmEval {
  PETSCHEADER(struct _SgmEvalOps);
  SgmBatch  bx, by;       /* samples X and reference Y */
  Vec       X, Y;
  SgmScore  density;      /* known reference density (optional) */
  /* options */
  PetscInt  nproj;        /* sliced W2 directions */
  PetscInt  nmedian;      /* points of the median-heuristic subsample */
  PetscInt64 seed;
  PetscReal bandwidth;    /* > 0: given; 0: median heuristic */
  PetscBool pairwise;     /* MMD and energy distance (O(N^2) pairs) */
  PetscBool writedirs;    /* write the SW directions to the output */
  SgmEnergy energy;       /* point clouds: the energy of -eval_energy (NULL: none) */
  PetscInt  natoms;       /* point clouds: atoms per sample (-eval_atoms; 0: not point clouds) */
  /* results */
  PetscReal value[SGM_EVAL_NMETRIC];
  PetscBool has[SGM_EVAL_NMETRIC];
  PetscReal *mux, *muy, *Sx, *Sy; /* [d], [d], [d*d], [d*d] */
  PetscReal *w2sq, *dirs;         /* [P] W2^2 per direction, [P*d] directions */
  PetscInt   nmedianused;         /* points the median was taken over */
  const char *swformula;
};

PETSC_INTERN PetscLogEvent SGM_EvalMoments, SGM_EvalFrechet, SGM_EvalSliced, SGM_EvalPairs, SGM_EvalNLL, SGM_EvalPointCloud;

/* moments.c: mean [d] and covariance [d*d] (divisor N-1) of a distributed set, rank-invariant bits */
PETSC_INTERN PetscErrorCode SgmEvalMoments_Private(const SgmBatch *, const PetscReal[], PetscReal[], PetscReal[]);
/* sliced.c: W2^2 of P directions (all ranks get all), the directions themselves [P*d] */
PETSC_INTERN PetscErrorCode SgmEvalSliced_Private(SgmEval);
/* sliced.c: W_p^p (p = 1, 2) between the empirical measures of two sorted sets (exact for N1 != N2) */
PETSC_INTERN PetscReal SgmEvalWassersteinSorted_Private(PetscInt, PetscInt, const PetscReal[], PetscInt, const PetscReal[]);
/* pointcloud.c: energy-histogram W2 and interatomic-distance W1 of point clouds */
PETSC_INTERN PetscErrorCode SgmEvalPointCloud_Private(SgmEval);
/* pairs.c: median-heuristic bandwidth, unbiased MMD^2, energy distance */
PETSC_INTERN PetscErrorCode SgmEvalPairs_Private(SgmEval);
/* Gather the rows of a distributed set on every rank, in global order ([N*d], caller frees). */
PETSC_INTERN PetscErrorCode SgmEvalAllGatherRows_Private(const SgmBatch *, const PetscReal[], PetscInt, PetscReal **);
