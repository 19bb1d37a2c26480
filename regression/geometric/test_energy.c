/*
  Unit test of the MCMC target energies (src/mcmc/impls: dw4, lj13 with -lj_pairs ordered and
  unordered): the gradient against central differences of E, E invariant under a rotation, a
  translation and a permutation of the particles, the gradient's net force and torque zero
  (translation and rotation invariance), and the LJ13 pair-sum conventions (ordered = 2 x unordered
  pair term, same oscillator).  Configurations: a jittered grid (no close contacts).
  Prints one line per check and ends with "N passed, M failed".  < 1 s.
*/
#include <sgmmcmc.h>

#include "../unit/check.h"

static void Config(PetscInt n, PetscInt dim, PetscReal spacing, PetscReal *x)
{
  PetscReal u[64];
  SgmRandomUniformSample(99, SGM_STREAM_EVAL, 5, n, n * dim, u);
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt c = 0; c < dim; c++) {
      PetscInt g = dim == 2 ? (c ? i / 2 : i % 2) : (c == 0 ? i % 3 : c == 1 ? (i / 3) % 3 : i / 9);
      x[i * dim + c] = spacing * (g + 0.3 * (u[i * dim + c] - 0.5));
    }
}

static PetscErrorCode TestTarget(Tally *tl, const char *type, const char *pairs)
{
  SgmEnergy e;
  PetscInt  n, dim, nd;
  PetscReal x[64], y[64], g[64], gy[64], E, Ep, Em, err = 0, gmax = 0, h = 1e-6, f[3] = {0, 0, 0}, tq[3] = {0, 0, 0};
  PetscReal th = 0.7, Q[9];
  char      name[128], label[32];

  PetscFunctionBegin;
  if (pairs) PetscCall(PetscOptionsSetValue(NULL, "-lj_pairs", pairs));
  PetscCall(SgmEnergyCreate(PETSC_COMM_WORLD, &e));
  PetscCall(SgmEnergySetType(e, type));
  PetscCall(SgmEnergySetFromOptions(e));
  PetscCall(SgmEnergyGetSize(e, &n, &dim));
  nd = n * dim;
  PetscCall(PetscSNPrintf(label, sizeof(label), "%s%s%s", type, pairs ? " " : "", pairs ? pairs : ""));
  Config(n, dim, dim == 2 ? 4.0 : 1.1, x);
  PetscCall(SgmEnergyEval(e, x, &E, NULL, g));
  for (PetscInt k = 0; k < nd; k++) {
    PetscCall(PetscArraycpy(y, x, nd));
    y[k] = x[k] + h;
    PetscCall(SgmEnergyEval(e, y, &Ep, NULL, NULL));
    y[k] = x[k] - h;
    PetscCall(SgmEnergyEval(e, y, &Em, NULL, NULL));
    err  = PetscMax(err, PetscAbsReal((Ep - Em) / (2 * h) - g[k]));
    gmax = PetscMax(gmax, PetscAbsReal(g[k]));
  }
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s: gradient vs central differences (rel. to max |g| %.3g)", label, (double)gmax));
  PetscCall(Check(tl, name, err / gmax, 1e-7));
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt c = 0; c < dim; c++) f[c] += g[i * dim + c];
  for (PetscInt i = 0; i < n; i++) { /* torque: x_i x g_i (z only in 2-D) */
    const PetscReal *a = x + i * dim, *b = g + i * dim;
    if (dim == 2) tq[2] += a[0] * b[1] - a[1] * b[0];
    else {
      tq[0] += a[1] * b[2] - a[2] * b[1];
      tq[1] += a[2] * b[0] - a[0] * b[2];
      tq[2] += a[0] * b[1] - a[1] * b[0];
    }
  }
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s: net force and torque of the gradient", label));
  PetscCall(Check(tl, name, PetscMax(PetscSqrtReal(f[0] * f[0] + f[1] * f[1] + f[2] * f[2]), PetscSqrtReal(tq[0] * tq[0] + tq[1] * tq[1] + tq[2] * tq[2])) / gmax, 1e-12));
  /* rotation about z (and x in 3-D), translation, reversed particle order */
  {
    PetscReal c1 = PetscCosReal(th), s1 = PetscSinReal(th), Er, R[9] = {c1, -s1, 0, s1, c1, 0, 0, 0, 1}, X[9] = {1, 0, 0, 0, c1, -s1, 0, s1, c1};
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++) Q[3 * a + b] = R[3 * a] * X[b] + R[3 * a + 1] * X[3 + b] + R[3 * a + 2] * X[6 + b];
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt c = 0; c < dim; c++) {
        PetscReal v = 0;
        for (PetscInt k = 0; k < dim; k++) v += (dim == 2 ? R[3 * c + k] : Q[3 * c + k]) * x[i * dim + k];
        y[(n - 1 - i) * dim + c] = v + 0.77 * (c + 1);
      }
    PetscCall(SgmEnergyEval(e, y, &Er, NULL, gy));
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s: E invariant under rotation+translation+permutation", label));
    PetscCall(Check(tl, name, PetscAbsReal(Er - E) / PetscAbsReal(E), 1e-13));
  }
  if (pairs) {
    PetscReal parts[2], Eu, pu[2];
    PetscCall(SgmEnergyEval(e, x, &E, parts, NULL));
    PetscCall(PetscOptionsSetValue(NULL, "-lj_pairs", "unordered"));
    PetscCall(SgmEnergySetFromOptions(e));
    PetscCall(SgmEnergyEval(e, x, &Eu, pu, NULL));
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s: E = c pair + osc, E(ordered) - E(unordered) = pair", label));
    PetscCall(Check(tl, name, PetscAbsReal(E - Eu - (!strcmp(pairs, "ordered") ? parts[0] : 0)) + PetscAbsReal(parts[0] - pu[0]) + PetscAbsReal(parts[1] - pu[1]), 1e-12 * PetscAbsReal(E)));
    PetscCall(PetscOptionsClearValue(NULL, "-lj_pairs"));
  }
  PetscCall(SgmEnergyDestroy(&e));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  Tally tl = {0, 0};

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SgmInitializePackage());
  PetscCall(TestTarget(&tl, SGMENERGYDW4, NULL));
  PetscCall(TestTarget(&tl, SGMENERGYLJ13, "ordered"));
  PetscCall(TestTarget(&tl, SGMENERGYLJ13, "unordered"));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  PetscCall(PetscFinalize());
  return tl.fail != 0;
}
