/* What the gaussian and gmm score types share: the components, their evaluation and output. */
#include <sgm/private/mixtureimpl.h>
#include <sgmio.h>

static PetscErrorCode SgmScoreApply_Mixture(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, PetscScalar *s)
{
  SgmScore_Mixture *sm = (SgmScore_Mixture *)score->data;

  PetscFunctionBegin;
  PetscCall(SgmMixtureAtTime(sm->mix, score->sde, t));
  PetscCall(SgmMixtureScore(sm->mix, n, x, s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreLogDensity_Mixture(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, PetscReal *logp)
{
  SgmScore_Mixture *sm = (SgmScore_Mixture *)score->data;

  PetscFunctionBegin;
  PetscCall(SgmMixtureAtTime(sm->mix, score->sde, t));
  PetscCall(SgmMixtureLogDensity(sm->mix, n, x, logp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreJVP_Mixture(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, const PetscScalar *u, PetscScalar *Ju)
{
  SgmScore_Mixture *sm = (SgmScore_Mixture *)score->data;

  PetscFunctionBegin;
  PetscCall(SgmMixtureAtTime(sm->mix, score->sde, t));
  PetscCall(SgmMixtureJacobianVector(sm->mix, n, x, u, Ju));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreDivergence_Mixture(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, PetscReal *div)
{
  SgmScore_Mixture *sm = (SgmScore_Mixture *)score->data;

  PetscFunctionBegin;
  PetscCall(SgmMixtureAtTime(sm->mix, score->sde, t));
  PetscCall(SgmMixtureDivergence(sm->mix, n, x, div));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreSetUp_Mixture(SgmScore score)
{
  SgmScore_Mixture *sm   = (SgmScore_Mixture *)score->data;
  MPI_Comm          comm = PetscObjectComm((PetscObject)score);

  PetscFunctionBegin;
  PetscCheck(sm->K > 0, comm, PETSC_ERR_USER_INPUT, "The %s score has no parameters: %s", ((PetscObject)score)->type_name, sm->hint);
  PetscCall(SgmMixtureDestroy(&sm->mix));
  PetscCall(SgmMixtureCreate(comm, sm->file[0] ? sm->file : ((PetscObject)score)->type_name, sm->K, sm->d, sm->w, sm->mu, sm->cov, &sm->mix));
  score->dim = sm->d;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreAttributes_Mixture(SgmScore score, hid_t file)
{
  SgmScore_Mixture *sm = (SgmScore_Mixture *)score->data;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrString(file, "score_file", sm->file));
  PetscCall(SgmH5AttrInt(file, "score_components", sm->K));
  PetscCall(SgmMixtureWrite(sm->mix, PetscObjectComm((PetscObject)score), file));
  if (sm->labels) { /* /target/labels [K], next to the components they label */
    hid_t      grp;
    hsize_t    dk[1] = {(hsize_t)sm->K};
    PetscReal *l;
    PetscCall(PetscMalloc1(sm->K, &l));
    for (PetscInt k = 0; k < sm->K; k++) l[k] = (PetscReal)sm->labels[k];
    PetscCallHDF5(grp = H5Gopen2(file, "target", H5P_DEFAULT));
    PetscCall(SgmH5WriteSmall(PetscObjectComm((PetscObject)score), grp, "labels", 1, dk, l));
    PetscCallHDF5(H5Gclose(grp));
    PetscCall(PetscFree(l));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreView_Mixture(SgmScore score, PetscViewer viewer)
{
  SgmScore_Mixture *sm = (SgmScore_Mixture *)score->data;

  PetscFunctionBegin;
  if (sm->file[0]) PetscCall(PetscViewerASCIIPrintf(viewer, "from %s\n", sm->file));
  if (sm->labels) PetscCall(PetscViewerASCIIPrintf(viewer, "components labelled by class\n"));
  if (sm->mix) PetscCall(SgmMixtureView(sm->mix, viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreMixtureClear(SgmScore_Mixture *sm)
{
  PetscFunctionBegin;
  PetscCall(PetscFree3(sm->w, sm->mu, sm->cov));
  PetscCall(PetscFree(sm->labels));
  PetscCall(SgmMixtureDestroy(&sm->mix));
  sm->K = sm->d = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreDestroy_Mixture(SgmScore score)
{
  PetscFunctionBegin;
  PetscCall(SgmScoreMixtureClear((SgmScore_Mixture *)score->data));
  PetscCall(PetscFree(score->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Components given directly: weights [K], means [K,d], covariances [K,d,d] (row-major). */
PetscErrorCode SgmScoreMixtureSetComponents(SgmScore score, PetscInt K, PetscInt d, const PetscReal w[], const PetscReal mu[], const PetscReal cov[])
{
  SgmScore_Mixture *sm = (SgmScore_Mixture *)score->data;

  PetscFunctionBegin;
  PetscCall(SgmScoreMixtureClear(sm));
  PetscCall(PetscMalloc3(K, &sm->w, K * d, &sm->mu, K * d * d, &sm->cov));
  PetscCall(PetscArraycpy(sm->w, w, K));
  PetscCall(PetscArraycpy(sm->mu, mu, K * d));
  PetscCall(PetscArraycpy(sm->cov, cov, K * d * d));
  sm->K              = K;
  sm->d              = d;
  score->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Class labels of the K components (for guidance, -class y): non-negative integers. */
PetscErrorCode SgmScoreMixtureSetLabels(SgmScore score, PetscInt K, const PetscInt labels[])
{
  SgmScore_Mixture *sm   = (SgmScore_Mixture *)score->data;
  MPI_Comm          comm = PetscObjectComm((PetscObject)score);

  PetscFunctionBegin;
  PetscCheck(K == sm->K, comm, PETSC_ERR_ARG_SIZ, "%" PetscInt_FMT " labels given for a mixture of %" PetscInt_FMT " components: give one per component", K, sm->K);
  for (PetscInt k = 0; k < K; k++) PetscCheck(labels[k] >= 0, comm, PETSC_ERR_USER_INPUT, "Label %" PetscInt_FMT " is %" PetscInt_FMT "; class labels must be non-negative integers", k, labels[k]);
  PetscCall(PetscFree(sm->labels));
  PetscCall(PetscMalloc1(K, &sm->labels));
  PetscCall(PetscArraycpy(sm->labels, labels, K));
  score->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether the HDF5 file has the dataset (checked on rank 0; the file itself has been read already). */
static PetscErrorCode SgmH5HasDataset(MPI_Comm comm, const char fname[], const char dname[], PetscBool *has)
{
  PetscMPIInt rank;
  int         flg = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    hid_t file = H5Fopen(fname, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file >= 0) {
      flg = H5Lexists(file, dname, H5P_DEFAULT) > 0;
      H5Fclose(file);
    }
  }
  PetscCallMPI(MPI_Bcast(&flg, 1, MPI_INT, 0, comm));
  *has = flg ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The optional /labels [K] of a gmm file, integers stored as integers or floats. */
static PetscErrorCode SgmScoreMixtureLoadLabels(SgmScore score)
{
  SgmScore_Mixture *sm   = (SgmScore_Mixture *)score->data;
  MPI_Comm          comm = PetscObjectComm((PetscObject)score);
  PetscInt          dl[1], *lab;
  PetscReal        *l;
  PetscBool         has;

  PetscFunctionBegin;
  PetscCall(SgmH5HasDataset(comm, sm->file, "/labels", &has));
  if (!has) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SgmH5ReadReal(comm, sm->file, "/labels", 1, dl, &l));
  PetscCheck(dl[0] == sm->K, comm, PETSC_ERR_ARG_SIZ, "In '%s', /labels has %" PetscInt_FMT " entries but there are %" PetscInt_FMT " components: give one label per component", sm->file, dl[0], sm->K);
  PetscCall(PetscMalloc1(sm->K, &lab));
  for (PetscInt k = 0; k < sm->K; k++) {
    PetscCheck(l[k] >= 0 && l[k] == PetscFloorReal(l[k]) && l[k] < PETSC_MAX_INT, comm, PETSC_ERR_USER_INPUT, "In '%s', /labels[%" PetscInt_FMT "] is %g; class labels must be non-negative integers", sm->file, k, (double)l[k]);
    lab[k] = (PetscInt)l[k];
  }
  PetscCall(SgmScoreMixtureSetLabels(score, sm->K, lab));
  PetscCall(PetscFree(lab));
  PetscCall(PetscFree(l));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The class-conditional score of a labelled mixture: p_0(x|y) = sum_{k: label k = y} w_k N_k / sum w_k
   (weights renormalised when the mixture is built), diffused by the same SDE. */
PetscErrorCode SgmScoreConditional_Mixture(SgmScore score, PetscInt y, SgmScore *cond)
{
  SgmScore_Mixture *sm = (SgmScore_Mixture *)score->data, *cm;
  MPI_Comm          comm = PetscObjectComm((PetscObject)score);
  const char       *src  = sm->file[0] ? sm->file : "the mixture";
  PetscInt          K = sm->K, d = sm->d, Ky = 0, lmax = 0;
  PetscReal        *w, *mu, *cov;

  PetscFunctionBegin;
  PetscCheck(sm->labels, comm, PETSC_ERR_USER_INPUT, "-class %" PetscInt_FMT " needs class labels, but %s has none: add a dataset /labels [K] (one integer per component) to the gmm file", y, src);
  for (PetscInt k = 0; k < K; k++) {
    if (sm->labels[k] == y) Ky++;
    lmax = PetscMax(lmax, sm->labels[k]);
  }
  PetscCheck(Ky > 0, comm, PETSC_ERR_USER_INPUT, "-class %" PetscInt_FMT ": no component of %s has that label (labels range from 0 to %" PetscInt_FMT ")", y, src, lmax);
  PetscCall(PetscMalloc3(Ky, &w, Ky * d, &mu, Ky * d * d, &cov));
  for (PetscInt k = 0, c = 0; k < K; k++) {
    if (sm->labels[k] != y) continue;
    w[c] = sm->w[k];
    PetscCall(PetscArraycpy(mu + c * d, sm->mu + k * d, d));
    PetscCall(PetscArraycpy(cov + c * d * d, sm->cov + k * d * d, d * d));
    c++;
  }
  PetscCall(SgmScoreCreate(comm, cond));
  PetscCall(SgmScoreSetType(*cond, ((PetscObject)score)->type_name));
  PetscCall(SgmScoreMixtureSetComponents(*cond, Ky, d, w, mu, cov));
  cm = (SgmScore_Mixture *)(*cond)->data;
  PetscCall(PetscSNPrintf(cm->file, sizeof(cm->file), "%s, class %" PetscInt_FMT, src, y));
  PetscCall(PetscFree3(w, mu, cov));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Read sm->file: gmm layout (/weights [K], /means [K,d], /covariances [K,d,d]) or, for a single
   Gaussian, (/mean [d], /covariance [d,d]).  Every shape is checked against the others. */
PetscErrorCode SgmScoreMixtureLoadFile(SgmScore score, PetscBool single)
{
  SgmScore_Mixture *sm   = (SgmScore_Mixture *)score->data;
  MPI_Comm          comm = PetscObjectComm((PetscObject)score);
  const char       *f    = sm->file;
  PetscInt          dw[1], dm[2], dc[3];
  PetscReal        *w = NULL, *mu, *cov;

  PetscFunctionBegin;
  if (single) {
    PetscCall(SgmH5ReadReal(comm, f, "/mean", 1, dm, &mu));
    PetscCall(SgmH5ReadReal(comm, f, "/covariance", 2, dc, &cov));
    PetscCheck(dc[0] == dm[0] && dc[1] == dm[0], comm, PETSC_ERR_ARG_SIZ, "In '%s', /covariance has shape [%" PetscInt_FMT ",%" PetscInt_FMT "] but /mean has length %" PetscInt_FMT ": expected [%" PetscInt_FMT ",%" PetscInt_FMT "]", f, dc[0], dc[1], dm[0], dm[0], dm[0]);
    dw[0] = 1;
    dm[1] = dm[0];
    dm[0] = 1;
    PetscCall(PetscMalloc1(1, &w));
    w[0] = 1;
  } else {
    PetscCall(SgmH5ReadReal(comm, f, "/weights", 1, dw, &w));
    PetscCall(SgmH5ReadReal(comm, f, "/means", 2, dm, &mu));
    PetscCall(SgmH5ReadReal(comm, f, "/covariances", 3, dc, &cov));
    PetscCheck(dm[0] == dw[0], comm, PETSC_ERR_ARG_SIZ, "In '%s', /means has %" PetscInt_FMT " rows but /weights has %" PetscInt_FMT " entries: both must equal the number of components", f, dm[0], dw[0]);
    PetscCheck(dc[0] == dw[0] && dc[1] == dm[1] && dc[2] == dm[1], comm, PETSC_ERR_ARG_SIZ, "In '%s', /covariances has shape [%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT "]; expected [%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT "] from /weights and /means", f, dc[0], dc[1], dc[2], dw[0], dm[1], dm[1]);
  }
  PetscCall(SgmScoreMixtureSetComponents(score, dw[0], dm[1], w, mu, cov));
  if (!single) PetscCall(SgmScoreMixtureLoadLabels(score));
  PetscCall(PetscFree(w));
  PetscCall(PetscFree(mu));
  PetscCall(PetscFree(cov));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreCreate_Mixture(SgmScore score)
{
  SgmScore_Mixture *sm;

  PetscFunctionBegin;
  PetscCall(PetscNew(&sm));
  sm->hint                = "set them with SgmScoreMixtureSetComponents()";
  score->data             = sm;
  score->ops->apply       = SgmScoreApply_Mixture;
  score->ops->logdensity  = SgmScoreLogDensity_Mixture;
  score->ops->jvp         = SgmScoreJVP_Mixture;
  score->ops->divergence  = SgmScoreDivergence_Mixture;
  score->ops->setup       = SgmScoreSetUp_Mixture;
  score->ops->attributes  = SgmScoreAttributes_Mixture;
  score->ops->view        = SgmScoreView_Mixture;
  score->ops->destroy     = SgmScoreDestroy_Mixture;
  PetscFunctionReturn(PETSC_SUCCESS);
}
