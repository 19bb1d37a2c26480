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

PetscErrorCode SgmCSPScheduleDestroy(SgmCSPSchedule *S)
{
  PetscFunctionBegin;
  PetscCall(PetscFree6(S->sigma, S->sn, S->beta, S->alpha, S->abar, S->post));
  PetscFunctionReturn(PETSC_SUCCESS);
}
