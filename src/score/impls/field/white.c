/*
  White-noise field: x_0 ~ N(0, v I) on the grid of -field_grid, so p_t = N(0, (alpha^2 v + sigma^2) I)
  and s(x, t) = -x / (alpha^2 v + sigma^2) site by site.  The score of a field batch that involves
  no neighbours: with it, every sampler's result at a site depends only on that site's noise, which
  makes it the reference for the bitwise independence of fields from the process grid.
*/
#include <sgm/private/scoreimpl.h>
#include <sgmio.h>

typedef struct {
  PetscReal var; /* -white_variance */
} SgmScore_White;

static PetscErrorCode SgmScoreApply_White(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, PetscScalar *s)
{
  SgmScore_White *w = (SgmScore_White *)score->data;
  const PetscInt  m = n * score->field->nloc * score->field->dof;
  PetscReal       a, sg, c;

  PetscFunctionBegin;
  PetscCall(SgmSDEMarginal(score->sde, t, &a, &sg));
  c = -1 / (a * a * w->var + sg * sg);
  for (PetscInt i = 0; i < m; i++) s[i] = c * x[i];
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreSetFromOptions_White(SgmScore score, PetscOptionItems *PetscOptionsObject)
{
  SgmScore_White *w = (SgmScore_White *)score->data;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "White-noise field score options");
  PetscCall(PetscOptionsReal("-white_variance", "Variance v of every site of x_0", "", w->var, &w->var, NULL));
  PetscOptionsHeadEnd();
  PetscCheck(w->var > 0, PetscObjectComm((PetscObject)score), PETSC_ERR_USER_INPUT, "-white_variance must be positive; got %g", (double)w->var);
  PetscCall(SgmScoreFieldSetFromOptions_Private(score, PetscOptionsObject));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreSetUp_White(SgmScore score)
{
  PetscFunctionBegin;
  PetscCall(SgmScoreFieldSetUp_Private(score, 1));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreAttributes_White(SgmScore score, hid_t file)
{
  PetscFunctionBegin;
  PetscCall(SgmH5AttrReal(file, "white_variance", ((SgmScore_White *)score->data)->var));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreView_White(SgmScore score, PetscViewer viewer)
{
  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "white-noise field, site variance %g\n", (double)((SgmScore_White *)score->data)->var));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreDestroy_White(SgmScore score)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(score->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmScoreCreate_White(SgmScore score)
{
  SgmScore_White *w;

  PetscFunctionBegin;
  PetscCall(PetscNew(&w));
  w->var                     = 1;
  score->data                = w;
  score->ops->apply          = SgmScoreApply_White;
  score->ops->setfromoptions = SgmScoreSetFromOptions_White;
  score->ops->setup          = SgmScoreSetUp_White;
  score->ops->attributes     = SgmScoreAttributes_White;
  score->ops->view           = SgmScoreView_White;
  score->ops->destroy        = SgmScoreDestroy_White;
  PetscFunctionReturn(PETSC_SUCCESS);
}
