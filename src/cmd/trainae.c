/*
  `sgm train-ae`: stage 1 of GeoLDM (doc/geometric.md, "GeoLDM"): train the equivariant autoencoder
  (sgmae.h) of point clouds on /data (else /samples) of an HDF5 file, e.g. DW4 clouds of `sgm mcmc`.
  The clouds are centred (zero CoM).  Data parallel like `sgm train`: every rank holds the data set,
  step k draws -train_batch clouds with replacement and their latent noise from the counter-based
  generator (keys: seed, step, position in the global batch; streams TRAIN_DRAW and AE_NOISE), each
  rank sums the loss gradient of its block of the batch, one MPI_Allreduce per step, then Adam with
  linear warm-up, global-norm clipping and the EMA of the weights (SgmAdamEMAUpdate), so the weights
  are the same bits on every rank (checked at the end).  Reported: the reconstruction RMSE per
  coordinate of the whole data set, z = mu(x), before and after training (EMA weights).
  Writes /ae (the EMA weights; SgmCloudAESave), /ae_raw, /train/loss [steps], provenance.
  The data loader, the atomic checkpoint write and the signal handling are the trainer's
  (src/train/interface/trainshared.c): the checkpoint (default OUTPUT.ckpt; checkpoint_kind
  "train-ae") holds the weights of encoder and decoder, Adam's moments, the EMA, the loss history and
  the step -- the random state, since every draw is a pure function of (seed, step, position) -- so a
  run resumed with -restart continues bitwise as the uninterrupted run on the same rank count.
*/
#include <sgm/private/trainimpl.h>
#include <sgmio.h>
#include <sgmsampler.h>
#include <sgmgeometric.h>
#include <string.h>
#include "commands.h"

typedef struct {
  PetscInt  steps, B, warmup, logevery, seed, ckptevery, sigstep;
  PetscReal lr, beta1, beta2, aeps, clip, ema;
  char      data[PETSC_MAX_PATH_LEN], dataset[64], output[PETSC_MAX_PATH_LEN], restart[PETSC_MAX_PATH_LEN], ckpt[PETSC_MAX_PATH_LEN + 8];
  PetscBool overwrite, quiet;
} TrainAEOptions;

/* The training state: what a checkpoint holds (te, td: the weights inside the nets of the autoencoder). */
typedef struct {
  TrainAEOptions *o;
  PetscInt        N, d, Pe, Pd, step;
  PetscReal      *te, *td, *m, *v, *ema, *loss;
} TrainAEState;

static PetscErrorCode WriteCheckpointContents(hid_t f, void *ctx)
{
  TrainAEState *st = (TrainAEState *)ctx;
  const PetscInt P = st->Pe + st->Pd;

  PetscFunctionBegin;
  PetscCall(SgmTrainWriteArray_Private(f, "theta_encoder", (hsize_t)st->Pe, st->te));
  PetscCall(SgmTrainWriteArray_Private(f, "theta_decoder", (hsize_t)st->Pd, st->td));
  PetscCall(SgmTrainWriteArray_Private(f, "adam_m", (hsize_t)P, st->m));
  PetscCall(SgmTrainWriteArray_Private(f, "adam_v", (hsize_t)P, st->v));
  PetscCall(SgmTrainWriteArray_Private(f, "ema", (hsize_t)P, st->ema));
  PetscCall(SgmTrainWriteArray_Private(f, "loss", (hsize_t)st->step, st->loss));
  PetscCall(SgmH5AttrInt(f, "step", st->step));
  PetscCall(SgmH5AttrInt(f, "parameters_encoder", st->Pe));
  PetscCall(SgmH5AttrInt(f, "parameters_decoder", st->Pd));
  PetscCall(SgmH5AttrInt(f, "data_dim", st->d));
  PetscCall(SgmH5AttrInt(f, "data_points", st->N));
  PetscCall(SgmH5AttrInt(f, "train_batch", st->o->B));
  PetscCall(SgmH5AttrInt(f, "train_seed", st->o->seed));
  PetscCall(SgmH5AttrInt(f, "train_steps", st->o->steps));
  PetscCall(SgmH5AttrString(f, "train_data", st->o->data));
  PetscCall(SgmH5AttrString(f, "train_dataset", st->o->dataset));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Continue from a checkpoint of `sgm train-ae` written with the same options (checked: the sizes of
   encoder and decoder, the data shape, the batch and the seed). */
static PetscErrorCode Restart(MPI_Comm comm, const char fname[], TrainAEState *st)
{
  const PetscInt P = st->Pe + st->Pd;
  PetscMPIInt    rank;
  int            err = 0;
  PetscInt64     v[7] = {0, 0, 0, 0, 0, 0, 0};
  char           what[64] = "";

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    hid_t f;
    char  kind[32];
    if (SgmTrainCheckpointOpen_Private(fname, &f, kind, sizeof(kind))) err = 1;
    else {
      const char *names[7] = {"step", "parameters_encoder", "parameters_decoder", "data_dim", "data_points", "train_batch", "train_seed"};
      if (!kind[0]) err = 2;
      else if (strcmp(kind, "train-ae")) {
        err = 5;
        (void)snprintf(what, sizeof(what), "%s", kind);
      }
      for (int i = 0; i < 7 && !err; i++) {
        hid_t a = H5Aexists(f, names[i]) > 0 ? H5Aopen(f, names[i], H5P_DEFAULT) : -1;
        if (a < 0 || H5Aread(a, H5T_NATIVE_INT64, &v[i]) < 0) err = 2;
        if (a >= 0) H5Aclose(a);
      }
      if (!err) {
        const PetscInt64 mine[7] = {v[0], st->Pe, st->Pd, st->d, st->N, st->o->B, st->o->seed};
        for (int i = 1; i < 7 && !err; i++)
          if (v[i] != mine[i]) {
            err = 3;
            (void)snprintf(what, sizeof(what), "%s %lld (now %lld)", names[i], (long long)v[i], (long long)mine[i]);
          }
      }
      if (!err && (v[0] < 0 || v[0] > st->o->steps)) err = 4;
      if (!err && (SgmTrainReadArray_Private(f, "theta_encoder", (hsize_t)st->Pe, st->te) || SgmTrainReadArray_Private(f, "theta_decoder", (hsize_t)st->Pd, st->td) || SgmTrainReadArray_Private(f, "adam_m", (hsize_t)P, st->m) || SgmTrainReadArray_Private(f, "adam_v", (hsize_t)P, st->v) || SgmTrainReadArray_Private(f, "ema", (hsize_t)P, st->ema) || SgmTrainReadArray_Private(f, "loss", (hsize_t)v[0], st->loss))) err = 2;
      H5Fclose(f);
    }
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(what, sizeof(what), MPI_CHAR, 0, comm));
  PetscCallMPI(MPI_Bcast(v, 7, MPI_INT64_T, 0, comm));
  PetscCheck(err != 1, comm, PETSC_ERR_FILE_OPEN, "Cannot open the checkpoint '%s': it does not exist or is not an HDF5 file", fname);
  PetscCheck(err != 5, comm, PETSC_ERR_USER_INPUT, "'%s' is a checkpoint of `sgm %s`, not of `sgm train-ae`", fname, what);
  PetscCheck(err != 2, comm, PETSC_ERR_FILE_READ, "The checkpoint '%s' is incomplete or not a checkpoint of `sgm train-ae`", fname);
  PetscCheck(err != 3, comm, PETSC_ERR_USER_INPUT, "The checkpoint '%s' was written with other options: %s; restart with the options of the interrupted run", fname, what);
  PetscCheck(err != 4, comm, PETSC_ERR_USER_INPUT, "The checkpoint '%s' is at step %" PetscInt64_FMT ", beyond -train_steps %" PetscInt_FMT, fname, v[0], st->o->steps);
  st->step = (PetscInt)v[0];
  PetscCallMPI(MPI_Bcast(st->te, (PetscMPIInt)st->Pe, MPIU_REAL, 0, comm));
  PetscCallMPI(MPI_Bcast(st->td, (PetscMPIInt)st->Pd, MPIU_REAL, 0, comm));
  PetscCallMPI(MPI_Bcast(st->m, (PetscMPIInt)P, MPIU_REAL, 0, comm));
  PetscCallMPI(MPI_Bcast(st->v, (PetscMPIInt)P, MPIU_REAL, 0, comm));
  PetscCallMPI(MPI_Bcast(st->ema, (PetscMPIInt)P, MPIU_REAL, 0, comm));
  PetscCallMPI(MPI_Bcast(st->loss, (PetscMPIInt)st->step, MPIU_REAL, 0, comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* RMSE per coordinate of x - D(E(x)) over the N clouds (rows split over the ranks, then summed) */
static PetscErrorCode ReconstructionRMSE(MPI_Comm comm, SgmCloudAE ae, PetscInt N, PetscInt d, const PetscReal data[], PetscReal *rmse)
{
  SgmBatch  b;
  PetscReal se = 0, l;

  PetscFunctionBegin;
  PetscCall(SgmBatchCreate(comm, N, d, &b));
  PetscCall(SgmCloudAELoss(ae, b.n, data + b.rstart * d, NULL, &l, &se, NULL));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &se, 1, MPIU_REAL, MPI_SUM, comm));
  *rmse = PetscSqrtReal(se / (N * d));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Swap(PetscInt P, PetscReal *a, PetscReal *b)
{
  PetscFunctionBegin;
  for (PetscInt p = 0; p < P; p++) {
    PetscReal s = a[p];
    a[p]        = b[p];
    b[p]        = s;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCommandTrainAE(MPI_Comm comm)
{
  TrainAEOptions o = {2000, 256, 100, 100, 1, 0, -1, 1e-3, 0.9, 0.999, 1e-8, 1.0, 0.999, "", "", "ae.h5", "", "", PETSC_FALSE, PETSC_FALSE};
  TrainAEState   st;
  SgmCloudAE     ae;
  SgmOutput      out;
  SgmBatch       bb;
  hid_t          file, g;
  PetscBool      help, left = PETSC_TRUE, leftset, allowunused = PETSC_FALSE, view, hasckpt, stop = PETSC_FALSE;
  PetscInt       N = 0, d = 0, n, sx, k, Pe, Pd, P, dz, k0;
  PetscReal     *data, *te, *td, *m, *v, *ema, *gbuf, *loss, *eps, *xb, rmse0, rmse1, sum = 0;
  PetscLogDouble t0, t1;

  PetscFunctionBegin;
  PetscOptionsBegin(comm, NULL, "sgm train-ae: train the GeoLDM autoencoder of point clouds (stage 1)", "sgm");
  PetscCall(PetscOptionsString("-train_data", "HDF5 file of point clouds /data (else /samples) [N, natoms*dim], e.g. of `sgm mcmc -mcmc_target dw4`", "", o.data, o.data, sizeof(o.data), NULL));
  PetscCall(PetscOptionsString("-train_dataset", "Dataset of -train_data to train on (default: /data, else /samples)", "", o.dataset, o.dataset, sizeof(o.dataset), NULL));
  PetscCall(PetscOptionsString("-output", "HDF5 file to write (/ae = EMA weights of encoder and decoder, /ae_raw, /train/loss, provenance)", "", o.output, o.output, sizeof(o.output), NULL));
  PetscCall(PetscOptionsBool("-overwrite", "Replace the output file if it exists", "", o.overwrite, &o.overwrite, NULL));
  PetscCall(PetscOptionsBool("-quiet", "Print neither progress lines nor the summary", "", o.quiet, &o.quiet, NULL));
  PetscCall(PetscOptionsBool("-allow_unused_options", "Run even if an option is used by no part of sgm", "", allowunused, &allowunused, NULL));
  PetscCall(PetscOptionsInt("-train_steps", "Optimiser steps (in total, also after -restart)", "", o.steps, &o.steps, NULL));
  PetscCall(PetscOptionsInt("-train_batch", "Global minibatch size (clouds, shared by the ranks)", "", o.B, &o.B, NULL));
  PetscCall(PetscOptionsReal("-train_lr", "Adam learning rate", "", o.lr, &o.lr, NULL));
  PetscCall(PetscOptionsInt("-train_warmup", "Steps of linear learning-rate warm-up", "", o.warmup, &o.warmup, NULL));
  PetscCall(PetscOptionsReal("-train_clip", "Clip the gradient to this global 2-norm (0: no clipping)", "", o.clip, &o.clip, NULL));
  PetscCall(PetscOptionsReal("-train_ema", "Decay of the exponential moving average of the weights (0: none)", "", o.ema, &o.ema, NULL));
  PetscCall(PetscOptionsInt("-train_log_every", "Print a progress line every this many steps (0: never)", "", o.logevery, &o.logevery, NULL));
  PetscCall(PetscOptionsInt("-train_seed", "Seed of the initial weights, the minibatches and the latent noise", "", o.seed, &o.seed, NULL));
  PetscCall(PetscOptionsString("-train_checkpoint", "Checkpoint file (default: OUTPUT.ckpt); written at the end, every -train_checkpoint_every steps and on SIGTERM/SIGUSR1", "", o.ckpt, o.ckpt, sizeof(o.ckpt), &hasckpt));
  PetscCall(PetscOptionsInt("-train_checkpoint_every", "Write the checkpoint every this many steps (0: only at the end and on SIGTERM/SIGUSR1)", "", o.ckptevery, &o.ckptevery, NULL));
  PetscCall(PetscOptionsString("-restart", "Continue training from this checkpoint of `sgm train-ae` (same options; -train_steps is the new total)", "", o.restart, o.restart, sizeof(o.restart), NULL));
  PetscCall(PetscOptionsInt("-train_test_signal_step", "Testing: rank 0 sends itself SIGTERM after this step (regression/geometric/test-geoldm.py)", "", o.sigstep, &o.sigstep, NULL));
  PetscCall(PetscOptionsName("-train_view", "Print the autoencoder before training", "SgmCloudAEView", &view));
  PetscOptionsEnd();
  if (!hasckpt) PetscCall(PetscSNPrintf(o.ckpt, sizeof(o.ckpt), "%s.ckpt", o.output));
  PetscCall(SgmCloudAECreate(comm, &ae));
  PetscCall(SgmCloudAESetFromOptions(ae));
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) {
    PetscCall(SgmCloudAEDestroy(&ae));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(o.steps >= 0 && o.B > 0 && o.warmup >= 0 && o.seed >= 0 && o.ckptevery >= 0, comm, PETSC_ERR_USER_INPUT, "-train_steps, -train_warmup, -train_seed and -train_checkpoint_every must be >= 0 and -train_batch positive");
  PetscCheck(o.lr > 0 && o.clip >= 0 && o.ema >= 0 && o.ema < 1, comm, PETSC_ERR_USER_INPUT, "-train_lr must be positive, -train_clip >= 0 and -train_ema in [0, 1)");
  PetscCheck(o.data[0], comm, PETSC_ERR_USER_INPUT, "No training data: give -train_data FILE.h5 with point clouds /data [N, natoms*dim] (e.g. `sgm mcmc -mcmc_target dw4`)");
  PetscCall(SgmTrainLoadData_Private(comm, o.data, o.dataset, sizeof(o.dataset), &N, &d, &data, NULL, NULL));
  PetscCall(SgmCloudAESetUp(ae, d));
  PetscCall(SgmCloudAEGetSizes(ae, &n, &sx, &k));
  PetscCall(SgmGeomRemoveCoM(N, n, sx, data));
  PetscCall(SgmCloudAEInitialize(ae, (uint64_t)o.seed));
  PetscCall(SgmCloudAEGetParameters(ae, &Pe, &te, &Pd, &td));
  P  = Pe + Pd;
  dz = n * (sx + k);
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-options_left", &left, &leftset));
  if (!allowunused && !(leftset && !left)) PetscCall(SgmCheckUnusedOptions(comm, "train-ae"));
  PetscCall(PetscCalloc4(P, &m, P, &v, P, &ema, P + 2, &gbuf));
  PetscCall(PetscMalloc1(o.steps + 1, &loss));
  PetscCall(PetscArraycpy(ema, te, Pe));
  PetscCall(PetscArraycpy(ema + Pe, td, Pd));
  PetscCall(ReconstructionRMSE(comm, ae, N, d, data, &rmse0)); /* of the initial weights, also after -restart */
  st = (TrainAEState){&o, N, d, Pe, Pd, 0, te, td, m, v, ema, loss};
  if (o.restart[0]) PetscCall(Restart(comm, o.restart, &st));
  PetscCall(SgmOutputCreate(comm, o.output, o.overwrite, &out)); /* every input checked first */
  if (view && !o.quiet) PetscCall(SgmCloudAEView(ae, PETSC_VIEWER_STDOUT_(comm)));
  PetscCall(SgmBatchCreate(comm, o.B, 1, &bb));
  PetscCall(PetscMalloc2(bb.n * dz + 1, &eps, bb.n * d + 1, &xb));
  PetscCall(SgmSignalsInstall());
  PetscCall(PetscTime(&t0));
  k0 = st.step;
  for (PetscInt step = k0; step < o.steps; step++) {
    const PetscInt kk = step + 1;
    PetscReal      l = 0, se = 0, gn = 0, scale = 1, lr, c1, c2, ed;
    for (PetscInt i = 0; i < bb.n; i++) { /* the clouds and the latent noise of global positions rstart + i */
      PetscReal u;
      PetscInt  j;
      SgmRandomUniformSample((uint64_t)o.seed, SGM_STREAM_TRAIN_DRAW, step, bb.rstart + i, 1, &u);
      j = PetscMin((PetscInt)(u * N), N - 1);
      PetscCall(PetscArraycpy(xb + i * d, data + j * d, d));
      SgmRandomNormalSample((uint64_t)o.seed, SGM_STREAM_AE_NOISE, step, bb.rstart + i, dz, eps + i * dz);
    }
    PetscCall(SgmGeomRemoveCoMStrided(bb.n, n, sx + k, sx, eps)); /* q(z|x) on the zero-CoM subspace for z_x */
    PetscCall(PetscArrayzero(gbuf, P + 2));
    PetscCall(SgmCloudAELoss(ae, bb.n, xb, eps, &l, &se, gbuf));
    gbuf[P]     = l;
    gbuf[P + 1] = se;
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, gbuf, (PetscMPIInt)(P + 2), MPIU_REAL, MPI_SUM, comm));
    for (PetscInt p = 0; p < P + 2; p++) gbuf[p] /= o.B;
    loss[step] = gbuf[P];
    PetscCheck(PetscIsNormalReal(gbuf[P]) || gbuf[P] == 0, comm, PETSC_ERR_USER_INPUT, "The autoencoder loss became %g at step %" PetscInt_FMT ": lower -train_lr", (double)gbuf[P], kk);
    for (PetscInt p = 0; p < P; p++) gn += gbuf[p] * gbuf[p];
    gn = PetscSqrtReal(gn);
    if (o.clip > 0 && gn > o.clip) scale = o.clip / gn;
    lr = o.lr * (o.warmup > 0 ? PetscMin(1.0, (PetscReal)kk / o.warmup) : 1.0);
    c1 = 1 - PetscPowRealInt(o.beta1, kk);
    c2 = 1 - PetscPowRealInt(o.beta2, kk);
    ed = PetscMin(o.ema, (1.0 + kk) / (10.0 + kk)); /* as `sgm train` */
    SgmAdamEMAUpdate(Pe, scale, lr, o.beta1, o.beta2, c1, c2, o.aeps, ed, gbuf, m, v, te, ema);
    SgmAdamEMAUpdate(Pd, scale, lr, o.beta1, o.beta2, c1, c2, o.aeps, ed, gbuf + Pe, m + Pe, v + Pe, td, ema + Pe);
    st.step = kk;
    if (!o.quiet && o.logevery > 0 && (kk % o.logevery == 0 || kk == o.steps)) PetscCall(PetscPrintf(comm, "sgm train-ae: step %6" PetscInt_FMT "/%" PetscInt_FMT "  loss %.6g  reconstruction %.6g per cloud\n", kk, o.steps, (double)gbuf[P], (double)gbuf[P + 1]));
    PetscCall(SgmTrainSignalStop_Private(comm, kk, o.sigstep, &stop)); /* a signal caught on any rank stops all of them at the same step */
    if ((o.ckptevery > 0 && kk % o.ckptevery == 0 && kk < o.steps) || stop) PetscCall(SgmTrainCheckpointWrite_Private(comm, o.ckpt, "train-ae", WriteCheckpointContents, &st));
    if (stop && kk < o.steps) break;
    stop = PETSC_FALSE;
  }
  PetscCall(PetscTime(&t1));
  { /* the raw weights must be the same bits on every rank */
    PetscReal c[2];
    for (PetscInt p = 0; p < Pe; p++) sum += (p % 7 + 1) * te[p];
    for (PetscInt p = 0; p < Pd; p++) sum += ((Pe + p) % 7 + 1) * td[p];
    c[0] = sum;
    c[1] = -sum;
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, c, 2, MPIU_REAL, MPI_MAX, comm));
    PetscCheck(c[0] == -c[1], comm, PETSC_ERR_PLIB, "The autoencoder weights differ across ranks (checksums %.17g and %.17g)", (double)c[0], (double)-c[1]);
  }
  if (stop) { /* interrupted: the checkpoint is written, no output file */
    PetscCall(SgmOutputDiscard(&out));
    PetscCall(PetscPrintf(comm, "sgm train-ae: stopped by a signal after step %" PetscInt_FMT " of %" PetscInt_FMT "; resume with the same options and -restart %s\n", st.step, o.steps, o.ckpt));
    SgmExitStatus = SGM_EXIT_CHECKPOINTED;
  } else {
    PetscCall(SgmTrainCheckpointWrite_Private(comm, o.ckpt, "train-ae", WriteCheckpointContents, &st)); /* to continue training later */
    PetscCall(SgmOutputGetFile(out, &file));
    PetscCallHDF5(g = H5Gcreate2(file, "ae_raw", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    PetscCall(SgmCloudAESave(ae, g));
    PetscCallHDF5(H5Gclose(g));
    PetscCall(Swap(Pe, te, ema)); /* the EMA weights into the nets */
    PetscCall(Swap(Pd, td, ema + Pe));
    PetscCall(ReconstructionRMSE(comm, ae, N, d, data, &rmse1));
    PetscCallHDF5(g = H5Gcreate2(file, "ae", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    PetscCall(SgmCloudAESave(ae, g));
    PetscCall(SgmH5AttrString(g, "weights", o.ema > 0 ? "ema" : "raw"));
    PetscCall(SgmH5AttrReal(g, "reconstruction_rmse_initial", rmse0));
    PetscCall(SgmH5AttrReal(g, "reconstruction_rmse", rmse1));
    PetscCallHDF5(H5Gclose(g));
    PetscCall(Swap(Pe, te, ema));
    PetscCall(Swap(Pd, td, ema + Pe));
    PetscCallHDF5(g = H5Gcreate2(file, "train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    {
      hsize_t nl = (hsize_t)o.steps;
      PetscCall(SgmH5WriteSmall(comm, g, "loss", 1, &nl, loss));
    }
    PetscCall(SgmH5AttrString(g, "train_data", o.data));
    PetscCall(SgmH5AttrString(g, "train_dataset", o.dataset));
    PetscCall(SgmH5AttrInt(g, "data_points", N));
    PetscCall(SgmH5AttrInt(g, "train_steps", o.steps));
    PetscCall(SgmH5AttrInt(g, "train_batch", o.B));
    PetscCall(SgmH5AttrReal(g, "train_lr", o.lr));
    PetscCall(SgmH5AttrInt(g, "train_seed", o.seed));
    if (o.restart[0]) PetscCall(SgmH5AttrInt(g, "train_restart_step", k0));
    PetscCallHDF5(H5Gclose(g));
    PetscCall(SgmOutputWriteProvenance(out, o.seed));
    PetscCall(SgmH5AttrReal(file, "wall_time_seconds", t1 - t0));
    PetscCall(SgmOutputClose(&out));
    if (!o.quiet) {
      PetscMPIInt size;
      PetscCallMPI(MPI_Comm_size(comm, &size));
      PetscCall(PetscPrintf(comm, "sgm train-ae: %" PetscInt_FMT " clouds of %" PetscInt_FMT " atoms in %" PetscInt_FMT "-D, latent %" PetscInt_FMT "+%" PetscInt_FMT " per atom; reconstruction RMSE %.6g -> %.6g (EMA weights)\n", N, n, sx, sx, k, (double)rmse0, (double)rmse1));
      PetscCall(PetscPrintf(comm, "sgm train-ae: %" PetscInt_FMT " steps, %d rank(s), %.3f s, weight checksum %.17g -> %s (checkpoint %s)\n", o.steps, size, t1 - t0, (double)sum, o.output, o.ckpt));
    }
  }
  PetscCall(PetscFree4(m, v, ema, gbuf));
  PetscCall(PetscFree(loss));
  PetscCall(PetscFree2(eps, xb));
  PetscCall(PetscFree(data));
  PetscCall(SgmCloudAEDestroy(&ae));
  PetscFunctionReturn(PETSC_SUCCESS);
}
