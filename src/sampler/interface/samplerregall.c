#include <sgm/private/samplerimpl.h>


PETSC_INTERN PetscErrorCode SgmSamplerCreate_EM(SgmSampler);
PETSC_INTERN PetscErrorCode SgmSamplerCreate_Ancestral(SgmSampler);
PETSC_INTERN PetscErrorCode SgmSamplerCreate_ODE(SgmSampler);

PETSC_INTERN PetscErrorCode SgmSamplerRegisterAll(void)
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListAdd(&SgmSamplerList, SGMSAMPLEREM, SgmSamplerCreate_EM));
  PetscCall(PetscFunctionListAdd(&SgmSamplerList, SGMSAMPLERANCESTRAL, SgmSamplerCreate_Ancestral));
  PetscCall(PetscFunctionListAdd(&SgmSamplerList, SGMSAMPLERODE, SgmSamplerCreate_ODE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The reverse-SDE integrators are TS types, usable as -ts_type once sgm is initialised. */
PetscErrorCode TSRegister_Sgm(void)
{
  PetscFunctionBegin;
  PetscCall(TSRegister(TSSGMEM, TSCreate_SgmFixed));
  PetscCall(TSRegister(TSSGMANCESTRAL, TSCreate_SgmFixed));
  PetscFunctionReturn(PETSC_SUCCESS);
}
