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
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreView_Mixture(SgmScore score, PetscViewer viewer)
{
  SgmScore_Mixture *sm = (SgmScore_Mixture *)score->data;

  PetscFunctionBegin;
  if (sm->file[0]) PetscCall(PetscViewerASCIIPrintf(viewer, "from %s\n", sm->file));
  if (sm->mix) PetscCall(SgmMixtureView(sm->mix, viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreMixtureClear(SgmScore_Mixture *sm)
{
  PetscFunctionBegin;
  PetscCall(PetscFree3(sm->w, sm->mu, sm->cov));
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
