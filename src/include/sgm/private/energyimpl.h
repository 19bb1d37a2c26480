#pragma once

#include <sgmmcmc.h>

struct _n_SgmEnergy {
  MPI_Comm           comm;
  char              *type;
  PetscInt           n, dim;
  PetscInt           nparts;     /* named parts of E (their definition: the type's comment) */
  const char *const *partnames;
  PetscReal          init_scale; /* a sensible spread of the initial state */
  PetscReal          step;       /* the documented default proposal step (particle moves) */
  void              *data;
  /* E(x), its parts (may be NULL) and gradient (may be NULL) */
  PetscErrorCode (*eval)(SgmEnergy, const PetscReal[], PetscReal *, PetscReal[], PetscReal[]);
  PetscErrorCode (*setfromoptions)(SgmEnergy, PetscOptionItems *);
  PetscErrorCode (*attributes)(SgmEnergy, hid_t);
  PetscErrorCode (*destroy)(SgmEnergy);
};
PETSC_INTERN PetscErrorCode SgmEnergyListDestroy_Private(void);
