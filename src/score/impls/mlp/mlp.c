/*
  The score of a trained network (`sgm train`): -score_type mlp -score_file model.h5.
  The file's /model group (EMA weights; /model_raw with -mlp_weights raw) is loaded by SgmNetLoad on
  every rank, whatever its network type (attribute net_type: mlp, egnn, distance).  A point-cloud net
  makes the score a zero-CoM one (SgmScoreSetZeroCoM), so the samplers project.  The network was trained for one forward SDE: the file's /train/sde_check table
  (t, alpha(t), sigma(t)) must match the SDE this score is diffused by, else sampling would use the
  network at noise levels it was not trained for.  Class-conditional networks give guidance its
  conditional score (ops->conditional: the same network with label y; the unconditional score uses
  the null label).  Latent models decode their samples (ops->decode, score->datadim): -latent pca by
  x = U_k z + mu, GeoLDM (-latent egnn_ae; /latent/latent_type egnn_ae) by the egnn decoder stored in
  /latent/decoder, and the latent clouds' invariant feature channels are left out of the zero-CoM
  projection (SgmScoreSetZeroCoMFeatures).
*/
#include <sgm/private/scoreimpl.h>
#include <sgm/private/netimpl.h>
#include <sgmtrain.h>
#include <sgmio.h>
#include <sgmae.h>

typedef enum {
  SGM_MLP_WEIGHTS_EMA,
  SGM_MLP_WEIGHTS_RAW
} SgmMLPWeights;
static const char *const SgmMLPWeightsTypes[] = {"ema", "raw", "SgmMLPWeights", "SGM_MLP_WEIGHTS_", NULL};

typedef struct {
  char          file[PETSC_MAX_PATH_LEN];
  SgmMLPWeights weights;
  SgmNet        net;
  PetscInt      label; /* -1: the null label (unconditional) */
  PetscInt      nwork;
  PetscReal    *tt, *al, *si, *sw;
  PetscInt     *lab;
  /* latent model: -latent pca in training, D(z) = U_k z + mu; -latent egnn_ae, D = the egnn decoder dec */
  PetscInt      D;            /* data dimension, 0 if not latent */
  PetscReal    *lmean, *lbasis; /* mu [D], U_k [D,k] row-major */
  SgmNet        dec;            /* GeoLDM (-latent egnn_ae): the autoencoder's decoder, else NULL */
} SgmScore_MLP;

static PetscErrorCode SgmScoreJacobianVector_MLP(SgmScore, PetscReal, PetscInt, const PetscScalar *, const PetscScalar *, PetscScalar *);
static PetscErrorCode SgmScoreDivergence_MLP(SgmScore, PetscReal, PetscInt, const PetscScalar *, PetscReal *);

static PetscErrorCode SgmScoreSetFromOptions_MLP(SgmScore score, PetscOptionItems *PetscOptionsObject)
{
  SgmScore_MLP *ml = (SgmScore_MLP *)score->data;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Trained network (mlp) score options");
  PetscCall(PetscOptionsString("-score_file", "HDF5 model file written by `sgm train`", "", ml->file, ml->file, sizeof(ml->file), NULL));
  PetscCall(PetscOptionsEnum("-mlp_weights", "Weights to sample with: ema (the moving average, /model) or raw (the optimiser's, /model_raw)", "", SgmMLPWeightsTypes, (PetscEnum)ml->weights, (PetscEnum *)&ml->weights, NULL));
  PetscCall(SgmGemmSetFromOptions_Private(PetscOptionsObject, (PetscObject)score)); /* the network's products */
  PetscOptionsHeadEnd();
  if (ml->net) PetscCall(SgmNetDestroy(&ml->net)); /* reload at set-up */
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The SDE of the training run against this score's */
static PetscErrorCode CheckSDE(SgmScore score, hid_t file)
{
  SgmScore_MLP *ml   = (SgmScore_MLP *)score->data;
  MPI_Comm      comm = PetscObjectComm((PetscObject)score);
  PetscInt      dims[2];
  PetscReal    *tab;
  hsize_t       h[2];
  hid_t         dset;

  PetscFunctionBegin;
  PetscCall(SgmH5DatasetShape(comm, file, "train/sde_check", 2, dims));
  PetscCheck(dims[1] == 3 && dims[0] > 0, comm, PETSC_ERR_USER_INPUT, "'%s': /train/sde_check must have 3 columns (t, alpha, sigma)", ml->file);
  PetscCall(PetscMalloc1(dims[0] * 3, &tab));
  h[0] = (hsize_t)dims[0];
  h[1] = 3;
  PetscCallHDF5(dset = H5Dopen2(file, "train/sde_check", H5P_DEFAULT));
  PetscCallHDF5(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, tab));
  PetscCallHDF5(H5Dclose(dset));
  (void)h;
  for (PetscInt i = 0; i < dims[0]; i++) {
    PetscReal a, s;
    PetscCall(SgmSDEMarginal(score->sde, tab[3 * i], &a, &s));
    PetscCheck(PetscAbsReal(a - tab[3 * i + 1]) <= 1e-10 * PetscAbsReal(a) + 1e-300 && PetscAbsReal(s - tab[3 * i + 2]) <= 1e-10 * PetscAbsReal(s) + 1e-300, comm, PETSC_ERR_USER_INPUT,
               "The network in '%s' was trained with another forward SDE (at t = %g it has alpha %g, sigma %g; the -sde_ options give %g, %g): sample with the -sde_ options of the training run (attributes sde_* of the file)", ml->file, (double)tab[3 * i], (double)tab[3 * i + 1], (double)tab[3 * i + 2], (double)a, (double)s);
  }
  PetscCall(PetscFree(tab));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReadAll(hid_t file, const char name[], PetscReal v[])
{
  hid_t dset;

  PetscFunctionBegin;
  PetscCallHDF5(dset = H5Dopen2(file, name, H5P_DEFAULT));
  PetscCallHDF5(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
  PetscCallHDF5(H5Dclose(dset));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* x = U_k z + mu, row by row */
static PetscErrorCode SgmScoreDecode_MLP(SgmScore score, PetscInt n, const PetscScalar *z, PetscScalar *x)
{
  SgmScore_MLP *ml = (SgmScore_MLP *)score->data;
  PetscInt      k  = score->dim, D = ml->D;

  PetscFunctionBegin;
  if (ml->dec) { /* GeoLDM: the egnn decoder, zero-CoM clouds */
    PetscCall(SgmNetCloudDecode(ml->dec, n, z, x));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt c = 0; c < D; c++) {
      PetscReal v = ml->lmean[c];
      for (PetscInt j = 0; j < k; j++) v += ml->lbasis[c * k + j] * z[i * k + j];
      x[i * D + c] = v;
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreSetUp_MLP(SgmScore score)
{
  SgmScore_MLP *ml   = (SgmScore_MLP *)score->data;
  MPI_Comm      comm = PetscObjectComm((PetscObject)score);
  hid_t         file, g;
  const char   *group = ml->weights == SGM_MLP_WEIGHTS_EMA ? "model" : "model_raw";

  PetscFunctionBegin;
  if (!ml->net) {
    PetscCheck(ml->file[0], comm, PETSC_ERR_USER_INPUT, "The mlp score needs a model file: give -%sscore_file model.h5 (written by `sgm train`)", ((PetscObject)score)->prefix ? ((PetscObject)score)->prefix : "");
    PetscCall(SgmH5OpenParallel(comm, ml->file, &file));
    PetscCheck(H5Lexists(file, group, H5P_DEFAULT) > 0, comm, PETSC_ERR_USER_INPUT, "'%s' has no group /%s: it is not a model file of `sgm train`", ml->file, group);
    PetscCall(CheckSDE(score, file));
    PetscCall(SgmNetCreate(comm, &ml->net));
    PetscCallHDF5(g = H5Gopen2(file, group, H5P_DEFAULT));
    PetscCall(SgmNetLoad(ml->net, g));
    PetscCallHDF5(H5Gclose(g));
    PetscCall(PetscFree2(ml->lmean, ml->lbasis));
    PetscCall(SgmNetDestroy(&ml->dec));
    ml->D = 0;
    if (H5Lexists(file, "latent", H5P_DEFAULT) > 0 && H5Lexists(file, "latent/decoder", H5P_DEFAULT) > 0) { /* GeoLDM */
      PetscInt   k, kin, na, dna;
      PetscInt64 D;
      PetscCall(SgmNetGetDimension(ml->net, &k));
      PetscCall(SgmNetGetCloudFeatures(ml->net, &kin, NULL));
      PetscCall(SgmNetCreate(comm, &ml->dec));
      PetscCallHDF5(g = H5Gopen2(file, "latent/decoder", H5P_DEFAULT));
      PetscCall(SgmNetLoad(ml->dec, g));
      PetscCallHDF5(H5Gclose(g));
      PetscCallHDF5(g = H5Gopen2(file, "latent", H5P_DEFAULT));
      PetscCall(SgmH5AttrGetInt(comm, g, "data_dim", &D));
      PetscCallHDF5(H5Gclose(g));
      PetscCall(SgmNetGetAtoms(ml->net, &na, NULL));
      PetscCall(SgmNetGetAtoms(ml->dec, &dna, NULL));
      {
        PetscInt dd, dk;
        PetscCall(SgmNetGetDimension(ml->dec, &dd));
        PetscCall(SgmNetGetCloudFeatures(ml->dec, &dk, NULL));
        PetscCheck(dd == k && dk == kin && dna == na && D > 0 && D % na == 0 && D / na + kin == k / na, comm, PETSC_ERR_USER_INPUT, "'%s': the decoder in /latent/decoder does not fit the latent score network (dimension %" PetscInt_FMT " and %" PetscInt_FMT " feature channels, %" PetscInt_FMT " atoms)", ml->file, k, kin, na);
      }
      ml->D = (PetscInt)D;
    } else if (H5Lexists(file, "latent", H5P_DEFAULT) > 0) {
      PetscInt k, dm[1], db[2];
      PetscCall(SgmNetGetDimension(ml->net, &k));
      PetscCall(SgmH5DatasetShape(comm, file, "latent/mean", 1, dm));
      PetscCall(SgmH5DatasetShape(comm, file, "latent/basis", 2, db));
      PetscCheck(db[0] == dm[0] && db[1] == k, comm, PETSC_ERR_USER_INPUT, "'%s': /latent/basis has shape [%" PetscInt_FMT ",%" PetscInt_FMT "], expected [%" PetscInt_FMT ",%" PetscInt_FMT "]", ml->file, db[0], db[1], dm[0], k);
      ml->D = dm[0];
      PetscCall(PetscMalloc2(ml->D, &ml->lmean, ml->D * k, &ml->lbasis));
      PetscCall(ReadAll(file, "latent/mean", ml->lmean));
      PetscCall(ReadAll(file, "latent/basis", ml->lbasis));
    }
    PetscCallHDF5(H5Fclose(file));
  }
  PetscCall(SgmNetGetDimension(ml->net, &score->dim));
  score->datadim = ml->D;
  {
    PetscInt natoms;
    PetscCall(SgmNetGetAtoms(ml->net, &natoms, NULL));
    if (natoms > 0) { /* a point-cloud net (egnn, distance): samplers work in the zero-CoM subspace; JVPs and
                         divergences by central differences of the score (the interface's fallback) */
      PetscInt kin;
      PetscCall(SgmScoreSetZeroCoM(score, natoms));
      PetscCall(SgmNetGetCloudFeatures(ml->net, &kin, NULL));
      PetscCall(SgmScoreSetZeroCoMFeatures(score, kin));
      score->ops->jvp        = NULL;
      score->ops->divergence = NULL;
    } else {
      score->ops->jvp        = SgmScoreJacobianVector_MLP;
      score->ops->divergence = SgmScoreDivergence_MLP;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Work(SgmScore score, PetscReal t, PetscInt n)
{
  SgmScore_MLP *ml = (SgmScore_MLP *)score->data;
  PetscReal     a, s;

  PetscFunctionBegin;
  if (n > ml->nwork) {
    PetscCall(PetscFree5(ml->tt, ml->al, ml->si, ml->lab, ml->sw));
    PetscCall(PetscMalloc5(n, &ml->tt, n, &ml->al, n, &ml->si, n, &ml->lab, n * score->dim, &ml->sw));
    ml->nwork = n;
  }
  PetscCall(SgmSDEMarginal(score->sde, t, &a, &s));
  for (PetscInt i = 0; i < n; i++) {
    ml->tt[i]  = t;
    ml->al[i]  = a;
    ml->si[i]  = s;
    ml->lab[i] = ml->label;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreApply_MLP(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, PetscScalar *s)
{
  SgmScore_MLP *ml = (SgmScore_MLP *)score->data;

  PetscFunctionBegin;
  if (!n) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(Work(score, t, n));
  PetscCall(SgmNetScore(ml->net, n, x, ml->tt, ml->al, ml->si, ml->lab, s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreJacobianVector_MLP(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, const PetscScalar *v, PetscScalar *jv)
{
  SgmScore_MLP *ml = (SgmScore_MLP *)score->data;

  PetscFunctionBegin;
  if (!n) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(Work(score, t, n));
  PetscCall(SgmNetScoreJacobianVector(ml->net, n, x, ml->tt, ml->al, ml->si, ml->lab, v, ml->sw, jv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreDivergence_MLP(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, PetscReal *div)
{
  SgmScore_MLP *ml = (SgmScore_MLP *)score->data;

  PetscFunctionBegin;
  if (!n) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(Work(score, t, n));
  PetscCall(SgmNetScoreDivergence(ml->net, n, x, ml->tt, ml->al, ml->si, ml->lab, NULL, div));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreConditional_MLP(SgmScore score, PetscInt y, SgmScore *cond)
{
  SgmScore_MLP *ml = (SgmScore_MLP *)score->data, *cm;
  PetscInt      nc;

  PetscFunctionBegin;
  PetscCall(SgmNetGetNumClasses(ml->net, &nc));
  PetscCheck(nc > 0, PetscObjectComm((PetscObject)score), PETSC_ERR_USER_INPUT, "-class %" PetscInt_FMT ": the network in '%s' is not class-conditional (train it with -train_conditional)", y, ml->file);
  PetscCheck(y < nc, PetscObjectComm((PetscObject)score), PETSC_ERR_USER_INPUT, "-class %" PetscInt_FMT ": the network in '%s' knows classes 0 .. %" PetscInt_FMT, y, ml->file, nc - 1);
  PetscCall(SgmScoreCreate(PetscObjectComm((PetscObject)score), cond));
  PetscCall(SgmScoreSetType(*cond, SGMSCOREMLP));
  cm = (SgmScore_MLP *)(*cond)->data;
  PetscCall(PetscObjectReference((PetscObject)ml->net));
  cm->net   = ml->net;
  cm->label = y;
  PetscCall(PetscStrncpy(cm->file, ml->file, sizeof(cm->file)));
  cm->weights = ml->weights;
  cm->D       = ml->D;
  if (ml->dec) PetscCall(PetscObjectReference((PetscObject)ml->dec));
  cm->dec = ml->dec;
  if (ml->D && !ml->dec) {
    PetscInt k;
    PetscCall(SgmNetGetDimension(ml->net, &k));
    PetscCall(PetscMalloc2(ml->D, &cm->lmean, ml->D * k, &cm->lbasis));
    PetscCall(PetscArraycpy(cm->lmean, ml->lmean, ml->D));
    PetscCall(PetscArraycpy(cm->lbasis, ml->lbasis, ml->D * k));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreView_MLP(SgmScore score, PetscViewer viewer)
{
  SgmScore_MLP *ml = (SgmScore_MLP *)score->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "network from %s (%s weights)%s\n", ml->file, SgmMLPWeightsTypes[ml->weights], ml->label >= 0 ? ", class-conditional" : ""));
  if (ml->D) PetscCall(PetscViewerASCIIPrintf(viewer, "latent model: samples of dimension %" PetscInt_FMT " decoded to %" PetscInt_FMT " by the %s decoder of the file\n", score->dim, ml->D, ml->dec ? "GeoLDM (egnn)" : "PCA"));
  if (ml->label >= 0) PetscCall(PetscViewerASCIIPrintf(viewer, "label %" PetscInt_FMT "\n", ml->label));
  if (ml->net) PetscCall(SgmNetView(ml->net, viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreWriteAttributes_MLP(SgmScore score, hid_t file)
{
  SgmScore_MLP *ml = (SgmScore_MLP *)score->data;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrString(file, "score_file", ml->file));
  PetscCall(SgmH5AttrString(file, "mlp_weights", SgmMLPWeightsTypes[ml->weights]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreDestroy_MLP(SgmScore score)
{
  SgmScore_MLP *ml = (SgmScore_MLP *)score->data;

  PetscFunctionBegin;
  PetscCall(SgmNetDestroy(&ml->net));
  PetscCall(SgmNetDestroy(&ml->dec));
  PetscCall(PetscFree5(ml->tt, ml->al, ml->si, ml->lab, ml->sw));
  PetscCall(PetscFree2(ml->lmean, ml->lbasis));
  PetscCall(PetscFree(score->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmScoreCreate_MLP(SgmScore score)
{
  SgmScore_MLP *ml;

  PetscFunctionBegin;
  PetscCall(PetscNew(&ml));
  ml->label                  = -1;
  score->data                = ml;
  score->ops->setfromoptions = SgmScoreSetFromOptions_MLP;
  score->ops->setup          = SgmScoreSetUp_MLP;
  score->ops->apply          = SgmScoreApply_MLP;
  score->ops->jvp            = SgmScoreJacobianVector_MLP;
  score->ops->divergence     = SgmScoreDivergence_MLP;
  score->ops->conditional    = SgmScoreConditional_MLP;
  score->ops->decode         = SgmScoreDecode_MLP;
  score->ops->view           = SgmScoreView_MLP;
  score->ops->attributes     = SgmScoreWriteAttributes_MLP;
  score->ops->destroy        = SgmScoreDestroy_MLP;
  PetscFunctionReturn(PETSC_SUCCESS);
}
