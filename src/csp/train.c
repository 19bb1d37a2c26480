/*
  DiffCSP training (Jiao et al. 2023, Alg. 1; jiaor17/DiffCSP diffusion.py CSPDiffusion.forward).
  For a crystal (F_0, L_0) at the step t with noise eps_F ~ N(0, I_3n), eps_L ~ N(0, I_9):
      F_t = w(F_0 + sigma_t eps_F),          target  s_F = score_WN(sigma_t eps_F; sigma_t) / sqrt(sn_t)
      L_t = sqrt(abar_t) L_0 + sqrt(1 - abar_t) eps_L   (task 2; task 1 keeps L_t = L_0)
      eps_L,pred = c_skip(t) L_t + c_out(t) M L_t        (the preconditioned head, schedule.c)
      loss = cost_coord |eps_F,pred - s_F|^2 / (3 N_atoms) + cost_lattice |eps_L,pred - eps_L|^2 / (9 B)
  summed over the global minibatch of B crystals (N_atoms their atoms), as DiffCSP's two mse_loss
  means.  score_WN is SgmWrappedNormalEval (d/dx log p, the sign DiffCSP's d_log_p_wrapped_normal
  flips), so the network predicts +score / sqrt(sn_t) and the sampler adds it.
  Minibatches: crystal and t of batch position j at step k from the uniforms of
  (seed, SGM_STREAM_CSP_DRAW, k, j), the noise from (seed, SGM_STREAM_CSP_NOISE, k, j), so a batch
  does not depend on the number of ranks; each rank takes a contiguous share of the positions,
  one MPI_Allreduce sums gradients and losses, and every rank applies the same Adam + EMA update
  (SgmAdamEMAUpdate), so the parameters are identical on all ranks.
  Checkpoint/restart as `sgm train-ae` (the atomic writer, signal stop and array I/O of
  src/train/interface/trainshared.c): weights, Adam's moments, the EMA and the step in one HDF5 file.
*/
#include <sgmcsp.h>
#include <sgmtrain.h>
#include <sgmio.h>
#include <sgm/private/trainimpl.h>
#include <stdio.h>
#include <string.h>

PetscErrorCode SgmCSPLoss(const SgmCSPModel *m, const PetscReal theta[], const SgmCrystal *c, PetscInt t, const PetscReal epsF[], const PetscReal epsL[], PetscReal wF, PetscReal wL, SgmCSPWork *w, PetscReal *lF, PetscReal *lL, PetscReal grad[])
{
  const PetscInt  n = c->n;
  const PetscReal sig = m->sched.sigma[t], rsn = 1 / PetscSqrtReal(m->sched.sn[t]);
  PetscReal       Ft[3 * SGM_CSP_MAXATOMS], Lt[9], target[3 * SGM_CSP_MAXATOMS], pF[3 * SGM_CSP_MAXATOMS], pL[9], gF[3 * SGM_CSP_MAXATOMS], gL[9];
  PetscReal       cskip, cout;
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
  SgmCSPLatticePrecond(&m->sched, m->lattice_rms, t, &cskip, &cout); /* eps_L = c_skip L_t + c_out M L_t (schedule.c) */
  for (PetscInt q = 0; q < 9; q++) pL[q] = cskip * Lt[q] + cout * pL[q];
  *lF = *lL = 0;
  for (PetscInt q = 0; q < 3 * n; q++) {
    PetscReal d = pF[q] - target[q];
    *lF += wF * d * d;
    gF[q] = 2 * wF * d;
  }
  for (PetscInt q = 0; q < 9; q++) {
    PetscReal d = m->lattice ? pL[q] - epsL[q] : 0;
    *lL += wL * d * d;
    gL[q] = 2 * wL * d * cout;
  }
  if (grad) PetscCall(SgmCSPModelBackward(m, theta, &ct, w, gF, m->lattice ? gL : NULL, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCSPTrainStateCreate(const SgmCSPModel *m, SgmCSPTrainState *st)
{
  PetscFunctionBegin;
  st->step = 0, st->loss = 0;
  PetscCall(PetscCalloc3(SgmCSPModelNumParameters(m), &st->mm, SgmCSPModelNumParameters(m), &st->vv, SgmCSPModelNumParameters(m), &st->ema));
  PetscCall(PetscArraycpy(st->ema, m->theta, SgmCSPModelNumParameters(m)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCSPTrainStateDestroy(SgmCSPTrainState *st)
{
  PetscFunctionBegin;
  PetscCall(PetscFree3(st->mm, st->vv, st->ema));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The checkpoint (checkpoint_kind "csp train", written atomically by SgmTrainCheckpointWrite_Private):
   /theta_raw, /adam_m, /adam_v, /ema [P] and the attributes step, loss and what a restart must
   match: csp_parameters, csp_lattice, csp_lattice_rms, csp_steps, csp_crystals, csp_batch, seed. */
typedef struct {
  const SgmCSPTrainParams *tp;
  const SgmCrystalSet     *data;
  const SgmCSPModel       *m;
  const SgmCSPTrainState  *st;
} CkptCtx;

static PetscErrorCode WriteCheckpointContents(hid_t f, void *ctx)
{
  CkptCtx       *c = (CkptCtx *)ctx;
  const hsize_t  P = (hsize_t)SgmCSPModelNumParameters(c->m);

  PetscFunctionBegin;
  PetscCall(SgmTrainWriteArray_Private(f, "theta_raw", P, c->m->theta));
  PetscCall(SgmTrainWriteArray_Private(f, "adam_m", P, c->st->mm));
  PetscCall(SgmTrainWriteArray_Private(f, "adam_v", P, c->st->vv));
  PetscCall(SgmTrainWriteArray_Private(f, "ema", P, c->st->ema));
  PetscCall(SgmH5AttrInt(f, "step", c->st->step));
  PetscCall(SgmH5AttrReal(f, "loss", c->st->loss));
  PetscCall(SgmH5AttrInt(f, "csp_parameters", SgmCSPModelNumParameters(c->m)));
  PetscCall(SgmH5AttrInt(f, "csp_lattice", c->m->lattice ? 1 : 0));
  PetscCall(SgmH5AttrInt(f, "csp_net_type", (PetscInt64)c->m->type)); /* 0 cspnet, 1 distance (SgmCSPNetTypes) */
  PetscCall(SgmH5AttrReal(f, "csp_lattice_rms", c->m->lattice_rms));
  PetscCall(SgmH5AttrInt(f, "csp_steps", c->m->sched.T));
  PetscCall(SgmH5AttrInt(f, "csp_crystals", c->data->N));
  PetscCall(SgmH5AttrInt(f, "csp_batch", c->tp->batch));
  PetscCall(SgmH5AttrInt(f, "seed", c->tp->seed));
  PetscCall(SgmH5AttrInt(f, "csp_train_steps", c->tp->steps));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Continue from a checkpoint of `sgm csp train` written with the same options (checked: the
   network size, the task, s_d, T, the crystal count, the batch and the seed); collective. */
PetscErrorCode SgmCSPTrainRestart(MPI_Comm comm, const char fname[], const SgmCSPTrainParams *tp, const SgmCrystalSet *data, SgmCSPModel *m, SgmCSPTrainState *st)
{
  const PetscInt P = SgmCSPModelNumParameters(m);
  PetscMPIInt    rank;
  int            err = 0;
  PetscInt64     v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  PetscReal      r[2] = {0, 0};
  char           what[96] = "";

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    hid_t f;
    char  kind[32];
    if (SgmTrainCheckpointOpen_Private(fname, &f, kind, sizeof(kind))) err = 1;
    else {
      const char *names[8] = {"step", "csp_parameters", "csp_lattice", "csp_steps", "csp_crystals", "csp_batch", "seed", "csp_net_type"}, *rnames[2] = {"loss", "csp_lattice_rms"};
      if (!kind[0]) err = 2;
      else if (strcmp(kind, "csp train")) {
        err = 5;
        (void)snprintf(what, sizeof(what), "%s", kind);
      }
      for (int i = 0; i < 8 && !err; i++) {
        hid_t a = H5Aexists(f, names[i]) > 0 ? H5Aopen(f, names[i], H5P_DEFAULT) : -1;
        if (a < 0 || H5Aread(a, H5T_NATIVE_INT64, &v[i]) < 0) err = 2;
        if (a >= 0) H5Aclose(a);
      }
      for (int i = 0; i < 2 && !err; i++) {
        hid_t a = H5Aexists(f, rnames[i]) > 0 ? H5Aopen(f, rnames[i], H5P_DEFAULT) : -1;
        if (a < 0 || H5Aread(a, H5T_NATIVE_DOUBLE, &r[i]) < 0) err = 2;
        if (a >= 0) H5Aclose(a);
      }
      if (!err) {
        const PetscInt64 mine[8] = {v[0], P, m->lattice ? 1 : 0, m->sched.T, data->N, tp->batch, tp->seed, (PetscInt64)m->type};
        for (int i = 1; i < 8 && !err; i++)
          if (v[i] != mine[i]) {
            err = 3;
            (void)snprintf(what, sizeof(what), "%s %lld (now %lld)", names[i], (long long)v[i], (long long)mine[i]);
          }
        if (!err && r[1] != m->lattice_rms) {
          err = 3;
          (void)snprintf(what, sizeof(what), "csp_lattice_rms %.17g (now %.17g)", (double)r[1], (double)m->lattice_rms);
        }
      }
      if (!err && (v[0] < 0 || v[0] > tp->steps)) err = 4;
      if (!err && (SgmTrainReadArray_Private(f, "theta_raw", (hsize_t)P, m->theta) || SgmTrainReadArray_Private(f, "adam_m", (hsize_t)P, st->mm) || SgmTrainReadArray_Private(f, "adam_v", (hsize_t)P, st->vv) || SgmTrainReadArray_Private(f, "ema", (hsize_t)P, st->ema))) err = 2;
      H5Fclose(f);
    }
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(what, sizeof(what), MPI_CHAR, 0, comm));
  PetscCallMPI(MPI_Bcast(v, 8, MPI_INT64_T, 0, comm));
  PetscCallMPI(MPI_Bcast(r, 2, MPIU_REAL, 0, comm));
  PetscCheck(err != 1, comm, PETSC_ERR_FILE_OPEN, "Cannot open the checkpoint '%s': it does not exist or is not an HDF5 file", fname);
  PetscCheck(err != 5, comm, PETSC_ERR_USER_INPUT, "'%s' is a checkpoint of `sgm %s`, not of `sgm csp train`", fname, what);
  PetscCheck(err != 2, comm, PETSC_ERR_FILE_READ, "The checkpoint '%s' is incomplete or not a checkpoint of `sgm csp train`", fname);
  PetscCheck(err != 3, comm, PETSC_ERR_USER_INPUT, "The checkpoint '%s' was written with other options: %s; restart with the options of the interrupted run", fname, what);
  PetscCheck(err != 4, comm, PETSC_ERR_USER_INPUT, "The checkpoint '%s' is at step %" PetscInt64_FMT ", beyond -csp_train_steps %" PetscInt_FMT, fname, v[0], tp->steps);
  st->step = (PetscInt)v[0], st->loss = r[0];
  PetscCallMPI(MPI_Bcast(m->theta, (PetscMPIInt)P, MPIU_REAL, 0, comm));
  PetscCallMPI(MPI_Bcast(st->mm, (PetscMPIInt)P, MPIU_REAL, 0, comm));
  PetscCallMPI(MPI_Bcast(st->vv, (PetscMPIInt)P, MPIU_REAL, 0, comm));
  PetscCallMPI(MPI_Bcast(st->ema, (PetscMPIInt)P, MPIU_REAL, 0, comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Steps st->step + 1 .. tp->steps (st from SgmCSPTrainStateCreate, or SgmCSPTrainRestart).  With
   tp->ckpt set: the checkpoint every tp->ckpt_every steps and, when SIGTERM/SIGUSR1 reached any rank
   (signal handlers installed by the caller), after the current step, then *stopped = true and return
   (all ranks at the same step).  Every draw is a pure function of (seed, step, batch position), so
   a run resumed from step k continues bitwise as the uninterrupted run on the same rank count. */
PetscErrorCode SgmCSPTrain(MPI_Comm comm, const SgmCSPTrainParams *tp, const SgmCrystalSet *data, SgmCSPModel *m, SgmCSPTrainState *st, PetscBool *stopped)
{
  const PetscInt P = SgmCSPModelNumParameters(m), B = tp->batch, T = m->sched.T;
  PetscInt       nloc = PETSC_DECIDE, Bg = B, start, *crys, *tt;
  PetscReal     *g, *noise, lossF = 0, lossL = 0;
  SgmCSPWork     w;
  PetscLogEvent  evg, evr;
  CkptCtx        ctx = {tp, data, m, st};

  PetscFunctionBegin;
  *stopped = PETSC_FALSE;
  PetscCall(PetscLogEventRegister("SgmCSPTrainGrad", PETSC_OBJECT_CLASSID, &evg));
  PetscCall(PetscLogEventRegister("SgmCSPTrainAllred", PETSC_OBJECT_CLASSID, &evr));
  PetscCall(PetscSplitOwnership(comm, &nloc, &Bg));
  PetscCallMPI(MPI_Scan(&nloc, &start, 1, MPIU_INT, MPI_SUM, comm));
  start -= nloc;
  PetscCall(PetscCalloc4(P + 2, &g, 3 * data->maxatoms + 9, &noise, B, &crys, B, &tt));
  PetscCall(SgmCSPWorkCreate(m, &w));
  for (PetscInt k = st->step; k < tp->steps; k++) {
    PetscInt  natoms = 0;
    PetscReal c1, c2, ed, u[2];
    PetscBool stop = PETSC_FALSE;
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
    SgmAdamEMAUpdate(P, 1.0, tp->lr, tp->beta1, tp->beta2, c1, c2, tp->adameps, ed, g, st->mm, st->vv, m->theta, st->ema);
    st->step = k + 1, st->loss = lossF + lossL;
    if (tp->log_every > 0 && ((k + 1) % tp->log_every == 0 || k == 0)) PetscCall(PetscPrintf(comm, "  step %6" PetscInt_FMT "  loss %.5f  (coord %.5f, lattice %.5f)\n", k + 1, (double)(lossF + lossL), (double)lossF, (double)lossL));
    if (!tp->ckpt[0]) continue;
    PetscCall(SgmTrainSignalStop_Private(comm, k + 1, tp->sigstep, &stop)); /* a signal caught on any rank stops all of them at the same step */
    if ((tp->ckpt_every > 0 && (k + 1) % tp->ckpt_every == 0 && k + 1 < tp->steps) || stop) PetscCall(SgmTrainCheckpointWrite_Private(comm, tp->ckpt, "csp train", WriteCheckpointContents, &ctx));
    if (stop && k + 1 < tp->steps) {
      *stopped = PETSC_TRUE;
      break;
    }
  }
  if (tp->ckpt[0] && !*stopped) PetscCall(SgmTrainCheckpointWrite_Private(comm, tp->ckpt, "csp train", WriteCheckpointContents, &ctx)); /* to continue training later */
  PetscCall(SgmCSPWorkDestroy(m, &w));
  PetscCall(PetscFree4(g, noise, crys, tt));
  PetscFunctionReturn(PETSC_SUCCESS);
}
