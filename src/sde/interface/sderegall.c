#include <sgm/private/sdeimpl.h>

PETSC_INTERN PetscErrorCode SgmSDECreate_VP(SgmSDE);
PETSC_INTERN PetscErrorCode SgmSDECreate_SubVP(SgmSDE);
PETSC_INTERN PetscErrorCode SgmSDECreate_VE(SgmSDE);
PETSC_INTERN PetscErrorCode SgmSDECreate_Poly2(SgmSDE);

PETSC_INTERN PetscErrorCode SgmSDERegisterAll(void)
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListAdd(&SgmSDEList, SGMSDEVP, SgmSDECreate_VP));
  PetscCall(PetscFunctionListAdd(&SgmSDEList, SGMSDESUBVP, SgmSDECreate_SubVP));
  PetscCall(PetscFunctionListAdd(&SgmSDEList, SGMSDEVE, SgmSDECreate_VE));
  PetscCall(PetscFunctionListAdd(&SgmSDEList, SGMSDEPOLY2, SgmSDECreate_Poly2));
  PetscFunctionReturn(PETSC_SUCCESS);
}
