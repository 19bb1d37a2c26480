/*
  `sgm train-field`: train the convolutional score network (sgmconvnet.h) on a file of fields
  (/samples [B, ny, nx] or [B, nz, ny, nx], e.g. GMRF samples of `sgm sample -score_type gmrf`) with
  the denoising score matching loss, sigma^2-weighted, by Adam with linear warm-up and a moving
  average of the weights.  Every rank holds its DMDA block of all training fields; each step draws
  -train_batch fields, their times and noise from the counter-based generator (keys: seed, step,
  position in the batch; the noise by global grid index), so the minibatch is the same on any process
  grid, and sums the gradient over ranks (the blocks of every field) with one MPI_Allreduce.
  No checkpoints: a run is a few minutes.  Writes /convnet (sgmconvnet.h), /train/loss, /train/sde_check.
*/
#include <sgmconvnet.h>
#include <sgmtrain.h>
#include <sgmsde.h>
#include <sgmio.h>
#include "commands.h"

typedef struct {
  PetscInt  steps, B, warmup, logevery;
  PetscReal lr, beta1, beta2, aeps, ema;
  PetscInt  seed;
  char      data[PETSC_MAX_PATH_LEN], output[PETSC_MAX_PATH_LEN];
  PetscBool overwrite, quiet;
} TrainFieldOptions;

/* The grid of the data file: its field_grid / field_boundary / field_spacing attributes */
static PetscErrorCode FieldOptionsFromFile(MPI_Comm comm, hid_t file, const char path[], SgmFieldOptions *fo)
{
  char     grid[64], bnd[32];
  long     M[3] = {1, 1, 1};
  int      k;

  PetscFunctionBegin;
  PetscCheck(H5Aexists(file, "field_grid") > 0, comm, PETSC_ERR_USER_INPUT, "'%s' holds no fields (no field_grid attribute): write it with `sgm sample -score_type gmrf -field_grid ...`", path);
  PetscCall(SgmH5AttrGetString(comm, file, "field_grid", grid, sizeof(grid)));
  PetscCall(SgmH5AttrGetString(comm, file, "field_boundary", bnd, sizeof(bnd)));
  PetscCall(SgmH5AttrGetReal(comm, file, "field_spacing", &fo->h));
  k = sscanf(grid, "%ld,%ld,%ld", &M[0], &M[1], &M[2]);
  PetscCheck(k == 2 || k == 3, comm, PETSC_ERR_USER_INPUT, "'%s': cannot read the attribute field_grid '%s'", path, grid);
  fo->dim = k;
  for (int i = 0; i < 3; i++) fo->M[i] = M[i];
  fo->dof      = 1;
  fo->periodic = (PetscBool)!strcmp(bnd, "periodic");
  fo->gridset  = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Options(MPI_Comm comm, TrainFieldOptions *o)
{
  PetscBool set;

  PetscFunctionBegin;
  PetscOptionsBegin(comm, NULL, "sgm train-field: train a convolutional score network on fields", "sgm");
  PetscCall(PetscOptionsString("-train_field_data", "HDF5 file of training fields (/samples [B, ny, nx], written by `sgm sample` with a field score)", "", o->data, o->data, sizeof(o->data), &set));
  PetscCall(PetscOptionsString("-output", "HDF5 model file to write (/convnet, /train/loss, provenance)", "", o->output, o->output, sizeof(o->output), NULL));
  PetscCall(PetscOptionsBool("-overwrite", "Replace the output file if it exists", "", o->overwrite, &o->overwrite, NULL));
  PetscCall(PetscOptionsBool("-quiet", "Print neither progress lines nor the summary", "", o->quiet, &o->quiet, NULL));
  PetscCall(PetscOptionsInt("-train_steps", "Optimiser steps", "", o->steps, &o->steps, NULL));
  PetscCall(PetscOptionsInt("-train_batch", "Fields per minibatch (each with its own t and noise)", "", o->B, &o->B, NULL));
  PetscCall(PetscOptionsReal("-train_lr", "Adam learning rate", "", o->lr, &o->lr, NULL));
  PetscCall(PetscOptionsInt("-train_warmup", "Steps of linear learning-rate warm-up", "", o->warmup, &o->warmup, NULL));
  PetscCall(PetscOptionsReal("-train_ema", "Decay of the moving average of the weights (0: none)", "", o->ema, &o->ema, NULL));
  PetscCall(PetscOptionsInt("-train_log_every", "Print the loss every this many steps (0: never)", "", o->logevery, &o->logevery, NULL));
  PetscCall(PetscOptionsInt("-train_seed", "Seed of the initial weights, the minibatches, times and noise", "", o->seed, &o->seed, NULL));
  PetscOptionsEnd();
  PetscCheck(set && o->data[0], comm, PETSC_ERR_USER_INPUT, "sgm train-field needs its training fields: give -train_field_data FILE.h5");
  PetscCheck(o->steps >= 1 && o->B >= 1 && o->warmup >= 0, comm, PETSC_ERR_USER_INPUT, "-train_steps and -train_batch must be positive and -train_warmup non-negative; got %" PetscInt_FMT ", %" PetscInt_FMT ", %" PetscInt_FMT, o->steps, o->B, o->warmup);
  PetscCheck(o->lr > 0 && o->ema >= 0 && o->ema < 1, comm, PETSC_ERR_USER_INPUT, "-train_lr must be positive and -train_ema in [0, 1); got %g, %g", (double)o->lr, (double)o->ema);
  if (o->quiet) o->logevery = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Adam (Kingma & Ba 2015, Alg. 1) with warm-up, then the moving average (debiased early on): the
   trainer's kernel, without clipping */
static void AdamEMA(const TrainFieldOptions *o, PetscInt k, PetscInt P, const PetscReal *g, PetscReal *m, PetscReal *v, PetscReal *th, PetscReal *ema)
{
  const PetscReal lr = o->lr * PetscMin(1.0, (k + 1.0) / (o->warmup + 1.0)), c1 = 1 - PetscPowRealInt(o->beta1, k + 1), c2 = 1 - PetscPowRealInt(o->beta2, k + 1);
  const PetscReal ed = PetscMin(o->ema, (1.0 + k) / (10.0 + k));

  SgmAdamEMAUpdate(P, 1.0, lr, o->beta1, o->beta2, c1, c2, o->aeps, ed, g, m, v, th, ema);
}

static PetscErrorCode WriteModel(MPI_Comm comm, const TrainFieldOptions *o, SgmConvNet net, const PetscReal *ema, SgmSDE sde, SgmField field, const PetscReal *loss, PetscReal wall)
{
  SgmOutput out;
  hid_t     file, grp;
  hsize_t   dl[1] = {(hsize_t)o->steps}, ds[2] = {17, 3};
  PetscReal tab[17 * 3], t0, t1;

  PetscFunctionBegin;
  PetscCall(SgmOutputCreate(comm, o->output, o->overwrite, &out));
  PetscCall(SgmOutputGetFile(out, &file));
  PetscCall(SgmConvNetSave(net, file, ema));
  PetscCallHDF5(grp = H5Gcreate2(file, "train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(SgmH5WriteSmall(comm, grp, "loss", 1, dl, loss));
  PetscCall(SgmSDEGetInterval(sde, &t0, &t1));
  for (PetscInt i = 0; i < 17; i++) { /* the marginals the network learnt, checked by -score_type convnet */
    tab[3 * i] = t0 + (t1 - t0) * i / 16.0;
    PetscCall(SgmSDEMarginal(sde, tab[3 * i], &tab[3 * i + 1], &tab[3 * i + 2]));
  }
  PetscCall(SgmH5WriteSmall(comm, grp, "sde_check", 2, ds, tab));
  PetscCallHDF5(H5Gclose(grp));
  PetscCall(SgmSDEWriteAttributes(sde, file));
  PetscCall(SgmFieldWriteAttributes(field, file));
  PetscCall(SgmH5AttrString(file, "train_field_data", o->data));
  PetscCall(SgmH5AttrInt(file, "train_steps", o->steps));
  PetscCall(SgmH5AttrInt(file, "train_batch", o->B));
  PetscCall(SgmH5AttrReal(file, "train_final_loss", loss[o->steps - 1]));
  PetscCall(SgmH5AttrReal(file, "wall_time_seconds", wall));
  PetscCall(SgmOutputWriteProvenance(out, o->seed));
  PetscCall(SgmOutputClose(&out));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCommandTrainField(MPI_Comm comm)
{
  TrainFieldOptions o = {.steps = 2000, .B = 4, .warmup = 100, .logevery = 100, .lr = 2e-3, .beta1 = 0.9, .beta2 = 0.999, .aeps = 1e-8, .ema = 0.999, .seed = 1, .output = "model.h5"};
  SgmSDE            sde;
  SgmField          field;
  SgmFieldOptions   fo = {0};
  SgmBatch          data, mb;
  SgmConvNet        net;
  Vec               X;
  hid_t             file;
  PetscInt          dims[4], nd, nl, P;
  PetscReal        *theta, *g, *m, *v, *ema, *x0, *eps, *al, *si, *loss, *sq, sd, t0, t1, ema_loss = 0;
  const PetscReal  *xd;
  PetscBool         help;
  PetscLogDouble    w0, w1;

  PetscFunctionBegin;
  PetscCall(SgmSDECreate(comm, &sde));
  PetscCall(SgmSDESetFromOptions(sde));
  PetscCall(SgmConvNetCreate(comm, &net));
  PetscCall(SgmConvNetSetFromOptions(net));
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) {
    PetscCall(Options(comm, &o));
    PetscCall(SgmConvNetDestroy(&net));
    PetscCall(SgmSDEDestroy(&sde));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(Options(comm, &o));
  PetscCall(SgmSDESetUp(sde));
  PetscCall(SgmSDEGetInterval(sde, &t0, &t1));

  /* the training fields: every rank reads its block of all of them */
  PetscCall(SgmH5OpenParallel(comm, o.data, &file));
  PetscCall(FieldOptionsFromFile(comm, file, o.data, &fo));
  PetscCall(SgmFieldCreate(comm, &fo, 1, &field));
  PetscCall(SgmH5DatasetShape(comm, file, "samples", fo.dim + 1, dims));
  nd = dims[0];
  PetscCall(SgmBatchCreateField(comm, nd, field, &data));
  PetscCall(SgmBatchCreateVec(&data, &X));
  PetscCall(SgmH5ReadBatch(file, "samples", &data, X));
  PetscCallHDF5(H5Fclose(file));
  nl = field->nloc;

  /* sigma_data: the site standard deviation of the data, a reproducible sum over all ranks */
  PetscCall(VecGetArrayRead(X, &xd));
  PetscCall(PetscMalloc1(nd * nl + 1, &sq));
  for (PetscInt i = 0; i < nd * nl; i++) sq[i] = xd[i] * xd[i];
  PetscCall(SgmReproducibleSum(comm, nd * nl, 1, sq, &sd));
  PetscCall(PetscFree(sq));
  sd = PetscSqrtReal(sd / (nd * (PetscReal)field->ngrid));
  PetscCall(SgmConvNetSetSigmaData(net, sd));
  PetscCall(SgmConvNetSetUp(net, field));
  PetscCall(SgmConvNetInitialize(net, (uint64_t)o.seed));
  PetscCall(SgmConvNetGetParameters(net, &P, &theta));
  if (!o.quiet) {
    PetscCall(PetscPrintf(comm, "sgm train-field: %" PetscInt_FMT " fields from %s, site std %.4g\n", nd, o.data, (double)sd));
    PetscCall(SgmFieldView(field, PETSC_VIEWER_STDOUT_(comm)));
    PetscCall(SgmConvNetView(net, PETSC_VIEWER_STDOUT_(comm)));
  }

  PetscCall(PetscCalloc4(P + 1, &g, P, &m, P, &v, P, &ema));
  PetscCall(PetscArraycpy(ema, theta, P));
  PetscCall(PetscMalloc5(o.B * nl + 1, &x0, o.B * nl + 1, &eps, o.B, &al, o.B, &si, o.steps, &loss));
  PetscCall(SgmBatchCreateField(comm, o.B, field, &mb));
  PetscCall(PetscTime(&w0));
  for (PetscInt k = 0; k < o.steps; k++) {
    PetscReal l;
    for (PetscInt j = 0; j < o.B; j++) { /* field, time: the same draws on every rank */
      PetscReal u[2];
      PetscInt  idx;
      SgmRandomUniformSample((uint64_t)o.seed, SGM_STREAM_TRAIN_DRAW, k, j, 2, u);
      idx = PetscMin((PetscInt)(u[0] * nd), nd - 1);
      PetscCall(PetscArraycpy(x0 + j * nl, xd + idx * nl, nl));
      PetscCall(SgmSDEMarginal(sde, t0 + (t1 - t0) * u[1], &al[j], &si[j]));
    }
    PetscCall(SgmRandomNormalBatch((uint64_t)o.seed, SGM_STREAM_TRAIN_NOISE, k, &mb, eps));
    PetscCall(PetscArrayzero(g, P + 1));
    PetscCall(SgmConvNetLossDSM(net, o.B, al, si, x0, eps, &g[P], g));
    PetscCall(MPIU_Allreduce(MPI_IN_PLACE, g, P + 1, MPIU_REAL, MPIU_SUM, comm)); /* domain and batch at once */
    for (PetscInt p = 0; p <= P; p++) g[p] /= o.B * (PetscReal)field->ngrid;
    l        = g[P];
    loss[k]  = l;
    ema_loss = k == 0 ? l : 0.98 * ema_loss + 0.02 * l;
    AdamEMA(&o, k, P, g, m, v, theta, ema);
    if (o.logevery && ((k + 1) % o.logevery == 0 || k == 0)) {
      PetscCall(PetscTime(&w1));
      PetscCall(PetscPrintf(comm, "sgm train-field: step %6" PetscInt_FMT "/%" PetscInt_FMT "  loss %.5f  ema loss %.5f  %.3g s\n", k + 1, o.steps, (double)l, (double)ema_loss, (double)(w1 - w0)));
    }
  }
  PetscCall(PetscTime(&w1));
  PetscCall(VecRestoreArrayRead(X, &xd));
  PetscCall(WriteModel(comm, &o, net, ema, sde, field, loss, w1 - w0));
  if (!o.quiet) PetscCall(PetscPrintf(comm, "sgm train-field: %" PetscInt_FMT " steps in %.1f s, final ema loss %.5f, wrote %s\n", o.steps, (double)(w1 - w0), (double)ema_loss, o.output));
  PetscCall(PetscFree4(g, m, v, ema));
  PetscCall(PetscFree5(x0, eps, al, si, loss));
  PetscCall(VecDestroy(&X));
  PetscCall(SgmConvNetDestroy(&net));
  PetscCall(SgmFieldDestroy(&field));
  PetscCall(SgmSDEDestroy(&sde));
  PetscFunctionReturn(PETSC_SUCCESS);
}
