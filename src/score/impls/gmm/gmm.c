/*
  Gaussian-mixture data, exact score at every t for every SDE:
      p_t(x) = sum_k w_k N(x; alpha(t) mu_k, alpha(t)^2 C_k + sigma(t)^2 I).
  Components from an HDF5 file (-gmm_file): /weights [K], /means [K,d], /covariances [K,d,d], and
  optionally /labels [K], the class of each component, which gives guidance (-class y) its exact
  conditional score: the mixture of the components labelled y.
*/
#include <sgm/private/mixtureimpl.h>

static PetscErrorCode SgmScoreSetFromOptions_GMM(SgmScore score, PetscOptionItems *PetscOptionsObject)
{
  SgmScore_Mixture *sm = (SgmScore_Mixture *)score->data;
  PetscBool         flg;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Gaussian-mixture score options");
  PetscCall(PetscOptionsString("-gmm_file", "HDF5 file with /weights [K], /means [K,d], /covariances [K,d,d], optional /labels [K]", "SgmScoreMixtureLoad", sm->file, sm->file, sizeof(sm->file), &flg));
  PetscOptionsHeadEnd();
  if (flg) PetscCall(SgmScoreMixtureLoadFile(score, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmScoreCreate_GMM(SgmScore score)
{
  PetscFunctionBegin;
  PetscCall(SgmScoreCreate_Mixture(score));
  score->ops->setfromoptions = SgmScoreSetFromOptions_GMM;
  score->ops->conditional    = SgmScoreConditional_Mixture;
  ((SgmScore_Mixture *)score->data)->hint = "give -gmm_file FILE.h5 (datasets /weights [K], /means [K,d], /covariances [K,d,d])";
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Load the components of a gmm or gaussian score from an HDF5 file. */
PetscErrorCode SgmScoreMixtureLoad(SgmScore score, const char file[])
{
  SgmScore_Mixture *sm = (SgmScore_Mixture *)score->data;
  PetscBool         single;

  PetscFunctionBegin;
  PetscCall(PetscStrncpy(sm->file, file, sizeof(sm->file)));
  PetscCall(PetscObjectTypeCompare((PetscObject)score, SGMSCOREGAUSSIAN, &single));
  PetscCall(SgmScoreMixtureLoadFile(score, single));
  PetscFunctionReturn(PETSC_SUCCESS);
}
