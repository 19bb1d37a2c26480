#include <sgm/private/samplerimpl.h>


PETSC_INTERN PetscErrorCode SgmSamplerCreate_EM(SgmSampler);
PETSC_INTERN PetscErrorCode SgmSamplerCreate_Ancestral(SgmSampler);
PETSC_INTERN PetscErrorCode SgmSamplerCreate_ODE(SgmSampler);
PETSC_INTERN PetscErrorCode SgmSamplerCreate_PC(SgmSampler);
PETSC_INTERN PetscErrorCode SgmSamplerCreate_ALD(SgmSampler);
PETSC_INTERN PetscErrorCode SgmSamplerCreate_DDIM(SgmSampler);
PETSC_INTERN PetscErrorCode SgmSamplerCreate_Heun(SgmSampler);
PETSC_INTERN PetscErrorCode SgmSamplerCreate_EDM(SgmSampler);
PETSC_INTERN PetscErrorCode SgmSamplerCreate_DPMpp2M(SgmSampler);
PETSC_INTERN PetscErrorCode SgmSamplerCreate_Adaptive(SgmSampler);
PETSC_INTERN PetscErrorCode TSCreate_SgmAdaptive(TS);
PETSC_INTERN PetscErrorCode TSAdaptCreate_SgmGTG(TSAdapt);

PETSC_INTERN PetscErrorCode SgmSamplerRegisterAll(void)
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListAdd(&SgmSamplerList, SGMSAMPLEREM, SgmSamplerCreate_EM));
  PetscCall(PetscFunctionListAdd(&SgmSamplerList, SGMSAMPLERANCESTRAL, SgmSamplerCreate_Ancestral));
  PetscCall(PetscFunctionListAdd(&SgmSamplerList, SGMSAMPLERODE, SgmSamplerCreate_ODE));
  PetscCall(PetscFunctionListAdd(&SgmSamplerList, SGMSAMPLERPC, SgmSamplerCreate_PC));
  PetscCall(PetscFunctionListAdd(&SgmSamplerList, SGMSAMPLERALD, SgmSamplerCreate_ALD));
  PetscCall(PetscFunctionListAdd(&SgmSamplerList, SGMSAMPLERDDIM, SgmSamplerCreate_DDIM));
  PetscCall(PetscFunctionListAdd(&SgmSamplerList, SGMSAMPLERHEUN, SgmSamplerCreate_Heun));
  PetscCall(PetscFunctionListAdd(&SgmSamplerList, SGMSAMPLEREDM, SgmSamplerCreate_EDM));
  PetscCall(PetscFunctionListAdd(&SgmSamplerList, SGMSAMPLERDPMPP2M, SgmSamplerCreate_DPMpp2M));
  PetscCall(PetscFunctionListAdd(&SgmSamplerList, SGMSAMPLERADAPTIVE, SgmSamplerCreate_Adaptive));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The reverse-SDE integrators are TS types, usable as -ts_type once sgm is initialised. */
PetscErrorCode TSRegister_Sgm(void)
{
  PetscFunctionBegin;
  PetscCall(TSRegister(TSSGMEM, TSCreate_SgmFixed));
  PetscCall(TSRegister(TSSGMANCESTRAL, TSCreate_SgmFixed));
  PetscCall(TSRegister(TSSGMPC, TSCreate_SgmFixed));
  PetscCall(TSRegister(TSSGMALD, TSCreate_SgmFixed));
  PetscCall(TSRegister(TSSGMDDIM, TSCreate_SgmFixed));
  PetscCall(TSRegister(TSSGMHEUN, TSCreate_SgmFixed));
  PetscCall(TSRegister(TSSGMEDM, TSCreate_SgmFixed));
  PetscCall(TSRegister(TSSGMDPMPP2M, TSCreate_SgmFixed));
  PetscCall(TSRegister(TSSGMADAPTIVE, TSCreate_SgmAdaptive));
  PetscCall(TSAdaptRegister(TSADAPTSGMGTG, TSAdaptCreate_SgmGTG));
  PetscFunctionReturn(PETSC_SUCCESS);
}
