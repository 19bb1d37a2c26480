/*
  Elementwise vector updates whose result in each entry depends only on that entry's operands.
  PETSc's VecAXPY (and VecAXPBY with b = 1, VecAYPX, ...) call BLAS daxpy; optimised BLAS (OpenBLAS,
  MKL) compute the vectorised body with fused multiply-adds and the remainder without, so the bits of
  an entry depend on its position in the local array, that is on how samples are split over ranks.
  The samplers use these instead, so that the same seed gives the same bits on any number of ranks
  whatever BLAS PETSc was built with.  The loops are plain C: the compiler either contracts every
  entry's a*x + y or none.
*/
#include <sgmsys.h>

/* y <- a x + y */
PetscErrorCode SgmVecAXPY(Vec y, PetscScalar a, Vec x)
{
  PetscInt           n;
  PetscScalar       *yy;
  const PetscScalar *xx;

  PetscFunctionBegin;
  PetscCall(VecGetLocalSize(y, &n));
  PetscCall(VecGetArrayRead(x, &xx));
  PetscCall(VecGetArray(y, &yy));
  for (PetscInt i = 0; i < n; i++) yy[i] += a * xx[i];
  PetscCall(VecRestoreArray(y, &yy));
  PetscCall(VecRestoreArrayRead(x, &xx));
  PetscCall(PetscLogFlops(2.0 * n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* y <- a x + b y */
PetscErrorCode SgmVecAXPBY(Vec y, PetscScalar a, PetscScalar b, Vec x)
{
  PetscInt           n;
  PetscScalar       *yy;
  const PetscScalar *xx;

  PetscFunctionBegin;
  PetscCall(VecGetLocalSize(y, &n));
  PetscCall(VecGetArrayRead(x, &xx));
  PetscCall(VecGetArray(y, &yy));
  for (PetscInt i = 0; i < n; i++) yy[i] = a * xx[i] + b * yy[i];
  PetscCall(VecRestoreArray(y, &yy));
  PetscCall(VecRestoreArrayRead(x, &xx));
  PetscCall(PetscLogFlops(3.0 * n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* z <- a x + b y + c z  (z may not be x or y) */
PetscErrorCode SgmVecAXPBYPCZ(Vec z, PetscScalar a, PetscScalar b, PetscScalar c, Vec x, Vec y)
{
  PetscInt           n;
  PetscScalar       *zz;
  const PetscScalar *xx, *yy;

  PetscFunctionBegin;
  PetscCheck(z != x && z != y, PetscObjectComm((PetscObject)z), PETSC_ERR_ARG_IDN, "z must differ from x and y");
  PetscCall(VecGetLocalSize(z, &n));
  PetscCall(VecGetArrayRead(x, &xx));
  PetscCall(VecGetArrayRead(y, &yy));
  PetscCall(VecGetArray(z, &zz));
  if (c == 0)
    for (PetscInt i = 0; i < n; i++) zz[i] = a * xx[i] + b * yy[i];
  else
    for (PetscInt i = 0; i < n; i++) zz[i] = a * xx[i] + b * yy[i] + c * zz[i];
  PetscCall(VecRestoreArray(z, &zz));
  PetscCall(VecRestoreArrayRead(y, &yy));
  PetscCall(VecRestoreArrayRead(x, &xx));
  PetscCall(PetscLogFlops(5.0 * n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* w <- a x + y  (w may not be x or y) */
PetscErrorCode SgmVecWAXPY(Vec w, PetscScalar a, Vec x, Vec y)
{
  PetscInt           n;
  PetscScalar       *ww;
  const PetscScalar *xx, *yy;

  PetscFunctionBegin;
  PetscCheck(w != x && w != y, PetscObjectComm((PetscObject)w), PETSC_ERR_ARG_IDN, "w must differ from x and y");
  PetscCall(VecGetLocalSize(w, &n));
  PetscCall(VecGetArrayRead(x, &xx));
  PetscCall(VecGetArrayRead(y, &yy));
  PetscCall(VecGetArray(w, &ww));
  for (PetscInt i = 0; i < n; i++) ww[i] = a * xx[i] + yy[i];
  PetscCall(VecRestoreArray(w, &ww));
  PetscCall(VecRestoreArrayRead(y, &yy));
  PetscCall(VecRestoreArrayRead(x, &xx));
  PetscCall(PetscLogFlops(2.0 * n));
  PetscFunctionReturn(PETSC_SUCCESS);
}
