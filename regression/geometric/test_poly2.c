/*
  Unit test of the polynomial_2 SDE of EDM (-sde_type poly2, src/sde/impls/poly2):
    (a) alpha(t)^2 against EDM's discrete polynomial_schedule(T = 1000, s = 1e-5, power 2),
        re-implemented here with its clip of alpha^2 ratios at 0.001: equal on the grid except at
        the last point, where the clip adds (1-2s) 0.001 (2/T - 1/T^2)^2 (the documented deviation);
    (b) the coefficients against the marginal by central differences: d log alpha/dt = f and
        d sigma^2/dt = 2 f sigma^2 + g^2, and alpha^2 + sigma^2 = 1;
    (c) the transition against alpha(t)/alpha(s) and sigma(t)^2 - r^2 sigma(s)^2;
    (d) the closed-form inverse of sigma/alpha against bisection; defaults eps = 0, prior std 1.
  Prints one line per check and ends with "N passed, M failed".  < 1 s.
*/
#include <sgm.h>

#include "../unit/check.h"

int main(int argc, char **argv)
{
  Tally     tl = {0, 0};
  SgmSDE    sde;
  PetscReal s = 1e-5, eps, T, std, e1 = 0, e2 = 0, e3 = 0, e4 = 0, e5 = 0, e6 = 0, e7 = 0;
  const int NT = 1000;
  double    a2[1001], prev = 1;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(PetscOptionsSetValue(NULL, "-sde_type", "poly2"));
  PetscCall(SgmSDECreate(PETSC_COMM_WORLD, &sde));
  PetscCall(SgmSDESetFromOptions(sde));
  PetscCall(SgmSDESetUp(sde));
  /* (a) EDM: x = linspace(0, T+1, T+1)/(T+1) = i/T; alphas2 = (1 - x^2)^2; clip; precision */
  for (int i = 0; i <= NT; i++) {
    double x = (double)i / NT, u = (1 - x * x) * (1 - x * x), r = u / prev;
    prev = prev * (r < 0.001 ? 0.001 : r);
    a2[i] = (1 - 2 * s) * prev + s;
  }
  for (int i = 0; i <= NT; i++) {
    PetscReal al, sg;
    PetscCall(SgmSDEMarginal(sde, (PetscReal)i / NT, &al, &sg));
    if (i < NT) e1 = PetscMax(e1, PetscAbsReal(al * al - a2[i]) / a2[i]);
    else e2 = PetscAbsReal(a2[i] - al * al - (1 - 2 * s) * 0.001 * PetscSqr(2.0 / NT - 1.0 / (NT * (double)NT)));
  }
  PetscCall(Check(&tl, "alpha^2 vs EDM polynomial_2 grid, i < T (relative)", e1, 1e-13));
  PetscCall(Check(&tl, "alpha^2 at i = T: EDM clip adds (1-2s) 1e-3 (2/T-1/T^2)^2", e2, 1e-18));
  /* (b), (c) */
  for (int k = 1; k < 200; k++) {
    PetscReal t = k / 200.0, h = 1e-6, ap, sp, am, sm, a, sg, f, g, r, v, as, ss;
    PetscCall(SgmSDEMarginal(sde, t + h, &ap, &sp));
    PetscCall(SgmSDEMarginal(sde, t - h, &am, &sm));
    PetscCall(SgmSDEMarginal(sde, t, &a, &sg));
    PetscCall(SgmSDECoefficients(sde, t, &f, &g));
    e3 = PetscMax(e3, PetscAbsReal((PetscLogReal(ap) - PetscLogReal(am)) / (2 * h) - f) / (1 + PetscAbsReal(f)));
    e4 = PetscMax(e4, PetscAbsReal((sp * sp - sm * sm) / (2 * h) - (2 * f * sg * sg + g * g)) / (1 + g * g));
    e5 = PetscMax(e5, PetscAbsReal(a * a + sg * sg - 1));
    PetscCall(SgmSDETransition(sde, 0.5 * t, t, &r, &v));
    PetscCall(SgmSDEMarginal(sde, 0.5 * t, &as, &ss));
    e6 = PetscMax(e6, PetscAbsReal(r - a / as) + PetscAbsReal(v - (sg * sg - r * r * ss * ss)));
  }
  PetscCall(Check(&tl, "d log alpha/dt = f (central differences, t in (0,1))", e3, 1e-6));
  PetscCall(Check(&tl, "d sigma^2/dt = 2 f sigma^2 + g^2 (central differences)", e4, 1e-6));
  PetscCall(Check(&tl, "alpha^2 + sigma^2 = 1", e5, 1e-15));
  PetscCall(Check(&tl, "transition: r = alpha(t)/alpha(s), v = sigma_t^2 - r^2 sigma_s^2", e6, 1e-13));
  /* (d) closed-form inverse against bisection on sigma/alpha */
  for (int k = 0; k <= 100; k++) {
    PetscReal t = k / 100.0, r, tt, lo = 0, hi = 1, v;
    PetscCall(SgmSDENoiseToSignal(sde, t, &r));
    PetscCall(SgmSDETimeFromNoiseToSignal(sde, r, &tt));
    for (int it = 0; it < 200; it++) {
      PetscReal mid = 0.5 * (lo + hi);
      PetscCall(SgmSDENoiseToSignal(sde, mid, &v));
      if (v < r) lo = mid;
      else hi = mid;
    }
    e7 = PetscMax(e7, PetscAbsReal(tt - t) + PetscAbsReal(tt - 0.5 * (lo + hi)));
  }
  PetscCall(Check(&tl, "time from sigma/alpha: closed form vs t and bisection", e7, 1e-6));
  PetscCall(SgmSDEGetInterval(sde, &eps, &T));
  PetscCall(SgmSDEGetPriorStd(sde, &std));
  PetscCall(Check(&tl, "defaults: eps = 0, T = 1, prior std 1", PetscAbsReal(eps) + PetscAbsReal(T - 1) + PetscAbsReal(std - 1), 0));
  PetscCall(SgmSDEDestroy(&sde));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  PetscCall(PetscFinalize());
  return tl.fail != 0;
}
