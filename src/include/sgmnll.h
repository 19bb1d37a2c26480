/* SgmNLL: exact likelihoods through the probability-flow ODE (Song et al. 2021, Sec. D.2). */
#pragma once

#include <sgmscore.h>
#include <sgmio.h>
#include <petscts.h>

typedef struct _p_SgmNLL *SgmNLL;

typedef enum {
  SGM_NLL_DIVERGENCE_EXACT,     /* trace of the Jacobian: analytic, or d Jacobian-vector products */
  SGM_NLL_DIVERGENCE_HUTCHINSON /* E[eps^T J eps] with P fixed probes per point */
} SgmNLLDivergence;
PETSC_EXTERN const char *const SgmNLLDivergences[];

typedef enum {
  SGM_NLL_PROBE_RADEMACHER,
  SGM_NLL_PROBE_GAUSSIAN
} SgmNLLProbe;
PETSC_EXTERN const char *const SgmNLLProbes[];

typedef enum {
  SGM_NLL_DEQUANTIZATION_NONE,   /* continuous data: NLL of the density, bits/dim may be negative */
  SGM_NLL_DEQUANTIZATION_UNIFORM /* data on L levels in [lo, hi]: x + U(0, w) noise, NLL - d log w */
} SgmNLLDequantization;
PETSC_EXTERN const char *const SgmNLLDequantizations[];

PETSC_EXTERN PetscClassId SGM_NLL_CLASSID;

PETSC_EXTERN PetscErrorCode SgmNLLCreate(MPI_Comm, SgmNLL *);
PETSC_EXTERN PetscErrorCode SgmNLLSetScore(SgmNLL, SgmScore);
PETSC_EXTERN PetscErrorCode SgmNLLGetScore(SgmNLL, SgmScore *);
PETSC_EXTERN PetscErrorCode SgmNLLSetFromOptions(SgmNLL);
PETSC_EXTERN PetscErrorCode SgmNLLSetUp(SgmNLL, PetscInt);
PETSC_EXTERN PetscErrorCode SgmNLLGetBatch(SgmNLL, const SgmBatch **);
PETSC_EXTERN PetscErrorCode SgmNLLSolve(SgmNLL, Vec);
PETSC_EXTERN PetscErrorCode SgmNLLGetResults(SgmNLL, const PetscReal **, const PetscReal **, const PetscReal **);
PETSC_EXTERN PetscErrorCode SgmNLLGetNFE(SgmNLL, PetscInt64 *, PetscInt64 *);
PETSC_EXTERN PetscErrorCode SgmNLLWrite(SgmNLL, SgmOutput);
PETSC_EXTERN PetscErrorCode SgmNLLView(SgmNLL, PetscViewer);
PETSC_EXTERN PetscErrorCode SgmNLLDestroy(SgmNLL *);
