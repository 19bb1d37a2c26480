/*
  Error reporting.  Mistakes in the input (bad options, files, shapes, types) are reported as one
  sentence on stderr, once, by rank 0 of the communicator they were detected on; everything else
  keeps PETSc's full traceback, which is what a developer needs.
*/
#include <sgmsys.h>

PetscBool SgmIsUserError(PetscErrorCode n)
{
  switch (n) {
  case PETSC_ERR_USER_INPUT:
  case PETSC_ERR_ARG_UNKNOWN_TYPE:
  case PETSC_ERR_ARG_OUTOFRANGE:
  case PETSC_ERR_ARG_SIZ:
  case PETSC_ERR_ARG_WRONG:
  case PETSC_ERR_ARG_INCOMP:
  case PETSC_ERR_FILE_OPEN:
  case PETSC_ERR_FILE_READ:
  case PETSC_ERR_FILE_WRITE:
  case PETSC_ERR_FILE_UNEXPECTED:
  case PETSC_ERR_NOT_CONVERGED:
  case PETSC_ERR_FP:
  case PETSC_ERR_SUP: /* an option combination PETSc does not support, e.g. an adaptive TS on RK4 */
  case PETSC_ERR_USER: /* PETSc's own option parsing, e.g. a misspelt enum value */
    return PETSC_TRUE;
  default:
    return PETSC_FALSE;
  }
}

static PetscErrorCode SgmErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  PetscMPIInt rank = 0;

  if (!SgmIsUserError(n)) return PetscTraceBackErrorHandler(comm, line, fun, file, n, p, mess, ctx);
  if (p == PETSC_ERROR_INITIAL && mess) {
    if (comm != MPI_COMM_NULL) MPI_Comm_rank(comm, &rank);
    if (!rank) {
      (void)fprintf(stderr, "sgm: error: %s\n", mess);
      (void)fflush(stderr);
    }
  }
  return n;
}

PetscErrorCode SgmPushErrorHandler(void)
{
  PetscFunctionBegin;
  PetscCall(PetscPushErrorHandler(SgmErrorHandler, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}
