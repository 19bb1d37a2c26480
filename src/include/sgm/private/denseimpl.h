/* The block-cyclic matrix behind SgmDense (src/sys/dense.c) and the helpers the distributed
   Gaussian (src/score/impls/gaussian/gaussiandense.c) needs: rectangular matrices, row scaling and
   the move of a batch (whole samples per rank) into and out of the block-cyclic layout. */
#pragma once

#include <sgmdense.h>

typedef struct _n_SgmDenseGrid *SgmDenseGrid; /* a BLACS grid on a communicator, shared and counted */

struct _n_SgmDense {
  MPI_Comm     comm;
  SgmDenseGrid grid;
  PetscInt     m, n;       /* global size */
  int          nb;         /* square blocks nb x nb */
  int          mloc, nloc; /* local rows and columns (0 off the grid) */
  int          desc[9];    /* ScaLAPACK descriptor; desc[1] = -1 off the grid */
  PetscReal   *a;          /* [lld * nloc] column-major local block, lld = max(1, mloc) */
};

PETSC_EXTERN PetscErrorCode SgmDenseCreateRect_Private(MPI_Comm, PetscInt, PetscInt, SgmDense *);
PETSC_EXTERN PetscErrorCode SgmDenseScaleRows_Private(SgmDense, const PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmDenseAXPBY_Private(SgmDense, PetscReal, PetscReal, SgmDense);
/* X^T <-> the n local samples x[i*d..] of a batch whose rows are spread whole over the ranks:
   XT is d x N; rank r's n rows are the global samples after those of ranks < r */
PETSC_EXTERN PetscErrorCode SgmDenseFromRows_Private(SgmDense, PetscInt, const PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmDenseToRows_Private(SgmDense, PetscInt, PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmDenseGetGrid_Private(SgmDense, int *, int *, int *);
