/*
  Gaussian data N(m, C) with a full d x d covariance stored block-cyclically (ScaLAPACK, doc/dense.md):
  the score type "gaussian_dense", for d in the thousands where the replicated "gaussian" type would
  hold d^2 doubles on every rank.  At set-up C = U diag(lambda) U^T once (pdsyevd); at time t
      p_t = N(alpha m, U diag(alpha^2 lambda + sigma^2) U^T),
      s(x, t) = -U diag(1/(alpha^2 lambda + sigma^2)) U^T (x - alpha m),
  evaluated for the whole batch as two distributed products with X^T (d x N): the batch's rows are
  moved to the block-cyclic layout and back (SgmDenseFromRows_Private / SgmDenseToRows_Private).
  The JVP is the same linear map applied to v, the divergence -sum_j 1/(alpha^2 lambda_j + sigma^2).
  Every evaluation is collective: all ranks call it at the same t, once per batch.
  File: -gaussian_file FILE.h5 with /mean [d] and /covariance [d,d] (read on rank 0 and broadcast,
  then distributed: a transient replicated copy of C, fine up to d = 4096 or so).
*/
#include <sgm/private/denseimpl.h>
#include <sgm/private/scoreimpl.h>
#include <sgmio.h>

typedef struct {
  char       file[PETSC_MAX_PATH_LEN];
  PetscInt   d;
  PetscReal *mu;   /* [d] replicated */
  PetscReal *lam;  /* [d] eigenvalues of C, ascending, replicated */
  PetscReal *ilam; /* [d] -1/(alpha^2 lambda + sigma^2) for (alpha, sigma) */
  PetscReal  alpha, sigma;
  SgmDense   C, U;       /* d x d */
  SgmDense   XT, W;      /* d x N for the current batch size N */
  PetscInt   N;
  PetscReal *y;          /* [ny] local scratch */
  PetscInt   ny;
} SgmScore_GaussianDense;

static PetscErrorCode GDAtTime(SgmScore score, PetscReal t)
{
  SgmScore_GaussianDense *gd = (SgmScore_GaussianDense *)score->data;
  PetscReal               a, s;

  PetscFunctionBegin;
  PetscCall(SgmSDEMarginal(score->sde, t, &a, &s));
  if (a == gd->alpha && s == gd->sigma) PetscFunctionReturn(PETSC_SUCCESS);
  gd->alpha = a;
  gd->sigma = s;
  for (PetscInt j = 0; j < gd->d; j++) gd->ilam[j] = -1 / (a * a * gd->lam[j] + s * s);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Collective: every rank at the same t, and the d x N work matrices sized for this batch. */
static PetscErrorCode GDBegin(SgmScore score, PetscReal t, PetscInt n)
{
  SgmScore_GaussianDense *gd   = (SgmScore_GaussianDense *)score->data;
  MPI_Comm                comm = PetscObjectComm((PetscObject)score);
  PetscReal               in[2] = {t, -t}, out[2];
  PetscInt                N;

  PetscFunctionBegin;
  PetscCallMPI(MPIU_Allreduce(in, out, 2, MPIU_REAL, MPIU_MAX, comm));
  PetscCheck(out[0] == -out[1], comm, PETSC_ERR_USER_INPUT, "The gaussian_dense score is collective but the ranks evaluated it at different times or a different number of times (sgm score and the trainer's esm target evaluate it per sample): give every rank the same number of samples, choose another -sampler_type, or use -score_type gaussian");
  PetscCallMPI(MPIU_Allreduce(&n, &N, 1, MPIU_INT, MPI_SUM, comm));
  if (N != gd->N) {
    PetscCall(SgmDenseDestroy(&gd->XT));
    PetscCall(SgmDenseDestroy(&gd->W));
    if (N > 0) {
      PetscCall(SgmDenseCreateRect_Private(comm, gd->d, N, &gd->XT));
      PetscCall(SgmDenseCreateRect_Private(comm, gd->d, N, &gd->W));
    }
    gd->N = N;
  }
  if (n * gd->d > gd->ny) {
    PetscCall(PetscFree(gd->y));
    gd->ny = n * gd->d;
    PetscCall(PetscMalloc1(gd->ny, &gd->y));
  }
  PetscCall(GDAtTime(score, t));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* out = U diag(ilam) U^T (x - shift m) for the n local samples */
static PetscErrorCode GDApplyOperator(SgmScore score, PetscReal shift, PetscInt n, const PetscScalar *x, PetscScalar *out)
{
  SgmScore_GaussianDense *gd = (SgmScore_GaussianDense *)score->data;
  const PetscInt          d  = gd->d;

  PetscFunctionBegin;
  if (!gd->N) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < d; j++) gd->y[i * d + j] = PetscRealPart(x[i * d + j]) - shift * gd->mu[j];
  PetscCall(SgmDenseFromRows_Private(gd->XT, n, gd->y));
  PetscCall(SgmDenseMatMult(gd->U, PETSC_TRUE, gd->XT, PETSC_FALSE, gd->W)); /* U^T y */
  PetscCall(SgmDenseScaleRows_Private(gd->W, gd->ilam));
  PetscCall(SgmDenseMatMult(gd->U, PETSC_FALSE, gd->W, PETSC_FALSE, gd->XT));
  PetscCall(SgmDenseToRows_Private(gd->XT, n, gd->y));
  for (PetscInt i = 0; i < n * d; i++) out[i] = gd->y[i];
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreApply_GaussianDense(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, PetscScalar *s)
{
  PetscFunctionBegin;
  PetscCall(GDBegin(score, t, n));
  PetscCall(GDApplyOperator(score, ((SgmScore_GaussianDense *)score->data)->alpha, n, x, s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreJVP_GaussianDense(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, const PetscScalar *v, PetscScalar *Jv)
{
  PetscFunctionBegin;
  PetscCall(GDBegin(score, t, n));
  PetscCall(GDApplyOperator(score, 0, n, v, Jv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* not collective: the trace needs only the eigenvalues */
static PetscErrorCode SgmScoreDivergence_GaussianDense(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, PetscReal *div)
{
  SgmScore_GaussianDense *gd = (SgmScore_GaussianDense *)score->data;
  PetscReal               tr = 0;

  PetscFunctionBegin;
  PetscCall(GDAtTime(score, t));
  for (PetscInt j = 0; j < gd->d; j++) tr += gd->ilam[j];
  for (PetscInt i = 0; i < n; i++) div[i] = tr;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* log p_t(x) = -1/2 sum_j z_j^2 / v_j - 1/2 sum_j log v_j - d/2 log 2 pi, z = U^T (x - alpha m), v = alpha^2 lambda + sigma^2 */
static PetscErrorCode SgmScoreLogDensity_GaussianDense(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, PetscReal *logp)
{
  SgmScore_GaussianDense *gd = (SgmScore_GaussianDense *)score->data;
  const PetscInt          d  = gd->d;
  PetscReal               lc = -0.5 * d * PetscLogReal(2 * PETSC_PI), *sq;

  PetscFunctionBegin;
  PetscCall(GDBegin(score, t, n));
  if (!gd->N) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscMalloc1(d, &sq));
  for (PetscInt j = 0; j < d; j++) {
    sq[j] = PetscSqrtReal(-gd->ilam[j]);
    lc += 0.5 * PetscLogReal(-gd->ilam[j]);
  }
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < d; j++) gd->y[i * d + j] = PetscRealPart(x[i * d + j]) - gd->alpha * gd->mu[j];
  PetscCall(SgmDenseFromRows_Private(gd->XT, n, gd->y));
  PetscCall(SgmDenseMatMult(gd->U, PETSC_TRUE, gd->XT, PETSC_FALSE, gd->W));
  PetscCall(SgmDenseScaleRows_Private(gd->W, sq));
  PetscCall(SgmDenseToRows_Private(gd->W, n, gd->y));
  for (PetscInt i = 0; i < n; i++) {
    PetscReal q = 0;
    for (PetscInt j = 0; j < d; j++) q += gd->y[i * d + j] * gd->y[i * d + j];
    logp[i] = lc - 0.5 * q;
  }
  PetscCall(PetscFree(sq));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Exact draws from the data distribution, x = m + U diag(sqrt(lambda)) z, for references.  z holds the
  normals of (seed, SGM_STREAM_PRIOR, step 2): a pure function of the global sample index, so the
  draws do not depend on the number of ranks beyond rounding, and are independent of the prior draws
  of a sampler (step 0) and of sgm nll (step 1) with the same seed.  Collective.
*/
PetscErrorCode SgmScoreGaussianDenseSampleExact(SgmScore score, PetscInt64 seed, const SgmBatch *b, Vec X)
{
  SgmScore_GaussianDense *gd;
  MPI_Comm                comm = PetscObjectComm((PetscObject)score);
  PetscBool               isgd;
  PetscScalar            *x;
  PetscReal              *sq;
  PetscInt                d;

  PetscFunctionBegin;
  PetscCall(PetscObjectTypeCompare((PetscObject)score, SGMSCOREGAUSSIANDENSE, &isgd));
  PetscCheck(isgd, comm, PETSC_ERR_ARG_WRONG, "SgmScoreGaussianDenseSampleExact needs a score of type gaussian_dense, not %s", ((PetscObject)score)->type_name);
  PetscCall(SgmScoreSetUp(score));
  gd = (SgmScore_GaussianDense *)score->data;
  d  = gd->d;
  PetscCheck(b->d == d, comm, PETSC_ERR_ARG_SIZ, "The batch has dimension %" PetscInt_FMT " but the Gaussian has %" PetscInt_FMT, b->d, d);
  PetscCall(GDBegin(score, 0, b->n)); /* any t: only the work matrices are needed */
  PetscCall(VecGetArray(X, &x));
  PetscCall(SgmRandomNormalBatch((uint64_t)seed, SGM_STREAM_PRIOR, 2, b, x));
  PetscCall(PetscMalloc1(d, &sq));
  for (PetscInt j = 0; j < d; j++) sq[j] = PetscSqrtReal(gd->lam[j]);
  for (PetscInt i = 0; i < b->n * d; i++) gd->y[i] = PetscRealPart(x[i]);
  PetscCall(SgmDenseFromRows_Private(gd->XT, b->n, gd->y));
  PetscCall(SgmDenseScaleRows_Private(gd->XT, sq));
  PetscCall(SgmDenseMatMult(gd->U, PETSC_FALSE, gd->XT, PETSC_FALSE, gd->W));
  PetscCall(SgmDenseToRows_Private(gd->W, b->n, gd->y));
  for (PetscInt i = 0; i < b->n; i++)
    for (PetscInt j = 0; j < d; j++) x[i * d + j] = gd->mu[j] + gd->y[i * d + j];
  PetscCall(VecRestoreArray(X, &x));
  PetscCall(PetscFree(sq));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreGaussianDenseClear(SgmScore_GaussianDense *gd)
{
  PetscFunctionBegin;
  PetscCall(PetscFree3(gd->mu, gd->lam, gd->ilam));
  PetscCall(PetscFree(gd->y));
  gd->ny = 0;
  PetscCall(SgmDenseDestroy(&gd->C));
  PetscCall(SgmDenseDestroy(&gd->U));
  PetscCall(SgmDenseDestroy(&gd->XT));
  PetscCall(SgmDenseDestroy(&gd->W));
  gd->N = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreSetUp_GaussianDense(SgmScore score)
{
  SgmScore_GaussianDense *gd   = (SgmScore_GaussianDense *)score->data;
  MPI_Comm                comm = PetscObjectComm((PetscObject)score);
  const char             *f    = gd->file;
  PetscInt                dm[1], dc[2], d;
  PetscReal              *mu, *cov, cmax = 0;

  PetscFunctionBegin;
  PetscCheck(f[0], comm, PETSC_ERR_USER_INPUT, "The gaussian_dense score has no parameters: give -gaussian_file FILE.h5 (datasets /mean [d], /covariance [d,d])");
  PetscCall(SgmScoreGaussianDenseClear(gd));
  PetscCall(SgmH5ReadReal(comm, f, "/mean", 1, dm, &mu));
  PetscCall(SgmH5ReadReal(comm, f, "/covariance", 2, dc, &cov));
  PetscCheck(dc[0] == dm[0] && dc[1] == dm[0], comm, PETSC_ERR_ARG_SIZ, "In '%s', /covariance has shape [%" PetscInt_FMT ",%" PetscInt_FMT "] but /mean has length %" PetscInt_FMT ": expected [%" PetscInt_FMT ",%" PetscInt_FMT "]", f, dc[0], dc[1], dm[0], dm[0], dm[0]);
  d = gd->d = dm[0];
  for (PetscInt i = 0; i < d * d; i++) cmax = PetscMax(cmax, PetscAbsReal(cov[i]));
  for (PetscInt i = 0; i < d; i++)
    for (PetscInt j = 0; j < i; j++) PetscCheck(PetscAbsReal(cov[i * d + j] - cov[j * d + i]) <= 1e-10 * cmax, comm, PETSC_ERR_USER_INPUT, "%s: the covariance is not symmetric (entries (%" PetscInt_FMT ",%" PetscInt_FMT ") and (%" PetscInt_FMT ",%" PetscInt_FMT ") differ)", f, i, j, j, i);
  PetscCall(PetscMalloc3(d, &gd->mu, d, &gd->lam, d, &gd->ilam));
  PetscCall(PetscArraycpy(gd->mu, mu, d));
  PetscCall(SgmDenseCreate(comm, d, &gd->C));
  PetscCall(SgmDenseCreate(comm, d, &gd->U));
  PetscCall(SgmDenseSetFromReplicated(gd->C, cov));
  PetscCall(PetscFree(cov));
  PetscCall(PetscFree(mu));
  PetscCall(SgmDenseSymEig(gd->C, gd->lam, gd->U));
  PetscCheck(gd->lam[0] > 1e-13 * PetscMax(gd->lam[d - 1], PETSC_SMALL), comm, PETSC_ERR_USER_INPUT, "%s: the covariance is not positive definite (smallest eigenvalue %g)", f, (double)gd->lam[0]);
  gd->alpha = gd->sigma = -1;
  score->dim            = d;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreSetFromOptions_GaussianDense(SgmScore score, PetscOptionItems *PetscOptionsObject)
{
  SgmScore_GaussianDense *gd = (SgmScore_GaussianDense *)score->data;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Distributed dense Gaussian score options (grid: -dense_grid, -dense_block)");
  PetscCall(PetscOptionsString("-gaussian_file", "HDF5 file with /mean [d] and /covariance [d,d]", "SgmScoreSetFromOptions", gd->file, gd->file, sizeof(gd->file), NULL));
  PetscOptionsHeadEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* /target as the mixture types write it (kind gaussian_mixture, K = 1), plus /target/eigenvalues */
static PetscErrorCode SgmScoreAttributes_GaussianDense(SgmScore score, hid_t file)
{
  SgmScore_GaussianDense *gd   = (SgmScore_GaussianDense *)score->data;
  MPI_Comm                comm = PetscObjectComm((PetscObject)score);
  hid_t                   grp;
  hsize_t                 dk[1] = {1}, dm[2] = {1, (hsize_t)gd->d}, dc[3] = {1, (hsize_t)gd->d, (hsize_t)gd->d}, dl[1] = {(hsize_t)gd->d};
  PetscReal               one = 1, *cov;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrString(file, "score_file", gd->file));
  PetscCall(SgmH5AttrInt(file, "score_components", 1));
  PetscCallHDF5(grp = H5Gcreate2(file, "target", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(SgmH5AttrString(grp, "kind", "gaussian_mixture"));
  PetscCall(SgmH5WriteSmall(comm, grp, "weights", 1, dk, &one));
  PetscCall(SgmH5WriteSmall(comm, grp, "means", 2, dm, gd->mu));
  PetscCall(PetscMalloc1(gd->d * gd->d, &cov));
  PetscCall(SgmDenseGetReplicated(gd->C, cov));
  PetscCall(SgmH5WriteSmall(comm, grp, "covariances", 3, dc, cov));
  PetscCall(PetscFree(cov));
  PetscCall(SgmH5WriteSmall(comm, grp, "eigenvalues", 1, dl, gd->lam));
  PetscCallHDF5(H5Gclose(grp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreView_GaussianDense(SgmScore score, PetscViewer viewer)
{
  SgmScore_GaussianDense *gd = (SgmScore_GaussianDense *)score->data;

  PetscFunctionBegin;
  if (gd->file[0]) PetscCall(PetscViewerASCIIPrintf(viewer, "from %s\n", gd->file));
  if (gd->U) {
    int P, Q, nb;
    PetscCall(SgmDenseGetGrid_Private(gd->U, &P, &Q, &nb));
    PetscCall(PetscViewerASCIIPrintf(viewer, "dimension %" PetscInt_FMT ", covariance block-cyclic on a %d x %d grid, blocks %d; eigenvalues %g .. %g\n", gd->d, P, Q, nb, (double)gd->lam[0], (double)gd->lam[gd->d - 1]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreDestroy_GaussianDense(SgmScore score)
{
  PetscFunctionBegin;
  PetscCall(SgmScoreGaussianDenseClear((SgmScore_GaussianDense *)score->data));
  PetscCall(PetscFree(score->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmScoreCreate_GaussianDense(SgmScore score)
{
  SgmScore_GaussianDense *gd;

  PetscFunctionBegin;
  PetscCall(PetscNew(&gd));
  gd->alpha = gd->sigma = -1;
  score->data                = gd;
  score->ops->apply          = SgmScoreApply_GaussianDense;
  score->collective          = PETSC_TRUE;
  score->ops->logdensity     = SgmScoreLogDensity_GaussianDense;
  score->ops->jvp            = SgmScoreJVP_GaussianDense;
  score->ops->divergence     = SgmScoreDivergence_GaussianDense;
  score->ops->setup          = SgmScoreSetUp_GaussianDense;
  score->ops->setfromoptions = SgmScoreSetFromOptions_GaussianDense;
  score->ops->attributes     = SgmScoreAttributes_GaussianDense;
  score->ops->view           = SgmScoreView_GaussianDense;
  score->ops->destroy        = SgmScoreDestroy_GaussianDense;
  PetscFunctionReturn(PETSC_SUCCESS);
}
