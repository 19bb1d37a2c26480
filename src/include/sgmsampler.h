/* SgmSampler: integrates the reverse SDE or the probability-flow ODE with PETSc TS. */
#pragma once

#include <sgmscore.h>
#include <petscts.h>

typedef struct _p_SgmSampler *SgmSampler;
typedef const char           *SgmSamplerType;
#define SGMSAMPLEREM        "em"
#define SGMSAMPLERANCESTRAL "ancestral"
#define SGMSAMPLERODE       "ode"
#define SGMSAMPLERPC        "pc"
#define SGMSAMPLERALD       "ald"
#define SGMSAMPLERDDIM      "ddim"
#define SGMSAMPLERHEUN      "heun"
#define SGMSAMPLEREDM       "edm"
#define SGMSAMPLERDPMPP2M   "dpmpp2m"
#define SGMSAMPLERADAPTIVE  "adaptive"

/* TS types that sgm registers with TSRegister() */
#define TSSGMEM        "sgmem"
#define TSSGMANCESTRAL "sgmancestral"
#define TSSGMPC        "sgmpc"
#define TSSGMALD       "sgmald"
#define TSSGMDDIM      "sgmddim"
#define TSSGMHEUN      "sgmheun"
#define TSSGMEDM       "sgmedm"
#define TSSGMDPMPP2M   "sgmdpmpp2m"
#define TSSGMADAPTIVE  "sgmadaptive"
#define TSADAPTSGMGTG  "sgmgtg" /* the Gotta-Go-Fast step-size controller */

/* Time grid of the fixed-step samplers */
typedef enum {
  SGM_SCHEDULE_UNIFORM, /* t_k uniform from T to eps */
  SGM_SCHEDULE_KARRAS,  /* EDM: sigma_k^(1/rho) uniform from sigma_max to sigma_min, then sigma = 0 */
  SGM_SCHEDULE_LOGSNR,  /* lambda = log(alpha/sigma) uniform from lambda(T) to lambda(eps) */
  SGM_SCHEDULE_QUADRATIC /* sqrt(t) uniform from sqrt(T) to sqrt(eps) (DPM-Solver's time_quadratic) */
} SgmSchedule;
PETSC_EXTERN const char *const SgmSchedules[];

typedef enum {
  SGM_ANCESTRAL_BETA,
  SGM_ANCESTRAL_BETA_TILDE
} SgmAncestralVariance;
PETSC_EXTERN const char *const SgmAncestralVariances[];

PETSC_EXTERN PetscClassId      SGM_SAMPLER_CLASSID;
PETSC_EXTERN PetscFunctionList SgmSamplerList;

PETSC_EXTERN PetscErrorCode SgmSamplerCreate(MPI_Comm, SgmSampler *);
PETSC_EXTERN PetscErrorCode SgmSamplerSetType(SgmSampler, SgmSamplerType);
PETSC_EXTERN PetscErrorCode SgmSamplerGetType(SgmSampler, SgmSamplerType *);
PETSC_EXTERN PetscErrorCode SgmSamplerRegister(const char[], PetscErrorCode (*)(SgmSampler));
PETSC_EXTERN PetscErrorCode SgmSamplerSetScore(SgmSampler, SgmScore);
PETSC_EXTERN PetscErrorCode SgmSamplerGetScore(SgmSampler, SgmScore *);
PETSC_EXTERN PetscErrorCode SgmSamplerGetSDE(SgmSampler, SgmSDE *);
PETSC_EXTERN PetscErrorCode SgmSamplerSetNumSamples(SgmSampler, PetscInt);
PETSC_EXTERN PetscErrorCode SgmSamplerSetSeed(SgmSampler, PetscInt64);
PETSC_EXTERN PetscErrorCode SgmSamplerGetSeed(SgmSampler, PetscInt64 *);
PETSC_EXTERN PetscErrorCode SgmSamplerSetNumSteps(SgmSampler, PetscInt);
PETSC_EXTERN PetscErrorCode SgmSamplerSetFromOptions(SgmSampler);
PETSC_EXTERN PetscErrorCode SgmSamplerSetUp(SgmSampler);
PETSC_EXTERN PetscErrorCode SgmSamplerSolve(SgmSampler);
PETSC_EXTERN PetscErrorCode SgmSamplerGetTS(SgmSampler, TS *);
PETSC_EXTERN PetscErrorCode SgmSamplerGetSamples(SgmSampler, Vec *);
PETSC_EXTERN PetscErrorCode SgmSamplerGetBatch(SgmSampler, const SgmBatch **);
PETSC_EXTERN PetscErrorCode SgmSamplerGetNFE(SgmSampler, PetscInt64 *);
PETSC_EXTERN PetscErrorCode SgmSamplerSetTrajectory(SgmSampler, PetscInt, PetscErrorCode (*)(SgmSampler, PetscInt, PetscReal, Vec, void *), void *);
PETSC_EXTERN PetscErrorCode SgmSamplerWriteAttributes(SgmSampler, hid_t);
/* Checkpoint/restart (src/sampler/interface/checkpoint.c) */
PETSC_EXTERN PetscErrorCode SgmSamplerSetCheckpoint(SgmSampler, const char[], PetscInt, PetscReal);
PETSC_EXTERN PetscErrorCode SgmSamplerSetCheckpointFlush(SgmSampler, PetscErrorCode (*)(void *), void *);
PETSC_EXTERN PetscErrorCode SgmSamplerRestart(SgmSampler, const char[]);
PETSC_EXTERN PetscErrorCode SgmSamplerGetInterrupted(SgmSampler, PetscBool *);
PETSC_EXTERN PetscErrorCode SgmSamplerGetFramesDone(SgmSampler, PetscInt *);
PETSC_EXTERN PetscErrorCode SgmSignalsInstall(void);
PETSC_EXTERN PetscBool      SgmSignalCaught(void);
#define SGM_EXIT_CHECKPOINTED 75 /* exit status after a signal-triggered checkpoint (EX_TEMPFAIL) */
PETSC_EXTERN PetscErrorCode SgmSamplerView(SgmSampler, PetscViewer);
PETSC_EXTERN PetscErrorCode SgmSamplerDestroy(SgmSampler *);

/* Time grid of fixed-step samplers: t_k, k = 0..nsteps, from T down to eps (or 0, karras). */
PETSC_EXTERN PetscErrorCode SgmSamplerGetGridTime(SgmSampler, PetscInt, PetscReal *);
PETSC_EXTERN PetscErrorCode SgmSamplerSetSchedule(SgmSampler, SgmSchedule);
/* Reverse-time convention: TS integrates in tau = T - t, forward from 0 to T - eps. */
PETSC_EXTERN PetscErrorCode SgmSamplerTauToTime(SgmSampler, PetscReal, PetscReal *);
PETSC_EXTERN PetscErrorCode SgmSamplerFromTS(TS, SgmSampler *);
PETSC_EXTERN PetscErrorCode SgmSamplerReverseDrift(SgmSampler, PetscReal, PetscReal, Vec, Vec);

PETSC_EXTERN PetscErrorCode TSRegister_Sgm(void);
