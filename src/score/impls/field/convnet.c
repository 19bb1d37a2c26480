/*
  The score of a trained convolutional network (sgmconvnet.h, `sgm train-field`):
      -score_type convnet -score_file model.h5 -field_grid nx,ny[,nz] [-field_periodic ...]
  The network is translation invariant, so it applies on any grid of the dimension it was trained
  for (its receptive field is L r points).  The file's /train/sde_check table (t, alpha, sigma) must
  match this score's SDE: the network knows the noise levels it was trained on, not the SDE.
  Collective: every rank evaluates its block of every field, with one ghost exchange per layer.
*/
#include <sgm/private/scoreimpl.h>
#include <sgmconvnet.h>
#include <sgmio.h>

typedef struct {
  char       file[PETSC_MAX_PATH_LEN];
  PetscBool  raw; /* -convnet_weights raw: the optimiser's weights, not the moving average */
  SgmConvNet net;
  PetscReal *al, *si;
  PetscInt   nwork;
} SgmScore_ConvNet;

static PetscErrorCode SgmScoreSetFromOptions_ConvNet(SgmScore score, PetscOptionItems *PetscOptionsObject)
{
  SgmScore_ConvNet *cn = (SgmScore_ConvNet *)score->data;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Trained convolutional network (convnet) score options");
  PetscCall(PetscOptionsString("-score_file", "HDF5 model file written by `sgm train-field`", "", cn->file, cn->file, sizeof(cn->file), NULL));
  PetscCall(PetscOptionsBool("-convnet_weights_raw", "Sample with the optimiser's weights (convnet/theta_raw), not their moving average (convnet/theta)", "", cn->raw, &cn->raw, NULL));
  PetscOptionsHeadEnd();
  PetscCall(SgmScoreFieldSetFromOptions_Private(score, PetscOptionsObject));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The SDE of the training run against this score's */
static PetscErrorCode CheckSDE(SgmScore score, const char path[])
{
  MPI_Comm   comm = PetscObjectComm((PetscObject)score);
  PetscInt   dims[2];
  PetscReal *tab;

  PetscFunctionBegin;
  PetscCall(SgmH5ReadReal(comm, path, "train/sde_check", 2, dims, &tab));
  PetscCheck(dims[1] == 3, comm, PETSC_ERR_USER_INPUT, "'%s': /train/sde_check must have 3 columns (t, alpha, sigma)", path);
  for (PetscInt i = 0; i < dims[0]; i++) {
    PetscReal a, s;
    PetscCall(SgmSDEMarginal(score->sde, tab[3 * i], &a, &s));
    PetscCheck(PetscAbsReal(a - tab[3 * i + 1]) <= 1e-10 * PetscAbsReal(a) && PetscAbsReal(s - tab[3 * i + 2]) <= 1e-10 * PetscAbsReal(s), comm, PETSC_ERR_USER_INPUT,
               "The network in '%s' was trained with another forward SDE (at t = %g it has alpha %g, sigma %g; the -sde_ options give %g, %g): use the -sde_ options of the training run", path, (double)tab[3 * i], (double)tab[3 * i + 1], (double)tab[3 * i + 2], (double)a, (double)s);
  }
  PetscCall(PetscFree(tab));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreSetUp_ConvNet(SgmScore score)
{
  SgmScore_ConvNet *cn   = (SgmScore_ConvNet *)score->data;
  MPI_Comm          comm = PetscObjectComm((PetscObject)score);

  PetscFunctionBegin;
  PetscCheck(cn->file[0], comm, PETSC_ERR_USER_INPUT, "The convnet score needs a model file: give -score_file model.h5 (written by `sgm train-field`)");
  PetscCall(CheckSDE(score, cn->file));
  PetscCall(SgmScoreFieldSetUp_Private(score, 1));
  PetscCall(SgmConvNetDestroy(&cn->net));
  PetscCall(SgmConvNetCreate(comm, &cn->net));
  PetscCall(SgmConvNetLoad(cn->net, cn->file, cn->raw ? "theta_raw" : "theta"));
  PetscCall(SgmConvNetSetUp(cn->net, score->field));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreApply_ConvNet(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, PetscScalar *s)
{
  SgmScore_ConvNet *cn = (SgmScore_ConvNet *)score->data;
  PetscReal         a, sg;

  PetscFunctionBegin;
  if (n > cn->nwork) {
    PetscCall(PetscFree2(cn->al, cn->si));
    PetscCall(PetscMalloc2(n, &cn->al, n, &cn->si));
    cn->nwork = n;
  }
  PetscCall(SgmSDEMarginal(score->sde, t, &a, &sg));
  for (PetscInt b = 0; b < n; b++) {
    cn->al[b] = a;
    cn->si[b] = sg;
  }
  PetscCall(SgmConvNetScore(cn->net, n, cn->al, cn->si, x, s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreAttributes_ConvNet(SgmScore score, hid_t file)
{
  SgmScore_ConvNet *cn = (SgmScore_ConvNet *)score->data;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrString(file, "score_file", cn->file));
  PetscCall(SgmH5AttrString(file, "convnet_weights", cn->raw ? "raw" : "ema"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreView_ConvNet(SgmScore score, PetscViewer viewer)
{
  SgmScore_ConvNet *cn = (SgmScore_ConvNet *)score->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "trained network from %s (%s weights)\n", cn->file, cn->raw ? "raw" : "EMA"));
  if (cn->net) PetscCall(SgmConvNetView(cn->net, viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreDestroy_ConvNet(SgmScore score)
{
  SgmScore_ConvNet *cn = (SgmScore_ConvNet *)score->data;

  PetscFunctionBegin;
  PetscCall(SgmConvNetDestroy(&cn->net));
  PetscCall(PetscFree2(cn->al, cn->si));
  PetscCall(PetscFree(score->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmScoreCreate_ConvNet(SgmScore score)
{
  SgmScore_ConvNet *cn;

  PetscFunctionBegin;
  PetscCall(PetscNew(&cn));
  score->data                = cn;
  score->ops->apply          = SgmScoreApply_ConvNet;
  score->ops->setfromoptions = SgmScoreSetFromOptions_ConvNet;
  score->ops->setup          = SgmScoreSetUp_ConvNet;
  score->ops->attributes     = SgmScoreAttributes_ConvNet;
  score->ops->view           = SgmScoreView_ConvNet;
  score->ops->destroy        = SgmScoreDestroy_ConvNet;
  PetscFunctionReturn(PETSC_SUCCESS);
}
