#pragma once

#include <sgmscore.h>
#include <sgmfield.h>
#include <petscmat.h>
#include <petsc/private/petscimpl.h>

/* The linear measurement y = A x + n, n ~ N(0, sigma_y^2 I), of an inverse problem (measurement.c):
   read by the posterior score type and by the dps guidance from the same -inverse_ options. */
typedef struct {
  char       file[PETSC_MAX_PATH_LEN]; /* -inverse_file, or empty with a mask */
  PetscReal  sigy;                     /* -inverse_sigma, 0 until given */
  PetscInt   noptmask, nopty;          /* -inverse_mask, -inverse_y as given (0: not given) */
  PetscInt  *optmask;
  PetscReal *opty;
  /* built by SgmMeasurementSetUp() once the dimension d is known */
  PetscInt   p, d;
  Mat        A;    /* [p,d] MATSEQDENSE, identical on all ranks; NULL: no measurement */
  PetscReal *y;    /* [p] */
  PetscInt  *mask; /* [p] observed coordinates (mask form), or NULL */
} SgmMeasurement;

PETSC_INTERN PetscErrorCode SgmMeasurementSetFromOptions(PetscOptionItems *, SgmMeasurement *, PetscBool *);
PETSC_INTERN PetscErrorCode SgmMeasurementSetUp(MPI_Comm, SgmMeasurement *, PetscInt, const char[]);
PETSC_INTERN PetscErrorCode SgmMeasurementWriteAttributes(MPI_Comm, const SgmMeasurement *, hid_t);
PETSC_INTERN PetscErrorCode SgmMeasurementClear(SgmMeasurement *);

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
  /* optional: *cond = the class-conditional score s(x,t|y) of the same model (gmm: the components
     labelled y), built and set up; used by guidance when no -cond_score_type is given */
  PetscErrorCode (*conditional)(SgmScore, PetscInt, SgmScore *);
  /* optional: x[n*D] = D(z), the decoder of a latent model (mlp with -latent pca), D = datadim */
  PetscErrorCode (*decode)(SgmScore, PetscInt, const PetscScalar *, PetscScalar *);
};

struct _p_SgmScore {
  PETSCHEADER(struct _SgmScoreOps);
  SgmSDE     sde;
  PetscInt   dim; /* dimension of one sample, known after SetUp */
  PetscInt64 nfe; /* batched score evaluations on this rank */
  PetscInt64 njvp; /* batched Jacobian-vector products (and divergences, counted in JVPs) */
  PetscReal  fd_h; /* relative step of the finite-difference fallbacks */
  PetscBool  setupcalled;
  PetscInt   datadim; /* dimension of the decoded samples (latent models); 0: dim */
  PetscBool  collective; /* apply is collective: every rank calls it once per batch (gaussian_dense) */
  PetscInt   zcom_feat;  /* of an atom's dim/zcom_atoms channels, the last zcom_feat are invariant features, not projected (GeoLDM) */
  PetscInt   zcom_atoms; /* > 0: a sample is a point cloud of zcom_atoms atoms in dim/zcom_atoms space
                            dimensions, x[i*sd + c], living in the zero centre-of-mass subspace
                            (EDM); -score_zero_com_atoms or set by the type (SgmScoreSetZeroCoM) */
  void      *data;
  /* field scores (gmrf, grf_fft, white; doc/fields.md): samples are fields on this grid, NULL for rows */
  SgmField        field;
  SgmFieldOptions fieldopts;
  /* guidance (guidance.c): s = (1 - gamma) s_u + gamma s_c, or s_u + gamma grad log p(y|x_t) */
  SgmGuidanceType guidance;
  PetscReal       gamma;    /* -guidance_scale */
  PetscInt        cls;      /* -class y, -1 when not given */
  SgmScore        cond;     /* s(x,t|y), built at set-up unless given by SgmScoreSetConditionalScore */
  PetscBool       condset;  /* cond given by the caller: keep it across set-ups */
  /* the type's own apply: with guidance on, ops->apply is the guided score, so that samplers that
     call the op directly (em, by chunks) are guided too */
  PetscErrorCode (*applyu)(SgmScore, PetscReal, PetscInt, const PetscScalar *, PetscScalar *);
  PetscScalar    *gwork;    /* [gworkn] scratch for s_c, the classifier gradient, or the dps terms */
  PetscInt        gworkn;
  SgmScoreClassGradFn classgrad; /* grad_x log p(y|x_t) from a classifier; NULL: exact, s_c - s_u */
  void               *classgradctx;
  /* dps guidance: the measurement (allocated when -guidance dps is chosen) and the step rule */
  SgmMeasurement *meas;
  PetscBool       dpsfixed; /* -dps_normalize false: zeta_t = gamma / (2 sigma_y^2), not gamma / ||y - A x0hat|| */
};

/* the score without guidance, through the type's ops (no NFE counted) */
PETSC_INTERN PetscErrorCode SgmScoreApplyUnguided_Private(SgmScore, PetscReal, PetscInt, const PetscScalar *, PetscScalar *);
PETSC_INTERN PetscErrorCode SgmScoreJacobianVectorUnguided_Private(SgmScore, PetscReal, PetscInt, const PetscScalar[], const PetscScalar[], PetscScalar[]);
PETSC_INTERN PetscErrorCode SgmScoreDivergenceUnguided_Private(SgmScore, PetscReal, PetscInt, const PetscScalar[], PetscReal[]);
PETSC_INTERN PetscErrorCode SgmScoreJacobianVectorFD_Private(SgmScore, PetscErrorCode (*)(SgmScore, PetscReal, PetscInt, const PetscScalar *, PetscScalar *), PetscReal, PetscInt, const PetscScalar[], const PetscScalar[], PetscScalar[]);
/* field score types: the -field_ options, and the grid made at set-up (score->dim = points x dof) */
PETSC_INTERN PetscErrorCode SgmScoreFieldSetFromOptions_Private(SgmScore, PetscOptionItems *);
PETSC_INTERN PetscErrorCode SgmScoreFieldSetUp_Private(SgmScore, PetscInt);
/* guidance.c */
PETSC_INTERN PetscErrorCode SgmScoreGuidanceSetFromOptions_Private(SgmScore, PetscOptionItems *);
PETSC_INTERN PetscErrorCode SgmScoreGuidanceSetUp_Private(SgmScore);
PETSC_INTERN PetscErrorCode SgmScoreGuidanceApply_Private(SgmScore, PetscReal, PetscInt, const PetscScalar *, PetscScalar *);
PETSC_INTERN PetscErrorCode SgmScoreGuidanceJacobianVector_Private(SgmScore, PetscReal, PetscInt, const PetscScalar[], const PetscScalar[], PetscScalar[]);
PETSC_INTERN PetscErrorCode SgmScoreGuidanceDivergence_Private(SgmScore, PetscReal, PetscInt, const PetscScalar[], PetscReal[]);
PETSC_INTERN PetscErrorCode SgmScoreGuidanceLogDensity_Private(SgmScore, PetscReal, PetscInt, const PetscScalar[], PetscReal[]);
PETSC_INTERN PetscErrorCode SgmScoreGuidanceWriteAttributes_Private(SgmScore, hid_t);
PETSC_INTERN PetscErrorCode SgmScoreGuidanceView_Private(SgmScore, PetscViewer);
PETSC_INTERN PetscErrorCode SgmScoreGuidanceDestroy_Private(SgmScore);
