/*
  Euler-Maruyama on the reverse SDE (Song et al. 2021, the "EulerMaruyamaPredictor" of score_sde):
      x_{k+1} = x_k - [f(t_k) x_k - g(t_k)^2 s(x_k, t_k)] h + g(t_k) sqrt(h) z_k,   h = t_k - t_{k+1}.
  One score evaluation per step.  Registered as the TS type "sgmem".
*/
#include <sgm/private/samplerimpl.h>
#include <sgm/private/scoreimpl.h>
#include <sgm/private/vecmath.h>

/*
  The step runs over the rank's samples in chunks of about SGM_EM_CHUNK doubles, doing score, noise
  and update of a chunk before the next: the three stay in cache, where three passes over the whole
  batch (10^6 2-D samples: 16 MB per array) would stream them through memory and cost more than the
  arithmetic.  Each chunk is copied to 64-byte-aligned scratch and padded to whole SGM_LANES blocks
  (vecmath.h), so that the update loop, like the score and noise kernels, does the same thing to
  every sample wherever it sits on the rank: /samples stay bitwise identical on any number of ranks.
*/
#define SGM_EM_CHUNK 8192

/* x <- cx x + cs s + cz z on whole blocks of lanes (constant trip count: no remainder loop) */
static SGM_HOT void EMUpdate(PetscInt nblocks, PetscReal cx, PetscReal cs, PetscReal cz, PetscScalar *restrict x, const PetscScalar *restrict s, const PetscScalar *restrict z)
{
  for (PetscInt b = 0; b < nblocks; b++)
    for (int l = 0; l < SGM_LANES; l++) {
      const PetscInt i = b * SGM_LANES + l;
      x[i]             = cx * x[i] + cs * s[i] + cz * z[i];
    }
}

/* also the em predictor of the pc sampler */
PetscErrorCode SgmEMStep(SgmSampler sampler, PetscInt k, PetscReal t0, PetscReal t1, Vec X)
{
  SgmScore        score = sampler->score;
  const SgmBatch *b     = &sampler->batch;
  const PetscInt  n = b->n, d = b->d;
  /* a collective score takes the rank's whole batch in one call (also an empty one) */
  const PetscInt  cn = score->collective ? PetscMax(1, (n + SGM_LANES - 1) / SGM_LANES) * SGM_LANES : PetscMax(1, SGM_EM_CHUNK / (d * SGM_LANES)) * SGM_LANES;
  PetscReal       h = t0 - t1, f, g;
  PetscScalar    *x, *buf, *xs, *ss, *zs;

  PetscFunctionBegin;
  PetscCall(SgmSDECoefficients(score->sde, t0, &f, &g));
  const PetscReal cx = 1 - f * h, cs = g * g * h, cz = g * PetscSqrtReal(h);
  if (b->field) { /* fields: the collective score on the whole batch, then an elementwise update */
    PetscCall(SgmScoreApply(score, t0, b, X, sampler->work));
    PetscCall(SgmSamplerFillNoise(sampler, SGM_STREAM_SDE, k, sampler->noise));
    PetscCall(SgmVecAXPBYPCZ(X, cs, cz, cx, sampler->work, sampler->noise));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscMalloc1(3 * cn * d + SGM_ALIGN / sizeof(PetscScalar), &buf));
  xs = (PetscScalar *)(((uintptr_t)buf + SGM_ALIGN - 1) & ~(uintptr_t)(SGM_ALIGN - 1));
  ss = xs + cn * d;
  zs = ss + cn * d;
  PetscCall(VecGetArray(X, &x));
  for (PetscInt i0 = 0; i0 < n || (score->collective && i0 == 0); i0 += cn) {
    const PetscInt m = PetscMin(cn, n - i0), mpad = (m + SGM_LANES - 1) / SGM_LANES * SGM_LANES;
    SgmBatch       chunk = *b;

    PetscCall(PetscArraycpy(xs, x + i0 * d, m * d));
    PetscCall(PetscArrayzero(xs + m * d, (mpad - m) * d));
    PetscCall(PetscLogEventBegin(SGM_ScoreEval, score, 0, 0, 0));
    PetscUseTypeMethod(score, apply, t0, mpad, xs, ss);
    PetscCall(PetscLogEventEnd(SGM_ScoreEval, score, 0, 0, 0));
    chunk.n      = mpad;
    chunk.rstart = b->rstart + i0;
    PetscCall(SgmRandomNormalBatch((uint64_t)sampler->seed, SGM_STREAM_SDE, k, &chunk, zs));
    PetscCall(SgmSamplerZeroCoMArray_Private(sampler, mpad, zs)); /* zero-CoM clouds (zerocom.c) */
    EMUpdate(mpad * d / SGM_LANES, cx, cs, cz, xs, ss, zs);
    PetscCall(PetscArraycpy(x + i0 * d, xs, m * d));
  }
  PetscCall(VecRestoreArray(X, &x));
  PetscCall(PetscFree(buf));
  score->nfe++; /* one batched evaluation, however many chunks */
  PetscCall(PetscLogFlops((4.0 + 5.0) * n * d));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerSetUp_EM(SgmSampler sampler)
{
  PetscFunctionBegin;
  PetscCall(SgmSamplerSetUpFixedStep(sampler, TSSGMEM));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmSamplerCreate_EM(SgmSampler sampler)
{
  PetscFunctionBegin;
  sampler->fields = PETSC_TRUE; /* works on field batches */
  sampler->ops->setup = SgmSamplerSetUp_EM;
  sampler->ops->step  = SgmEMStep;
  PetscFunctionReturn(PETSC_SUCCESS);
}
