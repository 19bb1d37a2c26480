/* SgmScore: the score s(x,t) = grad_x log p_t(x) of the diffused data distribution, for a whole batch. */
#pragma once

#include <sgmsde.h>

typedef struct _p_SgmScore *SgmScore;
typedef const char         *SgmScoreType;
#define SGMSCOREGAUSSIAN "gaussian"
#define SGMSCOREGMM      "gmm"

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

/* Gaussian mixtures p_0 = sum_k w_k N(mu_k, C_k); the Gaussian is the case K = 1. */
PETSC_EXTERN PetscErrorCode SgmScoreMixtureSetComponents(SgmScore, PetscInt, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmScoreMixtureLoad(SgmScore, const char[]);
