/*
  Predictor-corrector sampling (Song et al. 2021, Alg. 2 and 3 of the SDE paper; score_sde's
  pc_sampler).  At each grid time t_k: M corrector steps of Langevin dynamics at t_k, then one
  predictor step to t_{k+1}.
    predictor em                 Euler-Maruyama on the reverse SDE (as -sampler_type em)
    predictor reverse_diffusion  x <- (2 - r) x + v s(x, t_k) + sqrt(v) z, the discretised reverse
                                 SDE of score_sde, with q(x_{t_k} | x_{t_{k+1}}) = N(r x, v I)
    corrector langevin           x <- x + e s + sqrt(2 e) z, e = 2 r^2 (snr ||z|| / ||s||)^2, with
                                 the means over the whole batch of the per-sample norms (-pc_norm
                                 batch, the default, as score_sde does) or each sample's own norms
                                 (-pc_norm sample),
                                 summed reproducibly so that samples stay independent of the number
                                 of ranks.  Per-sample step sizes are heavy-tailed in low dimension
                                 (||s|| can be near 0 at a mode): on the 12-D zero-CoM Gaussian
                                 deck they inflate the variance by 39% where batch gives the
                                 +2.6% Langevin bias snr^2 predicts (doc/samplers.md).
  NFE per step: 1 + M.
*/
#include <sgm/private/samplerimpl.h>
#include <sgmfield.h>
#include <sgm/private/scoreimpl.h>
#include <sgmio.h>

typedef enum {
  SGM_PC_PREDICTOR_EM,
  SGM_PC_PREDICTOR_REVERSE_DIFFUSION,
  SGM_PC_PREDICTOR_NONE
} SgmPCPredictor;
static const char *const SgmPCPredictors[] = {"em", "reverse_diffusion", "none", "SgmPCPredictor", "SGM_PC_PREDICTOR_", NULL};

typedef enum {
  SGM_PC_NORM_SAMPLE,
  SGM_PC_NORM_BATCH
} SgmPCNorm;
static const char *const SgmPCNorms[] = {"sample", "batch", "SgmPCNorm", "SGM_PC_NORM_", NULL};

typedef struct {
  SgmPCPredictor predictor;
  SgmPCNorm      norm;
  PetscReal     *norms; /* [2n]: ||s_i||, ||z_i|| */
  PetscInt       ncorrector;
  PetscReal      snr;
} SgmSampler_PC;

/* ||s|| and ||z|| of each field of a field batch: sums over the whole field, by SgmFieldReduceSum so
   that they, and the samples, do not depend on the process grid. */
static PetscErrorCode FieldNorms(SgmSampler sampler, const PetscScalar *s, const PetscScalar *z, PetscReal norms[])
{
  const PetscInt n = sampler->batch.n, nl = sampler->batch.field->nloc, dof = sampler->batch.field->dof;
  PetscReal     *v;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(2 * n * nl + 1, &v));
  for (PetscInt j = 0; j < n * nl; j++) {
    PetscReal ss = 0, zz = 0;
    for (PetscInt c = j * dof; c < (j + 1) * dof; c++) {
      ss += PetscRealPart(s[c] * s[c]);
      zz += PetscRealPart(z[c] * z[c]);
    }
    v[2 * j]     = ss;
    v[2 * j + 1] = zz;
  }
  PetscCall(SgmFieldReduceSum(&sampler->batch, 2, v, norms));
  for (PetscInt i = 0; i < 2 * n; i++) norms[i] = PetscSqrtReal(norms[i]);
  PetscCall(PetscFree(v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* M Langevin steps at time t with per-sample step sizes; the step-size factor is r^2 (DDPM alpha_t). */
static PetscErrorCode LangevinCorrector(SgmSampler sampler, PetscInt k, PetscReal t, PetscReal alpha, Vec X)
{
  SgmSampler_PC     *pc = (SgmSampler_PC *)sampler->data;
  const PetscInt     n = sampler->batch.n, d = sampler->batch.d;
  PetscScalar       *x;
  const PetscScalar *s, *z;

  PetscFunctionBegin;
  for (PetscInt j = 0; j < pc->ncorrector; j++) {
    PetscCall(SgmScoreApply(sampler->score, t, &sampler->batch, X, sampler->work));
    PetscCall(SgmSamplerFillNoise(sampler, SGM_STREAM_SAMPLER, k * pc->ncorrector + j, sampler->noise));
    PetscCall(VecGetArray(X, &x));
    PetscCall(VecGetArrayRead(sampler->work, &s));
    PetscCall(VecGetArrayRead(sampler->noise, &z));
    if (sampler->batch.field) PetscCall(FieldNorms(sampler, s, z, pc->norms));
    else
      for (PetscInt i = 0; i < n; i++) {
        PetscReal ss = 0, zz = 0;
        for (PetscInt c = 0; c < d; c++) {
          ss += PetscRealPart(s[i * d + c] * s[i * d + c]);
          zz += PetscRealPart(z[i * d + c] * z[i * d + c]);
        }
        pc->norms[2 * i]     = PetscSqrtReal(ss);
        pc->norms[2 * i + 1] = PetscSqrtReal(zz);
      }
    if (pc->norm == SGM_PC_NORM_BATCH) {
      PetscReal sums[2];
      PetscCall(SgmReproducibleSum(PetscObjectComm((PetscObject)sampler), n, 2, pc->norms, sums));
      for (PetscInt i = 0; i < n; i++) {
        pc->norms[2 * i]     = sums[0];
        pc->norms[2 * i + 1] = sums[1];
      }
    }
    for (PetscInt i = 0; i < n; i++) {
      PetscReal ratio = pc->norms[2 * i] > 0 ? pc->snr * pc->norms[2 * i + 1] / pc->norms[2 * i] : 0;
      PetscReal e     = 2 * alpha * ratio * ratio;
      for (PetscInt c = 0; c < d; c++) x[i * d + c] += e * s[i * d + c] + PetscSqrtReal(2 * e) * z[i * d + c];
    }
    PetscCall(VecRestoreArrayRead(sampler->noise, &z));
    PetscCall(VecRestoreArrayRead(sampler->work, &s));
    PetscCall(VecRestoreArray(X, &x));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmPCStep(SgmSampler sampler, PetscInt k, PetscReal t0, PetscReal t1, Vec X)
{
  SgmSampler_PC *pc = (SgmSampler_PC *)sampler->data;
  PetscReal      r, v;

  PetscFunctionBegin;
  PetscCall(SgmSDETransition(sampler->score->sde, t1, t0, &r, &v));
  PetscCall(LangevinCorrector(sampler, k, t0, r * r, X));
  switch (pc->predictor) {
  case SGM_PC_PREDICTOR_EM:
    PetscCall(SgmEMStep(sampler, k, t0, t1, X));
    break;
  case SGM_PC_PREDICTOR_REVERSE_DIFFUSION:
    PetscCall(SgmScoreApply(sampler->score, t0, &sampler->batch, X, sampler->work));
    PetscCall(SgmVecAXPBY(X, v, 2 - r, sampler->work));
    PetscCall(SgmSamplerFillNoise(sampler, SGM_STREAM_SDE, k, sampler->noise));
    PetscCall(SgmVecAXPY(X, PetscSqrtReal(v), sampler->noise));
    break;
  case SGM_PC_PREDICTOR_NONE:
    break;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerSetFromOptions_PC(SgmSampler sampler, PetscOptionItems *PetscOptionsObject)
{
  SgmSampler_PC *pc = (SgmSampler_PC *)sampler->data;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Predictor-corrector sampler options");
  PetscCall(PetscOptionsEnum("-pc_predictor", "Predictor", "", SgmPCPredictors, (PetscEnum)pc->predictor, (PetscEnum *)&pc->predictor, NULL));
  PetscCall(PetscOptionsInt("-pc_corrector_steps", "Langevin corrector steps per time step (0: predictor only)", "", pc->ncorrector, &pc->ncorrector, NULL));
  PetscCall(PetscOptionsEnum("-pc_norm", "Norms in the corrector step size: of each sample, or batch means", "", SgmPCNorms, (PetscEnum)pc->norm, (PetscEnum *)&pc->norm, NULL));
  PetscCall(PetscOptionsReal("-pc_snr", "Signal-to-noise ratio of the Langevin corrector", "", pc->snr, &pc->snr, NULL));
  PetscOptionsHeadEnd();
  PetscCheck(pc->ncorrector >= 0 && pc->snr > 0, PetscObjectComm((PetscObject)sampler), PETSC_ERR_USER_INPUT, "-pc_corrector_steps must be >= 0 and -pc_snr > 0; got %" PetscInt_FMT " and %g", pc->ncorrector, (double)pc->snr);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerSetUp_PC(SgmSampler sampler)
{
  SgmSampler_PC *pc = (SgmSampler_PC *)sampler->data;

  PetscFunctionBegin;
  PetscCall(SgmSamplerSetUpFixedStep(sampler, TSSGMPC));
  PetscCall(PetscFree(pc->norms));
  PetscCall(PetscMalloc1(2 * sampler->batch.n + 2, &pc->norms));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerAttributes_PC(SgmSampler sampler, hid_t file)
{
  SgmSampler_PC *pc = (SgmSampler_PC *)sampler->data;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrString(file, "pc_predictor", SgmPCPredictors[pc->predictor]));
  PetscCall(SgmH5AttrInt(file, "pc_corrector_steps", pc->ncorrector));
  PetscCall(SgmH5AttrReal(file, "pc_snr", pc->snr));
  PetscCall(SgmH5AttrString(file, "pc_norm", SgmPCNorms[pc->norm]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerView_PC(SgmSampler sampler, PetscViewer viewer)
{
  SgmSampler_PC *pc = (SgmSampler_PC *)sampler->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "predictor %s, %" PetscInt_FMT " Langevin corrector step(s) with snr %g, %s norms\n", SgmPCPredictors[pc->predictor], pc->ncorrector, (double)pc->snr, SgmPCNorms[pc->norm]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerDestroy_PC(SgmSampler sampler)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(((SgmSampler_PC *)sampler->data)->norms));
  PetscCall(PetscFree(sampler->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmSamplerCreate_PC(SgmSampler sampler)
{
  SgmSampler_PC *pc;

  PetscFunctionBegin;
  sampler->fields = PETSC_TRUE; /* works on field batches */
  PetscCall(PetscNew(&pc));
  pc->predictor                = SGM_PC_PREDICTOR_REVERSE_DIFFUSION;
  pc->ncorrector               = 1;
  pc->snr                      = 0.16;
  pc->norm                     = SGM_PC_NORM_BATCH; /* score_sde; per-sample ratios are heavy-tailed below d ~ 100 */
  sampler->data                = pc;
  sampler->ops->step           = SgmPCStep;
  sampler->ops->setup          = SgmSamplerSetUp_PC;
  sampler->ops->setfromoptions = SgmSamplerSetFromOptions_PC;
  sampler->ops->attributes     = SgmSamplerAttributes_PC;
  sampler->ops->view           = SgmSamplerView_PC;
  sampler->ops->destroy        = SgmSamplerDestroy_PC;
  PetscFunctionReturn(PETSC_SUCCESS);
}
