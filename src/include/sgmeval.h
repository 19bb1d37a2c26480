/*
  SgmEval: compares a sample set X [N1,d] with a reference set Y [N2,d] (both spread over the ranks
  as whole rows, any layout) and/or with a known reference density (doc/eval.md):
    - means and covariances (two-pass, fixed-point sums: the bits do not depend on the rank count),
      ||mu_X - mu_Y||, ||S_X - S_Y||_F / ||S_Y||_F;
    - Frechet distance ||mu_X - mu_Y||^2 + Tr(S_X + S_Y - 2 (S_X^1/2 S_Y S_X^1/2)^1/2)
      (distributed symmetric eigendecompositions, SgmFrechetDistance in sgmdense.h);
    - sliced Wasserstein-2 over P random directions shared by all ranks (Philox stream SGM_STREAM_EVAL);
    - unbiased MMD^2 with an RBF kernel (median-heuristic bandwidth) and the energy distance,
      both U-statistics over all pairs, rows distributed, columns all-gathered;
    - mean negative log-likelihood of X (and Y) under a known density at t = 0 (gmm, gaussian);
    - point clouds (-eval_energy dw4|lj13, -eval_atoms n): W2 between the energy distributions and
      W1 between the interatomic-distance distributions of X and Y (doc/geometric.md).
  Every metric is a pure function of the data and the options: 1, 2, 3 ... ranks give the same bits.
*/
#pragma once

#include <sgmscore.h>

typedef struct _p_SgmEval *SgmEval;

PETSC_EXTERN PetscClassId SGM_EVAL_CLASSID;

PETSC_EXTERN PetscErrorCode SgmEvalCreate(MPI_Comm, SgmEval *);
PETSC_EXTERN PetscErrorCode SgmEvalSetFromOptions(SgmEval);
PETSC_EXTERN PetscErrorCode SgmEvalSetSamples(SgmEval, const SgmBatch *, Vec);
PETSC_EXTERN PetscErrorCode SgmEvalSetReference(SgmEval, const SgmBatch *, Vec);
PETSC_EXTERN PetscErrorCode SgmEvalSetReferenceDensity(SgmEval, SgmScore);
PETSC_EXTERN PetscErrorCode SgmEvalCompute(SgmEval);
PETSC_EXTERN PetscErrorCode SgmEvalGetMetric(SgmEval, const char[], PetscReal *, PetscBool *);
PETSC_EXTERN PetscErrorCode SgmEvalViewJSON(SgmEval, const char[]);
PETSC_EXTERN PetscErrorCode SgmEvalWrite(SgmEval, hid_t);
PETSC_EXTERN PetscErrorCode SgmEvalView(SgmEval, PetscViewer);
PETSC_EXTERN PetscErrorCode SgmEvalDestroy(SgmEval *);
