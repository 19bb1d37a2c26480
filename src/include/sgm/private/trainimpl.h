#pragma once

#include <sgmtrain.h>
#include <sgmae.h>
#include <petsc/private/petscimpl.h>

typedef struct _SgmTrainerOps *SgmTrainerOps;
struct _SgmTrainerOps {
  PetscErrorCode (*dummy)(SgmTrainer);
};

#define SGM_TRAIN_BLOCK 2048 /* parameters per block of the sharded step and of the gradient norm */

struct _p_SgmTrainer {
  PETSCHEADER(struct _SgmTrainerOps);
  SgmNet            net;
  SgmSDE            sde;
  SgmScore          target; /* the known score of the esm loss (options -target_...) */
  /* data, replicated on every rank after a parallel read */
  char              datafile[PETSC_MAX_PATH_LEN];
  char              dataset[64];   /* dataset of datafile: -train_dataset, else /data, else /samples (`sgm mcmc`, `sgm sample`) */
  PetscInt          N, d, nclasses; /* nclasses: max label + 1, 0 without /labels */
  PetscReal        *data;
  PetscInt         *labels;
  PetscBool         conditional; /* train with labels (class embedding, label dropout) */
  PetscInt          natoms;      /* point-cloud net (SgmNetGetAtoms): data centred, noise projected to zero CoM; 0 otherwise */
  /* latent diffusion on a linear (PCA) autoencoder: E(x) = U_k^T (x - mu), D(z) = U_k z + mu */
  PetscBool         latent;
  PetscInt          latentdim, datadim;          /* k and the data's d (tr->d becomes k) */
  PetscReal        *lmean, *lbasis, *leig;       /* mu [d], U_k [d,k] row-major, eigenvalues [d] descending */
  PetscReal         lrecon, ldiscard;            /* mean ||x - D(E(x))||^2 and the discarded eigenvalue mass */
  /* GeoLDM (-latent egnn_ae): the data encoded by the egnn autoencoder of `sgm train-ae` */
  char              aefile[PETSC_MAX_PATH_LEN];
  SgmCloudAE        ae;
  PetscInt          nfeat;                       /* invariant feature channels per atom of the latent clouds (not projected) */
  PetscReal         aermse;                      /* reconstruction RMSE per coordinate of the data through the autoencoder */
  /* the loss */
  SgmLossType       loss;
  SgmTrainWeighting weighting;
  PetscReal         teps;        /* t ~ U(teps, T) */
  PetscInt          nprobe;      /* ssm probes per sample */
  PetscBool         gaussprobe;  /* ssm probes Gaussian (default Rademacher) */
  PetscReal         uncondprob;  /* label dropout probability */
  /* the optimiser */
  PetscInt          B, steps, warmup, logevery, ckptevery;
  PetscReal         lr, beta1, beta2, adameps, clip, emadecay;
  PetscInt64        seed;
  PetscInt          P;
  PetscReal        *theta, *m, *v, *ema, *gbuf; /* gbuf: [P + 1], the gradient and the loss */
  /* The optimiser step is sharded (trainer.c, "The step on shards"): rank r reduces, clips and updates
     the parameters [lo, hi), whole blocks of SGM_TRAIN_BLOCK, then the weights are gathered. */
  PetscMPIInt       size, rank;
  PetscInt          nblk, lo, hi;             /* blocks in P; this rank's parameters */
  PetscMPIInt      *pcount, *pdispl;          /* per rank: parameters in the shard, and its first */
  PetscMPIInt      *rcount, *bcount, *bdispl; /* per rank: entries of the reduce-scatter (the last rank also gets the loss), blocks (+1: the loss) */
  PetscReal        *gshard;                   /* [hi - lo + 1] this rank's part of the summed gradient (and the loss) */
  PetscReal        *bsq;                      /* [nblk + 1] sums of squares of the gradient per block, then the loss */
  PetscReal         gnorm;                    /* norm of the mean gradient of the step */
  PetscBool         gathered;                 /* m, v, ema are whole on every rank (not only [lo, hi)) */
  PetscInt          step;                        /* steps done */
  PetscReal        *losshist;                    /* [steps] minibatch loss of every step */
  PetscReal         emaloss;
  PetscBool         interrupted;
  PetscInt          sigstep; /* test hook -train_test_signal_step */
  char              ckptfile[PETSC_MAX_PATH_LEN];
  /* per-rank minibatch work space */
  SgmBatch          batch;
  PetscReal        *xt, *eps, *tt, *alpha, *sigma, *w, *starget, *probes;
  PetscInt         *lab;
  PetscBool         setupcalled;
};

PETSC_INTERN PetscErrorCode SgmTrainerComputeGradient_Private(SgmTrainer, PetscInt, PetscReal *);
PETSC_INTERN PetscErrorCode SgmTrainerGatherState_Private(SgmTrainer);

/* Shared by `sgm train` and `sgm train-ae` (src/train/interface/trainshared.c).  Exported from
   libsgm (the command is a separate program) but internal: declared only here. */
PETSC_EXTERN PetscErrorCode SgmTrainLoadData_Private(MPI_Comm, const char[], char[], size_t, PetscInt *, PetscInt *, PetscReal **, PetscInt **, PetscInt *);
PETSC_EXTERN PetscErrorCode SgmTrainWriteArray_Private(hid_t, const char[], hsize_t, const PetscReal[]);
PETSC_EXTERN int            SgmTrainReadArray_Private(hid_t, const char[], hsize_t, PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmTrainCheckpointWrite_Private(MPI_Comm, const char[], const char[], PetscErrorCode (*)(hid_t, void *), void *);
PETSC_EXTERN int            SgmTrainCheckpointOpen_Private(const char[], hid_t *, char[], size_t);
PETSC_EXTERN int            SgmTrainReadStringAttr_Private(hid_t, const char[], char[], size_t);
PETSC_EXTERN PetscErrorCode SgmTrainSignalStop_Private(MPI_Comm, PetscInt, PetscInt, PetscBool *);
