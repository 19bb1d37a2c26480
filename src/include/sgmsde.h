/* SgmSDE: forward noising SDEs dx = f(x,t) dt + g(t) dw with linear drift f(x,t) = f(t) x. */
#pragma once

#include <sgmsys.h>

typedef struct _p_SgmSDE *SgmSDE;
typedef const char       *SgmSDEType;
#define SGMSDEVP    "vp"
#define SGMSDESUBVP "subvp"
#define SGMSDEVE    "ve"
#define SGMSDEPOLY2 "poly2" /* EDM's polynomial_2 schedule (Hoogeboom et al. 2022) */

PETSC_EXTERN PetscClassId      SGM_SDE_CLASSID;
PETSC_EXTERN PetscFunctionList SgmSDEList;

PETSC_EXTERN PetscErrorCode SgmSDECreate(MPI_Comm, SgmSDE *);
PETSC_EXTERN PetscErrorCode SgmSDESetType(SgmSDE, SgmSDEType);
PETSC_EXTERN PetscErrorCode SgmSDEGetType(SgmSDE, SgmSDEType *);
PETSC_EXTERN PetscErrorCode SgmSDERegister(const char[], PetscErrorCode (*)(SgmSDE));
PETSC_EXTERN PetscErrorCode SgmSDESetFromOptions(SgmSDE);
PETSC_EXTERN PetscErrorCode SgmSDESetUp(SgmSDE);
PETSC_EXTERN PetscErrorCode SgmSDEView(SgmSDE, PetscViewer);
PETSC_EXTERN PetscErrorCode SgmSDEDestroy(SgmSDE *);

PETSC_EXTERN PetscErrorCode SgmSDESetInterval(SgmSDE, PetscReal, PetscReal);
PETSC_EXTERN PetscErrorCode SgmSDEGetInterval(SgmSDE, PetscReal *, PetscReal *);
PETSC_EXTERN PetscErrorCode SgmSDECoefficients(SgmSDE, PetscReal, PetscReal *, PetscReal *);
PETSC_EXTERN PetscErrorCode SgmSDEMarginal(SgmSDE, PetscReal, PetscReal *, PetscReal *);
PETSC_EXTERN PetscErrorCode SgmSDETransition(SgmSDE, PetscReal, PetscReal, PetscReal *, PetscReal *);
PETSC_EXTERN PetscErrorCode SgmSDENoiseToSignal(SgmSDE, PetscReal, PetscReal *);
PETSC_EXTERN PetscErrorCode SgmSDETimeFromNoiseToSignal(SgmSDE, PetscReal, PetscReal *);
PETSC_EXTERN PetscErrorCode SgmSDEGetPriorStd(SgmSDE, PetscReal *);
PETSC_EXTERN PetscErrorCode SgmSDEPriorLogDensity(SgmSDE, PetscInt, const PetscScalar[], PetscReal *);
PETSC_EXTERN PetscErrorCode SgmSDEWriteAttributes(SgmSDE, hid_t);

/* VP specifics */
typedef enum {
  SGM_VP_SCHEDULE_LINEAR,
  SGM_VP_SCHEDULE_DDPM
} SgmVPSchedule;
PETSC_EXTERN const char *const SgmVPSchedules[];
PETSC_EXTERN PetscErrorCode    SgmSDEVPSetBeta(SgmSDE, PetscReal, PetscReal);
PETSC_EXTERN PetscErrorCode    SgmSDEVPSetSchedule(SgmSDE, SgmVPSchedule, PetscInt);
PETSC_EXTERN PetscErrorCode    SgmSDEVESetSigma(SgmSDE, PetscReal, PetscReal);
