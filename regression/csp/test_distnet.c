/*
  test_distnet: the periodic distance-based crystal network (src/csp/distnet.c, -csp_net distance).
    - backward pass against central differences of J = sum gF . eps_F (random gF, a 6-atom crystal
      whose cell is narrower than the cutoff, so images beyond the 27 nearest are edges), every
      parameter the crystal touches, step 1e-5: relative error < 1e-6;
    - eps_F invariant to integer shifts of F, to an origin shift mod 1, to L -> L R^T for a rotation
      and for a reflection R, and permutation equivariant (relative to max |eps_F|, < 1e-12);
    - continuity across the cutoff: an atom moved so that one edge goes from r - 1e-7 to r + 1e-7
      (the edge count drops by 2, the edge and its reverse): eps_F changes by O(1e-7) (< 100 x
      2e-7 max |eps_F|), and by the same as for the step r - 3e-7 -> r - 1e-7 inside the cutoff to
      < 1e-10 max |eps_F| (a hard cutoff would jump by |s_e| |L| ~ max |eps_F|);
    - the periodic chain rule: with s_e = -phi'(d_e) for a Morse pair potential times the cosine
      cutoff, SgmCSPDistanceScoreToFractional on the edges i < j (the network's: mirror edges
      folded, self-images dropped) equals -d/dF of E = sum over all undirected edges phi(d),
      self-images included, by central differences in F (relative < 1e-7);
    - the DiffCSP loss with this network (SgmCSPLoss, task 1) and its gradient against central
      differences (< 1e-6).
  Under a second.
*/
#include <sgmcsp.h>
#include "../unit/check.h"

static PetscReal J(const SgmCSPDistNet *net, const PetscReal *th, const SgmCrystal *c, PetscReal t, SgmCSPDistNetWork *w, const PetscReal *gF)
{
  PetscReal eF[24], s = 0;
  if (SgmCSPDistNetForward(net, th, c, t, w, eF, NULL)) return NAN;
  for (PetscInt i = 0; i < 3 * c->n; i++) s += gF[i] * eF[i];
  return s;
}

static PetscReal MaxAbs(PetscInt m, const PetscReal *a)
{
  PetscReal d = 0;
  for (PetscInt i = 0; i < m; i++) d = PetscMax(d, PetscAbsReal(a[i]));
  return d;
}

static PetscReal MaxDiff(PetscInt m, const PetscReal *a, const PetscReal *b)
{
  PetscReal d = 0;
  for (PetscInt i = 0; i < m; i++) d = PetscMax(d, PetscAbsReal(a[i] - b[i]));
  return d;
}

static void Normals(PetscInt m, PetscReal *x)
{
  static PetscInt k = 0;
  SgmRandomNormalSample(11, SGM_STREAM_CSP_DRAW, 7, k++, m, x);
}

/* Morse phi(d) = D (1 - exp(-a (d - d0)))^2 times fc(d) = (1 + cos(pi d / r)) / 2: C^1 at r */
static void Morse(PetscReal d, PetscReal r, PetscReal *phi, PetscReal *dphi)
{
  const PetscReal D = 0.7, a = 1.3, d0 = 2.4, ex = PetscExpReal(-a * (d - d0)), m = D * (1 - ex) * (1 - ex), dm = 2 * D * (1 - ex) * a * ex;
  const PetscReal fc = 0.5 * (1 + PetscCosReal(PETSC_PI * d / r)), dfc = -0.5 * PETSC_PI / r * PetscSinReal(PETSC_PI * d / r);
  *phi  = m * fc;
  *dphi = dm * fc + m * dfc;
}

/* E = sum over undirected edges phi(d) (half the sum over directed edges, self-images included); sF the
   fractional score of p ~ exp(-E) from the edges i < j only (the network's chain rule) */
static PetscErrorCode PairEnergy(PetscInt n, const PetscReal L[], const PetscReal f[], PetscReal r, PetscReal *E, PetscReal sF[])
{
  PetscInt   ne, nu = 0;
  SgmEdge   *e;
  PetscReal *se, sx[24];

  PetscFunctionBegin;
  PetscCall(SgmPeriodicEdges(n, L, f, r, &ne, &e));
  PetscCall(PetscMalloc1(PetscMax(ne, 1), &se));
  *E = 0;
  for (PetscInt m = 0; m < ne; m++) { /* E over all directed edges, self-images included; se on the kept (i < j) ones */
    PetscReal phi, dphi;
    Morse(e[m].d, r, &phi, &dphi);
    *E += 0.5 * phi;
    if (e[m].i < e[m].j) {
      e[nu]    = e[m];
      se[nu++] = -dphi; /* d log p / d d_e */
    }
  }
  if (sF) PetscCall(SgmCSPDistanceScoreToFractional(n, L, nu, e, se, sx, sF));
  PetscCall(PetscFree(se));
  PetscCall(PetscFree(e));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  SgmCSPDistNet     net = {.H = 8, .nl = 3, .nr = 12, .nt = 8, .maxatoms = 8, .rc = 5.0};
  SgmCSPDistNetWork w;
  Tally             tl = {0, 0};
  PetscReal        *th, *g, u[64], gF[24], f[24], L[9] = {4.1, 0.2, -0.3, 1.0, 3.7, 0.4, -0.6, 0.9, 4.2}, wd[3];
  PetscReal         eF[24], eF2[24], maxrel = 0, gmax = 0, t = 37, scale;
  PetscInt          z[8] = {8, 22, 8, 38, 8, 1, 3, 22}, n = 6, nchk = 0, ne0;
  SgmCrystal        c = {n, z, f, L};
  char              name[128];

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SgmCSPDistNetSetUp(&net));
  PetscCall(PetscMalloc2(net.P, &th, net.P, &g));
  PetscCall(SgmCSPDistNetInitialize(&net, 5, th));
  { /* perturb the zero biases so that every block is exercised */
    PetscReal *v;
    PetscCall(PetscMalloc1(net.P, &v));
    SgmRandomNormalSample(9, SGM_STREAM_CSP_INIT, 3, 0, net.P, v);
    for (PetscInt p = 0; p < net.P; p++) th[p] += 0.1 * v[p];
    PetscCall(PetscFree(v));
  }
  SgmRandomUniformSample(1, SGM_STREAM_CSP_DRAW, 0, 0, 3 * n, f);
  SgmRandomNormalSample(1, SGM_STREAM_CSP_NOISE, 0, 0, 3 * n, gF);
  PetscCall(SgmLatticeWidths(L, wd));
  PetscCall(SgmCSPDistNetWorkCreate(&net, &w));
  PetscCall(PetscArrayzero(g, net.P));
  PetscCall(SgmCSPDistNetForward(&net, th, &c, t, &w, eF, NULL));
  ne0   = w.ne;
  scale = MaxAbs(3 * n, eF);
  PetscCall(SgmCSPDistNetBackward(&net, th, &c, &w, gF, g));
  gmax = MaxAbs(net.P, g);
  for (PetscInt p = 0; p < net.P; p++) { /* every parameter the crystal touches (embedding rows of its elements only) */
    const PetscReal h = 1e-5, th0 = th[p];
    PetscReal       jp, jm, fd;
    if (p < net.oWr && g[p] == 0) continue;
    th[p] = th0 + h, jp = J(&net, th, &c, t, &w, gF);
    th[p] = th0 - h, jm = J(&net, th, &c, t, &w, gF);
    th[p] = th0;
    fd     = (jp - jm) / (2 * h);
    maxrel = PetscMax(maxrel, PetscAbsReal(fd - g[p]) / PetscMax(PetscMax(PetscAbsReal(fd), PetscAbsReal(g[p])), 1e-2 * gmax));
    nchk++;
  }
  PetscCall(PetscSNPrintf(name, sizeof(name), "backward vs central differences: %" PetscInt_FMT " of %" PetscInt_FMT " parameters, %" PetscInt_FMT " edges (min width %.2f < r %.1f)", nchk, net.P, ne0, (double)PetscMin(wd[0], PetscMin(wd[1], wd[2])), (double)net.rc));
  PetscCall(Check(&tl, name, maxrel, 1e-6));

  { /* integer shifts and an origin shift mod 1 */
    PetscReal  f2[24];
    SgmCrystal c2 = {n, z, f2, L};
    SgmRandomUniformSample(2, SGM_STREAM_CSP_DRAW, 0, 0, 3 * n, u);
    for (PetscInt i = 0; i < 3 * n; i++) f2[i] = f[i] + PetscFloorReal(7 * u[i]) - 3;
    PetscCall(SgmCSPDistNetForward(&net, th, &c2, t, &w, eF2, NULL));
    PetscCall(Check(&tl, "integer shifts of F (rel.)", MaxDiff(3 * n, eF, eF2) / scale, 1e-12));
    for (PetscInt i = 0; i < 3 * n; i++) {
      f2[i] = f[i] + 0.3 + 0.17 * (i % 3);
      f2[i] -= PetscFloorReal(f2[i]);
    }
    PetscCall(SgmCSPDistNetForward(&net, th, &c2, t, &w, eF2, NULL));
    PetscCall(Check(&tl, "origin shift mod 1 (rel.)", MaxDiff(3 * n, eF, eF2) / scale, 1e-12));
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
    PetscCall(SgmCSPDistNetForward(&net, th, &c2, t, &w, eF2, NULL));
    for (PetscInt i = 0; i < n; i++)
      for (int a = 0; a < 3; a++) d = PetscMax(d, PetscAbsReal(eF2[3 * i + a] - eF[3 * perm[i] + a]));
    PetscCall(Check(&tl, "permutation equivariance (rel.)", d / scale, 1e-12));
  }
  for (int refl = 0; refl < 2; refl++) { /* L -> L R^T: rows rotated (reflected) */
    PetscReal  R[9], L2[9];
    SgmCrystal c2 = {n, z, f, L2};
    RandomReflectionOrRotation(Normals, 3, refl ? PETSC_TRUE : PETSC_FALSE, R);
    for (int a = 0; a < 3; a++)
      for (int q = 0; q < 3; q++) L2[3 * a + q] = L[3 * a] * R[3 * q] + L[3 * a + 1] * R[3 * q + 1] + L[3 * a + 2] * R[3 * q + 2];
    PetscCall(SgmCSPDistNetForward(&net, th, &c2, t, &w, eF2, NULL));
    PetscCall(Check(&tl, refl ? "reflection L -> L R^T, det R = -1: eps_F unchanged (rel.)" : "rotation L -> L R^T, det R = +1: eps_F unchanged (rel.)", MaxDiff(3 * n, eF, eF2) / scale, 1e-12));
  }
  { /* continuity across the cutoff: move atom j along an edge (i, j, k) to d = r - 3e-7, r - 1e-7, r + 1e-7 */
    const PetscReal dd[3] = {-3e-7, -1e-7, 1e-7};
    PetscReal       Li[9], f3[3][24], e3[3][24], v[3], d = 0, jump = 0, smooth = 0, curv = 0;
    PetscInt        ne3[3], m, i, j;
    PetscCall(SgmCSPInverse3(L, Li));
    PetscCall(SgmCSPDistNetForward(&net, th, &c, t, &w, eF2, NULL));
    for (m = 0; m < w.ne; m++) /* the first edge between two different atoms with d in (3, r) */
      if (w.e[m].i != w.e[m].j && w.e[m].d > 3) break;
    i = w.e[m].i, j = w.e[m].j, d = w.e[m].d;
    for (int q = 0; q < 3; q++) v[q] = w.e[m].v[q] / d;
    for (int p = 0; p < 3; p++) {
      const PetscReal shift = net.rc + dd[p] - d; /* x_j += shift v: the edge becomes r + dd long */
      SgmCrystal      c2    = {n, z, f3[p], L};
      PetscCall(PetscArraycpy(f3[p], f, 3 * n));
      for (int a = 0; a < 3; a++) f3[p][3 * j + a] += shift * (v[0] * Li[a] + v[1] * Li[3 + a] + v[2] * Li[6 + a]); /* dF = dx L^-1 */
      PetscCall(SgmCSPDistNetForward(&net, th, &c2, t, &w, e3[p], NULL));
      ne3[p] = w.ne;
    }
    for (PetscInt q = 0; q < 3 * n; q++) {
      jump   = PetscMax(jump, PetscAbsReal(e3[2][q] - e3[1][q]));               /* across r */
      smooth = PetscMax(smooth, PetscAbsReal(e3[1][q] - e3[0][q]));             /* the same step inside */
      curv   = PetscMax(curv, PetscAbsReal(e3[2][q] - 2 * e3[1][q] + e3[0][q])); /* the crossing's extra */
    }
    PetscCall(PetscSNPrintf(name, sizeof(name), "cutoff: edge (%" PetscInt_FMT ",%" PetscInt_FMT ") r-1e-7 -> r+1e-7 (%" PetscInt_FMT " -> %" PetscInt_FMT " edges): change / 2e-7 (rel.)", i, j, ne3[1], ne3[2]));
    PetscCall(Check(&tl, name, ne3[0] == ne3[1] && ne3[1] - ne3[2] == 1 ? jump / scale / 2e-7 : 1e30, 100)); /* one undirected edge leaves */
    PetscCall(PetscSNPrintf(name, sizeof(name), "cutoff: change across r minus the same step inside (rel., step inside %.1e)", (double)(smooth / scale)));
    PetscCall(Check(&tl, name, curv / scale, 1e-10));
  }
  { /* the periodic chain rule with a Morse pair potential; a cell narrower than the cutoff */
    const PetscReal r = 6.0, h = 1e-6;
    PetscReal       sF[24], f2[24], E, Ep, Em, err = 0;
    PetscCall(PairEnergy(n, L, f, r, &E, sF));
    for (PetscInt q = 0; q < 3 * n; q++) {
      PetscCall(PetscArraycpy(f2, f, 3 * n));
      f2[q] = f[q] + h;
      PetscCall(PairEnergy(n, L, f2, r, &Ep, NULL));
      f2[q] = f[q] - h;
      PetscCall(PairEnergy(n, L, f2, r, &Em, NULL));
      err = PetscMax(err, PetscAbsReal(sF[q] + (Ep - Em) / (2 * h)));
    }
    PetscCall(PetscSNPrintf(name, sizeof(name), "chain rule: s_e = -phi'(d) (Morse) gives -dE/dF (rel., max |dE/dF| %.3g)", (double)MaxAbs(3 * n, sF)));
    PetscCall(Check(&tl, name, err / MaxAbs(3 * n, sF), 1e-7));
  }
  { /* the DiffCSP loss of task 1 with this network: gradient against central differences */
    SgmCSPModel m;
    SgmCSPWork  ww;
    PetscReal   eps[33], lF, lL, lp, lm, dummy, worst = 0, gm = 0;
    PetscCall(PetscMemzero(&m, sizeof(m)));
    m.type          = SGM_CSP_NET_DISTANCE;
    m.net.maxatoms  = net.maxatoms;
    m.dist          = net;
    m.theta         = th;
    PetscCall(SgmCSPModelSetUpNet(&m));
    PetscCall(SgmCSPWorkCreate(&m, &ww));
    PetscCall(SgmCSPScheduleCreate(50, 0.005, 0.5, &m.sched));
    SgmRandomNormalSample(4, SGM_STREAM_CSP_NOISE, 0, 0, 3 * n + 9, eps);
    PetscCall(PetscArrayzero(g, net.P));
    PetscCall(SgmCSPLoss(&m, th, &c, 31, eps, eps + 3 * n, 0.3, 0.7, &ww, &lF, &lL, g));
    gm = MaxAbs(net.P, g);
    for (PetscInt p = net.oWr; p < net.P; p += 3) {
      const PetscReal h = 1e-5, th0 = th[p];
      th[p] = th0 + h;
      PetscCall(SgmCSPLoss(&m, th, &c, 31, eps, eps + 3 * n, 0.3, 0.7, &ww, &lp, &dummy, NULL));
      th[p] = th0 - h;
      PetscCall(SgmCSPLoss(&m, th, &c, 31, eps, eps + 3 * n, 0.3, 0.7, &ww, &lm, &dummy, NULL));
      th[p] = th0;
      worst = PetscMax(worst, PetscAbsReal((lp - lm) / (2 * h) - g[p]) / PetscMax(PetscMax(PetscAbsReal((lp - lm) / (2 * h)), PetscAbsReal(g[p])), 1e-2 * gm));
    }
    PetscCall(PetscSNPrintf(name, sizeof(name), "DiffCSP loss (task 1, t = 31 of 50) %.4f: gradient vs central differences", (double)lF));
    PetscCall(Check(&tl, name, lL == 0 ? worst : 1.0, 1e-6));
    PetscCall(SgmCSPScheduleDestroy(&m.sched));
    PetscCall(SgmCSPWorkDestroy(&m, &ww));
  }
  PetscCall(SgmCSPDistNetWorkDestroy(&w));
  PetscCall(PetscFree2(th, g));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  PetscCall(PetscFinalize());
  return tl.fail ? 1 : 0;
}
