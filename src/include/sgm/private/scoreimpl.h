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
  /* optional: Jv[i] = (d s/d x)(x_i, t) v_i, the Jacobian-vector product of the score */
  PetscErrorCode (*jvp)(SgmScore, PetscReal, PetscInt, const PetscScalar *, const PetscScalar *, PetscScalar *);
  /* optional: div[i] = trace (d s/d x)(x_i, t), the divergence of the score */
  PetscErrorCode (*divergence)(SgmScore, PetscReal, PetscInt, const PetscScalar *, PetscReal *);
};

struct _p_SgmScore {
  PETSCHEADER(struct _SgmScoreOps);
  SgmSDE     sde;
  PetscInt   dim; /* dimension of one sample, known after SetUp */
  PetscInt64 nfe; /* batched score evaluations on this rank */
  PetscInt64 njvp; /* batched Jacobian-vector products (and divergences, counted in JVPs) */
  PetscReal  fd_h; /* relative step of the finite-difference fallbacks */
  PetscBool  setupcalled;
  void      *data;
};
