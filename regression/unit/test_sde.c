/*
  Unit test of the forward SDEs (src/sde): vp (linear beta 0.1..20), subvp, ve (sigma 0.01..50) and
  vp with the discrete DDPM schedule (-sde_vp_schedule ddpm: N = 1000, beta_1 = 1e-4 .. beta_N = 0.02).
    (a) SgmSDEMarginal against closed forms written here, in long double, from the papers
        (Song et al. 2021 eqs. 29-31; Ho et al. 2020 eq. 4 for DDPM by direct product);
    (b) SgmSDECoefficients against the marginal: d alpha/dt = f alpha and
        d sigma^2/dt = 2 f sigma^2 + g^2, by central differences;
    (c) SgmSDETransition(s,t) against r = alpha(t)/alpha(s), v = sigma(t)^2 - r^2 sigma(s)^2 and,
        on the DDPM grid, r^2 = 1 - beta_i and v = beta_i;
    (d) the defaults: interval start eps and prior std of each type; SgmSDETimeFromNoiseToSignal
        inverts SgmSDENoiseToSignal.
  Prints one line per check (worst case over the times tried) and ends with "N passed, M failed";
  exit status is M != 0.  < 1 s.
*/
#include <sgm.h>

#include "check.h"

/* ---- closed forms, written independently of src/sde ---------------------------------------- */

typedef enum {
  REF_VP,
  REF_SUBVP,
  REF_VE,
  REF_DDPM
} RefKind;

#define BMIN  0.1L
#define BMAX  20.0L
#define SMIN  0.01L
#define SMAX  50.0L
#define NDDPM 1000

static long double ddpm_beta[NDDPM + 1]; /* beta_i = linspace(1e-4, 0.02, N)[i-1], as in DDPM */

static long double DDPMAlphaBar(int i)
{
  long double p = 1;
  for (int j = 1; j <= i; j++) p *= 1 - ddpm_beta[j];
  return p;
}

/* alpha(t), sigma(t)^2, and L(t) = -2 log alpha(t) = int_0^t beta for vp/subvp (0 for ve).
   DDPM: only at grid times t = i/N. */
static void RefMarginal(RefKind kind, long double t, long double *alpha, long double *var, long double *L)
{
  long double B = BMIN * t + 0.5L * (BMAX - BMIN) * t * t; /* int_0^t beta, T = 1 */

  switch (kind) {
  case REF_VP:
    *alpha = expl(-0.5L * B);
    *var   = -expm1l(-B); /* 1 - e^-B without cancellation at small t */
    *L     = B;
    break;
  case REF_SUBVP:
    *alpha = expl(-0.5L * B);
    *var   = expm1l(-B) * expm1l(-B);
    *L     = B;
    break;
  case REF_VE: {
    long double s = SMIN * powl(SMAX / SMIN, t);
    *alpha        = 1;
    *var          = s * s - SMIN * SMIN;
    *L            = 0;
  } break;
  case REF_DDPM: {
    int         i  = (int)lroundl(t * NDDPM);
    long double ab = DDPMAlphaBar(i);
    *alpha         = sqrtl(ab);
    *var           = 1 - ab;
    *L             = -logl(ab);
  } break;
  }
}

/* ---- the SDE objects ---------------------------------------------------------------------- */

static PetscErrorCode MakeSDE(const char *prefix, SgmSDEType type, SgmSDE *sde)
{
  PetscFunctionBegin;
  PetscCall(SgmSDECreate(PETSC_COMM_WORLD, sde));
  PetscCall(PetscObjectSetOptionsPrefix((PetscObject)*sde, prefix));
  PetscCall(SgmSDESetType(*sde, type));
  PetscCall(SgmSDESetFromOptions(*sde));
  PetscCall(SgmSDESetUp(*sde));
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  const char *name;
  RefKind     kind;
  SgmSDE      sde;
  PetscReal   eps, prior_std; /* expected defaults */
} Case;

static const PetscReal tmarg[] = {1e-5, 1e-3, 0.01, 0.1, 0.25, 0.5, 0.777, 0.9, 1.0};
static const int       imarg[] = {1, 2, 3, 10, 100, 250, 500, 777, 999, 1000};
#define NT ((int)(sizeof(tmarg) / sizeof(tmarg[0])))
#define NI ((int)(sizeof(imarg) / sizeof(imarg[0])))

/* (a): relative error of alpha and of sigma, worst over the times */
static PetscErrorCode TestMarginal(Tally *tl, Case *c)
{
  double ea = 0, es = 0;
  int    n  = c->kind == REF_DDPM ? NI : NT;
  char   name[128];

  PetscFunctionBegin;
  for (int k = 0; k < n; k++) {
    PetscReal   t = c->kind == REF_DDPM ? (PetscReal)imarg[k] / NDDPM : tmarg[k], a, s;
    long double ar, vr, L;

    PetscCall(SgmSDEMarginal(c->sde, t, &a, &s));
    RefMarginal(c->kind, t, &ar, &vr, &L);
    ea = PetscMax(ea, (double)fabsl((a - ar) / ar));
    es = PetscMax(es, (double)fabsl((s - sqrtl(vr)) / sqrtl(vr)));
  }
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s marginal: alpha, max rel. error", c->name));
  PetscCall(Check(tl, name, ea, 1e-13));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s marginal: sigma, max rel. error", c->name));
  PetscCall(Check(tl, name, es, 1e-13));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  (b): central differences D_h F = (F(t+h) - F(t-h))/2h of F = alpha and F = sigma^2 against
  F' from f and g.  Bound: the truncation error of D_h is h^2 F'''/6 + O(h^4), which
  |D_h - D_2h| = h^2 |F'''|/2 + O(h^4) exceeds; plus rounding, 64 eps (|F| + floor)/h, where floor
  is the size of the terms whose difference is F (sigma_min^2 for the VE variance).
*/
static PetscErrorCode TestCoefficients(Tally *tl, Case *c)
{
  const PetscReal tc[] = {0.05, 0.2, 0.4005, 0.6, 0.8505, 0.95}; /* DDPM: mid-interval */
  const PetscReal h    = 1e-5;
  double          ra = 0, rv = 0, ba = 0, bv = 0; /* worst error/bound ratios and their values */
  double          vfloor = c->kind == REF_VE ? (double)(SMIN * SMIN) : 0;
  char            name[128];

  PetscFunctionBegin;
  for (size_t k = 0; k < sizeof(tc) / sizeof(tc[0]); k++) {
    PetscReal t = tc[k], f, g, a, s, am[2], ap[2], vm[2], vp[2];
    if (c->kind == REF_DDPM) t = (PetscFloorReal(t * NDDPM) + 0.5) / NDDPM;
    PetscCall(SgmSDECoefficients(c->sde, t, &f, &g));
    PetscCall(SgmSDEMarginal(c->sde, t, &a, &s));
    for (int m = 0; m < 2; m++) {
      PetscReal hm = (m + 1) * h, x, y;
      PetscCall(SgmSDEMarginal(c->sde, t - hm, &x, &y));
      am[m] = x;
      vm[m] = y * y;
      PetscCall(SgmSDEMarginal(c->sde, t + hm, &x, &y));
      ap[m] = x;
      vp[m] = y * y;
    }
    double da = (ap[0] - am[0]) / (2 * h), da2 = (ap[1] - am[1]) / (4 * h);
    double dv = (vp[0] - vm[0]) / (2 * h), dv2 = (vp[1] - vm[1]) / (4 * h);
    double Fa = f * a, Fv = 2 * f * s * s + g * g;
    double bda = fabs(da - da2) + 64 * PETSC_MACHINE_EPSILON * fabs(a) / h;
    double bdv = fabs(dv - dv2) + 64 * PETSC_MACHINE_EPSILON * (s * s + vfloor) / h;
    /* relative to |F'| so the numbers read the same for every SDE (absolute where F' = 0: VE alpha) */
    double na = Fa != 0 ? fabs(Fa) : 1, nv = Fv != 0 ? fabs(Fv) : 1;
    double ea = fabs(da - Fa) / na, ev = fabs(dv - Fv) / nv;
    if (k == 0 || ea / (bda / na) > ra) { ra = ea / (bda / na); ba = bda / na; }
    if (k == 0 || ev / (bdv / nv) > rv) { rv = ev / (bdv / nv); bv = bdv / nv; }
  }
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s coefficients: d alpha/dt = f alpha, rel.", c->name));
  PetscCall(Check(tl, name, ra * ba, ba));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s coefficients: d sigma^2/dt = 2f sigma^2 + g^2, rel.", c->name));
  PetscCall(Check(tl, name, rv * bv, bv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  (c): relative errors of r and v.  v is a difference (sigma(t)^2 - r^2 sigma(s)^2, or an expm1 of
  L(t) - L(s)), so rounding of relative size eps in those terms is amplified by
  cond = (sigma(t)^2 + r^2 sigma(s)^2 + L(t)) / v; the bound is 1e-13 max(1, cond).
*/
static PetscErrorCode TestTransition(Tally *tl, Case *c)
{
  const PetscReal st[][2] = {{1e-3, 0.5}, {0.1, 0.2}, {0.3, 0.301}, {0.5, 1.0}, {0.999, 1.0}, {1e-5, 2e-5}, {0, 0.7}};
  double          er = 0, rv = -1, ev = 0, bv = 0;
  char            name[128];

  PetscFunctionBegin;
  for (size_t k = 0; k < sizeof(st) / sizeof(st[0]); k++) {
    PetscReal   s = st[k][0], t = st[k][1], r, v;
    long double as, vs, Ls, at, vt, Lt, rr, vr;
    if (c->kind == REF_DDPM) { /* on the grid */
      s = round(s * NDDPM) / NDDPM;
      t = round(t * NDDPM) / NDDPM;
    }
    PetscCall(SgmSDETransition(c->sde, s, t, &r, &v));
    RefMarginal(c->kind, s, &as, &vs, &Ls);
    RefMarginal(c->kind, t, &at, &vt, &Lt);
    if (s == 0) { /* q(x_t|x_0) is the marginal */
      as = 1;
      vs = 0;
      Ls = 0;
    }
    rr = at / as;
    vr = vt - rr * rr * vs;
    double cond = (double)((vt + rr * rr * vs + Lt) / vr), b = 1e-13 * PetscMax(1, cond);
    double e = (double)fabsl((v - vr) / vr);
    er = PetscMax(er, (double)fabsl((r - rr) / rr));
    if (e / b > rv) { rv = e / b; ev = e; bv = b; }
  }
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s transition: r = alpha(t)/alpha(s), max rel.", c->name));
  PetscCall(Check(tl, name, er, 1e-13));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s transition: v = sigma_t^2 - r^2 sigma_s^2, rel.", c->name));
  PetscCall(Check(tl, name, ev, bv));
  if (c->kind == REF_DDPM) { /* one DDPM step i-1 -> i: r^2 = 1 - beta_i, v = beta_i */
    double e2 = 0, r3 = -1, e3 = 0, b3 = 0;
    for (int k = 0; k < NI; k++) {
      int         i = imarg[k];
      PetscReal   r, v;
      long double a, var, L;
      PetscCall(SgmSDETransition(c->sde, (PetscReal)(i - 1) / NDDPM, (PetscReal)i / NDDPM, &r, &v));
      RefMarginal(c->kind, (PetscReal)i / NDDPM, &a, &var, &L);
      /* v = 1 - exp(-(L_i - L_{i-1})), L_i = -log alpha_bar_i: cond = L_i / beta_i */
      double e = (double)fabsl((v - ddpm_beta[i]) / ddpm_beta[i]), b = 1e-13 * PetscMax(1, (double)(L / ddpm_beta[i]));
      e2 = PetscMax(e2, (double)fabsl((r * r - (1 - ddpm_beta[i])) / (1 - ddpm_beta[i])));
      if (e / b > r3) { r3 = e / b; e3 = e; b3 = b; }
    }
    PetscCall(Check(tl, "vp-ddpm one step: r^2 = 1 - beta_i, max rel.", e2, 1e-13));
    PetscCall(Check(tl, "vp-ddpm one step: v = beta_i, rel.", e3, b3));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TestDefaults(Tally *tl, Case *c)
{
  PetscReal eps, T, std;
  char      name[128];

  PetscFunctionBegin;
  PetscCall(SgmSDEGetInterval(c->sde, &eps, &T));
  PetscCall(SgmSDEGetPriorStd(c->sde, &std));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s defaults: |eps - %g| + |T - 1| + |prior std - %g|", c->name, (double)c->eps, (double)c->prior_std));
  PetscCall(Check(tl, name, fabs(eps - c->eps) + fabs(T - 1) + fabs(std - c->prior_std), 0));
  /* SgmSDETimeFromNoiseToSignal inverts SgmSDENoiseToSignal (bisection to the last bit) */
  {
    double e = 0;
    for (int k = 1; k < NT; k++) {
      PetscReal t = tmarg[k], r, t2;
      PetscCall(SgmSDENoiseToSignal(c->sde, t, &r));
      PetscCall(SgmSDETimeFromNoiseToSignal(c->sde, r, &t2));
      e = PetscMax(e, fabs(t2 - t) / t);
    }
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s t -> sigma/alpha -> t, max rel.", c->name));
    PetscCall(Check(tl, name, e, 1e-12));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  Tally tl = {0, 0};
  Case  cases[] = {
    {"vp",      REF_VP,    NULL, 1e-3, 1 },
    {"subvp",   REF_SUBVP, NULL, 1e-3, 1 },
    {"ve",      REF_VE,    NULL, 1e-5, 50},
    {"vp-ddpm", REF_DDPM,  NULL, 0,    1 },
  };

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SgmInitializePackage());
  for (int i = 1; i <= NDDPM; i++) ddpm_beta[i] = 1e-4L + (long double)(i - 1) / (NDDPM - 1) * (0.02L - 1e-4L);
  /* the DDPM variant through its options, as a user would select it */
  PetscCall(PetscOptionsSetValue(NULL, "-ddpm_sde_vp_schedule", "ddpm"));
  PetscCall(PetscOptionsSetValue(NULL, "-ddpm_sde_num_scales", "1000"));
  PetscCall(MakeSDE(NULL, SGMSDEVP, &cases[0].sde));
  PetscCall(MakeSDE(NULL, SGMSDESUBVP, &cases[1].sde));
  PetscCall(MakeSDE(NULL, SGMSDEVE, &cases[2].sde));
  PetscCall(MakeSDE("ddpm_", SGMSDEVP, &cases[3].sde));
  for (int c = 0; c < 4; c++) {
    PetscCall(TestMarginal(&tl, &cases[c]));
    PetscCall(TestCoefficients(&tl, &cases[c]));
    PetscCall(TestTransition(&tl, &cases[c]));
    PetscCall(TestDefaults(&tl, &cases[c]));
  }
  for (int c = 0; c < 4; c++) PetscCall(SgmSDEDestroy(&cases[c].sde));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  PetscCall(PetscFinalize());
  return tl.fail != 0;
}
