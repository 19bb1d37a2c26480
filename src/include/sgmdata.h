/* Built-in 2-D toy datasets of the score-model literature (FFJORD's toy data, Grathwohl et al.
   2019), as used by `sgm data`.  Definitions and parameters: doc/data.md and src/data/toy.c.
   Point i of a dataset is a pure function of (seed, i), so a batch spread over any number of ranks
   holds the same points, bit for bit. */
#pragma once

#include <sgmsys.h>

typedef const char *SgmToyType;
#define SGMTOYSWISSROLL    "swissroll"
#define SGMTOYMOONS        "moons"
#define SGMTOYCHECKERBOARD "checkerboard"
#define SGMTOY8GAUSSIANS   "8gaussians"
#define SGMTOYPINWHEEL     "pinwheel"
#define SGMTOYCIRCLES      "circles"

/* The names of the toy datasets, in the order of the help text (n of them). */
PETSC_EXTERN PetscErrorCode SgmToyGetNames(PetscInt *, const char *const **);
/* One-line description, defining formula, and number of classes (0: the dataset has no labels). */
PETSC_EXTERN PetscErrorCode SgmToyGetInfo(MPI_Comm, SgmToyType, const char **, const char **, PetscInt *);
/* The rows this rank owns of batch b (b->d == 2): x [b->n * 2] row-major, labels [b->n] (or NULL). */
PETSC_EXTERN PetscErrorCode SgmToySampleBatch(MPI_Comm, SgmToyType, uint64_t, const SgmBatch *, PetscScalar[], PetscInt64[]);
/* The dataset's name, formula and parameters as attributes of an HDF5 object. */
PETSC_EXTERN PetscErrorCode SgmToyWriteAttributes(MPI_Comm, SgmToyType, hid_t);
