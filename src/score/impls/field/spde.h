/* The SPDE (Matern) precision Q = tau (kappa^2 I - Laplacian_h)^alpha shared by gmrf and grf_fft
   (Lindgren, Rue and Lindstrom 2011); on a periodic grid its eigenvalues are
       q(k) = tau (kappa^2 + sum_d 4/h^2 sin^2(pi k_d / n_d))^alpha,
   the symbol of the 5-point (7-point in 3-D) Laplacian. */
#pragma once
#include <sgm/private/scoreimpl.h>

typedef struct {
  PetscReal tau, kappa;
  PetscInt  alpha;
} SgmSPDE;

static inline PetscErrorCode SgmSPDESetFromOptions(PetscOptionItems *PetscOptionsObject, MPI_Comm comm, const char *pre, SgmSPDE *p)
{
  char name[3][32];

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(name[0], sizeof(name[0]), "-%s_tau", pre));
  PetscCall(PetscSNPrintf(name[1], sizeof(name[1]), "-%s_kappa", pre));
  PetscCall(PetscSNPrintf(name[2], sizeof(name[2]), "-%s_alpha", pre));
  PetscCall(PetscOptionsReal(name[0], "Scale tau of the precision Q = tau (kappa^2 - Laplacian)^alpha", "", p->tau, &p->tau, NULL));
  PetscCall(PetscOptionsReal(name[1], "Inverse correlation length kappa of Q", "", p->kappa, &p->kappa, NULL));
  PetscCall(PetscOptionsInt(name[2], "Exponent alpha of Q: 1 or 2", "", p->alpha, &p->alpha, NULL));
  PetscCheck(p->tau > 0, comm, PETSC_ERR_USER_INPUT, "%s must be positive; got %g", name[0], (double)p->tau);
  PetscCheck(p->kappa > 0, comm, PETSC_ERR_USER_INPUT, "%s must be positive; got %g", name[1], (double)p->kappa);
  PetscCheck(p->alpha == 1 || p->alpha == 2, comm, PETSC_ERR_USER_INPUT, "%s must be 1 or 2; got %" PetscInt_FMT, name[2], p->alpha);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* q(k) for wave numbers k[0..dim) on the grid of f */
static inline PetscReal SgmSPDESymbol(const SgmSPDE *p, SgmField f, const PetscInt k[])
{
  PetscReal l = p->kappa * p->kappa;
  for (PetscInt a = 0; a < f->dim; a++) {
    PetscReal sn = PetscSinReal(PETSC_PI * k[a] / f->M[a]);
    l += 4 * sn * sn / (f->h * f->h);
  }
  return p->tau * (p->alpha == 1 ? l : l * l);
}
