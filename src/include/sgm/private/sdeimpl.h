#pragma once

#include <sgmsde.h>
#include <petsc/private/petscimpl.h>

typedef struct _SgmSDEOps *SgmSDEOps;
struct _SgmSDEOps {
  PetscErrorCode (*setfromoptions)(SgmSDE, PetscOptionItems *);
  PetscErrorCode (*setup)(SgmSDE);
  PetscErrorCode (*view)(SgmSDE, PetscViewer);
  PetscErrorCode (*destroy)(SgmSDE);
  PetscErrorCode (*attributes)(SgmSDE, hid_t);
  /* f(t) and g(t) of dx = f(t) x dt + g(t) dw */
  PetscErrorCode (*coefficients)(SgmSDE, PetscReal, PetscReal *, PetscReal *);
  /* q(x_t|x_0) = N(alpha(t) x_0, sigma(t)^2 I) */
  PetscErrorCode (*marginal)(SgmSDE, PetscReal, PetscReal *, PetscReal *);
  /* optional: q(x_t|x_s) = N(r x_s, v I), where a closed form avoids cancellation */
  PetscErrorCode (*transition)(SgmSDE, PetscReal, PetscReal, PetscReal *, PetscReal *);
  /* optional: the t with sigma(t)/alpha(t) = r in closed form (otherwise bisection) */
  PetscErrorCode (*timefromnsr)(SgmSDE, PetscReal, PetscReal *);
};

struct _p_SgmSDE {
  PETSCHEADER(struct _SgmSDEOps);
  PetscReal eps, T;    /* sampling interval [eps, T] */
  PetscReal prior_std; /* prior N(0, prior_std^2 I) */
  PetscBool setupcalled;
  void     *data;
};
