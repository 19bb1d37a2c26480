/* Gaussian-mixture data p_0 = sum_k w_k N(mu_k, C_k) diffused by a linear SDE: at time t the
   component k is N(alpha mu_k, alpha^2 C_k + sigma^2 I).  With C_k = Q_k diag(lambda_k) Q_k^T
   (computed once) every time shares the eigenvectors: no factorisation per step, no inverse. */
#pragma once

#include <sgm/private/scoreimpl.h>

typedef struct {
  PetscInt   K, d;
  PetscReal *w, *logw; /* [K] normalised weights */
  PetscReal *mu;       /* [K*d] */
  PetscReal *cov;      /* [K*d*d] as given */
  PetscReal *Q;        /* [K*d*d] row-major, column j = eigenvector j */
  PetscReal *lam;      /* [K*d] eigenvalues, > 0 */
  PetscBool  diag;     /* every C_k diagonal: Q_k = I, no rotations */
  /* cache for the current time */
  PetscReal  alpha, sigma; /* the cache holds these marginal coefficients (-1: empty) */
  PetscReal *amu;  /* [K*d] alpha mu_k */
  PetscReal *ilam; /* [K*d] 1/(alpha^2 lambda + sigma^2) */
  PetscReal *lc;   /* [K] log w_k - 1/2 log det - d/2 log(2 pi) */
  PetscReal *P;    /* [d*d] K = 1: precision matrix at t */
  PetscReal *work; /* scratch */
} SgmMixture;

PETSC_INTERN PetscErrorCode SgmMixtureCreate(MPI_Comm, const char[], PetscInt, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], SgmMixture **);
PETSC_INTERN PetscErrorCode SgmMixtureDestroy(SgmMixture **);
PETSC_INTERN PetscErrorCode SgmMixtureAtTime(SgmMixture *, SgmSDE, PetscReal);
PETSC_INTERN PetscErrorCode SgmMixtureScore(SgmMixture *, PetscInt, const PetscScalar *, PetscScalar *);
PETSC_INTERN PetscErrorCode SgmMixtureLogDensity(SgmMixture *, PetscInt, const PetscScalar *, PetscReal *);
PETSC_INTERN PetscErrorCode SgmMixtureJacobianVector(SgmMixture *, PetscInt, const PetscScalar *, const PetscScalar *, PetscScalar *);
PETSC_INTERN PetscErrorCode SgmMixtureDivergence(SgmMixture *, PetscInt, const PetscScalar *, PetscReal *);
PETSC_INTERN PetscErrorCode SgmMixtureWrite(SgmMixture *, MPI_Comm, hid_t);
PETSC_INTERN PetscErrorCode SgmMixtureView(SgmMixture *, PetscViewer);

/* Data of the gaussian and gmm score types. */
typedef struct {
  SgmMixture *mix;
  char        file[PETSC_MAX_PATH_LEN]; /* input file, if any */
  PetscInt    K, d;                     /* components given programmatically or read */
  PetscReal  *w, *mu, *cov;
  PetscInt   *labels;                   /* [K] class of each component (gmm /labels), or NULL */
  const char *hint;                     /* how a user gives the parameters */
} SgmScore_Mixture;

PETSC_INTERN PetscErrorCode SgmScoreCreate_Mixture(SgmScore);
PETSC_INTERN PetscErrorCode SgmScoreMixtureLoadFile(SgmScore, PetscBool);
PETSC_INTERN PetscErrorCode SgmScoreConditional_Mixture(SgmScore, PetscInt, SgmScore *);
