/*
  Point clouds in the zero centre-of-mass subspace (EDM, Hoogeboom et al. 2022, sec. 3.2 and
  Alg. 2; doc/geometric.md).  When the score says its samples are clouds of n atoms
  (SgmScoreSetZeroCoM, -score_zero_com_atoms), every sampler runs inside
  X = {x : sum_i x_i = 0}:
    - the prior draw x_T ~ N(0, prior_std^2 I) is projected, giving N(0, prior_std^2 P);
    - every Gaussian increment (the reverse-SDE noise, the ancestral/DDIM noise, the Langevin and
      churn noise, the Brownian path of the adaptive sampler) is projected before it is used;
    - the state is projected after every accepted step and after the final denoising step, which
      removes the round-off that accumulates off X (and, for a score with a component off X, that
      component: for the one-stage linear updates this is the same as projecting the score).
  These functions are the only place that does it.  Callers: SgmSamplerFillNoise (the noise of every
  type but em's chunked loop and adaptive's Brownian tree, which call SgmSamplerZeroCoMArray_Private
  on their own buffers), the shared post-step and SgmSamplerSolve.  Each cloud is one row of the batch and is
  projected by SgmGeomRemoveCoM (plain loops, the mean summed in atom order), so the samples stay
  bitwise the same on any number of ranks.  P x_i = x_i - (1/n) sum_j x_j.  Invariant feature
  channels of the atoms (GeoLDM latents z_h, score->zcom_feat) are not projected.
*/
#include <sgm/private/samplerimpl.h>
#include <sgm/private/scoreimpl.h>
#include <sgmgeometric.h>

/* Project m rows of the batch's dimension held in x (no-op unless the score is a zero-CoM cloud). */
PetscErrorCode SgmSamplerZeroCoMArray_Private(SgmSampler sampler, PetscInt m, PetscScalar x[])
{
  const PetscInt na = sampler->score->zcom_atoms;

  PetscFunctionBegin;
  if (!na || m <= 0) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SgmGeomRemoveCoMStrided(m, na, sampler->batch.d / na, sampler->batch.d / na - sampler->score->zcom_feat, x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Project every local row of a vector of the batch's layout. */
PetscErrorCode SgmSamplerZeroCoM_Private(SgmSampler sampler, Vec X)
{
  PetscScalar *x;

  PetscFunctionBegin;
  if (!sampler->score->zcom_atoms) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecGetArray(X, &x));
  PetscCall(SgmSamplerZeroCoMArray_Private(sampler, sampler->batch.n, x));
  PetscCall(VecRestoreArray(X, &x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Set-up checks: which parts of sgm cannot be combined with zero-CoM clouds. */
PetscErrorCode SgmSamplerZeroCoMSetUp_Private(SgmSampler sampler)
{
  const PetscInt na = sampler->score->zcom_atoms;
  PetscBool      inpaint;

  PetscFunctionBegin;
  if (!na) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SgmSamplerProjectionIsOn_Private(sampler, &inpaint));
  PetscCheck(!inpaint, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "-inverse_projection sets single coordinates and would move the centre of mass: it is not available for zero-CoM point clouds (-score_zero_com_atoms)");
  PetscCheck(!sampler->batch.field, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "Zero-CoM point clouds (-score_zero_com_atoms) are rows, not fields");
  PetscCheck(sampler->batch.d % na == 0, PetscObjectComm((PetscObject)sampler), PETSC_ERR_PLIB, "Sample dimension %" PetscInt_FMT " is not a multiple of the %" PetscInt_FMT " atoms", sampler->batch.d, na);
  PetscFunctionReturn(PETSC_SUCCESS);
}
