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
