/*
  DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", Alg. 2): multistep second-order solver of the
  probability-flow ODE in data prediction x0_hat = (x + sigma^2 s(x,t))/alpha and log-SNR
  lambda = log(alpha/sigma).  With h_k = lambda_{k+1} - lambda_k and r_k = h_{k-1}/h_k:
      x_{k+1} = (sigma_{k+1}/sigma_k) x_k + alpha_{k+1} (1 - e^{-h_k}) D_k,
      D_k = (1 + 1/(2 r_k)) x0_hat_k - 1/(2 r_k) x0_hat_{k-1}   (first order, D_k = x0_hat_k, on the
                                                                first and on the final step).
  e^{-h_k} = sigma_{k+1} alpha_k / (alpha_{k+1} sigma_k) is computed directly, so a grid ending at
  sigma = 0 works.  One score evaluation per step; default grid uniform in log-SNR.
*/
#include <sgm/private/samplerimpl.h>
#include <sgm/private/scoreimpl.h>
#include <sgmio.h>

typedef struct {
  Vec       D, prev;  /* D_k, and x0_hat of the previous step */
  PetscReal hprev;    /* h of the previous step */
} SgmSampler_DPMpp2M;

static PetscErrorCode SgmDPMpp2MStep(SgmSampler sampler, PetscInt k, PetscReal t0, PetscReal t1, Vec X)
{
  SgmSampler_DPMpp2M *dpm = (SgmSampler_DPMpp2M *)sampler->data;
  SgmSDE              sde = sampler->score->sde;
  PetscReal           a0, s0, a1, s1, emh, h;
  Vec                 x0hat = sampler->work;

  PetscFunctionBegin;
  PetscCall(SgmSDEMarginal(sde, t0, &a0, &s0));
  PetscCall(SgmSDEMarginal(sde, t1, &a1, &s1));
  emh = (s1 * a0) / (a1 * s0);
  h   = s1 > 0 ? PetscLogReal(a1 / s1) - PetscLogReal(a0 / s0) : PETSC_INFINITY;
  /* x0_hat = (x + sigma^2 s)/alpha */
  PetscCall(SgmScoreApply(sampler->score, t0, &sampler->batch, X, x0hat));
  PetscCall(SgmVecAXPBY(x0hat, 1 / a0, s0 * s0 / a0, X));
  if (k == 0 || k == sampler->nsteps - 1) PetscCall(VecCopy(x0hat, dpm->D));
  else {
    PetscReal r = dpm->hprev / h;
    PetscCall(SgmVecAXPBYPCZ(dpm->D, 1 + 1 / (2 * r), -1 / (2 * r), 0, x0hat, dpm->prev));
  }
  PetscCall(SgmVecAXPBY(X, a1 * (1 - emh), s1 / s0, dpm->D));
  PetscCall(VecCopy(x0hat, dpm->prev));
  dpm->hprev = h;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerSetUp_DPMpp2M(SgmSampler sampler)
{
  SgmSampler_DPMpp2M *dpm = (SgmSampler_DPMpp2M *)sampler->data;

  PetscFunctionBegin;
  PetscCall(SgmSamplerSetUpFixedStep(sampler, TSSGMDPMPP2M));
  PetscCall(VecDestroy(&dpm->D));
  PetscCall(VecDestroy(&dpm->prev));
  PetscCall(VecDuplicate(sampler->X, &dpm->D));
  PetscCall(VecDuplicate(sampler->X, &dpm->prev));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The multistep history: x0_hat of the previous step and its h. */
static PetscErrorCode SgmSamplerCheckpointWrite_DPMpp2M(SgmSampler sampler, SgmOutput o)
{
  SgmSampler_DPMpp2M *dpm = (SgmSampler_DPMpp2M *)sampler->data;
  hid_t               file;

  PetscFunctionBegin;
  PetscCall(SgmOutputGetFile(o, &file));
  PetscCall(SgmOutputWriteBatch(o, "dpmpp2m_prev", &sampler->batch, dpm->prev));
  PetscCall(SgmH5AttrReal(file, "dpmpp2m_hprev", dpm->hprev));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerCheckpointRead_DPMpp2M(SgmSampler sampler, hid_t file)
{
  SgmSampler_DPMpp2M *dpm = (SgmSampler_DPMpp2M *)sampler->data;

  PetscFunctionBegin;
  PetscCall(SgmH5ReadBatch(file, "dpmpp2m_prev", &sampler->batch, dpm->prev));
  PetscCall(SgmH5AttrGetReal(PetscObjectComm((PetscObject)sampler), file, "dpmpp2m_hprev", &dpm->hprev));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmSamplerDestroy_DPMpp2M(SgmSampler sampler)
{
  SgmSampler_DPMpp2M *dpm = (SgmSampler_DPMpp2M *)sampler->data;

  PetscFunctionBegin;
  PetscCall(VecDestroy(&dpm->D));
  PetscCall(VecDestroy(&dpm->prev));
  PetscCall(PetscFree(sampler->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmSamplerCreate_DPMpp2M(SgmSampler sampler)
{
  SgmSampler_DPMpp2M *dpm;

  PetscFunctionBegin;
  sampler->fields = PETSC_TRUE; /* works on field batches */
  PetscCall(PetscNew(&dpm));
  sampler->data         = dpm;
  sampler->ops->step    = SgmDPMpp2MStep;
  sampler->ops->setup   = SgmSamplerSetUp_DPMpp2M;
  sampler->ops->destroy = SgmSamplerDestroy_DPMpp2M;
  sampler->ops->checkpointwrite = SgmSamplerCheckpointWrite_DPMpp2M;
  sampler->ops->checkpointread  = SgmSamplerCheckpointRead_DPMpp2M;
  PetscCall(SgmSamplerSetDefaults_Private(sampler, 20, SGM_SCHEDULE_LOGSNR));
  PetscFunctionReturn(PETSC_SUCCESS);
}
