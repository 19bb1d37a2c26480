/* Field samples (doc/fields.md): one sample is a scalar or multi-component field on a structured
   2-D or 3-D grid (PETSc DMDA), spread over the ranks of the run; a batch holds B such fields. */
#pragma once

#include <sgmsys.h>
#include <petscdmda.h>

/*
  The grid of a field batch.  On each rank the batch Vec holds B consecutive copies of the rank's
  DMDA block, [b][local point][component]; the local point order is the DMDA's (x fastest inside
  the block), and nat[p] is the global natural index i + nx (j + ny k) of local point p, which keys
  the noise, so a field does not depend on the process grid.
*/
struct _n_SgmField {
  MPI_Comm   comm;
  PetscInt   dim;      /* 2 or 3 */
  PetscInt   M[3];     /* grid points in x, y, z (M[2] = 1 in 2-D) */
  PetscInt   dof;      /* components per point */
  PetscBool  periodic; /* periodic in every direction, else a homogeneous Dirichlet boundary */
  PetscReal  h;        /* grid spacing, the same in every direction */
  PetscInt   ngrid;    /* points of one field, M[0] M[1] M[2] */
  DM         da;
  PetscInt   xs[3], xm[3]; /* this rank's block: first point and width in x, y, z */
  PetscInt   nloc;     /* points in the block */
  PetscInt64 *nat;     /* [nloc] global natural index of each local point */
};

/* Options of the field layout, read by the field score types (-field_grid, -field_periodic, ...) */
typedef struct {
  PetscInt  dim, M[3], dof;
  PetscBool periodic, gridset;
  PetscReal h;
} SgmFieldOptions;

PETSC_EXTERN PetscErrorCode SgmFieldOptionsSetFromOptions(PetscOptionItems *, MPI_Comm, SgmFieldOptions *);
PETSC_EXTERN PetscErrorCode SgmFieldCreate(MPI_Comm, const SgmFieldOptions *, PetscInt, SgmField *);
PETSC_EXTERN PetscErrorCode SgmFieldDestroy(SgmField *);
PETSC_EXTERN PetscErrorCode SgmFieldView(SgmField, PetscViewer);
PETSC_EXTERN PetscErrorCode SgmFieldWriteAttributes(SgmField, hid_t);
PETSC_EXTERN PetscErrorCode SgmFieldCheckAttributes(SgmField, hid_t, const char[]);
PETSC_EXTERN PetscErrorCode SgmBatchCreateField(MPI_Comm, PetscInt, SgmField, SgmBatch *);
PETSC_EXTERN PetscErrorCode SgmFieldReduceSum(const SgmBatch *, PetscInt, const PetscReal[], PetscReal[]);
