#pragma once

#include <sgmsampler.h>
#include <petsc/private/petscimpl.h>
#include <sgmio.h>

/* One step of a fixed-step sampler: x(t_k) -> x(t_{k+1}) on the grid, in place. */
typedef PetscErrorCode (*SgmFixedStepFn)(SgmSampler, PetscInt, PetscReal, PetscReal, Vec);

typedef struct _SgmSamplerOps *SgmSamplerOps;
struct _SgmSamplerOps {
  SgmFixedStepFn step; /* fixed-step samplers: driven by the TS types of fixedstep.c */
  PetscErrorCode (*setfromoptions)(SgmSampler, PetscOptionItems *);
  PetscErrorCode (*setup)(SgmSampler);    /* configure sampler->ts */
  PetscErrorCode (*presolve)(SgmSampler); /* after x_T is drawn, before TSSolve */
  /* the type's own state for checkpoint/restart (multistep history, Brownian path, ...) */
  PetscErrorCode (*checkpointwrite)(SgmSampler, SgmOutput);
  PetscErrorCode (*checkpointread)(SgmSampler, hid_t);
  PetscErrorCode (*view)(SgmSampler, PetscViewer);
  PetscErrorCode (*destroy)(SgmSampler);
  PetscErrorCode (*attributes)(SgmSampler, hid_t);
};

struct _p_SgmSampler {
  PETSCHEADER(struct _SgmSamplerOps);
  SgmScore   score;
  TS         ts;
  SgmBatch   batch;
  Vec        X;        /* the batch of samples */
  Vec        work;     /* scratch vector of the batch's layout (score values) */
  Vec        noise;    /* scratch vector of the batch's layout (normal variates) */
  PetscInt   N;        /* number of samples */
  PetscInt   nsteps;   /* steps of fixed-step samplers (and initial step count of adaptive ones) */
  PetscBool  nstepsset; /* given by the user: a type's own default does not replace it */
  SgmSchedule schedule; /* how the grid t_0 = T > t_1 > ... > t_nsteps is spaced */
  PetscReal  rho, karras_smin, karras_smax; /* karras schedule; sigma bounds <= 0: from the SDE */
  PetscReal *tgrid;    /* [nsteps + 1] */
  PetscInt64 seed;
  PetscBool  denoise;  /* final Tweedie step x0 = (x + sigma^2 s(x,eps)) / alpha */
  PetscBool  fixedstep;/* PETSC_TRUE if the integrator takes exactly nsteps steps of the grid */
  PetscInt64 nfe;
  PetscBool  setupcalled;
  /* trajectory recording */
  PetscInt   nframes, framesdone;
  PetscErrorCode (*frame)(SgmSampler, PetscInt, PetscReal, Vec, void *);
  void      *framectx;
  /* checkpoint/restart */
  char           ckpt_path[PETSC_MAX_PATH_LEN];
  PetscInt       ckpt_every;    /* steps between checkpoints (0: none) */
  PetscReal      ckpt_interval; /* seconds between checkpoints (0: none) */
  PetscLogDouble ckpt_last;     /* wall time of the last checkpoint (or of the start) */
  PetscErrorCode (*ckpt_flush)(void *); /* make the run's output durable before a checkpoint */
  void          *ckpt_flushctx;
  PetscBool      restarted;     /* state loaded from a checkpoint: Solve continues it */
  PetscBool      interrupted;   /* stopped by a signal after writing a checkpoint */
  PetscInt64     nfe_restart;   /* NFE done before the restart */
  PetscInt64     nfe0;          /* the score's NFE counter when this solve started */
  PetscInt       test_signal_step; /* testing: raise SIGTERM on rank 0 after this step (0: never) */
  PetscInt       test_kill_step;   /* testing: SIGKILL rank 0 after this step (0: never) */
  PetscBool      restartstep;   /* restart every step (no first-same-as-last reuse) so a restart is bitwise */
  PetscBool      fields;        /* the type works on field batches (sgmfield.h): set by its create */
  void      *data;
};

PETSC_INTERN PetscErrorCode SgmSamplerCheckFinite(SgmSampler, PetscInt, PetscReal);
PETSC_INTERN PetscErrorCode SgmSamplerRecordFrames(SgmSampler, PetscReal);
PETSC_INTERN PetscErrorCode SgmSamplerCheckpointWrite(SgmSampler);
PETSC_INTERN PetscErrorCode SgmSamplerTestSignal(SgmSampler, PetscInt);
PETSC_INTERN PetscErrorCode SgmSamplerProjectionPostStep_Private(SgmSampler, PetscInt, PetscReal); /* projection.c */
PETSC_INTERN PetscErrorCode SgmSamplerProjectionSetFromOptions_Private(SgmSampler, PetscOptionItems *);
PETSC_INTERN PetscErrorCode SgmSamplerProjectionIsOn_Private(SgmSampler, PetscBool *);
PETSC_INTERN PetscErrorCode SgmSamplerCheckpointSetFromOptions(SgmSampler, PetscOptionItems *);
/* zero centre-of-mass point clouds (zerocom.c): no-ops unless the score has -score_zero_com_atoms */
PETSC_INTERN PetscErrorCode SgmSamplerZeroCoMSetUp_Private(SgmSampler);
PETSC_INTERN PetscErrorCode SgmSamplerZeroCoM_Private(SgmSampler, Vec);
PETSC_INTERN PetscErrorCode SgmSamplerZeroCoMArray_Private(SgmSampler, PetscInt, PetscScalar[]);

/* Fixed-step samplers: their TS type (one name per sampler, one implementation, TSCreate_SgmFixed)
   takes step k from t_k to t_{k+1} of the grid through sampler->ops->step. */
PETSC_INTERN PetscErrorCode TSCreate_SgmFixed(TS);
PETSC_INTERN PetscErrorCode SgmSamplerSetUpFixedStep(SgmSampler, TSType);
PETSC_INTERN PetscErrorCode SgmSamplerFillNoise(SgmSampler, SgmStream, PetscInt, Vec);
PETSC_INTERN PetscErrorCode SgmSamplerSetDefaults_Private(SgmSampler, PetscInt, SgmSchedule);
PETSC_INTERN PetscErrorCode SgmEMStep(SgmSampler, PetscInt, PetscReal, PetscReal, Vec);
