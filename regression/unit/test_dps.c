/*
  Unit test of the DPS guidance (-guidance dps, src/score/interface/guidance.c, doc/inverse.md).
  The guided score is s + g with g = -zeta_t grad_x ||y - A x0hat(x)||^2, x0hat = (x + sigma^2 s)/alpha.
  sgm computes g with one Jacobian-vector product of the score (J_s symmetric); here the gradient is
  the central difference of ||y - A x0hat||^2 itself, x0hat built from the unguided score, so the
  test fails if the chain rule, the symmetry argument, A^T, or the step rule is wrong:
    (a) -dps_normalize false (zeta = gamma / (2 sigma_y^2)): g = -zeta FD, relative error <= 1e-6,
        for a K = 3 full-covariance gmm, a K = 1 (Gaussian) gmm and the gaussian type, with a dense
        random A [3,4] (-inverse_file) and a mask (-inverse_mask), vp and ve SDEs, t = 0.05, 0.3, 0.7;
    (b) the default normalised step: g * ||y - A x0hat|| = g_(a) * 2 sigma_y^2 per sample (1e-12);
    (c) -guidance_scale 0: the unguided score bit for bit;
    (d) the JVP of the guided score (central differences inside sgm) against a central difference
        with another step taken here (1e-5).
  Prints one line per check and "N passed, M failed"; exit status M != 0.  < 1 s, one rank.
*/
#include <sgm.h>
#include <sgmio.h>

#include "check.h"

#define D   4
#define P   3
#define K   3
#define NPT 6

static const char *const FILE_A = "test_dps_measurement.h5";

/* deterministic pseudo-random numbers in [-1, 1) */
static PetscReal Uniform(unsigned *state)
{
  *state = *state * 1664525u + 1013904223u;
  return 2.0 * ((*state >> 8) / 16777216.0) - 1;
}

static PetscReal amat[P * D], yvec[P];
static const PetscInt  maskv[2] = {1, 3};
static const PetscReal masky[2] = {0.3, -0.8};

static PetscErrorCode WriteMeasurement(void)
{
  unsigned    st = 7;
  hsize_t     da[2] = {P, D}, dy[1] = {P};
  hid_t       f;
  PetscMPIInt rank;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < P * D; i++) amat[i] = Uniform(&st);
  for (PetscInt i = 0; i < P; i++) yvec[i] = 2 * Uniform(&st);
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  if (!rank) {
    PetscCallHDF5(f = H5Fcreate(FILE_A, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    PetscCall(SgmH5WriteSmall(PETSC_COMM_SELF, f, "A", 2, da, amat));
    PetscCall(SgmH5WriteSmall(PETSC_COMM_SELF, f, "y", 1, dy, yvec));
    PetscCallHDF5(H5Fclose(f));
  }
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  const char *name;
  PetscInt    kind; /* 0: gmm K = 3, 1: gmm K = 1, 2: gaussian type */
} Model;

static PetscReal wts[K] = {0.5, 0.3, 0.2}, mus[K * D], covs[K * D * D];

static void MakeMixture(void)
{
  unsigned  st = 11;
  PetscReal B[D * D];

  for (PetscInt i = 0; i < K * D; i++) mus[i] = 2 * Uniform(&st);
  for (PetscInt k = 0; k < K; k++) {
    for (PetscInt i = 0; i < D * D; i++) B[i] = Uniform(&st);
    for (PetscInt i = 0; i < D; i++)
      for (PetscInt j = 0; j < D; j++) {
        PetscReal c = 0;
        for (PetscInt l = 0; l < D; l++) c += B[i * D + l] * B[j * D + l];
        covs[k * D * D + i * D + j] = 0.5 * c / D + (i == j ? 0.05 : 0);
      }
  }
}

/* A score with options prefix pre (the guidance options are set in the database under it). */
static PetscErrorCode MakeScore(const Model *m, const char *pre, SgmSDEType sdetype, SgmScore *score)
{
  SgmSDE sde;

  PetscFunctionBegin;
  PetscCall(SgmScoreCreate(PETSC_COMM_WORLD, score));
  PetscCall(PetscObjectSetOptionsPrefix((PetscObject)*score, pre));
  if (m->kind < 2) {
    PetscCall(SgmScoreSetType(*score, SGMSCOREGMM));
    PetscCall(SgmScoreMixtureSetComponents(*score, m->kind == 0 ? K : 1, D, wts, mus, covs));
  } else PetscCall(SgmScoreSetType(*score, SGMSCOREGAUSSIAN));
  PetscCall(SgmScoreGetSDE(*score, &sde));
  PetscCall(SgmSDESetType(sde, sdetype));
  PetscCall(SgmScoreSetFromOptions(*score));
  PetscCall(SgmScoreSetUp(*score));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetOpt(const char *pre, const char *name, const char *value)
{
  char key[128];

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(key, sizeof(key), "-%s%s", pre, name));
  PetscCall(PetscOptionsSetValue(NULL, key, value));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ||y - A x0hat(x)||^2 and the residual norm, x0hat from the unguided score */
static PetscErrorCode Objective(SgmScore plain, PetscBool mask, PetscReal t, const PetscScalar *x, PetscReal *L)
{
  SgmSDE      sde;
  PetscReal   alpha, sigma;
  PetscScalar s[D], x0[D];

  PetscFunctionBegin;
  PetscCall(SgmScoreGetSDE(plain, &sde));
  PetscCall(SgmSDEMarginal(sde, t, &alpha, &sigma));
  PetscCall(SgmScoreApplyArray(plain, t, 1, x, s));
  for (PetscInt j = 0; j < D; j++) x0[j] = (x[j] + sigma * sigma * s[j]) / alpha;
  *L = 0;
  if (mask)
    for (PetscInt k = 0; k < 2; k++) *L += PetscSqr(masky[k] - x0[maskv[k]]);
  else
    for (PetscInt k = 0; k < P; k++) {
      PetscReal r = yvec[k];
      for (PetscInt j = 0; j < D; j++) r -= amat[k * D + j] * x0[j];
      *L += r * r;
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TestCase(Tally *tl, const Model *m, SgmSDEType sdetype, PetscBool mask)
{
  const PetscReal gamma = 0.7, sy = 0.5, zeta = gamma / (2 * sy * sy), ts[3] = {0.05, 0.3, 0.7};
  const char     *pres[4] = {"p_", "f_", "n_", "z_"}; /* plain, fixed step, normalised step, gamma = 0 */
  SgmScore        sc[4];
  PetscReal       errg = 0, errn = 0, errz = 0, errj = 0;
  char            name[128];
  unsigned        st = 5;

  PetscFunctionBegin;
  PetscCall(PetscOptionsClear(NULL));
  if (m->kind == 2) {
    for (PetscInt i = 0; i < 4; i++) {
      PetscCall(SetOpt(pres[i], "gaussian_mean", "0.5,-1,0.2,1.5"));
      PetscCall(SetOpt(pres[i], "gaussian_std", "0.7,1.3,0.4,1"));
    }
  }
  for (PetscInt i = 1; i < 4; i++) {
    PetscCall(SetOpt(pres[i], "guidance", "dps"));
    PetscCall(SetOpt(pres[i], "guidance_scale", i == 3 ? "0" : "0.7"));
    PetscCall(SetOpt(pres[i], "inverse_sigma", "0.5"));
    if (mask) {
      PetscCall(SetOpt(pres[i], "inverse_mask", "1,3"));
      PetscCall(SetOpt(pres[i], "inverse_y", "0.3,-0.8"));
    } else PetscCall(SetOpt(pres[i], "inverse_file", FILE_A));
  }
  PetscCall(SetOpt(pres[1], "dps_normalize", "false"));
  for (PetscInt i = 0; i < 4; i++) PetscCall(MakeScore(m, pres[i], sdetype, &sc[i]));
  for (PetscInt it = 0; it < 3; it++) {
    const PetscReal t = ts[it];
    SgmSDE          sde;
    PetscReal       alpha, sigma;
    PetscCall(SgmScoreGetSDE(sc[0], &sde));
    PetscCall(SgmSDEMarginal(sde, t, &alpha, &sigma));
    for (PetscInt ip = 0; ip < NPT; ip++) {
      PetscScalar x[D], s0[D], sf[D], sn[D], sz[D], xp[D], v[D], Jv[D], sp[D], sm[D];
      PetscReal   fd[D], gmax = 0, dmax = 0, L, Lp, Lm, rn, h;
      PetscInt    k = ip % K;
      for (PetscInt j = 0; j < D; j++) x[j] = alpha * mus[k * D + j] + (sigma + 0.3) * Uniform(&st);
      PetscCall(SgmScoreApplyArray(sc[0], t, 1, x, s0));
      PetscCall(SgmScoreApplyArray(sc[1], t, 1, x, sf));
      PetscCall(SgmScoreApplyArray(sc[2], t, 1, x, sn));
      PetscCall(SgmScoreApplyArray(sc[3], t, 1, x, sz));
      /* (a) g = -zeta d/dx ||r||^2 by central differences, h = 1e-4 (1 + |x_j|) */
      for (PetscInt j = 0; j < D; j++) {
        h = 1e-4 * (1 + PetscAbsReal(x[j]));
        PetscCall(PetscArraycpy(xp, x, D));
        xp[j] = x[j] + h;
        PetscCall(Objective(sc[0], mask, t, xp, &Lp));
        xp[j] = x[j] - h;
        PetscCall(Objective(sc[0], mask, t, xp, &Lm));
        fd[j] = -zeta * (Lp - Lm) / (2 * h);
        gmax  = PetscMax(gmax, PetscAbsReal(fd[j]));
      }
      for (PetscInt j = 0; j < D; j++) dmax = PetscMax(dmax, PetscAbsReal((sf[j] - s0[j]) - fd[j]));
      errg = PetscMax(errg, dmax / gmax);
      /* (b) normalised step: g_n ||r|| = g_f 2 sigma_y^2 */
      PetscCall(Objective(sc[0], mask, t, x, &L));
      rn = PetscSqrtReal(L);
      dmax = gmax = 0;
      for (PetscInt j = 0; j < D; j++) {
        PetscReal a = (sn[j] - s0[j]) * rn, b = (sf[j] - s0[j]) * 2 * sy * sy;
        dmax = PetscMax(dmax, PetscAbsReal(a - b));
        gmax = PetscMax(gmax, PetscAbsReal(b));
      }
      errn = PetscMax(errn, dmax / gmax);
      /* (c) gamma = 0 */
      for (PetscInt j = 0; j < D; j++) errz = PetscMax(errz, sz[j] == s0[j] ? 0 : 1);
      /* (d) JVP of the guided score */
      for (PetscInt j = 0; j < D; j++) v[j] = Uniform(&st);
      PetscCall(SgmScoreJacobianVector(sc[1], t, 1, x, v, Jv));
      h = 3e-4;
      for (PetscInt j = 0; j < D; j++) xp[j] = x[j] + h * v[j];
      PetscCall(SgmScoreApplyArray(sc[1], t, 1, xp, sp));
      for (PetscInt j = 0; j < D; j++) xp[j] = x[j] - h * v[j];
      PetscCall(SgmScoreApplyArray(sc[1], t, 1, xp, sm));
      dmax = gmax = 0;
      for (PetscInt j = 0; j < D; j++) {
        PetscReal ref = (sp[j] - sm[j]) / (2 * h);
        dmax = PetscMax(dmax, PetscAbsReal(Jv[j] - ref));
        gmax = PetscMax(gmax, PetscAbsReal(ref));
      }
      errj = PetscMax(errj, dmax / gmax);
    }
  }
  for (PetscInt i = 0; i < 4; i++) PetscCall(SgmScoreDestroy(&sc[i]));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s %s %s: g vs -zeta FD", m->name, sdetype, mask ? "mask" : "dense A"));
  PetscCall(Check(tl, name, errg, 1e-6));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s %s %s: normalised step", m->name, sdetype, mask ? "mask" : "dense A"));
  PetscCall(Check(tl, name, errn, 1e-12));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s %s %s: gamma 0 bitwise", m->name, sdetype, mask ? "mask" : "dense A"));
  PetscCall(Check(tl, name, errz, 0));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s %s %s: JVP of guided score", m->name, sdetype, mask ? "mask" : "dense A"));
  PetscCall(Check(tl, name, errj, 1e-5));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  Tally            tl      = {0, 0};
  const SgmSDEType sdes[2] = {SGMSDEVP, SGMSDEVE};
  const Model      models[3] = {{"gmm K=3", 0}, {"gmm K=1", 1}, {"gaussian", 2}};

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SgmInitializePackage());
  MakeMixture();
  PetscCall(WriteMeasurement());
  for (PetscInt m = 0; m < 3; m++)
    for (PetscInt i = 0; i < 2; i++)
      for (PetscInt mask = 0; mask < 2; mask++) PetscCall(TestCase(&tl, &models[m], sdes[i], (PetscBool)mask));
  PetscCall(PetscOptionsClear(NULL));
  (void)remove(FILE_A);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  PetscCall(PetscFinalize());
  return tl.fail != 0;
}
