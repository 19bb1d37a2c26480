#pragma once
#include <sgm.h>

PETSC_INTERN PetscErrorCode SgmCommandSample(MPI_Comm);
PETSC_INTERN PetscErrorCode SgmCommandNLL(MPI_Comm);
PETSC_INTERN PetscErrorCode SgmCommandVersion(MPI_Comm);
PETSC_INTERN PetscErrorCode SgmCommandData(MPI_Comm);
PETSC_INTERN PetscErrorCode SgmCommandTrain(MPI_Comm);
PETSC_INTERN PetscErrorCode SgmCommandTrainField(MPI_Comm);
PETSC_INTERN PetscErrorCode SgmCommandScore(MPI_Comm);
PETSC_INTERN PetscErrorCode SgmCommandEval(MPI_Comm);
PETSC_INTERN PetscErrorCode SgmCommandMCMC(MPI_Comm);
PETSC_INTERN PetscErrorCode SgmCommandTrainAE(MPI_Comm);
PETSC_INTERN PetscErrorCode SgmCommandCSP(MPI_Comm);
PETSC_INTERN PetscErrorCode SgmCheckUnusedOptions(MPI_Comm, const char[]);

/* exit status of the program when no error occurred (e.g. SGM_EXIT_CHECKPOINTED) */
PETSC_INTERN int SgmExitStatus;
