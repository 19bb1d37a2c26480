/*
  DiffCSP's predictor-corrector sampler (Jiao et al. 2023, Alg. 2; jiaor17/DiffCSP diffusion.py
  CSPDiffusion.sample), one PETSc TS step per diffusion step t = T, T-1, ..., 1 (TS type "sgmcsppc",
  registered here like sgm's other sampler TS types; the TS clock counts steps done, tau = T - t).
  Start: F_T ~ U[0,1)^{3n}; L_T ~ N(0, I_9) (task 2) or the reference lattice (task 1).  Step t,
  with the network output s(t, F, L) ~ score / sqrt(sn_t) and z ~ N(0, I) (z = 0 at t = 1):
    corrector  gamma = step_lr (sigma_t / sigma_1)^2
               F' = w(F + gamma sqrt(sn_t) s(t, F, L) + sqrt(2 gamma) z1)
    predictor  F'' = w(F' + (sigma_t^2 - sigma_{t-1}^2) sqrt(sn_t) s(t, F', L)
                          + sqrt(sigma_{t-1}^2 (sigma_t^2 - sigma_{t-1}^2) / sigma_t^2) z2)
               L'' = (L - (1 - alpha_t)/sqrt(1 - abar_t) eps_L(t, F', L)) / sqrt(alpha_t) + post_t z3
  with eps_L = c_skip(t) L + c_out(t) M L, the preconditioned head of schedule.c (c_skip = 0, c_out = 1:
  DiffCSP's plain head).
  (DiffCSP evaluates both network calls at the same t and wraps F only after the predictor; the
  wrap in between changes nothing, the network being periodic in F.)  Two network evaluations per
  step.  Crystals are spread over the ranks, whole crystals per rank; the noise of crystal b at
  step t is (seed, SGM_STREAM_CSP_SAMPLE, 3(T-t)+1..3, b) and the prior (.., 0, b), and nothing is
  summed across crystals, so the samples are bitwise the same on any number of ranks.
*/
#include <sgmcsp.h>
#include <petscts.h>
#include <petsc/private/tsimpl.h>

#define TSSGMCSPPC "sgmcsppc"

typedef struct {
  const SgmCSPModel   *m;
  const SgmCrystalSet *ref;
  PetscReal            step_lr;
  uint64_t             seed;
  PetscInt             start, nloc, d, nfe;
  PetscInt            *diverged; /* [nloc]: 0, or the step t at which the crystal became non-finite */
  SgmCSPWork           w;
} CSPSampler;

static PetscErrorCode StepCrystal(CSPSampler *s, PetscInt b, PetscInt t, PetscReal *x)
{
  const SgmCSPModel    *m = s->m;
  const SgmCSPSchedule *S = &m->sched;
  const PetscInt        n = s->ref->natoms[b], M = s->ref->maxatoms;
  PetscReal            *F = x, *L = x + 3 * M, z[3 * SGM_CSP_MAXATOMS + 9], pF[3 * SGM_CSP_MAXATOMS], pL[9];
  const PetscReal       sq = PetscSqrtReal(S->sn[t]), s2 = S->sigma[t] * S->sigma[t], s2p = S->sigma[t - 1] * S->sigma[t - 1];
  const PetscReal       gam = s->step_lr * s2 / (S->sigma[1] * S->sigma[1]), dl = s2 - s2p, stdp = PetscSqrtReal(s2p * dl / s2);
  const PetscInt        k = S->T - t;
  SgmCrystal            c = {n, s->ref->types + b * M, F, L};

  PetscFunctionBegin;
  /* corrector */
  if (t > 1) SgmRandomNormalSample(s->seed, SGM_STREAM_CSP_SAMPLE, 3 * k + 1, b, 3 * n, z);
  else PetscCall(PetscArrayzero(z, 3 * n));
  PetscCall(SgmCSPModelForward(m, m->theta, &c, (PetscReal)t, &s->w, pF, pL));
  for (PetscInt q = 0; q < 3 * n; q++) {
    F[q] += gam * sq * pF[q] + PetscSqrtReal(2 * gam) * z[q];
    F[q] -= PetscFloorReal(F[q]);
  }
  /* predictor */
  if (t > 1) SgmRandomNormalSample(s->seed, SGM_STREAM_CSP_SAMPLE, 3 * k + 2, b, 3 * n, z);
  else PetscCall(PetscArrayzero(z, 3 * n));
  PetscCall(SgmCSPModelForward(m, m->theta, &c, (PetscReal)t, &s->w, pF, pL));
  for (PetscInt q = 0; q < 3 * n; q++) {
    F[q] += dl * sq * pF[q] + stdp * z[q];
    F[q] -= PetscFloorReal(F[q]);
    if (F[q] >= 1) F[q] = 0;
  }
  if (m->lattice) {
    const PetscReal c0 = 1 / PetscSqrtReal(S->alpha[t]), c1 = (1 - S->alpha[t]) / PetscSqrtReal(1 - S->abar[t]);
    PetscReal       cskip, cout;
    SgmCSPLatticePrecond(S, m->lattice_rms, t, &cskip, &cout);
    for (PetscInt q = 0; q < 9; q++) pL[q] = cskip * L[q] + cout * pL[q];
    if (t > 1) SgmRandomNormalSample(s->seed, SGM_STREAM_CSP_SAMPLE, 3 * k + 3, b, 9, z);
    else PetscCall(PetscArrayzero(z, 9));
    for (PetscInt q = 0; q < 9; q++) L[q] = c0 * (L[q] - c1 * pL[q]) + S->post[t] * z[q];
  }
  s->nfe += 2;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TSStep_SgmCSPPC(TS ts)
{
  CSPSampler *s;
  PetscInt    t;
  PetscReal  *x;
  Vec         X = ts->vec_sol;

  PetscFunctionBegin;
  PetscCall(TSGetApplicationContext(ts, &s));
  PetscCheck(s, PetscObjectComm((PetscObject)ts), PETSC_ERR_ARG_WRONG, "TS type sgmcsppc is driven by sgm csp sample");
  t = s->m->sched.T - ts->steps;
  PetscCheck(t >= 1, PetscObjectComm((PetscObject)ts), PETSC_ERR_ARG_OUTOFRANGE, "Step %" PetscInt_FMT " is past the %" PetscInt_FMT " diffusion steps", ts->steps, s->m->sched.T);
  PetscCall(PetscLogEventBegin(SGM_Step, 0, 0, 0, 0));
  PetscCall(TSPreStage(ts, ts->ptime));
  PetscCall(VecGetArray(X, &x));
  for (PetscInt b = 0; b < s->nloc; b++) {
    PetscReal *xb = x + b * s->d;
    PetscBool  bad = PETSC_FALSE;
    if (s->diverged[b]) continue;
    PetscCall(StepCrystal(s, s->start + b, t, xb));
    for (PetscInt q = 0; q < s->d; q++)
      if (!PetscIsNormalReal(xb[q]) && xb[q] != 0) bad = PETSC_TRUE;
    if (bad) { /* frozen from here on, stored as zero coordinates in the unit cube */
      s->diverged[b] = t;
      PetscCall(PetscArrayzero(xb, s->d));
      for (int a = 0; a < 3; a++) xb[3 * s->ref->maxatoms + 4 * a] = 1;
    }
  }
  PetscCall(VecRestoreArray(X, &x));
  PetscCall(TSPostStage(ts, ts->ptime, 0, &X));
  PetscCall(PetscLogEventEnd(SGM_Step, 0, 0, 0, 0));
  ts->ptime += 1;
  ts->time_step = 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TSSetUp_SgmCSPPC(TS ts)
{
  PetscFunctionBegin;
  PetscCall(TSGetAdapt(ts, &ts->adapt));
  PetscCall(TSAdaptCandidatesClear(ts->adapt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TSDestroy_SgmCSPPC(TS ts)
{
  PetscFunctionBegin;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TSCreate_SgmCSPPC(TS ts)
{
  PetscFunctionBegin;
  ts->ops->step          = TSStep_SgmCSPPC;
  ts->ops->setup         = TSSetUp_SgmCSPPC;
  ts->ops->destroy       = TSDestroy_SgmCSPPC;
  ts->default_adapt_type = TSADAPTNONE;
  ts->usessnes           = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RHSUnused(TS ts, PetscReal t, Vec X, Vec F, void *ctx)
{
  PetscFunctionBegin;
  SETERRQ(PetscObjectComm((PetscObject)ts), PETSC_ERR_ARG_WRONG, "TS type sgmcsppc has no right-hand side: it steps by DiffCSP's predictor-corrector rule");
}

/*
  Sample one crystal per row of ref (its composition; its lattice too for task 1), the rows spread
  over the ranks.  out: the samples in the layout of ref (the same natoms, types; new frac,
  lattice), complete on every rank.  nfe: network evaluations summed over all crystals.  diverged[N] (complete on
  every rank): 0, or the step t at which the crystal became non-finite (task 2 with DiffCSP's plain
  lattice head, -csp_lattice_precond 0, undertrained: the first ancestral steps multiply the eps_L
  error by up to 1/sqrt(alpha_T) = 100; schedule.c); such a
  crystal is frozen and returned as zero coordinates in the unit cube.
*/
PetscErrorCode SgmCSPSample(MPI_Comm comm, const SgmCSPModel *m, const SgmCrystalSet *ref, PetscReal step_lr, PetscInt seed, SgmCrystalSet *out, PetscReal diverged[], PetscInt *nfe, PetscInt *tssteps)
{
  static PetscBool registered = PETSC_FALSE;
  CSPSampler       s;
  PetscInt         N = ref->N, M = ref->maxatoms;
  TS               ts;
  Vec              X;
  PetscReal       *x;

  PetscFunctionBegin;
  PetscCheck(step_lr > 0, comm, PETSC_ERR_USER_INPUT, "-csp_step_lr must be positive; got %g", (double)step_lr);
  PetscCheck(M <= m->net.maxatoms && M <= SGM_CSP_MAXATOMS, comm, PETSC_ERR_USER_INPUT, "The reference crystals have up to %" PetscInt_FMT " atoms per cell; the model was trained for %" PetscInt_FMT, M, m->net.maxatoms);
  if (!registered) {
    PetscCall(TSRegister(TSSGMCSPPC, TSCreate_SgmCSPPC));
    registered = PETSC_TRUE;
  }
  s.m = m, s.ref = ref, s.step_lr = step_lr, s.seed = (uint64_t)seed, s.nfe = 0, s.d = 3 * M + 9, s.nloc = PETSC_DECIDE;
  PetscCall(PetscSplitOwnership(comm, &s.nloc, &N));
  PetscCallMPI(MPI_Scan(&s.nloc, &s.start, 1, MPIU_INT, MPI_SUM, comm));
  s.start -= s.nloc;
  PetscCall(SgmCSPWorkCreate(m, &s.w));
  PetscCall(PetscCalloc1(s.nloc + 1, &s.diverged));
  PetscCall(VecCreateMPI(comm, s.nloc * s.d, PETSC_DETERMINE, &X));
  PetscCall(VecGetArray(X, &x));
  for (PetscInt b = 0; b < s.nloc; b++) { /* the prior */
    const PetscInt gb = s.start + b, n = ref->natoms[gb];
    PetscReal     *F = x + b * s.d, *L = F + 3 * M;
    PetscCall(PetscArrayzero(F, s.d));
    SgmRandomUniformSample(s.seed, SGM_STREAM_CSP_SAMPLE, 0, gb, 3 * n, F);
    if (m->lattice) SgmRandomNormalSample(s.seed, SGM_STREAM_CSP_SAMPLE, 0, gb, 9, L);
    else PetscCall(PetscArraycpy(L, ref->lattice + 9 * gb, 9));
  }
  PetscCall(VecRestoreArray(X, &x));
  PetscCall(TSCreate(comm, &ts));
  PetscCall(TSSetApplicationContext(ts, &s));
  PetscCall(TSSetType(ts, TSSGMCSPPC));
  PetscCall(TSSetRHSFunction(ts, NULL, RHSUnused, NULL));
  PetscCall(TSSetTime(ts, 0));
  PetscCall(TSSetTimeStep(ts, 1));
  PetscCall(TSSetMaxSteps(ts, m->sched.T));
  PetscCall(TSSetMaxTime(ts, (PetscReal)m->sched.T));
  PetscCall(TSSetExactFinalTime(ts, TS_EXACTFINALTIME_MATCHSTEP));
  PetscCall(TSSetSolution(ts, X));
  PetscCall(TSSolve(ts, X));
  PetscCall(TSGetStepNumber(ts, tssteps));
  PetscCall(TSDestroy(&ts));
  /* gather the samples: every rank gets the whole set */
  PetscCall(PetscMemzero(out, sizeof(*out)));
  out->N = ref->N, out->maxatoms = M;
  PetscCall(PetscMalloc2(ref->N, &out->natoms, ref->N * M, &out->types));
  PetscCall(PetscCalloc1(ref->N * M * 3, &out->frac));
  PetscCall(PetscCalloc1(ref->N * 9, &out->lattice));
  PetscCall(PetscArraycpy(out->natoms, ref->natoms, ref->N));
  PetscCall(PetscArraycpy(out->types, ref->types, ref->N * M));
  PetscCall(VecGetArray(X, &x));
  for (PetscInt b = 0; b < s.nloc; b++) {
    PetscCall(PetscArraycpy(out->frac + 3 * M * (s.start + b), x + b * s.d, 3 * M));
    PetscCall(PetscArraycpy(out->lattice + 9 * (s.start + b), x + b * s.d + 3 * M, 9));
  }
  PetscCall(VecRestoreArray(X, &x));
  PetscCall(PetscArrayzero(diverged, ref->N));
  for (PetscInt b = 0; b < s.nloc; b++) diverged[s.start + b] = (PetscReal)s.diverged[b];
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, diverged, (PetscMPIInt)ref->N, MPIU_REAL, MPI_SUM, comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, out->frac, (PetscMPIInt)(ref->N * M * 3), MPIU_REAL, MPI_SUM, comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, out->lattice, (PetscMPIInt)(ref->N * 9), MPIU_REAL, MPI_SUM, comm));
  *nfe = s.nfe; /* network evaluations summed over all crystals (2 per step of a crystal that did not diverge) */
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, nfe, 1, MPIU_INT, MPI_SUM, comm));
  PetscCall(VecDestroy(&X));
  PetscCall(SgmCSPWorkDestroy(m, &s.w));
  PetscCall(PetscFree(s.diverged));
  PetscFunctionReturn(PETSC_SUCCESS);
}
