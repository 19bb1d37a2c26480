/*
  The projection method for inpainting (Song et al. 2021, "Score-based generative modeling through
  SDEs", Sec. 5 and App. I.2; doc/inverse.md): after every step of the reverse-time sampler, ending
  at time t, the observed coordinates of each sample are replaced by a draw of the forward process
  started at the measurement,
      x[mask] <- alpha(t) y + sigma(t) z,   z ~ N(0, I),
  and the unobserved coordinates are left to the sampler, which conditions them through the score.
  Options: -inverse_projection (read by SgmSamplerSetFromOptions) turns it on; -inverse_mask
  i_1,...,i_p and -inverse_y y_1,...,y_p (read at the first step, when d is known) give the observed
  coordinates and values; the measurement is taken as noiseless (-inverse_sigma is not used).

  Noise: stream SGM_STREAM_SAMPLER with the step counter (uint32_t)(-1 - k) = 2^32 - 1 - k for the
  projection after step k.  The other users of that stream (pc, ald, heun: counters k n_corr + j,
  k n_per + j, k) count up from 0 and stay below 2^31, so the two ranges cannot meet; the draw is a
  function of (seed, step, sample index), the same on any number of ranks.

  The projection changes the state after a step: a TS method that reuses its last stage (FSAL) is
  restarted, as after a checkpoint restart.
*/
#include <sgm/private/samplerimpl.h>

typedef struct {
  PetscBool  on;
  PetscInt   p;
  PetscInt  *mask; /* [p] observed coordinates */
  PetscReal *y;    /* [p] observed values */
  Vec        Z;    /* noise, laid out as the batch */
} SgmProjection;

static PetscErrorCode ProjectionDestroy(void *ctx)
{
  SgmProjection *pj = (SgmProjection *)ctx;

  PetscFunctionBegin;
  PetscCall(PetscFree(pj->mask));
  PetscCall(PetscFree(pj->y));
  PetscCall(VecDestroy(&pj->Z));
  PetscCall(PetscFree(pj));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -inverse_projection, in the sampler's options block.  The observed coordinates and values are read
   at the first step, when the dimension is known (they are also options of the posterior score). */
PetscErrorCode SgmSamplerProjectionSetFromOptions_Private(SgmSampler sampler, PetscOptionItems *PetscOptionsObject)
{
  PetscBool      on = PETSC_FALSE, flg;
  PetscContainer c;
  SgmProjection *pj;

  PetscFunctionBegin;
  PetscCall(PetscObjectQuery((PetscObject)sampler, "SgmProjection", (PetscObject *)&c));
  if (c) {
    PetscCall(PetscContainerGetPointer(c, (void **)&pj));
    on = pj->on;
  }
  PetscCall(PetscOptionsBool("-inverse_projection", "Projection method for inpainting: after each step set the coordinates -inverse_mask to alpha(t) y + sigma(t) z, y = -inverse_y (doc/inverse.md)", "", on, &on, &flg));
  if (!flg && !c) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscNew(&pj));
  pj->on = on;
  PetscCall(PetscContainerCreate(PetscObjectComm((PetscObject)sampler), &c));
  PetscCall(PetscContainerSetPointer(c, pj));
  PetscCall(PetscContainerSetUserDestroy(c, ProjectionDestroy));
  PetscCall(PetscObjectCompose((PetscObject)sampler, "SgmProjection", (PetscObject)c)); /* replaces an older one */
  PetscCall(PetscContainerDestroy(&c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether -inverse_projection is on (zero-CoM clouds refuse it at set-up, zerocom.c). */
PetscErrorCode SgmSamplerProjectionIsOn_Private(SgmSampler sampler, PetscBool *on)
{
  PetscContainer c = NULL;
  SgmProjection *pj;

  PetscFunctionBegin;
  *on = PETSC_FALSE;
  PetscCall(PetscObjectQuery((PetscObject)sampler, "SgmProjection", (PetscObject *)&c));
  if (!c) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscContainerGetPointer(c, (void **)&pj));
  *on = pj->on;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ProjectionSetUp(SgmSampler sampler, SgmProjection *pj)
{
  MPI_Comm       comm = PetscObjectComm((PetscObject)sampler);
  const PetscInt d    = sampler->batch.d;
  PetscInt       nm = d + 1, ny = d + 1;
  PetscBool      fm, fy;
  const char    *prefix;
  PetscOptions   db = ((PetscObject)sampler)->options;

  PetscFunctionBegin;
  PetscCheck(!sampler->batch.field, comm, PETSC_ERR_USER_INPUT, "-inverse_projection is not available for field samples: remove it");
  PetscCall(PetscObjectGetOptionsPrefix((PetscObject)sampler, &prefix));
  PetscCall(PetscCalloc1(d + 1, &pj->mask));
  PetscCall(PetscCalloc1(d + 1, &pj->y));
  PetscCall(PetscOptionsGetIntArray(db, prefix, "-inverse_mask", pj->mask, &nm, &fm));
  PetscCall(PetscOptionsGetRealArray(db, prefix, "-inverse_y", pj->y, &ny, &fy));
  PetscCheck(fm && fy, comm, PETSC_ERR_USER_INPUT, "-inverse_projection needs the observed coordinates and values: add -inverse_mask i_1,...,i_p and -inverse_y y_1,...,y_p");
  PetscCheck(nm > 0 && nm <= d, comm, PETSC_ERR_USER_INPUT, "-inverse_mask has %" PetscInt_FMT " entries; give between 1 and d = %" PetscInt_FMT " observed coordinates", nm, d);
  PetscCheck(ny == nm, comm, PETSC_ERR_ARG_SIZ, "-inverse_y has %" PetscInt_FMT " values but -inverse_mask has %" PetscInt_FMT " coordinates: give one value per observed coordinate", ny, nm);
  for (PetscInt i = 0; i < nm; i++) PetscCheck(pj->mask[i] >= 0 && pj->mask[i] < d, comm, PETSC_ERR_USER_INPUT, "-inverse_mask entry %" PetscInt_FMT " is %" PetscInt_FMT "; observed coordinates must lie in 0..%" PetscInt_FMT, i, pj->mask[i], d - 1);
  pj->p = nm;
  PetscCall(VecDuplicate(sampler->X, &pj->Z));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Called after every accepted step, ending at time t, with the TS step number k. */
PetscErrorCode SgmSamplerProjectionPostStep_Private(SgmSampler sampler, PetscInt k, PetscReal t)
{
  PetscContainer c = NULL;
  SgmProjection *pj;
  PetscScalar   *x, *z;
  PetscReal      a, s;
  SgmSDE         sde;
  const PetscInt d = sampler->batch.d, n = sampler->batch.n;

  PetscFunctionBegin;
  PetscCall(PetscObjectQuery((PetscObject)sampler, "SgmProjection", (PetscObject *)&c));
  if (!c) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscContainerGetPointer(c, (void **)&pj));
  if (!pj->on) PetscFunctionReturn(PETSC_SUCCESS);
  if (!pj->Z) PetscCall(ProjectionSetUp(sampler, pj));
  PetscCall(SgmScoreGetSDE(sampler->score, &sde));
  PetscCall(SgmSDEMarginal(sde, t, &a, &s));
  PetscCall(VecGetArrayWrite(pj->Z, &z));
  PetscCall(SgmRandomNormalBatch((uint64_t)sampler->seed, SGM_STREAM_SAMPLER, -1 - k, &sampler->batch, z));
  PetscCall(VecGetArray(sampler->X, &x));
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < pj->p; j++) {
      const PetscInt l = i * d + pj->mask[j];
      x[l]             = a * pj->y[j] + s * z[l];
    }
  PetscCall(VecRestoreArray(sampler->X, &x));
  PetscCall(VecRestoreArrayWrite(pj->Z, &z));
  PetscCall(TSRestartStep(sampler->ts));
  PetscFunctionReturn(PETSC_SUCCESS);
}
