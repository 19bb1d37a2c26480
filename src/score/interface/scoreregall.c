#include <sgm/private/scoreimpl.h>

PETSC_INTERN PetscErrorCode SgmScoreCreate_Gaussian(SgmScore);
PETSC_INTERN PetscErrorCode SgmScoreCreate_GMM(SgmScore);

PETSC_INTERN PetscErrorCode SgmScoreRegisterAll(void)
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListAdd(&SgmScoreList, SGMSCOREGAUSSIAN, SgmScoreCreate_Gaussian));
  PetscCall(PetscFunctionListAdd(&SgmScoreList, SGMSCOREGMM, SgmScoreCreate_GMM));
  PetscFunctionReturn(PETSC_SUCCESS);
}
