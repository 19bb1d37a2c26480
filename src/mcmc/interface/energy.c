/* SgmEnergy: creation, the type registry, options and evaluation (src/include/sgmmcmc.h). */
#include <sgm/private/energyimpl.h>
#include <sgmio.h>

PetscFunctionList SgmEnergyList = NULL;

PETSC_INTERN PetscErrorCode SgmEnergyCreate_DW4(SgmEnergy);
PETSC_INTERN PetscErrorCode SgmEnergyCreate_LJ13(SgmEnergy);

static PetscErrorCode SgmEnergyRegisterAll(void)
{
  PetscFunctionBegin;
  if (SgmEnergyList) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFunctionListAdd(&SgmEnergyList, SGMENERGYDW4, SgmEnergyCreate_DW4));
  PetscCall(PetscFunctionListAdd(&SgmEnergyList, SGMENERGYLJ13, SgmEnergyCreate_LJ13));
  PetscCall(PetscRegisterFinalize(SgmEnergyListDestroy_Private));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEnergyListDestroy_Private(void)
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListDestroy(&SgmEnergyList));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEnergyRegister(const char name[], PetscErrorCode (*create)(SgmEnergy))
{
  PetscFunctionBegin;
  PetscCall(SgmEnergyRegisterAll());
  PetscCall(PetscFunctionListAdd(&SgmEnergyList, name, create));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEnergyCreate(MPI_Comm comm, SgmEnergy *e)
{
  PetscFunctionBegin;
  PetscCall(SgmEnergyRegisterAll());
  PetscCall(PetscNew(e));
  (*e)->comm = comm;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEnergySetType(SgmEnergy e, SgmEnergyType type)
{
  PetscErrorCode (*create)(SgmEnergy);

  PetscFunctionBegin;
  PetscCall(PetscFunctionListFind(SgmEnergyList, type, &create));
  PetscCheck(create, e->comm, PETSC_ERR_USER_INPUT, "Unknown MCMC target '%s' (-mcmc_target): choose dw4 or lj13", type);
  if (e->destroy) PetscCall(e->destroy(e));
  PetscCall(PetscFree(e->type));
  e->data = NULL;
  PetscCall(PetscStrallocpy(type, &e->type));
  PetscCall((*create)(e));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEnergySetFromOptions(SgmEnergy e)
{
  char      type[64];
  PetscBool flg;

  PetscFunctionBegin;
  PetscOptionsBegin(e->comm, NULL, "MCMC target energy", "SgmEnergy");
  PetscCall(PetscOptionsFList("-mcmc_target", "Target energy E, density exp(-E)", "SgmEnergySetType", SgmEnergyList, e->type ? e->type : SGMENERGYDW4, type, sizeof(type), &flg));
  if (flg || !e->type) PetscCall(SgmEnergySetType(e, flg ? type : SGMENERGYDW4));
  if (e->setfromoptions) PetscCall(e->setfromoptions(e, PetscOptionsObject));
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEnergyGetSize(SgmEnergy e, PetscInt *n, PetscInt *dim)
{
  PetscFunctionBegin;
  if (n) *n = e->n;
  if (dim) *dim = e->dim;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEnergyGetType(SgmEnergy e, SgmEnergyType *type)
{
  PetscFunctionBegin;
  *type = e->type;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The documented default proposal step (particle moves) and initial spread of the type. */
PetscErrorCode SgmEnergyGetDefaults(SgmEnergy e, PetscReal *step, PetscReal *init_scale)
{
  PetscFunctionBegin;
  if (step) *step = e->step;
  if (init_scale) *init_scale = e->init_scale;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEnergyGetParts(SgmEnergy e, PetscInt *np, const char *const **names)
{
  PetscFunctionBegin;
  if (np) *np = e->nparts;
  if (names) *names = e->partnames;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* E(x); parts[] (e->nparts values) and grad[] (n*dim values) when not NULL. */
PetscErrorCode SgmEnergyEval(SgmEnergy e, const PetscReal x[], PetscReal *E, PetscReal parts[], PetscReal grad[])
{
  PetscFunctionBegin;
  PetscCall(e->eval(e, x, E, parts, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEnergyWriteAttributes(SgmEnergy e, hid_t obj)
{
  PetscFunctionBegin;
  PetscCall(SgmH5AttrString(obj, "mcmc_target", e->type));
  PetscCall(SgmH5AttrInt(obj, "n_particles", e->n));
  PetscCall(SgmH5AttrInt(obj, "n_dimensions", e->dim));
  if (e->attributes) PetscCall(e->attributes(e, obj));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEnergyView(SgmEnergy e, PetscViewer viewer)
{
  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(e->comm, &viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer, "SgmEnergy %s: %" PetscInt_FMT " particles in %" PetscInt_FMT "-D\n", e->type, e->n, e->dim));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEnergyDestroy(SgmEnergy *e)
{
  PetscFunctionBegin;
  if (!*e) PetscFunctionReturn(PETSC_SUCCESS);
  if ((*e)->destroy) PetscCall((*e)->destroy(*e));
  PetscCall(PetscFree((*e)->type));
  PetscCall(PetscFree(*e));
  PetscFunctionReturn(PETSC_SUCCESS);
}
