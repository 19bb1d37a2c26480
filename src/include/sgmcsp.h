/*
  Crystals (issue 9, DiffCSP: Jiao et al. 2023; doc/geometric.md "Crystals (DiffCSP)"): the crystal
  data set, the structure matcher, the CSPNet-like score network, DiffCSP training and the
  predictor-corrector sampler.

  A crystal of n atoms: atomic numbers z[n], fractional coordinates f[3n] (f[3i + a], any real: the
  code works modulo 1), lattice L[9] with the lattice vectors as rows (sgmgeometric.h), so the
  Cartesian position of atom i is sum_a f[3i + a] L[3a + .].
*/
#pragma once

#include <sgmgeometric.h>

typedef struct {
  PetscInt         n;
  const PetscInt  *z;
  const PetscReal *f;
  const PetscReal *L;
} SgmCrystal;

/* ---- a set of crystals in the HDF5 layout of postprocess/sgm-crystals (src/csp/data.c) ---- */
typedef struct {
  PetscInt   N;        /* crystals */
  PetscInt   maxatoms; /* padded width of the per-atom datasets */
  PetscInt  *natoms;   /* [N] */
  PetscInt  *types;    /* [N*maxatoms] atomic numbers, 0 past natoms */
  PetscReal *frac;     /* [N*maxatoms*3] */
  PetscReal *lattice;  /* [N*9] */
} SgmCrystalSet;

PETSC_EXTERN PetscErrorCode SgmCrystalSetLoad(MPI_Comm, const char[], SgmCrystalSet *);
PETSC_EXTERN PetscErrorCode SgmCrystalSetDestroy(SgmCrystalSet *);
PETSC_EXTERN void           SgmCrystalSetGet(const SgmCrystalSet *, PetscInt, SgmCrystal *);

/* ---- lattices (src/csp/lattice.c) ---- */
PETSC_EXTERN PetscReal      SgmCSPDet3(const PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmCSPInverse3(const PetscReal[], PetscReal[]);
PETSC_EXTERN void           SgmCSPLatticeParameters(const PetscReal[], PetscReal[]);
PETSC_EXTERN void           SgmCSPLatticeFromParameters(const PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmCSPLatticeReduce(const PetscReal[], PetscReal[], PetscInt[]);

/* ---- structure matcher (src/csp/match.c, src/csp/assign.c) ---- */
typedef struct {
  PetscReal stol;      /* RMS displacement tolerance in units of (V/n)^(1/3) (pymatgen stol) */
  PetscReal ltol;      /* fractional lattice-length tolerance (pymatgen ltol) */
  PetscReal angle_tol; /* lattice-angle tolerance in degrees */
} SgmCSPMatchParams;

PETSC_EXTERN void           SgmCSPMatchParamsDefault(SgmCSPMatchParams *);
PETSC_EXTERN PetscErrorCode SgmCSPMatch(const SgmCSPMatchParams *, const SgmCrystal *, const SgmCrystal *, PetscBool *, PetscReal *);
PETSC_EXTERN PetscErrorCode SgmCSPAssign(PetscInt, const PetscReal[], PetscInt[], PetscReal *);
PETSC_EXTERN PetscErrorCode SgmCSPMatchSets(MPI_Comm, const SgmCSPMatchParams *, const SgmCrystalSet *, const SgmCrystalSet *, PetscReal[], PetscReal[]);
