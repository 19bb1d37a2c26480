/*
  gmrf (KSP) against grf_fft (FFTW) on a periodic grid: the same Q = tau (kappa^2 - Laplacian_h)^alpha
  by a sparse solve and by a diagonal in Fourier space.  For alpha = 1 and 2, on 48 x 40 and
  16 x 12 x 10 grids (3-D on 1 rank only: PETSc 3.18's MATFFTW has no parallel real 3-D transform), at t = 1, 0.5, 0.05, 1e-3 of the VP SDE, on a batch of 3 white-noise fields:
  max |s_gmrf - s_fft| / max |s_fft| <= 1e3 * rtol (rtol = -gmrf_ksp_rtol, 1e-10: the solve's
  relative residual bounds the score's relative error by cond(Q A^-1)-ish factors, <= 1e3 here).
  Prints one line per check.  Run on 1, 2 or 4 ranks; < 5 s.
*/
#include <sgmscore.h>
#include <sgmfield.h>
#include "../unit/check.h"

static PetscErrorCode Compare(Tally *tl, const char *grid, PetscInt alpha)
{
  SgmScore  sg, sf;
  SgmField  f;
  SgmBatch  b;
  Vec       X, Sg, Sf;
  char      name[128];
  PetscReal ts[4] = {1, 0.5, 0.05, 1e-3};

  PetscFunctionBegin;
  PetscCall(PetscOptionsSetValue(NULL, "-field_grid", grid));
  PetscCall(PetscOptionsSetValue(NULL, "-gmrf_alpha", alpha == 1 ? "1" : "2"));
  PetscCall(PetscOptionsSetValue(NULL, "-grf_alpha", alpha == 1 ? "1" : "2"));
  PetscCall(SgmScoreCreate(PETSC_COMM_WORLD, &sg));
  PetscCall(SgmScoreSetType(sg, SGMSCOREGMRF));
  PetscCall(SgmScoreSetFromOptions(sg));
  PetscCall(SgmScoreSetUp(sg));
  PetscCall(SgmScoreCreate(PETSC_COMM_WORLD, &sf));
  PetscCall(SgmScoreSetType(sf, SGMSCOREGRFFFT));
  PetscCall(SgmScoreSetFromOptions(sf));
  PetscCall(SgmScoreSetUp(sf));
  PetscCall(SgmScoreGetField(sg, &f));
  PetscCall(SgmBatchCreateField(PETSC_COMM_WORLD, 3, f, &b));
  PetscCall(SgmBatchCreateVec(&b, &X));
  PetscCall(VecDuplicate(X, &Sg));
  PetscCall(VecDuplicate(X, &Sf));
  {
    PetscScalar *x;
    PetscCall(VecGetArrayWrite(X, &x));
    PetscCall(SgmRandomNormalBatch(7, SGM_STREAM_PRIOR, 0, &b, x));
    PetscCall(VecRestoreArrayWrite(X, &x));
  }
  for (int i = 0; i < 4; i++) {
    PetscReal nf, nd;
    PetscCall(SgmScoreApply(sg, ts[i], &b, X, Sg));
    PetscCall(SgmScoreApply(sf, ts[i], &b, X, Sf));
    PetscCall(VecNorm(Sf, NORM_INFINITY, &nf));
    PetscCall(VecAXPY(Sg, -1, Sf));
    PetscCall(VecNorm(Sg, NORM_INFINITY, &nd));
    PetscCall(PetscSNPrintf(name, sizeof(name), "gmrf vs grf_fft, grid %s, alpha %d, t = %g", grid, (int)alpha, (double)ts[i]));
    PetscCall(Check(tl, name, nd / nf, 1e-7));
  }
  PetscCall(VecDestroy(&X));
  PetscCall(VecDestroy(&Sg));
  PetscCall(VecDestroy(&Sf));
  PetscCall(SgmScoreDestroy(&sg));
  PetscCall(SgmScoreDestroy(&sf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  Tally tl = {0, 0};

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(PetscOptionsSetValue(NULL, "-gmrf_kappa", "0.7"));
  PetscCall(PetscOptionsSetValue(NULL, "-grf_kappa", "0.7"));
  PetscCall(PetscOptionsSetValue(NULL, "-gmrf_tau", "2"));
  PetscCall(PetscOptionsSetValue(NULL, "-grf_tau", "2"));
  PetscCall(PetscOptionsSetValue(NULL, "-field_h", "0.5"));
  PetscCall(Compare(&tl, "48,40", 1));
  PetscCall(Compare(&tl, "48,40", 2));
  { /* PETSc 3.18's MATFFTW has no parallel real 3-D transform: 3-D on 1 rank only */
    PetscMPIInt size;
    PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
    if (size == 1) {
      PetscCall(Compare(&tl, "16,12,10", 1));
      PetscCall(Compare(&tl, "16,12,10", 2));
    }
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d checks passed, %d failed\n", tl.pass, tl.fail));
  PetscCall(PetscFinalize());
  return tl.fail ? 1 : 0;
}
