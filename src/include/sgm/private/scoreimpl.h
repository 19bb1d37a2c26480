#pragma once

#include <sgmscore.h>
#include <petsc/private/petscimpl.h>

typedef struct _SgmScoreOps *SgmScoreOps;
struct _SgmScoreOps {
  PetscErrorCode (*setfromoptions)(SgmScore, PetscOptionItems *);
  PetscErrorCode (*setup)(SgmScore);
  PetscErrorCode (*view)(SgmScore, PetscViewer);
  PetscErrorCode (*destroy)(SgmScore);
  PetscErrorCode (*attributes)(SgmScore, hid_t);
  /* s[i*d..] = score at time t of the n samples x[i*d..] */
  PetscErrorCode (*apply)(SgmScore, PetscReal, PetscInt, const PetscScalar *, PetscScalar *);
  /* log p_t(x) of n samples, where the model has a closed form */
  PetscErrorCode (*logdensity)(SgmScore, PetscReal, PetscInt, const PetscScalar *, PetscReal *);
};

struct _p_SgmScore {
  PETSCHEADER(struct _SgmScoreOps);
  SgmSDE     sde;
  PetscInt   dim; /* dimension of one sample, known after SetUp */
  PetscInt64 nfe; /* batched score evaluations on this rank */
  PetscBool  setupcalled;
  void      *data;
};
