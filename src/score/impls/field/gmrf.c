/*
  Gaussian Markov random field (doc/fields.md): x_0 ~ N(0, Q^{-1}) on the grid of -field_grid with the
  SPDE precision Q = tau (kappa^2 I - Laplacian_h)^alpha, alpha = 1 or 2 (spde.h), the Laplacian the
  5-point (7-point) stencil with periodic or homogeneous Dirichlet boundaries.  With x_t = a x_0 + s eps,
      p_t = N(0, a^2 Q^{-1} + s^2 I),   s(x, t) = -Q (a^2 I + s^2 Q)^{-1} x,
  one SPD solve per field and evaluation: KSP (default CG + hypre BoomerAMG, rtol 1e-10) on A_t = a^2 I + s^2 Q,
  warm-started from the field's previous solution; every -gmrf_ksp_* / -gmrf_pc_* option applies.
  K = kappa^2 I - Laplacian_h is assembled on the DMDA; for alpha = 2, Q = tau K K is assembled once
  by MatMatMult (a 13-point, 25-point in 3-D, stencil), so A_t is one sparse matrix and the
  preconditioner sees the operator it inverts.  A_t is rebuilt when t changes (a copy, scale and
  shift of Q's values: same nonzero pattern).
*/
#include "spde.h"
#include <petscksp.h>
#include <sgmio.h>

typedef struct {
  SgmSPDE    spde;
  Mat        Q, A;
  KSP        ksp;
  Vec        xv, sv; /* DMDA global vectors placed on one field of the batch */
  Vec       *y;      /* [ny] previous solutions, the warm starts */
  PetscInt   ny;
  PetscReal  a, s;   /* (alpha, sigma) A was built for */
  PetscInt64 its, solves;
} SgmScore_GMRF;

/* K = kappa^2 I - Laplacian_h on the DMDA (Dirichlet: neighbours outside the grid are zero) */
static PetscErrorCode AssembleK(SgmField f, PetscReal kappa, Mat K)
{
  const PetscReal ih2 = 1 / (f->h * f->h);

  PetscFunctionBegin;
  for (PetscInt k = f->xs[2]; k < f->xs[2] + f->xm[2]; k++)
    for (PetscInt j = f->xs[1]; j < f->xs[1] + f->xm[1]; j++)
      for (PetscInt i = f->xs[0]; i < f->xs[0] + f->xm[0]; i++) {
        MatStencil  row = {.k = k, .j = j, .i = i}, col[7];
        PetscScalar v[7];
        PetscInt    nc = 0, p[3] = {i, j, k};
        col[nc] = row;
        v[nc++] = kappa * kappa + 2 * f->dim * ih2;
        for (PetscInt a = 0; a < f->dim; a++)
          for (PetscInt sgn = -1; sgn <= 1; sgn += 2) {
            PetscInt q[3] = {p[0], p[1], p[2]};
            q[a] += sgn;
            if (!f->periodic && (q[a] < 0 || q[a] >= f->M[a])) continue;
            col[nc].i = q[0];
            col[nc].j = q[1];
            col[nc].k = q[2];
            col[nc].c = 0;
            v[nc++]   = -ih2;
          }
        PetscCall(MatSetValuesStencil(K, 1, &row, nc, col, v, INSERT_VALUES));
      }
  PetscCall(MatAssemblyBegin(K, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(K, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode GMRFAtTime(SgmScore score, PetscReal t)
{
  SgmScore_GMRF *g = (SgmScore_GMRF *)score->data;
  PetscReal      a, s;

  PetscFunctionBegin;
  PetscCall(SgmSDEMarginal(score->sde, t, &a, &s));
  if (a == g->a && s == g->s) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(MatCopy(g->Q, g->A, SAME_NONZERO_PATTERN));
  PetscCall(MatScale(g->A, s * s));
  PetscCall(MatShift(g->A, a * a));
  PetscCall(KSPSetOperators(g->ksp, g->A, g->A));
  g->a = a;
  g->s = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Collective: every rank, the same t and the same number n of fields. */
static PetscErrorCode SgmScoreApply_GMRF(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, PetscScalar *s)
{
  SgmScore_GMRF *g  = (SgmScore_GMRF *)score->data;
  const PetscInt nl = score->field->nloc;

  PetscFunctionBegin;
  PetscCall(GMRFAtTime(score, t));
  if (n > g->ny) {
    if (g->ny) PetscCall(VecDestroyVecs(g->ny, &g->y));
    PetscCall(VecDuplicateVecs(g->xv, n, &g->y));
    for (PetscInt i = 0; i < n; i++) PetscCall(VecZeroEntries(g->y[i]));
    g->ny = n;
  }
  for (PetscInt i = 0; i < n; i++) {
    KSPConvergedReason reason;
    PetscInt           its;
    PetscCall(VecPlaceArray(g->xv, x + i * nl));
    PetscCall(VecPlaceArray(g->sv, s + i * nl));
    PetscCall(KSPSolve(g->ksp, g->xv, g->y[i]));
    PetscCall(KSPGetConvergedReason(g->ksp, &reason));
    PetscCheck(reason > 0, PetscObjectComm((PetscObject)score), PETSC_ERR_NOT_CONVERGED, "The gmrf solve with (a^2 I + s^2 Q) did not converge at t = %g (%s): raise -gmrf_ksp_max_it or choose another -gmrf_pc_type", (double)t, KSPConvergedReasons[reason]);
    PetscCall(KSPGetIterationNumber(g->ksp, &its));
    g->its += its;
    g->solves++;
    PetscCall(MatMult(g->Q, g->y[i], g->sv));
    PetscCall(VecScale(g->sv, -1));
    PetscCall(VecResetArray(g->sv));
    PetscCall(VecResetArray(g->xv));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreSetFromOptions_GMRF(SgmScore score, PetscOptionItems *PetscOptionsObject)
{
  SgmScore_GMRF *g = (SgmScore_GMRF *)score->data;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "GMRF score options (solver: -gmrf_ksp_*, -gmrf_pc_*)");
  PetscCall(SgmSPDESetFromOptions(PetscOptionsObject, PetscObjectComm((PetscObject)score), "gmrf", &g->spde));
  PetscOptionsHeadEnd();
  PetscCall(SgmScoreFieldSetFromOptions_Private(score, PetscOptionsObject));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreReset_GMRF(SgmScore score)
{
  SgmScore_GMRF *g = (SgmScore_GMRF *)score->data;

  PetscFunctionBegin;
  PetscCall(MatDestroy(&g->Q));
  PetscCall(MatDestroy(&g->A));
  PetscCall(KSPDestroy(&g->ksp));
  PetscCall(VecDestroy(&g->xv));
  PetscCall(VecDestroy(&g->sv));
  if (g->ny) PetscCall(VecDestroyVecs(g->ny, &g->y));
  g->ny = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreSetUp_GMRF(SgmScore score)
{
  SgmScore_GMRF *g = (SgmScore_GMRF *)score->data;
  SgmField       f;
  Mat            K;
  const char    *prefix;
  PC             pc;

  PetscFunctionBegin;
  PetscCall(SgmScoreReset_GMRF(score));
  PetscCall(SgmScoreFieldSetUp_Private(score, 1));
  f = score->field;
  PetscCheck(f->dof == 1, PetscObjectComm((PetscObject)score), PETSC_ERR_USER_INPUT, "The gmrf score is for scalar fields: remove -field_dof %" PetscInt_FMT, f->dof);
  PetscCall(DMCreateMatrix(f->da, &K));
  PetscCall(AssembleK(f, g->spde.kappa, K));
  if (g->spde.alpha == 1) {
    PetscCall(MatDuplicate(K, MAT_COPY_VALUES, &g->Q));
  } else PetscCall(MatMatMult(K, K, MAT_INITIAL_MATRIX, PETSC_DEFAULT, &g->Q));
  PetscCall(MatDestroy(&K));
  PetscCall(MatScale(g->Q, g->spde.tau));
  PetscCall(MatDuplicate(g->Q, MAT_COPY_VALUES, &g->A));
  PetscCall(DMCreateGlobalVector(f->da, &g->xv));
  PetscCall(VecDuplicate(g->xv, &g->sv));
  PetscCall(KSPCreate(PetscObjectComm((PetscObject)score), &g->ksp));
  PetscCall(PetscObjectGetOptionsPrefix((PetscObject)score, &prefix));
  PetscCall(KSPSetOptionsPrefix(g->ksp, prefix));
  PetscCall(KSPAppendOptionsPrefix(g->ksp, "gmrf_"));
  PetscCall(KSPSetType(g->ksp, KSPCG));
  PetscCall(KSPGetPC(g->ksp, &pc));
  PetscCall(PCSetType(pc, PCHYPRE)); /* BoomerAMG; GAMG met an indefinite preconditioner on a^2 I + s^2 Q near t = 0 */
  PetscCall(KSPSetTolerances(g->ksp, 1e-10, 1e-50, PETSC_DEFAULT, 10000));
  PetscCall(KSPSetInitialGuessNonzero(g->ksp, PETSC_TRUE));
  PetscCall(KSPSetFromOptions(g->ksp));
  { /* a direct solve (-gmrf_ksp_type preonly -gmrf_pc_type lu) takes no initial guess */
    PetscBool preonly;
    PetscCall(PetscObjectTypeCompare((PetscObject)g->ksp, KSPPREONLY, &preonly));
    if (preonly) PetscCall(KSPSetInitialGuessNonzero(g->ksp, PETSC_FALSE));
  }
  g->a = g->s = -1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreAttributes_GMRF(SgmScore score, hid_t file)
{
  SgmScore_GMRF *g = (SgmScore_GMRF *)score->data;
  KSPType        kt;
  PCType         pt;
  PC             pc;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrReal(file, "gmrf_tau", g->spde.tau));
  PetscCall(SgmH5AttrReal(file, "gmrf_kappa", g->spde.kappa));
  PetscCall(SgmH5AttrInt(file, "gmrf_alpha", g->spde.alpha));
  PetscCall(KSPGetType(g->ksp, &kt));
  PetscCall(KSPGetPC(g->ksp, &pc));
  PetscCall(PCGetType(pc, &pt));
  PetscCall(SgmH5AttrString(file, "gmrf_ksp_type", kt));
  PetscCall(SgmH5AttrString(file, "gmrf_pc_type", pt));
  PetscCall(SgmH5AttrInt(file, "gmrf_solves", g->solves));
  PetscCall(SgmH5AttrReal(file, "gmrf_mean_iterations", g->solves ? (PetscReal)g->its / g->solves : 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreView_GMRF(SgmScore score, PetscViewer viewer)
{
  SgmScore_GMRF *g = (SgmScore_GMRF *)score->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "GMRF, Q = %g (%g^2 - Laplacian)^%" PetscInt_FMT ", %" PetscInt64_FMT " solves, %.1f iterations each\n", (double)g->spde.tau, (double)g->spde.kappa, g->spde.alpha, g->solves, g->solves ? (double)g->its / g->solves : 0.0));
  if (g->ksp) PetscCall(KSPView(g->ksp, viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreDestroy_GMRF(SgmScore score)
{
  PetscFunctionBegin;
  PetscCall(SgmScoreReset_GMRF(score));
  PetscCall(PetscFree(score->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmScoreCreate_GMRF(SgmScore score)
{
  SgmScore_GMRF *g;

  PetscFunctionBegin;
  PetscCall(PetscNew(&g));
  g->spde.tau                = 1;
  g->spde.kappa              = 1;
  g->spde.alpha              = 1;
  score->data                = g;
  score->ops->apply          = SgmScoreApply_GMRF;
  score->ops->setfromoptions = SgmScoreSetFromOptions_GMRF;
  score->ops->setup          = SgmScoreSetUp_GMRF;
  score->ops->attributes     = SgmScoreAttributes_GMRF;
  score->ops->view           = SgmScoreView_GMRF;
  score->ops->destroy        = SgmScoreDestroy_GMRF;
  PetscFunctionReturn(PETSC_SUCCESS);
}
