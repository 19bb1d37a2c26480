#include <sgm/private/sdeimpl.h>

PETSC_INTERN PetscErrorCode SgmSDECreate_VP(SgmSDE);
PETSC_INTERN PetscErrorCode SgmSDECreate_SubVP(SgmSDE);
PETSC_INTERN PetscErrorCode SgmSDECreate_VE(SgmSDE);

PETSC_INTERN PetscErrorCode SgmSDERegisterAll(void)
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListAdd(&SgmSDEList, SGMSDEVP, SgmSDECreate_VP));
  PetscCall(PetscFunctionListAdd(&SgmSDEList, SGMSDESUBVP, SgmSDECreate_SubVP));
  PetscCall(PetscFunctionListAdd(&SgmSDEList, SGMSDEVE, SgmSDECreate_VE));
  PetscFunctionReturn(PETSC_SUCCESS);
}
