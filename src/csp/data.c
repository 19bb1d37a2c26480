/*
  A set of crystals read from the HDF5 layout of postprocess/sgm-crystals: /natoms [N], /types
  [N,M], /frac [N,M,3], /lattice [N,3,3] (M = padded atoms per crystal).  Read on rank 0 and
  broadcast (the sets are small); every shape and value is checked, so a wrong file is one sentence.
*/
#include <sgmcsp.h>
#include <sgmio.h>

PetscErrorCode SgmCrystalSetLoad(MPI_Comm comm, const char fname[], SgmCrystalSet *s)
{
  PetscInt   d1[1], d2[2], d3[3], d4[3];
  PetscReal *na, *ty;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(s, sizeof(*s)));
  PetscCall(SgmH5ReadReal(comm, fname, "natoms", 1, d1, &na));
  PetscCall(SgmH5ReadReal(comm, fname, "types", 2, d2, &ty));
  PetscCall(SgmH5ReadReal(comm, fname, "frac", 3, d3, &s->frac));
  PetscCall(SgmH5ReadReal(comm, fname, "lattice", 3, d4, &s->lattice));
  s->N        = d1[0];
  s->maxatoms = d2[1];
  PetscCheck(d2[0] == s->N && d3[0] == s->N && d3[1] == s->maxatoms && d3[2] == 3 && d4[0] == s->N && d4[1] == 3 && d4[2] == 3, comm, PETSC_ERR_USER_INPUT,
             "The crystal file '%s' has inconsistent shapes: natoms [%" PetscInt_FMT "], types [%" PetscInt_FMT ",%" PetscInt_FMT "], frac [%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT "], lattice [%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT "]; expected [N], [N,M], [N,M,3], [N,3,3]",
             fname, d1[0], d2[0], d2[1], d3[0], d3[1], d3[2], d4[0], d4[1], d4[2]);
  PetscCall(PetscMalloc2(s->N, &s->natoms, s->N * s->maxatoms, &s->types));
  for (PetscInt b = 0; b < s->N; b++) {
    PetscReal Lb[9];
    s->natoms[b] = (PetscInt)na[b];
    PetscCheck(na[b] == (PetscReal)s->natoms[b] && s->natoms[b] >= 1 && s->natoms[b] <= s->maxatoms, comm, PETSC_ERR_USER_INPUT, "Crystal %" PetscInt_FMT " of '%s' has natoms = %g; expected an integer from 1 to %" PetscInt_FMT, b, fname, (double)na[b], s->maxatoms);
    for (PetscInt i = 0; i < s->maxatoms; i++) {
      PetscReal z = ty[b * s->maxatoms + i];
      s->types[b * s->maxatoms + i] = (PetscInt)z;
      PetscCheck(i >= s->natoms[b] || (z == PetscFloorReal(z) && z >= 1 && z <= 118), comm, PETSC_ERR_USER_INPUT, "Crystal %" PetscInt_FMT " of '%s' has atomic number %g at atom %" PetscInt_FMT "; expected an integer from 1 to 118", b, fname, (double)z, i);
    }
    for (int c = 0; c < 9; c++) Lb[c] = s->lattice[9 * b + c];
    PetscCheck(SgmCSPDet3(Lb) != 0, comm, PETSC_ERR_USER_INPUT, "Crystal %" PetscInt_FMT " of '%s' has a singular lattice (linearly dependent vectors)", b, fname);
  }
  PetscCall(PetscFree(na));
  PetscCall(PetscFree(ty));
  PetscFunctionReturn(PETSC_SUCCESS);
}

void SgmCrystalSetGet(const SgmCrystalSet *s, PetscInt b, SgmCrystal *c)
{
  c->n = s->natoms[b];
  c->z = s->types + b * s->maxatoms;
  c->f = s->frac + 3 * b * s->maxatoms;
  c->L = s->lattice + 9 * b;
}

PetscErrorCode SgmCrystalSetDestroy(SgmCrystalSet *s)
{
  PetscFunctionBegin;
  PetscCall(PetscFree2(s->natoms, s->types));
  PetscCall(PetscFree(s->frac));
  PetscCall(PetscFree(s->lattice));
  PetscCall(PetscMemzero(s, sizeof(*s)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Write a set in the same layout (natoms and types as float64: the reader takes either). */
PetscErrorCode SgmCrystalSetWrite(MPI_Comm comm, hid_t file, const SgmCrystalSet *s)
{
  hsize_t    d1[1] = {(hsize_t)s->N}, d2[2] = {(hsize_t)s->N, (hsize_t)s->maxatoms}, d3[3] = {(hsize_t)s->N, (hsize_t)s->maxatoms, 3}, d4[3] = {(hsize_t)s->N, 3, 3};
  PetscReal *na, *ty;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(s->N, &na, s->N * s->maxatoms, &ty));
  for (PetscInt b = 0; b < s->N; b++) na[b] = (PetscReal)s->natoms[b];
  for (PetscInt i = 0; i < s->N * s->maxatoms; i++) ty[i] = (PetscReal)s->types[i];
  PetscCall(SgmH5WriteSmall(comm, file, "natoms", 1, d1, na));
  PetscCall(SgmH5WriteSmall(comm, file, "types", 2, d2, ty));
  PetscCall(SgmH5WriteSmall(comm, file, "frac", 3, d3, s->frac));
  PetscCall(SgmH5WriteSmall(comm, file, "lattice", 3, d4, s->lattice));
  PetscCall(PetscFree2(na, ty));
  PetscFunctionReturn(PETSC_SUCCESS);
}
