/*
  SgmTrainer: trains an SgmNet score network on data from an HDF5 file (/data [N,d], optional
  /labels [N]) with one of the losses of SgmNetLoss, by Adam with warm-up, gradient clipping and an
  exponential moving average of the weights.  Data parallel: every rank computes the gradient of its
  share of each global minibatch; a reduce-scatter sums them, each rank updates its shard of the
  parameters and an allgather shares the result, so the parameters are the same on every rank.  What a minibatch contains (data points, times, noise, label dropout, probes)
  is a pure function of (seed, step, position in the global batch), drawn from the counter-based
  generator, so it does not depend on the number of ranks.
*/
#pragma once

#include <sgmnet.h>
#include <sgmscore.h>

typedef struct _p_SgmTrainer *SgmTrainer;

PETSC_EXTERN PetscClassId SGM_TRAINER_CLASSID;

typedef enum {
  SGM_LATENT_NONE,
  SGM_LATENT_PCA,
  SGM_LATENT_EGNN_AE
} SgmLatentType;
PETSC_EXTERN const char *const SgmLatentTypes[];

typedef enum {
  SGM_TRAIN_WEIGHT_DEFAULT,    /* simple: 1; the score losses: sigma^2 */
  SGM_TRAIN_WEIGHT_NONE,       /* lambda(t) = 1 */
  SGM_TRAIN_WEIGHT_SIGMA2,     /* lambda(t) = sigma(t)^2 (Song et al. 2021) */
  SGM_TRAIN_WEIGHT_LIKELIHOOD  /* lambda(t) = g(t)^2 (likelihood weighting, Song et al. 2021b) */
} SgmTrainWeighting;
PETSC_EXTERN const char *const SgmTrainWeightings[];

PETSC_EXTERN PetscErrorCode SgmTrainerCreate(MPI_Comm, SgmTrainer *);
PETSC_EXTERN PetscErrorCode SgmTrainerSetFromOptions(SgmTrainer);
PETSC_EXTERN PetscErrorCode SgmTrainerSetUp(SgmTrainer);
PETSC_EXTERN PetscErrorCode SgmTrainerTrain(SgmTrainer);
PETSC_EXTERN PetscErrorCode SgmTrainerRestart(SgmTrainer, const char[]);
PETSC_EXTERN PetscErrorCode SgmTrainerWriteCheckpoint(SgmTrainer, const char[]);
PETSC_EXTERN PetscErrorCode SgmTrainerSetCheckpoint(SgmTrainer, const char[]);
PETSC_EXTERN PetscErrorCode SgmTrainerWriteModel(SgmTrainer, hid_t);
PETSC_EXTERN PetscErrorCode SgmTrainerGetNet(SgmTrainer, SgmNet *);
PETSC_EXTERN PetscErrorCode SgmTrainerGetSDE(SgmTrainer, SgmSDE *);
PETSC_EXTERN PetscErrorCode SgmTrainerGetStep(SgmTrainer, PetscInt *, PetscInt *);
PETSC_EXTERN PetscErrorCode SgmTrainerGetInterrupted(SgmTrainer, PetscBool *);
PETSC_EXTERN PetscErrorCode SgmTrainerGetChecksum(SgmTrainer, PetscReal *);
PETSC_EXTERN PetscErrorCode SgmTrainerView(SgmTrainer, PetscViewer);
PETSC_EXTERN PetscErrorCode SgmTrainerDestroy(SgmTrainer *);
/* Adam + EMA on a flat parameter array (the trainer's update; sgm train-field uses it too) */
PETSC_EXTERN void SgmAdamEMAUpdate(PetscInt, PetscReal, PetscReal, PetscReal, PetscReal, PetscReal, PetscReal, PetscReal, PetscReal, const PetscReal *, PetscReal *, PetscReal *, PetscReal *, PetscReal *);

/* The score type of a trained network: -score_type mlp -score_file model.h5 */
#define SGMSCOREMLP "mlp"
