#include <sgmsys.h>
#include <petscvec.h>

/* Split N samples of dimension d over the ranks of comm, whole samples per rank. */
PetscErrorCode SgmBatchCreate(MPI_Comm comm, PetscInt N, PetscInt d, SgmBatch *b)
{
  PetscInt n = PETSC_DECIDE;

  PetscFunctionBegin;
  PetscCheck(N > 0, comm, PETSC_ERR_USER_INPUT, "The number of samples must be a positive integer; got %" PetscInt_FMT, N);
  PetscCheck(d > 0, comm, PETSC_ERR_USER_INPUT, "The sample dimension must be positive; got %" PetscInt_FMT, d);
  PetscCall(PetscSplitOwnership(comm, &n, &N));
  b->comm = comm;
  b->N    = N;
  b->d    = d;
  b->n    = n;
  b->field = NULL;
  PetscCallMPI(MPI_Scan(&n, &b->rstart, 1, MPIU_INT, MPI_SUM, comm));
  b->rstart -= n;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmBatchCreateVec(const SgmBatch *b, Vec *X)
{
  PetscFunctionBegin;
  PetscCall(VecCreate(b->comm, X));
  PetscCall(VecSetSizes(*X, b->n * b->d, b->N * b->d));
  PetscCall(VecSetBlockSize(*X, b->d));
  PetscCall(VecSetType(*X, VECSTANDARD));
  PetscFunctionReturn(PETSC_SUCCESS);
}
