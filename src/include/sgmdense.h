/*
  SgmDense: a real matrix stored block-cyclically on a BLACS process grid of a communicator, and the
  few ScaLAPACK operations sgm needs (doc/dense.md): symmetric eigendecomposition (pdsyevd), products
  (pdgemm), column scaling, conversion from and to a matrix replicated on every rank, and the Frechet
  distance between two Gaussians built on them.

  Options (read by SgmDenseCreate):
    -dense_grid PxQ    process grid, P*Q <= size of the communicator (default: the most square P x Q = size)
    -dense_block NB    block size of the block-cyclic layout (default 64)
  Every matrix created on the same communicator with the same grid shares one BLACS context, so any
  two of them can enter one product.  All functions are collective on the communicator.
*/
#pragma once

#include <sgmscore.h>

typedef struct _n_SgmDense *SgmDense; /* a d x d real matrix, block-cyclic on a BLACS grid of a communicator */

PETSC_EXTERN PetscErrorCode SgmDenseCreate(MPI_Comm, PetscInt, SgmDense *);
PETSC_EXTERN PetscErrorCode SgmDenseSetFromReplicated(SgmDense, const PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmDenseGetReplicated(SgmDense, PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmDenseSymEig(SgmDense, PetscReal[], SgmDense);
PETSC_EXTERN PetscErrorCode SgmDenseMatMult(SgmDense, PetscBool, SgmDense, PetscBool, SgmDense);
PETSC_EXTERN PetscErrorCode SgmDenseScaleColumns(SgmDense, const PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmDenseDestroy(SgmDense *);

/* ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2); inputs d-vectors and d*d row-major
   covariances, identical on all ranks; the result is returned on all ranks */
PETSC_EXTERN PetscErrorCode SgmFrechetDistance(MPI_Comm, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[], PetscReal *);

PETSC_EXTERN PetscLogEvent SGM_DenseEig, SGM_DenseGemm, SGM_DenseRedist;

/*
  The score type "gaussian_dense" (src/score/impls/gaussian/gaussiandense.c): N(m, C) from
  -gaussian_file (/mean [d], /covariance [d,d]) with C and its eigenvectors block-cyclic on the grid
  above; the score of a batch is two distributed products.  Collective: every rank evaluates its whole
  batch at the same t.  SgmScoreGaussianDenseSampleExact draws x = m + U diag(sqrt(lambda)) z exactly
  from N(m, C), z the normals of (seed, SGM_STREAM_PRIOR, step 2) of each global sample index.
*/
#define SGMSCOREGAUSSIANDENSE "gaussian_dense"
PETSC_EXTERN PetscErrorCode SgmScoreGaussianDenseSampleExact(SgmScore, PetscInt64, const SgmBatch *, Vec);
