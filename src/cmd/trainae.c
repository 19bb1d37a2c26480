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
*/
#include <sgmae.h>
#include <sgmtrain.h>
#include <sgmio.h>
#include <sgmgeometric.h>
#include "commands.h"

typedef struct {
  PetscInt  steps, B, warmup, logevery, seed;
  PetscReal lr, beta1, beta2, aeps, clip, ema;
  char      data[PETSC_MAX_PATH_LEN], dataset[64], output[PETSC_MAX_PATH_LEN];
  PetscBool overwrite, quiet;
} TrainAEOptions;

/* The whole dataset [N, d] on every rank: a parallel read of row blocks, then an allgather. */
static PetscErrorCode LoadRows(MPI_Comm comm, TrainAEOptions *o, PetscInt *N, PetscInt *d, PetscReal **data)
{
  hid_t              file;
  PetscInt           dims[2];
  SgmBatch           b;
  Vec                X;
  PetscMPIInt        size, mine, start, *counts, *displs;
  const PetscScalar *x;

  PetscFunctionBegin;
  PetscCheck(o->data[0], comm, PETSC_ERR_USER_INPUT, "No training data: give -train_data FILE.h5 with point clouds /data [N, natoms*dim] (e.g. `sgm mcmc -mcmc_target dw4`)");
  PetscCall(SgmH5OpenParallel(comm, o->data, &file));
  if (!o->dataset[0]) {
    PetscCheck(H5Lexists(file, "data", H5P_DEFAULT) > 0 || H5Lexists(file, "samples", H5P_DEFAULT) > 0, comm, PETSC_ERR_USER_INPUT, "'%s' has neither /data nor /samples: name the dataset with -train_dataset", o->data);
    PetscCall(PetscStrncpy(o->dataset, H5Lexists(file, "data", H5P_DEFAULT) > 0 ? "data" : "samples", sizeof(o->dataset)));
  }
  PetscCheck(H5Lexists(file, o->dataset, H5P_DEFAULT) > 0, comm, PETSC_ERR_USER_INPUT, "'%s' has no dataset /%s (-train_dataset)", o->data, o->dataset);
  PetscCall(SgmH5DatasetShape(comm, file, o->dataset, 2, dims));
  PetscCheck(dims[0] > 0 && dims[1] > 0, comm, PETSC_ERR_USER_INPUT, "The dataset /%s of '%s' is empty", o->dataset, o->data);
  *N = dims[0];
  *d = dims[1];
  PetscCall(SgmBatchCreate(comm, *N, *d, &b));
  PetscCall(SgmBatchCreateVec(&b, &X));
  PetscCall(SgmH5ReadBatch(file, o->dataset, &b, X));
  PetscCallHDF5(H5Fclose(file));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMalloc2(size, &counts, size, &displs));
  PetscCall(PetscMalloc1(*N * *d, data));
  mine  = (PetscMPIInt)(b.n * *d);
  start = (PetscMPIInt)(b.rstart * *d);
  PetscCallMPI(MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, comm));
  PetscCallMPI(MPI_Allgather(&start, 1, MPI_INT, displs, 1, MPI_INT, comm));
  PetscCall(VecGetArrayRead(X, &x));
  PetscCallMPI(MPI_Allgatherv(x, mine, MPIU_REAL, *data, counts, displs, MPIU_REAL, comm));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCall(VecDestroy(&X));
  PetscCall(PetscFree2(counts, displs));
  for (PetscInt q = 0; q < *N * *d; q++) PetscCheck(PetscIsNormalReal((*data)[q]) || (*data)[q] == 0, comm, PETSC_ERR_USER_INPUT, "/%s of '%s' has a non-finite value in row %" PetscInt_FMT, o->dataset, o->data, q / *d);
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
  TrainAEOptions o = {2000, 256, 100, 100, 1, 1e-3, 0.9, 0.999, 1e-8, 1.0, 0.999, "", "", "ae.h5", PETSC_FALSE, PETSC_FALSE};
  SgmCloudAE     ae;
  SgmOutput      out;
  SgmBatch       bb;
  hid_t          file, g;
  PetscBool      help, left = PETSC_TRUE, leftset, allowunused = PETSC_FALSE, view;
  PetscInt       N = 0, d = 0, n, sx, k, Pe, Pd, P, dz;
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
  PetscCall(PetscOptionsInt("-train_steps", "Optimiser steps", "", o.steps, &o.steps, NULL));
  PetscCall(PetscOptionsInt("-train_batch", "Global minibatch size (clouds, shared by the ranks)", "", o.B, &o.B, NULL));
  PetscCall(PetscOptionsReal("-train_lr", "Adam learning rate", "", o.lr, &o.lr, NULL));
  PetscCall(PetscOptionsInt("-train_warmup", "Steps of linear learning-rate warm-up", "", o.warmup, &o.warmup, NULL));
  PetscCall(PetscOptionsReal("-train_clip", "Clip the gradient to this global 2-norm (0: no clipping)", "", o.clip, &o.clip, NULL));
  PetscCall(PetscOptionsReal("-train_ema", "Decay of the exponential moving average of the weights (0: none)", "", o.ema, &o.ema, NULL));
  PetscCall(PetscOptionsInt("-train_log_every", "Print a progress line every this many steps (0: never)", "", o.logevery, &o.logevery, NULL));
  PetscCall(PetscOptionsInt("-train_seed", "Seed of the initial weights, the minibatches and the latent noise", "", o.seed, &o.seed, NULL));
  PetscCall(PetscOptionsName("-train_view", "Print the autoencoder before training", "SgmCloudAEView", &view));
  PetscOptionsEnd();
  PetscCall(SgmCloudAECreate(comm, &ae));
  PetscCall(SgmCloudAESetFromOptions(ae));
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) {
    PetscCall(SgmCloudAEDestroy(&ae));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(o.steps >= 0 && o.B > 0 && o.warmup >= 0 && o.seed >= 0, comm, PETSC_ERR_USER_INPUT, "-train_steps, -train_warmup and -train_seed must be >= 0 and -train_batch positive");
  PetscCheck(o.lr > 0 && o.clip >= 0 && o.ema >= 0 && o.ema < 1, comm, PETSC_ERR_USER_INPUT, "-train_lr must be positive, -train_clip >= 0 and -train_ema in [0, 1)");
  PetscCall(LoadRows(comm, &o, &N, &d, &data));
  PetscCall(SgmCloudAESetUp(ae, d));
  PetscCall(SgmCloudAEGetSizes(ae, &n, &sx, &k));
  PetscCall(SgmGeomRemoveCoM(N, n, sx, data));
  PetscCall(SgmCloudAEInitialize(ae, (uint64_t)o.seed));
  PetscCall(SgmCloudAEGetParameters(ae, &Pe, &te, &Pd, &td));
  P  = Pe + Pd;
  dz = n * (sx + k);
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-options_left", &left, &leftset));
  if (!allowunused && !(leftset && !left)) PetscCall(SgmCheckUnusedOptions(comm, "train-ae"));
  PetscCall(SgmOutputCreate(comm, o.output, o.overwrite, &out)); /* every input checked first */
  if (view && !o.quiet) PetscCall(SgmCloudAEView(ae, PETSC_VIEWER_STDOUT_(comm)));
  PetscCall(PetscCalloc4(P, &m, P, &v, P, &ema, P + 2, &gbuf));
  PetscCall(PetscMalloc1(o.steps + 1, &loss));
  PetscCall(PetscArraycpy(ema, te, Pe));
  PetscCall(PetscArraycpy(ema + Pe, td, Pd));
  PetscCall(SgmBatchCreate(comm, o.B, 1, &bb));
  PetscCall(PetscMalloc2(bb.n * dz + 1, &eps, bb.n * d + 1, &xb));
  PetscCall(ReconstructionRMSE(comm, ae, N, d, data, &rmse0));
  PetscCall(PetscTime(&t0));
  for (PetscInt step = 0; step < o.steps; step++) {
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
    if (!o.quiet && o.logevery > 0 && (kk % o.logevery == 0 || kk == o.steps)) PetscCall(PetscPrintf(comm, "sgm train-ae: step %6" PetscInt_FMT "/%" PetscInt_FMT "  loss %.6g  reconstruction %.6g per cloud\n", kk, o.steps, (double)gbuf[P], (double)gbuf[P + 1]));
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
  PetscCallHDF5(H5Gclose(g));
  PetscCall(SgmOutputWriteProvenance(out, o.seed));
  PetscCall(SgmH5AttrReal(file, "wall_time_seconds", t1 - t0));
  PetscCall(SgmOutputClose(&out));
  if (!o.quiet) {
    PetscMPIInt size;
    PetscCallMPI(MPI_Comm_size(comm, &size));
    PetscCall(PetscPrintf(comm, "sgm train-ae: %" PetscInt_FMT " clouds of %" PetscInt_FMT " atoms in %" PetscInt_FMT "-D, latent %" PetscInt_FMT "+%" PetscInt_FMT " per atom; reconstruction RMSE %.6g -> %.6g (EMA weights)\n", N, n, sx, sx, k, (double)rmse0, (double)rmse1));
    PetscCall(PetscPrintf(comm, "sgm train-ae: %" PetscInt_FMT " steps, %d rank(s), %.3f s, weight checksum %.17g -> %s\n", o.steps, size, t1 - t0, (double)sum, o.output));
  }
  PetscCall(PetscFree4(m, v, ema, gbuf));
  PetscCall(PetscFree(loss));
  PetscCall(PetscFree2(eps, xb));
  PetscCall(PetscFree(data));
  PetscCall(SgmCloudAEDestroy(&ae));
  PetscFunctionReturn(PETSC_SUCCESS);
}
