/* HDF5 input and output.  Output files are written collectively under a temporary name and renamed
   when complete, so a failed run leaves no file behind. */
#pragma once

#include <sgmsys.h>
#include <petscvec.h>

/* Wrap an HDF5 call returning herr_t or hid_t: negative means failure. */
#define PetscCallHDF5(call) \
  do { \
    if ((call) < 0) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 call failed: %s", #call); \
  } while (0)

typedef struct _n_SgmOutput *SgmOutput;

PETSC_EXTERN PetscErrorCode SgmOutputCreate(MPI_Comm, const char[], PetscBool, SgmOutput *);
PETSC_EXTERN PetscErrorCode SgmOutputGetFile(SgmOutput, hid_t *);
PETSC_EXTERN PetscErrorCode SgmOutputWriteProvenance(SgmOutput, PetscInt64);
PETSC_EXTERN PetscErrorCode SgmOutputWriteBatch(SgmOutput, const char[], const SgmBatch *, Vec);
PETSC_EXTERN int            SgmBatchFileShape(const SgmBatch *, hsize_t[], hsize_t[], hsize_t[]);
PETSC_EXTERN PetscErrorCode SgmOutputWriteSampleValues(SgmOutput, const char[], const SgmBatch *, const PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmOutputTrajectoryAppend(SgmOutput, const SgmBatch *, PetscReal, Vec);
PETSC_EXTERN PetscErrorCode SgmOutputResume(MPI_Comm, const char[], SgmOutput *);
PETSC_EXTERN PetscErrorCode SgmOutputTrajectoryTruncate(SgmOutput, PetscInt);
PETSC_EXTERN PetscErrorCode SgmOutputFlush(SgmOutput);
PETSC_EXTERN PetscErrorCode SgmOutputSuspend(SgmOutput *);
PETSC_EXTERN PetscErrorCode SgmOutputClose(SgmOutput *);
PETSC_EXTERN PetscErrorCode SgmOutputDiscard(SgmOutput *);
PETSC_EXTERN PetscErrorCode SgmOutputDiscardAll(void);

PETSC_EXTERN PetscErrorCode SgmH5AttrString(hid_t, const char[], const char[]);
PETSC_EXTERN PetscErrorCode SgmH5AttrReal(hid_t, const char[], PetscReal);
PETSC_EXTERN PetscErrorCode SgmH5AttrInt(hid_t, const char[], PetscInt64);
PETSC_EXTERN PetscErrorCode SgmH5AttrGetReal(MPI_Comm, hid_t, const char[], PetscReal *);
PETSC_EXTERN PetscErrorCode SgmH5AttrGetInt(MPI_Comm, hid_t, const char[], PetscInt64 *);
PETSC_EXTERN PetscErrorCode SgmH5AttrGetString(MPI_Comm, hid_t, const char[], char[], size_t);
PETSC_EXTERN PetscErrorCode SgmH5ReadBatch(hid_t, const char[], const SgmBatch *, Vec);
PETSC_EXTERN PetscErrorCode SgmH5OpenParallel(MPI_Comm, const char[], hid_t *);
PETSC_EXTERN PetscErrorCode SgmH5DatasetShape(MPI_Comm, hid_t, const char[], PetscInt, PetscInt[]);
PETSC_EXTERN PetscErrorCode SgmH5WriteSmall(MPI_Comm, hid_t, const char[], PetscInt, const hsize_t[], const PetscReal[]);

/* Read a whole float dataset on rank 0 of comm, check its rank, broadcast shape and values.
   A missing file or dataset, a wrong rank, or a non-numeric type is a one-sentence user error. */
PETSC_EXTERN PetscErrorCode SgmH5ReadReal(MPI_Comm, const char[], const char[], PetscInt, PetscInt[], PetscReal **);
