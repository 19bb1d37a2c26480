/* Package-level services: initialisation, error reporting, counter-based random numbers, batches. */
#pragma once

#include <petscsys.h>
#include <petscvec.h>
#include <stdint.h>
#include <hdf5.h>

#define SGM_VERSION_STRING "0.1.0"

#if PETSC_VERSION_LT(3, 19, 0)
  #define PETSC_SUCCESS 0 /* spelled out from PETSc 3.19 on */
#endif

PETSC_EXTERN PetscErrorCode SgmInitializePackage(void);
PETSC_EXTERN PetscErrorCode SgmFinalizePackage(void);
PETSC_EXTERN PetscErrorCode SgmPushErrorHandler(void);
PETSC_EXTERN PetscBool      SgmIsUserError(PetscErrorCode);
PETSC_EXTERN PetscErrorCode SgmGetVersionInfo(char *, size_t);

PETSC_EXTERN PetscLogEvent SGM_ScoreEval, SGM_Noise, SGM_Step, SGM_HDF5Write, SGM_HDF5Read;

/*
  A batch of N samples of dimension d, spread over the ranks of a communicator.  Each rank owns the
  whole samples [rstart, rstart+n).  The batch is one PETSc Vec of global size N*d with block size d.
  A field batch (field != NULL, sgmfield.h) is B = N fields each spread over all ranks: every rank
  holds its block of every field, so there n = N, rstart = 0 and d = the entries of the block.
*/
typedef struct _n_SgmField *SgmField;
typedef struct {
  MPI_Comm comm;
  PetscInt N;      /* global number of samples */
  PetscInt d;      /* dimension of one sample (field: entries of this rank's block of one field) */
  PetscInt n;      /* samples owned by this rank */
  PetscInt rstart; /* global index of the first owned sample */
  SgmField field;  /* NULL: row layout */
} SgmBatch;

/* Dimension of one whole sample: d, or the points times components of a field. */
PETSC_EXTERN PetscInt SgmBatchSampleDimension(const SgmBatch *);

/* Global sums whose bits do not depend on the number of ranks (src/sys/reprosum.c). */
PETSC_EXTERN PetscErrorCode SgmReproducibleSum(MPI_Comm, PetscInt, PetscInt, const PetscReal[], PetscReal[]);

PETSC_EXTERN PetscErrorCode SgmBatchCreate(MPI_Comm, PetscInt, PetscInt, SgmBatch *);
PETSC_EXTERN PetscErrorCode SgmBatchCreateVec(const SgmBatch *, Vec *);

/* Vector updates with per-entry results independent of the local array layout (src/sys/vecops.c):
   the samplers use them instead of VecAXPY & co., which call a BLAS whose FMA use may depend on the
   position of an entry, so that samples stay bitwise independent of the number of ranks. */
PETSC_EXTERN PetscErrorCode SgmVecAXPY(Vec, PetscScalar, Vec);
PETSC_EXTERN PetscErrorCode SgmVecAXPBY(Vec, PetscScalar, PetscScalar, Vec);
PETSC_EXTERN PetscErrorCode SgmVecAXPBYPCZ(Vec, PetscScalar, PetscScalar, PetscScalar, Vec, Vec);
PETSC_EXTERN PetscErrorCode SgmVecWAXPY(Vec, PetscScalar, Vec, Vec);

/*
  Counter-based random numbers (Philox-4x32-10, Salmon et al., SC'11).  A normal variate is a pure
  function of (seed, stream, step, global sample index, component), so the noise a sample sees does
  not depend on how samples are distributed over ranks.
*/
typedef enum {
  SGM_STREAM_PRIOR   = 0, /* draw of x_T from the prior */
  SGM_STREAM_SDE     = 1, /* Brownian increments of the reverse SDE */
  SGM_STREAM_SAMPLER = 2, /* extra noise used inside a step (correctors, churn, ...), counters from 0 up;
                              the projection method (projection.c) counts down from 2^32 - 1 */
  SGM_STREAM_BROWNIAN = 3, /* nodes of the virtual Brownian tree (adaptive samplers) */
  SGM_STREAM_TRAIN_NOISE = 4, /* training: the noise eps of x_t = alpha x_0 + sigma eps (index: batch position) */
  SGM_STREAM_TRAIN_DRAW  = 5, /* training: uniforms choosing the data point, t and label dropout */
  SGM_STREAM_TRAIN_PROBE = 6, /* training: projection vectors of sliced score matching */
  SGM_STREAM_EVAL        = 9, /* sgm eval: directions of the sliced Wasserstein distance (index: direction) */
  SGM_STREAM_MCMC        = 10, /* sgm mcmc: initial state (step 0) and proposals (index: chain) */
  SGM_STREAM_MCMC_ACCEPT = 11, /* sgm mcmc: Metropolis acceptance uniforms (index: chain) */
  SGM_STREAM_AE_NOISE    = 12, /* sgm train-ae: latent noise of q(z|x) (step: training step, index: batch position) */
  SGM_STREAM_NET_INIT    = 7, /* initial network weights (step 0) and Fourier frequencies (step 1) */
  SGM_STREAM_CSP_INIT    = 20, /* sgm csp: initial weights of the crystal network (src/csp) */
  SGM_STREAM_CSP_DRAW    = 21, /* sgm csp train: uniforms choosing the crystal and the step t (index: batch position) */
  SGM_STREAM_CSP_NOISE   = 22, /* sgm csp train: noise of F and L (index: batch position) */
  SGM_STREAM_CSP_SAMPLE  = 23  /* sgm csp sample: prior draw (step 0) and the noise of step k (steps 1..) (index: crystal) */
} SgmStream;

PETSC_EXTERN void           SgmPhilox4x32(const uint32_t[4], const uint32_t[2], uint32_t[4]);
PETSC_EXTERN PetscErrorCode SgmRandomNormalBatch(uint64_t, SgmStream, PetscInt, const SgmBatch *, PetscScalar *);
PETSC_EXTERN PetscErrorCode SgmBrownianTreeBatch(uint64_t, const SgmBatch *, PetscReal, PetscInt, PetscReal, PetscReal[], PetscReal[]);
PETSC_EXTERN void           SgmBrownianTreeValue(uint64_t, PetscInt, PetscInt, PetscReal, PetscInt, PetscReal, PetscReal[], PetscReal[]);
PETSC_EXTERN void           SgmRandomNormalSample(uint64_t, SgmStream, PetscInt, PetscInt, PetscInt, PetscScalar *);
PETSC_EXTERN void           SgmRandomUniformSample(uint64_t, SgmStream, PetscInt, PetscInt, PetscInt, PetscReal *);
