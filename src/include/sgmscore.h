/* SgmScore: the score s(x,t) = grad_x log p_t(x) of the diffused data distribution, for a whole batch. */
#pragma once

#include <sgmsde.h>

typedef struct _p_SgmScore *SgmScore;
typedef const char         *SgmScoreType;
#define SGMSCOREGAUSSIAN "gaussian"
#define SGMSCOREGMM      "gmm"
#define SGMSCOREPOSTERIOR "posterior"
#define SGMSCOREWHITE     "white"   /* field: white noise N(0, v I) on the grid */
#define SGMSCOREGMRF      "gmrf"    /* field: Gaussian Markov random field, KSP solve per evaluation */
#define SGMSCOREGRFFFT    "grf_fft" /* field: stationary Gaussian random field, diagonal in Fourier space */

PETSC_EXTERN PetscClassId      SGM_SCORE_CLASSID;
PETSC_EXTERN PetscFunctionList SgmScoreList;

PETSC_EXTERN PetscErrorCode SgmScoreCreate(MPI_Comm, SgmScore *);
PETSC_EXTERN PetscErrorCode SgmScoreSetType(SgmScore, SgmScoreType);
PETSC_EXTERN PetscErrorCode SgmScoreGetType(SgmScore, SgmScoreType *);
PETSC_EXTERN PetscErrorCode SgmScoreRegister(const char[], PetscErrorCode (*)(SgmScore));
PETSC_EXTERN PetscErrorCode SgmScoreSetSDE(SgmScore, SgmSDE);
PETSC_EXTERN PetscErrorCode SgmScoreGetSDE(SgmScore, SgmSDE *);
PETSC_EXTERN PetscErrorCode SgmScoreSetFromOptions(SgmScore);
PETSC_EXTERN PetscErrorCode SgmScoreSetUp(SgmScore);
PETSC_EXTERN PetscErrorCode SgmScoreGetDimension(SgmScore, PetscInt *);
PETSC_EXTERN PetscErrorCode SgmScoreGetDataDimension(SgmScore, PetscInt *);
PETSC_EXTERN PetscErrorCode SgmScoreDecode(SgmScore, PetscInt, const PetscScalar[], PetscScalar[]);
PETSC_EXTERN PetscErrorCode SgmScoreGetField(SgmScore, SgmField *);
/* point clouds in the zero centre-of-mass subspace: natoms atoms of dimension/natoms coordinates
   (0: not a point cloud); see doc/geometric.md */
PETSC_EXTERN PetscErrorCode SgmScoreSetZeroCoM(SgmScore, PetscInt);
PETSC_EXTERN PetscErrorCode SgmScoreGetZeroCoM(SgmScore, PetscInt *, PetscInt *);
PETSC_EXTERN PetscErrorCode SgmScoreSetZeroCoMFeatures(SgmScore, PetscInt);
PETSC_EXTERN PetscErrorCode SgmScoreGetZeroCoMFeatures(SgmScore, PetscInt *);
PETSC_EXTERN PetscErrorCode SgmScoreApply(SgmScore, PetscReal, const SgmBatch *, Vec, Vec);
PETSC_EXTERN PetscErrorCode SgmScoreApplyArray(SgmScore, PetscReal, PetscInt, const PetscScalar[], PetscScalar[]);
PETSC_EXTERN PetscErrorCode SgmScoreLogDensity(SgmScore, PetscReal, PetscInt, const PetscScalar[], PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmScoreGetNFE(SgmScore, PetscInt64 *);
PETSC_EXTERN PetscErrorCode SgmScoreJacobianVector(SgmScore, PetscReal, PetscInt, const PetscScalar[], const PetscScalar[], PetscScalar[]);
PETSC_EXTERN PetscErrorCode SgmScoreDivergence(SgmScore, PetscReal, PetscInt, const PetscScalar[], PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmScoreGetNJVP(SgmScore, PetscInt64 *);
PETSC_EXTERN PetscErrorCode SgmScoreWriteAttributes(SgmScore, hid_t);
PETSC_EXTERN PetscErrorCode SgmScoreView(SgmScore, PetscViewer);
PETSC_EXTERN PetscErrorCode SgmScoreDestroy(SgmScore *);

/*
  Guidance towards a class y (doc/guidance.md), for every score type and every sampler:
    classifier:  s(x,t) + gamma grad_x log p(y|x_t)      (classifier guidance)
    cfg:         (1 - gamma) s(x,t) + gamma s(x,t|y)     (classifier-free guidance)
  The conditional score s(x,t|y) comes from the type (gmm: the components labelled y) or from the
  options prefixed -cond_ (-cond_score_type ...).  For exact mixture scores the classifier gradient
  is s(x,t|y) - s(x,t) and the two coincide; a learned classifier plugs in through
  SgmScoreSetClassifierGradient().
  Towards a linear measurement y = A x + n (doc/inverse.md), with no class and no second model:
    dps:         s(x,t) - zeta_t grad_x ||y - A x0hat(x,t)||^2,  x0hat = (x + sigma^2 s) / alpha
  (diffusion posterior sampling, Chung et al. 2023), zeta_t = gamma / ||y - A x0hat|| or
  gamma / (2 sigma_y^2) (-dps_normalize false); the measurement is read from the -inverse_ options.
*/
typedef enum {
  SGM_GUIDANCE_NONE,
  SGM_GUIDANCE_CLASSIFIER,
  SGM_GUIDANCE_CFG,
  SGM_GUIDANCE_DPS
} SgmGuidanceType;
PETSC_EXTERN const char *const SgmGuidanceTypes[];
/* g[i*d..] = grad_x log p(y | x_t) of the n samples x at time t, for class y */
typedef PetscErrorCode (*SgmScoreClassGradFn)(SgmScore, PetscReal, PetscInt, PetscInt, const PetscScalar[], PetscScalar[], void *);

PETSC_EXTERN PetscErrorCode SgmScoreSetGuidance(SgmScore, SgmGuidanceType, PetscReal, PetscInt);
PETSC_EXTERN PetscErrorCode SgmScoreGetGuidance(SgmScore, SgmGuidanceType *, PetscReal *, PetscInt *);
PETSC_EXTERN PetscErrorCode SgmScoreSetConditionalScore(SgmScore, SgmScore);
PETSC_EXTERN PetscErrorCode SgmScoreGetConditionalScore(SgmScore, SgmScore *);
PETSC_EXTERN PetscErrorCode SgmScoreSetClassifierGradient(SgmScore, SgmScoreClassGradFn, void *);
PETSC_EXTERN PetscErrorCode SgmScoreClassifierGradient(SgmScore, PetscReal, PetscInt, const PetscScalar[], PetscScalar[]);

/* Gaussian mixtures p_0 = sum_k w_k N(mu_k, C_k); the Gaussian is the case K = 1. */
PETSC_EXTERN PetscErrorCode SgmScoreMixtureSetComponents(SgmScore, PetscInt, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmScoreMixtureLoad(SgmScore, const char[]);
PETSC_EXTERN PetscErrorCode SgmScoreMixtureSetLabels(SgmScore, PetscInt, const PetscInt[]);
