/*
  test_cspnet: the crystal network (src/csp/cspnet.c).
    - backward pass against central finite differences of J = sum gF.eps_F + gL.eps_L (random gF,
      gL, random crystal), every parameter block, step 1e-5: relative error < 1e-6;
    - eps_F and eps_L invariant to integer shifts of F and to an origin shift mod 1 (< 1e-10);
    - permutation equivariance (< 1e-10);
    - rotation L -> L R^T: eps_F unchanged, eps_L -> eps_L R^T (< 1e-10);
    - the DiffCSP loss (SgmCSPLoss, task 2) and its gradient against central differences (< 1e-6).
  Prints the errors; under a second.
*/
#include <sgmcsp.h>

static PetscReal J(const SgmCSPNet *net, const PetscReal *th, const SgmCrystal *c, PetscReal t, SgmCSPNetWork *w, const PetscReal *gF, const PetscReal *gL)
{
  PetscReal eF[24], eL[9], s = 0;
  if (SgmCSPNetForward(net, th, c, t, w, eF, eL)) return NAN;
  for (PetscInt i = 0; i < 3 * c->n; i++) s += gF[i] * eF[i];
  for (PetscInt i = 0; i < 9; i++) s += gL[i] * eL[i];
  return s;
}

static PetscReal MaxDiff(PetscInt m, const PetscReal *a, const PetscReal *b)
{
  PetscReal d = 0;
  for (PetscInt i = 0; i < m; i++) d = PetscMax(d, PetscAbsReal(a[i] - b[i]));
  return d;
}

int main(int argc, char **argv)
{
  SgmCSPNet     net = {.H = 12, .nl = 2, .nf = 4, .nt = 8, .maxatoms = 8, .ipscale = 0.02};
  SgmCSPNetWork w;
  PetscReal    *th, *g, u[64], gF[24], gL[9], f[24], L[9] = {4.1, 0.2, -0.3, 1.0, 3.7, 0.4, -0.6, 0.9, 5.2};
  PetscReal     eF[24], eL[9], eF2[24], eL2[9], maxrel = 0, gmax = 0, t = 37;
  PetscInt      z[8] = {8, 22, 8, 38, 8, 1, 3, 22}, n = 6, nchk = 0, fails = 0;
  SgmCrystal    c = {n, z, f, L};

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SgmCSPNetSetUp(&net));
  PetscCall(PetscMalloc2(net.P, &th, net.P, &g));
  PetscCall(SgmCSPNetInitialize(&net, 5, th));
  { /* perturb the zero biases so that every block is exercised */
    PetscReal *v;
    PetscCall(PetscMalloc1(net.P, &v));
    SgmRandomNormalSample(9, SGM_STREAM_CSP_INIT, 3, 0, net.P, v);
    for (PetscInt p = 0; p < net.P; p++) th[p] += 0.1 * v[p];
    PetscCall(PetscFree(v));
  }
  SgmRandomUniformSample(1, SGM_STREAM_CSP_DRAW, 0, 0, 3 * n, f);
  SgmRandomNormalSample(1, SGM_STREAM_CSP_NOISE, 0, 0, 3 * n, gF);
  SgmRandomNormalSample(1, SGM_STREAM_CSP_NOISE, 0, 1, 9, gL);
  PetscCall(SgmCSPNetWorkCreate(&net, &w));
  PetscCall(PetscArrayzero(g, net.P));
  PetscCall(SgmCSPNetForward(&net, th, &c, t, &w, eF, eL));
  PetscCall(SgmCSPNetBackward(&net, th, &c, &w, gF, gL, g));
  for (PetscInt p = 0; p < net.P; p++) gmax = PetscMax(gmax, PetscAbsReal(g[p]));
  for (PetscInt p = 0; p < net.P; p++) { /* every parameter that the crystal touches (embedding rows of its elements only) */
    const PetscReal h = 1e-5, th0 = th[p];
    PetscReal       jp, jm, fd, rel;
    if (p < net.oWt && g[p] == 0) continue;
    th[p] = th0 + h, jp = J(&net, th, &c, t, &w, gF, gL);
    th[p] = th0 - h, jm = J(&net, th, &c, t, &w, gF, gL);
    th[p] = th0;
    fd    = (jp - jm) / (2 * h);
    rel   = PetscAbsReal(fd - g[p]) / PetscMax(PetscMax(PetscAbsReal(fd), PetscAbsReal(g[p])), 1e-2 * gmax);
    maxrel = PetscMax(maxrel, rel);
    nchk++;
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "finite differences: %" PetscInt_FMT " of %" PetscInt_FMT " parameters, max relative error %.2e (max |grad| %.3g)  %s\n", nchk, net.P, (double)maxrel, (double)gmax, maxrel < 1e-6 ? "ok" : "FAIL"));
  fails += !(maxrel < 1e-6);

  { /* integer shifts and an origin shift mod 1 */
    PetscReal f2[24], d1, d2;
    PetscInt  k[24];
    SgmCrystal c2 = {n, z, f2, L};
    SgmRandomUniformSample(2, SGM_STREAM_CSP_DRAW, 0, 0, 3 * n, u);
    for (PetscInt i = 0; i < 3 * n; i++) k[i] = (PetscInt)PetscFloorReal(7 * u[i]) - 3, f2[i] = f[i] + k[i];
    PetscCall(SgmCSPNetForward(&net, th, &c2, t, &w, eF2, eL2));
    d1 = PetscMax(MaxDiff(3 * n, eF, eF2), MaxDiff(9, eL, eL2));
    for (PetscInt i = 0; i < 3 * n; i++) {
      f2[i] = f[i] + 0.3 + 0.17 * (i % 3);
      f2[i] -= PetscFloorReal(f2[i]);
    }
    PetscCall(SgmCSPNetForward(&net, th, &c2, t, &w, eF2, eL2));
    d2 = PetscMax(MaxDiff(3 * n, eF, eF2), MaxDiff(9, eL, eL2));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "integer shifts of F: max change %.2e  %s\norigin shift mod 1: max change %.2e  %s\n", (double)d1, d1 < 1e-10 ? "ok" : "FAIL", (double)d2, d2 < 1e-10 ? "ok" : "FAIL"));
    fails += !(d1 < 1e-10) + !(d2 < 1e-10);
  }
  { /* permutation */
    const PetscInt perm[6] = {3, 0, 5, 1, 4, 2};
    PetscReal      f2[24], d = 0;
    PetscInt       z2[8];
    SgmCrystal     c2 = {n, z2, f2, L};
    for (PetscInt i = 0; i < n; i++) {
      z2[i] = z[perm[i]];
      for (int a = 0; a < 3; a++) f2[3 * i + a] = f[3 * perm[i] + a];
    }
    PetscCall(SgmCSPNetForward(&net, th, &c2, t, &w, eF2, eL2));
    for (PetscInt i = 0; i < n; i++)
      for (int a = 0; a < 3; a++) d = PetscMax(d, PetscAbsReal(eF2[3 * i + a] - eF[3 * perm[i] + a]));
    d = PetscMax(d, MaxDiff(9, eL, eL2));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "permutation equivariance: max error %.2e  %s\n", (double)d, d < 1e-10 ? "ok" : "FAIL"));
    fails += !(d < 1e-10);
  }
  { /* rotation: L' = L R^T, R orthogonal from Gram-Schmidt of a fixed matrix */
    PetscReal R[9] = {0.3, -0.8, 0.5, 0.9, 0.1, -0.4, 0.2, 0.6, 0.7}, L2[9], rot[9], dF, dL;
    SgmCrystal c2 = {n, z, f, L2};
    for (int a = 0; a < 3; a++) {
      for (int b = 0; b < a; b++) {
        PetscReal s = 0;
        for (int q = 0; q < 3; q++) s += R[3 * a + q] * R[3 * b + q];
        for (int q = 0; q < 3; q++) R[3 * a + q] -= s * R[3 * b + q];
      }
      PetscReal nn = PetscSqrtReal(R[3 * a] * R[3 * a] + R[3 * a + 1] * R[3 * a + 1] + R[3 * a + 2] * R[3 * a + 2]);
      for (int q = 0; q < 3; q++) R[3 * a + q] /= nn;
    }
    for (int a = 0; a < 3; a++)
      for (int q = 0; q < 3; q++) L2[3 * a + q] = L[3 * a] * R[3 * q] + L[3 * a + 1] * R[3 * q + 1] + L[3 * a + 2] * R[3 * q + 2];
    PetscCall(SgmCSPNetForward(&net, th, &c2, t, &w, eF2, eL2));
    for (int a = 0; a < 3; a++)
      for (int q = 0; q < 3; q++) rot[3 * a + q] = eL[3 * a] * R[3 * q] + eL[3 * a + 1] * R[3 * q + 1] + eL[3 * a + 2] * R[3 * q + 2];
    dF = MaxDiff(3 * n, eF, eF2);
    dL = MaxDiff(9, rot, eL2);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "rotation: eps_F change %.2e, eps_L - eps_L R^T %.2e (|eps_L| ~ %.3g)  %s\n", (double)dF, (double)dL, (double)PetscAbsReal(eL[0]), dF < 1e-10 && dL < 1e-10 ? "ok" : "FAIL"));
    fails += !(dF < 1e-10 && dL < 1e-10);
  }
  for (int pc = 0; pc < 2; pc++) { /* the DiffCSP loss of task 2 (lattice diffused): gradient against central differences,
                                     DiffCSP's plain lattice head (s_d = 0) and the preconditioned one (s_d = 2.5, schedule.c) */
    SgmCSPModel m;
    SgmCSPWork  ww = {.c = w}; /* the same buffers */
    PetscReal   eps[33], lF, lL, lp, lm, dummy, worst = 0, gm = 0;
    PetscCall(PetscMemzero(&m, sizeof(m)));
    m.type        = SGM_CSP_NET_CSPNET;
    m.net         = net;
    m.lattice     = PETSC_TRUE;
    m.theta       = th;
    m.lattice_rms = pc ? 2.5 : 0;
    PetscCall(SgmCSPScheduleCreate(50, 0.005, 0.5, &m.sched));
    SgmRandomNormalSample(4, SGM_STREAM_CSP_NOISE, 0, 0, 3 * n + 9, eps);
    PetscCall(PetscArrayzero(g, net.P));
    PetscCall(SgmCSPLoss(&m, th, &c, 31, eps, eps + 3 * n, 0.3, 0.7, &ww, &lF, &lL, g));
    for (PetscInt p = 0; p < net.P; p++) gm = PetscMax(gm, PetscAbsReal(g[p]));
    for (PetscInt p = net.oWt; p < net.P; p += 7) {
      const PetscReal h = 1e-5, th0 = th[p];
      th[p] = th0 + h;
      PetscCall(SgmCSPLoss(&m, th, &c, 31, eps, eps + 3 * n, 0.3, 0.7, &ww, &lp, &dummy, NULL));
      lp += dummy;
      th[p] = th0 - h;
      PetscCall(SgmCSPLoss(&m, th, &c, 31, eps, eps + 3 * n, 0.3, 0.7, &ww, &lm, &dummy, NULL));
      lm += dummy;
      th[p] = th0;
      worst = PetscMax(worst, PetscAbsReal((lp - lm) / (2 * h) - g[p]) / PetscMax(PetscMax(PetscAbsReal((lp - lm) / (2 * h)), PetscAbsReal(g[p])), 1e-2 * gm));
    }
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "DiffCSP loss (task 2, %s, t = 31 of 50): loss %.4f + %.4f, gradient vs finite differences max relative error %.2e  %s\n", pc ? "preconditioned lattice head" : "plain lattice head", (double)lF, (double)lL, (double)worst, worst < 1e-6 ? "ok" : "FAIL"));
    fails += !(worst < 1e-6);
    PetscCall(SgmCSPScheduleDestroy(&m.sched));
  }
  PetscCall(SgmCSPNetWorkDestroy(&w));
  PetscCall(PetscFree2(th, g));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%" PetscInt_FMT " failed\n", fails));
  PetscCall(PetscFinalize());
  return fails ? 1 : 0;
}
