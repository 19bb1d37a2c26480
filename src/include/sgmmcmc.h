/*
  `sgm mcmc` (issue 9, doc/geometric.md): Metropolis random-walk sampling of particle-system
  energies, the reference data of equivariant generative models (Koehler, Klein, Noe 2020,
  "Equivariant flows"): DW4 (4 particles in 2-D, double-well pair potential) and LJ13 (13
  Lennard-Jones particles in 3-D with a harmonic centre term).  Target density exp(-E(x)), kT = 1.

  SgmEnergy: an energy E(x) of n particles in dim dimensions, x[i*dim + c], with its gradient and
  named parts (e.g. LJ13: the pair sum and the oscillator).  Types registered by name in
  SgmEnergyList (-mcmc_target dw4|lj13).
*/
#pragma once

#include <sgmsys.h>

typedef struct _n_SgmEnergy *SgmEnergy;
typedef const char          *SgmEnergyType;
#define SGMENERGYDW4  "dw4"
#define SGMENERGYLJ13 "lj13"

PETSC_EXTERN PetscFunctionList SgmEnergyList;

PETSC_EXTERN PetscErrorCode SgmEnergyCreate(MPI_Comm, SgmEnergy *);
PETSC_EXTERN PetscErrorCode SgmEnergySetType(SgmEnergy, SgmEnergyType);
PETSC_EXTERN PetscErrorCode SgmEnergyRegister(const char[], PetscErrorCode (*)(SgmEnergy));
PETSC_EXTERN PetscErrorCode SgmEnergySetFromOptions(SgmEnergy);
PETSC_EXTERN PetscErrorCode SgmEnergyGetSize(SgmEnergy, PetscInt *, PetscInt *);
PETSC_EXTERN PetscErrorCode SgmEnergyGetType(SgmEnergy, SgmEnergyType *);
PETSC_EXTERN PetscErrorCode SgmEnergyGetDefaults(SgmEnergy, PetscReal *, PetscReal *);
PETSC_EXTERN PetscErrorCode SgmEnergyGetParts(SgmEnergy, PetscInt *, const char *const **);
PETSC_EXTERN PetscErrorCode SgmEnergyEval(SgmEnergy, const PetscReal[], PetscReal *, PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmEnergyWriteAttributes(SgmEnergy, hid_t);
PETSC_EXTERN PetscErrorCode SgmEnergyView(SgmEnergy, PetscViewer);
PETSC_EXTERN PetscErrorCode SgmEnergyDestroy(SgmEnergy *);

/* LJ13: sum over ordered pairs i != j (the convention of the published LJ13 data, default) or
   over unordered pairs i < j (the physical Lennard-Jones energy, half as large). */
typedef enum {
  SGM_LJ_PAIRS_ORDERED,
  SGM_LJ_PAIRS_UNORDERED
} SgmLJPairs;
PETSC_EXTERN const char *const SgmLJPairsTypes[];

/* Metropolis chains: each one a pure function of (seed, chain index). */
typedef enum {
  SGM_MCMC_MOVE_PARTICLE, /* one particle at a time, a sweep = n proposals in particle order */
  SGM_MCMC_MOVE_ALL       /* all particles at once, the proposal projected to zero centre of mass */
} SgmMCMCMove;
PETSC_EXTERN const char *const SgmMCMCMoves[];

typedef struct {
  PetscReal   step;       /* proposal standard deviation per coordinate */
  PetscReal   init_scale; /* the chain starts at init_scale * N(0, I), centred */
  PetscInt    burnin;     /* sweeps discarded */
  PetscInt    thin;       /* sweeps between recorded samples */
  PetscInt    nsamples;   /* samples recorded per chain */
  SgmMCMCMove move;
  uint64_t    seed;
} SgmMCMCParams;

PETSC_EXTERN PetscErrorCode SgmMCMCRunChain(SgmEnergy, const SgmMCMCParams *, PetscInt, PetscReal[], PetscReal[], PetscReal[], PetscInt64 *, PetscInt64 *);
