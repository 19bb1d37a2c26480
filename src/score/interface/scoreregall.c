#include <sgm/private/scoreimpl.h>
#include <sgmtrain.h>
#include <sgmconvnet.h>

PETSC_INTERN PetscErrorCode SgmScoreCreate_Gaussian(SgmScore);
PETSC_INTERN PetscErrorCode SgmScoreCreate_GMM(SgmScore);
PETSC_INTERN PetscErrorCode SgmScoreCreate_Posterior(SgmScore);
PETSC_INTERN PetscErrorCode SgmScoreCreate_MLP(SgmScore);
PETSC_INTERN PetscErrorCode SgmScoreCreate_GaussianDense(SgmScore);
PETSC_INTERN PetscErrorCode SgmScoreCreate_White(SgmScore);
PETSC_INTERN PetscErrorCode SgmScoreCreate_GMRF(SgmScore);
PETSC_INTERN PetscErrorCode SgmScoreCreate_GRFFFT(SgmScore);
PETSC_INTERN PetscErrorCode SgmScoreCreate_ConvNet(SgmScore);

PETSC_INTERN PetscErrorCode SgmScoreRegisterAll(void)
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListAdd(&SgmScoreList, SGMSCOREGAUSSIAN, SgmScoreCreate_Gaussian));
  PetscCall(PetscFunctionListAdd(&SgmScoreList, SGMSCOREGMM, SgmScoreCreate_GMM));
  PetscCall(PetscFunctionListAdd(&SgmScoreList, SGMSCOREPOSTERIOR, SgmScoreCreate_Posterior));
  PetscCall(PetscFunctionListAdd(&SgmScoreList, SGMSCOREMLP, SgmScoreCreate_MLP));
  PetscCall(PetscFunctionListAdd(&SgmScoreList, "gaussian_dense", SgmScoreCreate_GaussianDense)); /* sgmdense.h */
  PetscCall(PetscFunctionListAdd(&SgmScoreList, SGMSCOREWHITE, SgmScoreCreate_White)); /* fields, sgmfield.h */
  PetscCall(PetscFunctionListAdd(&SgmScoreList, SGMSCOREGMRF, SgmScoreCreate_GMRF));
  PetscCall(PetscFunctionListAdd(&SgmScoreList, SGMSCOREGRFFFT, SgmScoreCreate_GRFFFT));
  PetscCall(PetscFunctionListAdd(&SgmScoreList, SGMSCORECONVNET, SgmScoreCreate_ConvNet)); /* sgmconvnet.h */
  PetscFunctionReturn(PETSC_SUCCESS);
}
