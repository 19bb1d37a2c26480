/* The beta(t) schedule shared by the VP and sub-VP SDEs. */
#pragma once

#include <sgm/private/sdeimpl.h>
#include <math.h>

typedef struct {
  PetscReal     beta_min, beta_max;
  SgmVPSchedule schedule;
  PetscInt      N;    /* DDPM: number of discrete scales */
  PetscReal    *cum;  /* DDPM: cum[i] = sum_{j<=i} -log(1 - beta_j), cum[0] = 0 */
} SgmSDE_VP;

/* B(t) = int_0^t beta(u) du, so that alpha_bar(t) = exp(-B(t)), and beta(t) itself. */
PETSC_INTERN void           SgmVPIntegral(SgmSDE, PetscReal, PetscReal *, PetscReal *);
PETSC_INTERN PetscErrorCode SgmSDECreate_VPCommon(SgmSDE);
