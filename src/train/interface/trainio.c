/*
  Files of the trainer.
  Model (SgmTrainerWriteModel, into the run's output file): /model = the EMA weights (what sampling
  uses by default), /model_raw = the optimiser's weights, both written by SgmNetSave; /train/loss
  [steps] the minibatch loss of every step; /train/sde_check [5,3] rows (t, alpha(t), sigma(t)) of
  the training SDE, which the mlp score type compares with the SDE it samples with; attributes.
  Checkpoint (SgmTrainerWriteCheckpoint): theta, Adam's m and v, the EMA, the loss history and the
  step, written by rank 0 (after SgmTrainerGatherState_Private every rank holds the same state) to FILE.tmp and renamed, so a crash while
  writing leaves the previous checkpoint intact (SgmTrainCheckpointWrite_Private, trainshared.c;
  attribute checkpoint_kind "train", which `sgm train-ae` refuses and vice versa).  The random state is the step: minibatches are a
  pure function of (seed, step, position).
*/
#include <sgm/private/trainimpl.h>
#include <sgmio.h>
#include <stdio.h>
#include <string.h>

static PetscErrorCode WriteTrainAttributes(SgmTrainer tr, hid_t loc)
{
  PetscFunctionBegin;
  PetscCall(SgmH5AttrString(loc, "train_data", tr->datafile));
  PetscCall(SgmH5AttrString(loc, "train_dataset", tr->dataset));
  PetscCall(SgmH5AttrString(loc, "train_loss", SgmLossTypes[tr->loss]));
  PetscCall(SgmH5AttrString(loc, "train_weighting", SgmTrainWeightings[tr->weighting]));
  PetscCall(SgmH5AttrReal(loc, "train_t_eps", tr->teps));
  PetscCall(SgmH5AttrInt(loc, "train_batch", tr->B));
  PetscCall(SgmH5AttrInt(loc, "train_steps", tr->steps));
  PetscCall(SgmH5AttrInt(loc, "train_steps_done", tr->step));
  PetscCall(SgmH5AttrReal(loc, "train_lr", tr->lr));
  PetscCall(SgmH5AttrInt(loc, "train_warmup", tr->warmup));
  PetscCall(SgmH5AttrReal(loc, "train_beta1", tr->beta1));
  PetscCall(SgmH5AttrReal(loc, "train_beta2", tr->beta2));
  PetscCall(SgmH5AttrReal(loc, "train_adam_eps", tr->adameps));
  PetscCall(SgmH5AttrReal(loc, "train_clip", tr->clip));
  PetscCall(SgmH5AttrReal(loc, "train_ema", tr->emadecay));
  PetscCall(SgmH5AttrInt(loc, "train_seed", tr->seed));
  PetscCall(SgmH5AttrInt(loc, "train_conditional", tr->conditional));
  PetscCall(SgmH5AttrReal(loc, "train_uncond_prob", tr->uncondprob));
  PetscCall(SgmH5AttrInt(loc, "train_ssm_probes", tr->nprobe));
  PetscCall(SgmH5AttrInt(loc, "data_points", tr->N));
  PetscCall(SgmH5AttrInt(loc, "data_dim", tr->d));
  PetscCall(SgmH5AttrInt(loc, "data_classes", tr->nclasses));
  PetscCall(SgmH5AttrString(loc, "latent", tr->latent ? "pca" : (tr->ae ? "egnn_ae" : "none")));
  PetscCall(SgmH5AttrInt(loc, "latent_dim", tr->latent ? tr->latentdim : (tr->ae ? tr->d : 0)));
  if (tr->ae) PetscCall(SgmH5AttrString(loc, "latent_ae_file", tr->aefile));
  if (tr->natoms > 0) PetscCall(SgmH5AttrInt(loc, "train_zero_com_atoms", tr->natoms));
  { /* the arithmetic: precision of the training passes and the kernel of the products (provenance;
       a restart must have the same precision and notes a different kernel) */
    SgmNetPrecision prec;
    SgmGemmType     kernel;
    PetscCall(SgmNetGetPrecision(tr->net, &prec));
    PetscCall(SgmGemmGetKernel(&kernel));
    PetscCall(SgmH5AttrString(loc, "train_precision", SgmNetPrecisions[prec]));
    PetscCall(SgmH5AttrString(loc, "train_gemm", SgmGemmTypes[kernel]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The model into an open output file (collective: every rank writes the same values). */
PetscErrorCode SgmTrainerWriteModel(SgmTrainer tr, hid_t file)
{
  MPI_Comm  comm = PetscObjectComm((PetscObject)tr);
  hid_t     g;
  PetscReal tab[15], T, eps;
  hsize_t   dims[2] = {5, 3}, nl;

  PetscFunctionBegin;
  PetscCall(SgmTrainerGatherState_Private(tr));
  PetscCallHDF5(g = H5Gcreate2(file, "model_raw", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(SgmNetSave(tr->net, g));
  PetscCallHDF5(H5Gclose(g));
  /* /model: the EMA weights, saved through the net by swapping them in */
  for (PetscInt p = 0; p < tr->P; p++) {
    PetscReal s  = tr->theta[p];
    tr->theta[p] = tr->ema[p];
    tr->ema[p]   = s;
  }
  PetscCallHDF5(g = H5Gcreate2(file, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(SgmNetSave(tr->net, g));
  PetscCall(SgmH5AttrString(g, "weights", tr->emadecay > 0 ? "ema" : "raw"));
  PetscCallHDF5(H5Gclose(g));
  for (PetscInt p = 0; p < tr->P; p++) {
    PetscReal s  = tr->theta[p];
    tr->theta[p] = tr->ema[p];
    tr->ema[p]   = s;
  }
  PetscCallHDF5(g = H5Gcreate2(file, "train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  nl = (hsize_t)tr->step;
  PetscCall(SgmH5WriteSmall(comm, g, "loss", 1, &nl, tr->losshist));
  PetscCall(SgmSDEGetInterval(tr->sde, &eps, &T));
  for (PetscInt i = 0; i < 5; i++) {
    PetscReal t = tr->teps + (T - tr->teps) * i / 4.0;
    tab[3 * i]  = t;
    PetscCall(SgmSDEMarginal(tr->sde, t, &tab[3 * i + 1], &tab[3 * i + 2]));
  }
  PetscCall(SgmH5WriteSmall(comm, g, "sde_check", 2, dims, tab));
  PetscCall(WriteTrainAttributes(tr, g));
  PetscCallHDF5(H5Gclose(g));
  if (tr->latent) { /* the decoder D(z) = U_k z + mu (and the encoder U_k^T (x - mu)) */
    hsize_t dd = (hsize_t)tr->datadim, db[2] = {(hsize_t)tr->datadim, (hsize_t)tr->latentdim};
    PetscCallHDF5(g = H5Gcreate2(file, "latent", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    PetscCall(SgmH5WriteSmall(comm, g, "mean", 1, &dd, tr->lmean));
    PetscCall(SgmH5WriteSmall(comm, g, "basis", 2, db, tr->lbasis));
    PetscCall(SgmH5WriteSmall(comm, g, "eigenvalues", 1, &dd, tr->leig));
    PetscCall(SgmH5AttrString(g, "latent_type", "pca"));
    PetscCall(SgmH5AttrInt(g, "latent_dim", tr->latentdim));
    PetscCall(SgmH5AttrInt(g, "data_dim", tr->datadim));
    PetscCall(SgmH5AttrReal(g, "reconstruction_error", tr->lrecon));
    PetscCall(SgmH5AttrReal(g, "discarded_eigenvalue_mass", tr->ldiscard));
    PetscCallHDF5(H5Gclose(g));
  }
  if (tr->ae) { /* GeoLDM: the decoder, so that sampling needs only this file */
    SgmNet dec;
    hid_t  gd;
    PetscReal sigma0, klw;
    PetscInt  k;
    PetscCallHDF5(g = H5Gcreate2(file, "latent", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    PetscCall(SgmH5AttrString(g, "latent_type", "egnn_ae"));
    PetscCall(SgmH5AttrInt(g, "latent_dim", tr->d));
    PetscCall(SgmH5AttrInt(g, "data_dim", tr->datadim));
    PetscCall(SgmCloudAEGetSizes(tr->ae, NULL, NULL, &k));
    PetscCall(SgmCloudAEGetRegularization(tr->ae, &sigma0, &klw));
    PetscCall(SgmH5AttrInt(g, "ae_latent_features", k));
    PetscCall(SgmH5AttrReal(g, "ae_latent_sigma", sigma0));
    PetscCall(SgmH5AttrReal(g, "ae_kl_weight", klw));
    PetscCall(SgmH5AttrString(g, "ae_file", tr->aefile));
    PetscCall(SgmH5AttrReal(g, "reconstruction_rmse", tr->aermse));
    PetscCall(SgmCloudAEGetDecoder(tr->ae, &dec));
    PetscCallHDF5(gd = H5Gcreate2(g, "decoder", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    PetscCall(SgmNetSave(dec, gd));
    PetscCallHDF5(H5Gclose(gd));
    PetscCallHDF5(H5Gclose(g));
  }
  PetscCall(SgmSDEWriteAttributes(tr->sde, file));
  PetscCall(WriteTrainAttributes(tr, file));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteCheckpointContents(hid_t f, void *ctx)
{
  SgmTrainer tr = (SgmTrainer)ctx;

  PetscFunctionBegin;
  PetscCall(SgmTrainWriteArray_Private(f, "theta", (hsize_t)tr->P, tr->theta));
  PetscCall(SgmTrainWriteArray_Private(f, "adam_m", (hsize_t)tr->P, tr->m));
  PetscCall(SgmTrainWriteArray_Private(f, "adam_v", (hsize_t)tr->P, tr->v));
  PetscCall(SgmTrainWriteArray_Private(f, "ema", (hsize_t)tr->P, tr->ema));
  PetscCall(SgmTrainWriteArray_Private(f, "loss", (hsize_t)tr->step, tr->losshist));
  PetscCall(SgmH5AttrInt(f, "step", tr->step));
  PetscCall(SgmH5AttrReal(f, "ema_loss", tr->emaloss));
  PetscCall(SgmH5AttrInt(f, "parameters", tr->P));
  PetscCall(SgmH5AttrString(f, "net_type", ((PetscObject)tr->net)->type_name));
  PetscCall(WriteTrainAttributes(tr, f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmTrainerWriteCheckpoint(SgmTrainer tr, const char fname[])
{
  PetscFunctionBegin;
  PetscCall(SgmTrainerGatherState_Private(tr)); /* m, v, ema whole (the step updates shards of them) */
  PetscCall(SgmTrainCheckpointWrite_Private(PetscObjectComm((PetscObject)tr), fname, "train", WriteCheckpointContents, tr));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Continue from a checkpoint written with the same options (checked: architecture size, data
   shape, batch, loss, seed). */
PetscErrorCode SgmTrainerRestart(SgmTrainer tr, const char fname[])
{
  MPI_Comm    comm = PetscObjectComm((PetscObject)tr);
  PetscMPIInt rank;
  int         err = 0;
  PetscInt64  v[6] = {0, 0, 0, 0, 0, 0};
  char        what[64] = "", gemm[32] = "";
  SgmGemmType kernel;

  PetscFunctionBegin;
  PetscCall(SgmTrainerSetUp(tr));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    hid_t f;
    char  kind[32];
    if (SgmTrainCheckpointOpen_Private(fname, &f, kind, sizeof(kind))) err = 1;
    else if (kind[0] && strcmp(kind, "train")) { /* "": no kind, checked below as before */
      err = 5;
      (void)snprintf(what, sizeof(what), "%s", kind);
      H5Fclose(f);
    } else {
      { /* the network type, first: the most telling difference (checkpoints older than the types: mlp) */
        char       t[64] = "mlp";
        SgmNetType mine;
        if (SgmTrainReadStringAttr_Private(f, "net_type", t, sizeof(t))) err = 2;
        PetscCall(SgmNetGetType(tr->net, &mine));
        if (!err && strcmp(t, mine)) {
          err = 3;
          (void)snprintf(what, sizeof(what), "net_type %s (now %s)", t, mine);
        }
      }
      { /* the precision must match (checkpoints older than -net_precision: double); the kernel is noted */
        char            p[32] = "double";
        SgmNetPrecision prec;
        if (!err && (SgmTrainReadStringAttr_Private(f, "train_precision", p, sizeof(p)) || SgmTrainReadStringAttr_Private(f, "train_gemm", gemm, sizeof(gemm)))) err = 2;
        PetscCall(SgmNetGetPrecision(tr->net, &prec));
        if (!err && strcmp(p, SgmNetPrecisions[prec])) {
          err = 3;
          (void)snprintf(what, sizeof(what), "net_precision %s (now %s)", p, SgmNetPrecisions[prec]);
        }
      }
      const char *names[6] = {"step", "parameters", "data_dim", "train_batch", "train_seed", "data_points"};
      for (int i = 0; i < 6 && !err; i++) {
        hid_t a = H5Aexists(f, names[i]) > 0 ? H5Aopen(f, names[i], H5P_DEFAULT) : -1;
        if (a < 0 || H5Aread(a, H5T_NATIVE_INT64, &v[i]) < 0) err = 2;
        if (a >= 0) H5Aclose(a);
      }
      if (!err) {
        const PetscInt64 mine[6] = {v[0], tr->P, tr->d, tr->B, tr->seed, tr->N};
        for (int i = 1; i < 6 && !err; i++)
          if (v[i] != mine[i]) {
            err = 3;
            (void)snprintf(what, sizeof(what), "%s %lld (now %lld)", names[i], (long long)v[i], (long long)mine[i]);
          }
      }
      if (!err && (v[0] < 0 || v[0] > tr->steps)) err = 4;
      if (!err && (SgmTrainReadArray_Private(f, "theta", (hsize_t)tr->P, tr->theta) || SgmTrainReadArray_Private(f, "adam_m", (hsize_t)tr->P, tr->m) || SgmTrainReadArray_Private(f, "adam_v", (hsize_t)tr->P, tr->v) || SgmTrainReadArray_Private(f, "ema", (hsize_t)tr->P, tr->ema) || SgmTrainReadArray_Private(f, "loss", (hsize_t)v[0], tr->losshist))) err = 2;
      if (!err) {
        hid_t a = H5Aopen(f, "ema_loss", H5P_DEFAULT);
        if (a < 0 || H5Aread(a, H5T_NATIVE_DOUBLE, &tr->emaloss) < 0) err = 2;
        if (a >= 0) H5Aclose(a);
      }
      H5Fclose(f);
    }
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(what, sizeof(what), MPI_CHAR, 0, comm));
  PetscCallMPI(MPI_Bcast(v, 6, MPI_INT64_T, 0, comm));
  PetscCheck(err != 1, comm, PETSC_ERR_FILE_OPEN, "Cannot open the training checkpoint '%s': it does not exist or is not an HDF5 file", fname);
  PetscCheck(err != 5, comm, PETSC_ERR_USER_INPUT, "'%s' is a checkpoint of `sgm %s`, not of `sgm train`", fname, what);
  PetscCheck(err != 2, comm, PETSC_ERR_FILE_READ, "The training checkpoint '%s' is incomplete or not a training checkpoint of sgm", fname);
  PetscCheck(err != 3, comm, PETSC_ERR_USER_INPUT, "The training checkpoint '%s' was written with other options: %s; restart with the options of the interrupted run", fname, what);
  PetscCheck(err != 4, comm, PETSC_ERR_USER_INPUT, "The training checkpoint '%s' is at step %" PetscInt64_FMT ", beyond -train_steps %" PetscInt_FMT, fname, v[0], tr->steps);
  PetscCallMPI(MPI_Bcast(gemm, sizeof(gemm), MPI_CHAR, 0, comm));
  PetscCall(SgmGemmGetKernel(&kernel));
  if (gemm[0] && strcmp(gemm, SgmGemmTypes[kernel]))
    PetscCall(PetscPrintf(comm, "sgm train: note: the checkpoint '%s' was written with -net_gemm %s and this run uses %s: the continuation agrees with an uninterrupted run to rounding, not necessarily bit for bit\n", fname, gemm, SgmGemmTypes[kernel]));
  tr->step = (PetscInt)v[0];
  PetscCallMPI(MPI_Bcast(tr->theta, (PetscMPIInt)tr->P, MPIU_REAL, 0, comm));
  PetscCallMPI(MPI_Bcast(tr->m, (PetscMPIInt)tr->P, MPIU_REAL, 0, comm));
  PetscCallMPI(MPI_Bcast(tr->v, (PetscMPIInt)tr->P, MPIU_REAL, 0, comm));
  PetscCallMPI(MPI_Bcast(tr->ema, (PetscMPIInt)tr->P, MPIU_REAL, 0, comm));
  tr->gathered = PETSC_TRUE;
  PetscCallMPI(MPI_Bcast(tr->losshist, (PetscMPIInt)tr->step, MPIU_REAL, 0, comm));
  PetscCallMPI(MPI_Bcast(&tr->emaloss, 1, MPIU_REAL, 0, comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Where checkpoints go (every -train_checkpoint_every steps, at the end, and on SIGTERM/SIGUSR1); "" for none. */
PetscErrorCode SgmTrainerSetCheckpoint(SgmTrainer tr, const char fname[])
{
  PetscFunctionBegin;
  PetscCall(PetscStrncpy(tr->ckptfile, fname, sizeof(tr->ckptfile)));
  PetscFunctionReturn(PETSC_SUCCESS);
}
