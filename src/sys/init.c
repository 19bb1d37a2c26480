/* Package registration: classes, log events and the built-in variants of every object. */
#include <sgm.h>
#include <sgmconf.h>

PetscClassId  SGM_SDE_CLASSID, SGM_SCORE_CLASSID, SGM_SAMPLER_CLASSID, SGM_NET_CLASSID;
PetscLogEvent SGM_ScoreEval, SGM_Noise, SGM_Step, SGM_HDF5Write, SGM_HDF5Read;

static PetscBool SgmPackageInitialized = PETSC_FALSE;

PETSC_INTERN PetscErrorCode SgmSDERegisterAll(void);
PETSC_INTERN PetscErrorCode SgmScoreRegisterAll(void);
PETSC_INTERN PetscErrorCode SgmSamplerRegisterAll(void);

PetscErrorCode SgmFinalizePackage(void)
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListDestroy(&SgmSDEList));
  PetscCall(PetscFunctionListDestroy(&SgmScoreList));
  PetscCall(PetscFunctionListDestroy(&SgmSamplerList));
  SgmPackageInitialized = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmInitializePackage(void)
{
  PetscFunctionBegin;
  if (SgmPackageInitialized) PetscFunctionReturn(PETSC_SUCCESS);
  SgmPackageInitialized = PETSC_TRUE;
  PetscCall(TSInitializePackage());
  PetscCall(PetscClassIdRegister("SgmSDE", &SGM_SDE_CLASSID));
  PetscCall(PetscClassIdRegister("SgmScore", &SGM_SCORE_CLASSID));
  PetscCall(PetscClassIdRegister("SgmSampler", &SGM_SAMPLER_CLASSID));
  PetscCall(PetscClassIdRegister("SgmNet", &SGM_NET_CLASSID));
  PetscCall(PetscLogEventRegister("SgmScoreEval", SGM_SCORE_CLASSID, &SGM_ScoreEval));
  PetscCall(PetscLogEventRegister("SgmNoise", SGM_SAMPLER_CLASSID, &SGM_Noise));
  PetscCall(PetscLogEventRegister("SgmStep", SGM_SAMPLER_CLASSID, &SGM_Step));
  PetscCall(PetscLogEventRegister("SgmHDF5Write", SGM_SAMPLER_CLASSID, &SGM_HDF5Write));
  PetscCall(PetscLogEventRegister("SgmHDF5Read", SGM_SCORE_CLASSID, &SGM_HDF5Read));
  PetscCall(SgmSDERegisterAll());
  PetscCall(SgmScoreRegisterAll());
  PetscCall(SgmSamplerRegisterAll());
  PetscCall(TSRegister_Sgm());
  /* HDF5 prints its own error stacks by default; sgm reports failures itself. */
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  PetscCall(PetscRegisterFinalize(SgmFinalizePackage));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmGetVersionInfo(char *buf, size_t len)
{
  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(buf, len, "sgm %s (git %s)", SGM_VERSION_STRING, SGM_GIT_REVISION));
  PetscFunctionReturn(PETSC_SUCCESS);
}
