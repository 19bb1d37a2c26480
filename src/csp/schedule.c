/*
  The noise schedules of DiffCSP (Jiao et al. 2023, sec. 3; jiaor17/DiffCSP diff_utils.py) on the
  integer steps t = 1..T:
    fractional coordinates  sigma_t = sigma_begin (sigma_end/sigma_begin)^((t-1)/(T-1)) (geometric),
                            sigma_0 = 0; F_t = w(F_0 + sigma_t eps), w = mod 1;
    lattice (DDPM)          the cosine schedule (Nichol & Dhariwal 2021): abar(x) = cos^2((x/T + s)/(1 + s) pi/2)
                            / cos^2(s/(1+s) pi/2), beta_t = 1 - abar(t)/abar(t-1) clipped to
                            [1e-4, 0.9999], alpha_t = 1 - beta_t, alphabar_t = prod_{s<=t} alpha_s,
                            posterior std sqrt(beta_t (1 - alphabar_{t-1}) / (1 - alphabar_t)).
  lambda_t (DiffCSP eq. 9: the loss weight 1/E[|score|^2], applied by dividing the target score by
  sqrt(E[score^2])): E_{x ~ WN(0, sigma_t^2)}[(d/dx log p(x; sigma_t))^2] per coordinate, computed
  here by the trapezoidal rule on [-1/2, 1/2) (periodic integrand: the rule converges
  geometrically once the spacing is well below sigma) with N = max(2048, 64/sigma) points, where
  DiffCSP draws 10000 Monte-Carlo samples.  For small sigma it tends to 1/sigma^2.

  The preconditioned lattice head (task 2; sgm's change to DiffCSP, doc/geometric.md).  DiffCSP's
  network predicts eps_L = M L_t outright.  With L_t = sqrt(abar_t) L_0 + sqrt(1 - abar_t) eps_L the
  best prediction at abar_t -> 0 is L_t itself, but the network has to learn M = I there to an
  accuracy the sampler cannot forgive: the ancestral step at t = T is
  L_{T-1} = (L_T - c1 eps_L)/sqrt(alpha_T) with 1/sqrt(alpha_T) = 100 (beta_T clipped to 0.9999) and
  c1 ~ 1, so an eps_L error of 0.4 (measured after 200 training steps) puts L_{T-1} at ~40 where it
  should be ~N(0, 1), the network sees lattices far outside its training range and L diverges.  sgm
  writes the head as in EDM (Karras et al. 2022, sec. 5), transferred to eps-prediction:
      eps_L = c_skip(t) L_t + c_out(t) M L_t = (c_skip I + c_out M) L_t,
      v_t = abar_t s_d^2 + 1 - abar_t,  c_skip = sqrt(1 - abar_t) / v_t,  c_out = sqrt(abar_t) s_d / sqrt(v_t),
  with s_d^2 the mean square of the training lattices' entries (Angstrom^2).  c_skip L_t is the
  least-squares linear prediction of eps_L from L_t when the entries of L_0 are uncorrelated with the
  noise and have second moment s_d^2, and c_out^2 = 1 - c_skip^2 v_t is the variance of what is left,
  so M L_t has a unit-variance target at every t; at abar_t = 0 it is exactly eps_L = L_t whatever M,
  and at abar_t -> 1 it is DiffCSP's M L_t.  Still of DiffCSP's form M' L_t (rotation equivariant);
  the loss stays DiffCSP's |eps_L,pred - eps_L|^2.  s_d = 0 gives c_skip = 0, c_out = 1: DiffCSP's
  plain head (-csp_lattice_precond 0, and model files without csp_lattice_rms).
*/
#include <sgmcsp.h>

PetscErrorCode SgmCSPWrappedScoreNorm(PetscReal sigma, PetscReal *sn)
{
  PetscInt  K, N = (PetscInt)PetscMax(2048.0, PetscCeilReal(64 / sigma));
  PetscReal s = 0, h = 1.0 / N;

  PetscFunctionBegin;
  PetscCall(SgmWrappedNormalImages(sigma, 1e-14, &K));
  for (PetscInt i = 0; i < N; i++) {
    PetscReal lp, sc;
    PetscCall(SgmWrappedNormalEval(-0.5 + i * h, sigma, K, &lp, &sc));
    s += PetscExpReal(lp) * sc * sc * h;
  }
  *sn = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCSPScheduleCreate(PetscInt T, PetscReal s0, PetscReal s1, SgmCSPSchedule *S)
{
  const PetscReal cs = 0.008;
  PetscReal       ab0, abprev;

  PetscFunctionBegin;
  PetscCheck(T >= 2, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "-csp_steps must be at least 2; got %" PetscInt_FMT, T);
  PetscCheck(s0 > 0 && s1 > s0, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "-csp_sigma_begin and -csp_sigma_end need 0 < begin < end; got %g and %g", (double)s0, (double)s1);
  S->T = T, S->sigma_begin = s0, S->sigma_end = s1;
  PetscCall(PetscMalloc6(T + 1, &S->sigma, T + 1, &S->sn, T + 1, &S->beta, T + 1, &S->alpha, T + 1, &S->abar, T + 1, &S->post));
  S->sigma[0] = 0, S->sn[0] = 1;
  for (PetscInt t = 1; t <= T; t++) {
    S->sigma[t] = s0 * PetscPowReal(s1 / s0, (PetscReal)(t - 1) / (T - 1));
    PetscCall(SgmCSPWrappedScoreNorm(S->sigma[t], &S->sn[t]));
  }
  ab0 = PetscSqr(PetscCosReal(cs / (1 + cs) * PETSC_PI / 2));
  abprev = 1;
  S->beta[0] = 0, S->alpha[0] = 1, S->abar[0] = 1, S->post[0] = 0;
  for (PetscInt t = 1; t <= T; t++) {
    PetscReal a1 = PetscSqr(PetscCosReal(((PetscReal)t / T + cs) / (1 + cs) * PETSC_PI / 2)) / ab0;
    PetscReal a0 = PetscSqr(PetscCosReal(((PetscReal)(t - 1) / T + cs) / (1 + cs) * PETSC_PI / 2)) / ab0;
    S->beta[t]  = PetscMin(PetscMax(1 - a1 / a0, 1e-4), 0.9999);
    S->alpha[t] = 1 - S->beta[t];
    S->abar[t]  = abprev * S->alpha[t];
    S->post[t]  = PetscSqrtReal(S->beta[t] * (1 - abprev) / (1 - S->abar[t]));
    abprev      = S->abar[t];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

void SgmCSPLatticePrecond(const SgmCSPSchedule *S, PetscReal sd, PetscInt t, PetscReal *cskip, PetscReal *cout)
{
  const PetscReal ab = S->abar[t], v = ab * sd * sd + 1 - ab;

  if (sd <= 0) *cskip = 0, *cout = 1;
  else *cskip = PetscSqrtReal(1 - ab) / v, *cout = PetscSqrtReal(ab) * sd / PetscSqrtReal(v);
}

/* s_d of the preconditioned lattice head: the root mean square of the entries of the lattices. */
PetscReal SgmCSPLatticeRMS(const SgmCrystalSet *D)
{
  PetscReal s = 0;

  for (PetscInt q = 0; q < 9 * D->N; q++) s += D->lattice[q] * D->lattice[q];
  return PetscSqrtReal(s / (9 * D->N));
}

PetscErrorCode SgmCSPScheduleDestroy(SgmCSPSchedule *S)
{
  PetscFunctionBegin;
  PetscCall(PetscFree6(S->sigma, S->sn, S->beta, S->alpha, S->abar, S->post));
  PetscFunctionReturn(PETSC_SUCCESS);
}
