/*
  Geometric building blocks (issue 9, doc/geometric.md): point clouds in the zero-centre-of-mass
  subspace (EDM, GeoLDM), the wrapped normal on the unit torus (DiffCSP) and the periodic multi-graph
  of a crystal with its distance-based score (SyMat, ConfGF).

  Layouts: a batch of nb point clouds of n points in dim dimensions is x[(b*n + i)*dim + c].
  A lattice L[9] holds the lattice vectors as rows, L[3*a + c] = component c of vector a, and the
  Cartesian position of fractional coordinates f is x = sum_a f_a L_a (the pymatgen convention;
  DiffCSP writes the vectors as columns, x = L f).
*/
#pragma once

#include <sgmsys.h>

/* ---- zero centre of mass (src/geometric/com.c) ---- */
PETSC_EXTERN PetscErrorCode SgmGeomRemoveCoM(PetscInt, PetscInt, PetscInt, PetscScalar[]);
/* atoms of stride channels of which the first dim are coordinates (centred), the rest invariant features */
PETSC_EXTERN PetscErrorCode SgmGeomRemoveCoMStrided(PetscInt, PetscInt, PetscInt, PetscInt, PetscScalar[]);
PETSC_EXTERN PetscErrorCode SgmGeomZeroCoMGaussianLogDensity(PetscInt, PetscInt, PetscReal, const PetscScalar[], PetscReal *);

/* ---- wrapped normal on the unit torus (src/geometric/wrapped.c) ---- */
PETSC_EXTERN PetscErrorCode SgmWrappedNormalImages(PetscReal, PetscReal, PetscInt *);
PETSC_EXTERN PetscErrorCode SgmWrappedNormalTruncationBound(PetscReal, PetscInt, PetscReal *, PetscReal *);
PETSC_EXTERN PetscErrorCode SgmWrappedNormalEval(PetscReal, PetscReal, PetscInt, PetscReal *, PetscReal *);

/* ---- periodic multi-graph (src/geometric/pbc.c) ---- */
typedef struct {
  PetscInt i, j;    /* atoms: the edge vector runs from atom i to the image k of atom j */
  PetscInt k[3];    /* lattice translation (integer image shift) */
  PetscReal v[3];   /* x_j + sum_a k_a L_a - x_i (Cartesian) */
  PetscReal d;      /* |v| */
} SgmEdge;

PETSC_EXTERN PetscErrorCode SgmLatticeWidths(const PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmPeriodicEdges(PetscInt, const PetscReal[], const PetscReal[], PetscReal, PetscInt *, SgmEdge **);
PETSC_EXTERN PetscErrorCode SgmDistanceScoreToAtoms(PetscInt, PetscInt, const SgmEdge[], const PetscReal[], PetscReal[]);
