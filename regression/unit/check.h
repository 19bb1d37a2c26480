/* What the C unit tests share: a tally of checks, one line per check, worst error over all ranks. */
#pragma once

#include <petscsys.h>

typedef struct {
  int pass, fail;
} Tally;

/* One check: err <= bound on every rank (NaN fails). */
static inline PetscErrorCode Check(Tally *tl, const char *name, double err, double bound)
{
  double    in[2] = {err, -bound}, out[2];
  PetscBool ok;

  PetscFunctionBegin;
  if (err != err) in[0] = PETSC_INFINITY;
  PetscCall(MPIU_Allreduce(in, out, 2, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
  ok = (PetscBool)(out[0] <= -out[1]);
  if (ok) tl->pass++;
  else tl->fail++;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%-58s err %9.3e  bound %9.3e  %s\n", name, out[0], -out[1], ok ? "ok" : "FAILED"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A random orthogonal sd x sd matrix (sd = 2 or 3; Gram-Schmidt of a Gaussian one from the test's own
   normals()), determinant +1 or -1 as asked: the equivariance tests of the point-cloud networks. */
static inline void RandomReflectionOrRotation(void (*normals)(PetscInt, PetscReal *), PetscInt sd, PetscBool reflect, PetscReal Q[])
{
  PetscReal det;

  normals(sd * sd, Q);
  for (PetscInt a = 0; a < sd; a++) {
    PetscReal nrm = 0;
    for (PetscInt b = 0; b < a; b++) {
      PetscReal dot = 0;
      for (PetscInt c = 0; c < sd; c++) dot += Q[a * sd + c] * Q[b * sd + c];
      for (PetscInt c = 0; c < sd; c++) Q[a * sd + c] -= dot * Q[b * sd + c];
    }
    for (PetscInt c = 0; c < sd; c++) nrm += Q[a * sd + c] * Q[a * sd + c];
    for (PetscInt c = 0; c < sd; c++) Q[a * sd + c] /= PetscSqrtReal(nrm);
  }
  if (sd == 2) det = Q[0] * Q[3] - Q[1] * Q[2];
  else det = Q[0] * (Q[4] * Q[8] - Q[5] * Q[7]) - Q[1] * (Q[3] * Q[8] - Q[5] * Q[6]) + Q[2] * (Q[3] * Q[7] - Q[4] * Q[6]);
  if ((det < 0) != (reflect == PETSC_TRUE))
    for (PetscInt c = 0; c < sd; c++) Q[c] = -Q[c];
}
