#pragma once
#include <sgm.h>

PETSC_INTERN PetscErrorCode SgmCommandSample(MPI_Comm);
PETSC_INTERN PetscErrorCode SgmCommandVersion(MPI_Comm);
