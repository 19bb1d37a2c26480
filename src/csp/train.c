/*
  DiffCSP training (Jiao et al. 2023, Alg. 1; jiaor17/DiffCSP diffusion.py CSPDiffusion.forward).
  For a crystal (F_0, L_0) at the step t with noise eps_F ~ N(0, I_3n), eps_L ~ N(0, I_9):
      F_t = w(F_0 + sigma_t eps_F),          target  s_F = score_WN(sigma_t eps_F; sigma_t) / sqrt(sn_t)
      L_t = sqrt(abar_t) L_0 + sqrt(1 - abar_t) eps_L   (task 2; task 1 keeps L_t = L_0)
      loss = cost_coord |eps_F,pred - s_F|^2 / (3 N_atoms) + cost_lattice |eps_L,pred - eps_L|^2 / (9 B)
  summed over the global minibatch of B crystals (N_atoms their atoms), as DiffCSP's two mse_loss
  means.  score_WN is SgmWrappedNormalEval (d/dx log p, the sign DiffCSP's d_log_p_wrapped_normal
  flips), so the network predicts +score / sqrt(sn_t) and the sampler adds it.
  Minibatches: crystal and t of batch position j at step k from the uniforms of
  (seed, SGM_STREAM_CSP_DRAW, k, j), the noise from (seed, SGM_STREAM_CSP_NOISE, k, j), so a batch
  does not depend on the number of ranks; each rank takes a contiguous share of the positions,
  one MPI_Allreduce sums gradients and losses, and every rank applies the same Adam + EMA update
  (SgmAdamEMAUpdate), so the parameters are identical on all ranks.
*/
#include <sgmcsp.h>
#include <sgmtrain.h>

PetscErrorCode SgmCSPLoss(const SgmCSPModel *m, const PetscReal theta[], const SgmCrystal *c, PetscInt t, const PetscReal epsF[], const PetscReal epsL[], PetscReal wF, PetscReal wL, SgmCSPWork *w, PetscReal *lF, PetscReal *lL, PetscReal grad[])
{
  const PetscInt  n = c->n;
  const PetscReal sig = m->sched.sigma[t], rsn = 1 / PetscSqrtReal(m->sched.sn[t]);
  PetscReal       Ft[3 * SGM_CSP_MAXATOMS], Lt[9], target[3 * SGM_CSP_MAXATOMS], pF[3 * SGM_CSP_MAXATOMS], pL[9], gF[3 * SGM_CSP_MAXATOMS], gL[9];
  PetscInt        K;
  SgmCrystal      ct = {n, c->z, Ft, Lt};

  PetscFunctionBegin;
  PetscCheck(n <= SGM_CSP_MAXATOMS, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "sgm csp handles at most %d atoms per cell; got %" PetscInt_FMT, SGM_CSP_MAXATOMS, n);
  PetscCall(SgmWrappedNormalImages(sig, 1e-12, &K));
  for (PetscInt q = 0; q < 3 * n; q++) {
    PetscReal x = c->f[q] + sig * epsF[q], s;
    Ft[q] = x - PetscFloorReal(x);
    PetscCall(SgmWrappedNormalEval(sig * epsF[q], sig, K, NULL, &s));
    target[q] = s * rsn;
  }
  for (PetscInt q = 0; q < 9; q++) Lt[q] = m->lattice ? PetscSqrtReal(m->sched.abar[t]) * c->L[q] + PetscSqrtReal(1 - m->sched.abar[t]) * epsL[q] : c->L[q];
  PetscCall(SgmCSPModelForward(m, theta, &ct, (PetscReal)t, w, pF, pL));
  *lF = *lL = 0;
  for (PetscInt q = 0; q < 3 * n; q++) {
    PetscReal d = pF[q] - target[q];
    *lF += wF * d * d;
    gF[q] = 2 * wF * d;
  }
  for (PetscInt q = 0; q < 9; q++) {
    PetscReal d = m->lattice ? pL[q] - epsL[q] : 0;
    *lL += wL * d * d;
    gL[q] = 2 * wL * d;
  }
  if (grad) PetscCall(SgmCSPModelBackward(m, theta, &ct, w, gF, m->lattice ? gL : NULL, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCSPTrain(MPI_Comm comm, const SgmCSPTrainParams *tp, const SgmCrystalSet *data, SgmCSPModel *m, PetscReal ema[], PetscReal *lastloss)
{
  const PetscInt P = SgmCSPModelNumParameters(m), B = tp->batch, T = m->sched.T;
  PetscInt       nloc = PETSC_DECIDE, Bg = B, start, *crys, *tt;
  PetscReal     *g, *mm, *vv, *noise, lossF = 0, lossL = 0;
  SgmCSPWork     w;
  PetscLogEvent  evg, evr;

  PetscFunctionBegin;
  PetscCall(PetscLogEventRegister("SgmCSPTrainGrad", PETSC_OBJECT_CLASSID, &evg));
  PetscCall(PetscLogEventRegister("SgmCSPTrainAllred", PETSC_OBJECT_CLASSID, &evr));
  PetscCall(PetscSplitOwnership(comm, &nloc, &Bg));
  PetscCallMPI(MPI_Scan(&nloc, &start, 1, MPIU_INT, MPI_SUM, comm));
  start -= nloc;
  PetscCall(PetscCalloc6(P + 2, &g, P, &mm, P, &vv, 3 * data->maxatoms + 9, &noise, B, &crys, B, &tt));
  PetscCall(PetscArraycpy(ema, m->theta, P));
  PetscCall(SgmCSPWorkCreate(m, &w));
  for (PetscInt k = 0; k < tp->steps; k++) {
    PetscInt  natoms = 0;
    PetscReal c1, c2, ed, u[2];
    for (PetscInt j = 0; j < B; j++) { /* every rank draws the whole batch's crystals: the loss denominators */
      SgmRandomUniformSample((uint64_t)tp->seed, SGM_STREAM_CSP_DRAW, k, j, 2, u);
      crys[j] = PetscMin((PetscInt)(u[0] * data->N), data->N - 1);
      tt[j]   = 1 + PetscMin((PetscInt)(u[1] * T), T - 1);
      natoms += data->natoms[crys[j]];
    }
    PetscCall(PetscLogEventBegin(evg, 0, 0, 0, 0));
    PetscCall(PetscArrayzero(g, P + 2));
    for (PetscInt j = start; j < start + nloc; j++) {
      SgmCrystal c;
      PetscReal  lF, lL;
      SgmCrystalSetGet(data, crys[j], &c);
      SgmRandomNormalSample((uint64_t)tp->seed, SGM_STREAM_CSP_NOISE, k, j, 3 * c.n + 9, noise);
      PetscCall(SgmCSPLoss(m, m->theta, &c, tt[j], noise, noise + 3 * c.n, tp->cost_coord / (3.0 * natoms), tp->cost_lattice / (9.0 * B), &w, &lF, &lL, g));
      g[P] += lF, g[P + 1] += lL;
    }
    PetscCall(PetscLogEventEnd(evg, 0, 0, 0, 0));
    PetscCall(PetscLogEventBegin(evr, 0, 0, 0, 0));
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, g, (PetscMPIInt)(P + 2), MPIU_REAL, MPI_SUM, comm));
    PetscCall(PetscLogEventEnd(evr, 0, 0, 0, 0));
    lossF = g[P], lossL = g[P + 1];
    PetscCheck(PetscIsNormalReal(lossF + lossL) || lossF + lossL == 0, comm, PETSC_ERR_USER_INPUT, "The loss at training step %" PetscInt_FMT " is not finite: lower -csp_lr", k + 1);
    c1 = 1 - PetscPowRealInt(tp->beta1, k + 1);
    c2 = 1 - PetscPowRealInt(tp->beta2, k + 1);
    ed = PetscMin(tp->emadecay, (1.0 + k + 1) / (10.0 + k + 1));
    SgmAdamEMAUpdate(P, 1.0, tp->lr, tp->beta1, tp->beta2, c1, c2, tp->adameps, ed, g, mm, vv, m->theta, ema);
    if (tp->log_every > 0 && ((k + 1) % tp->log_every == 0 || k == 0)) PetscCall(PetscPrintf(comm, "  step %6" PetscInt_FMT "  loss %.5f  (coord %.5f, lattice %.5f)\n", k + 1, (double)(lossF + lossL), (double)lossF, (double)lossL));
  }
  *lastloss = lossF + lossL;
  PetscCall(SgmCSPWorkDestroy(m, &w));
  PetscCall(PetscFree6(g, mm, vv, noise, crys, tt));
  PetscFunctionReturn(PETSC_SUCCESS);
}
