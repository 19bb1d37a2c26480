/*
  Guidance of any score towards a class y (doc/guidance.md):
      cfg:         s_g = (1 - gamma) s(x,t) + gamma s(x,t|y)              (Ho & Salimans 2022)
      classifier:  s_g = s(x,t) + gamma grad_x log p(y|x_t)              (Dhariwal & Nichol 2021)
  or towards a linear measurement y = A x + n, n ~ N(0, sigma_y^2 I) (doc/inverse.md):
      dps:         s_g = s(x,t) - zeta_t grad_x ||y - A x0hat(x,t)||^2   (Chung et al. 2023)
  with Tweedie's x0hat = (x + sigma^2 s(x,t)) / alpha and zeta_t = gamma / ||y - A x0hat|| per sample
  (-dps_normalize, the paper's step) or gamma / (2 sigma_y^2) (the Gaussian likelihood of y at
  x0hat).  DPS approximates grad_x log p(y|x_t) by the likelihood at the point estimate x0hat: it is
  not the exact posterior score (for a Gaussian prior that is -score_type posterior).
  The conditional score s(x,t|y) is itself an SgmScore, built at set-up from the type (ops->conditional)
  or from the options prefixed -cond_.  Without a classifier the classifier gradient is
  s(x,t|y) - s(x,t), exact for mixtures whose classes are groups of components, so both kinds agree.
  JVPs and divergences are the same linear combinations.  The guided score replaces the type's
  ops->apply (kept in applyu), so that every sampler, also one calling the op directly, is guided.
  A guided evaluation counts as one NFE of the guided score and costs one evaluation of each model
  (unconditional, and conditional or classifier); the inner evaluations are not counted again,
  which keeps the count independent of how a sampler splits a batch into chunks.  A dps evaluation
  likewise counts as one NFE and costs one evaluation of the model and one Jacobian-vector product
  of it (analytic for the gaussian, gmm and posterior types, else two more evaluations by central
  differences); gamma = 0 skips the term and is the unguided score bit for bit.  The dps score
  contains the model's Jacobian, so its own JVPs and divergence (sgm nll) are central
  differences of the guided score, as for a user classifier: two guided evaluations per JVP.
*/
#include <sgm/private/scoreimpl.h>
#include <sgmio.h>
#include <petscblaslapack.h>

const char *const SgmGuidanceTypes[] = {"none", "classifier", "cfg", "dps", "SgmGuidanceType", "SGM_GUIDANCE_", NULL};

/* Guidance kind, scale gamma >= 0 and class y (-1: none, e.g. when the conditional model is given by
   -cond_score_type or SgmScoreSetConditionalScore()). */
PetscErrorCode SgmScoreSetGuidance(SgmScore score, SgmGuidanceType type, PetscReal gamma, PetscInt y)
{
  MPI_Comm comm;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(score, SGM_SCORE_CLASSID, 1);
  comm = PetscObjectComm((PetscObject)score);
  PetscCheck(PetscIsNormalReal(gamma) || gamma == 0, comm, PETSC_ERR_USER_INPUT, "-guidance_scale must be a finite number >= 0; got %g", (double)gamma);
  PetscCheck(gamma >= 0, comm, PETSC_ERR_USER_INPUT, "-guidance_scale must be >= 0 (0: unguided, 1: the class-conditional distribution, > 1: stronger guidance); got %g", (double)gamma);
  PetscCheck(y >= -1, comm, PETSC_ERR_USER_INPUT, "-class must be a non-negative class label; got %" PetscInt_FMT, y);
  if (score->ops->apply == SgmScoreGuidanceApply_Private) score->ops->apply = score->applyu; /* until set-up */
  score->guidance    = type;
  score->gamma       = gamma;
  score->cls         = y;
  score->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreGetGuidance(SgmScore score, SgmGuidanceType *type, PetscReal *gamma, PetscInt *y)
{
  PetscFunctionBegin;
  if (type) *type = score->guidance;
  if (gamma) *gamma = score->gamma;
  if (y) *y = score->cls;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The conditional score s(x,t|y) for classifier-free guidance, e.g. a second model; it is diffused
   by this score's SDE. */
PetscErrorCode SgmScoreSetConditionalScore(SgmScore score, SgmScore cond)
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(score, SGM_SCORE_CLASSID, 1);
  PetscValidHeaderSpecific(cond, SGM_SCORE_CLASSID, 2);
  PetscCheck(cond != score, PetscObjectComm((PetscObject)score), PETSC_ERR_ARG_WRONG, "A score cannot be its own conditional score");
  PetscCall(PetscObjectReference((PetscObject)cond));
  PetscCall(SgmScoreDestroy(&score->cond));
  score->cond        = cond;
  score->condset     = PETSC_TRUE;
  score->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The conditional score built at set-up (NULL without guidance). */
PetscErrorCode SgmScoreGetConditionalScore(SgmScore score, SgmScore *cond)
{
  PetscFunctionBegin;
  *cond = score->cond;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A classifier: f(score, t, n, y, x, g, ctx) sets g = grad_x log p(y|x_t).  Without one the exact
   mixture value s(x,t|y) - s(x,t) is used. */
PetscErrorCode SgmScoreSetClassifierGradient(SgmScore score, SgmScoreClassGradFn f, void *ctx)
{
  PetscFunctionBegin;
  score->classgrad    = f;
  score->classgradctx = ctx;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreGuidanceSetFromOptions_Private(SgmScore score, PetscOptionItems *PetscOptionsObject)
{
  SgmGuidanceType type  = score->guidance;
  PetscReal       gamma = score->gamma;
  PetscInt        y     = score->cls;
  PetscBool       fg, fs, fy, fn, fmeas = PETSC_FALSE, match = PETSC_FALSE, norm = (PetscBool)!score->dpsfixed;
  MPI_Comm        comm  = PetscObjectComm((PetscObject)score);
  char            name[64];

  PetscFunctionBegin;
  /* a string, not PetscOptionsEnum, so that a misspelt kind is a one-sentence error */
  PetscCall(PetscOptionsString("-guidance", "Guidance (doc/guidance.md, doc/inverse.md): none, classifier (s + gamma grad log p(y|x_t)), cfg ((1-gamma) s + gamma s(.|y)) or dps (s - zeta_t grad ||y - A x0hat||^2, measurement from -inverse_file or -inverse_mask/-inverse_y)", "SgmScoreSetGuidance", SgmGuidanceTypes[type], name, sizeof(name), &fg));
  if (fg) {
    for (PetscInt i = 0; i <= SGM_GUIDANCE_DPS && !match; i++) {
      PetscCall(PetscStrcasecmp(name, SgmGuidanceTypes[i], &match));
      if (match) type = (SgmGuidanceType)i;
    }
    PetscCheck(match, comm, PETSC_ERR_USER_INPUT, "-guidance %s is not known: choose none, classifier, cfg or dps", name);
  }
  PetscCall(PetscOptionsReal("-guidance_scale", "Guidance scale gamma >= 0 (1: the class-conditional distribution; dps: zeta' of the step zeta_t)", "SgmScoreSetGuidance", gamma, &gamma, &fs));
  PetscCall(PetscOptionsInt("-class", "Class label y to guide towards (gmm: components with /labels == y)", "SgmScoreSetGuidance", y, &y, &fy));
  PetscCall(PetscOptionsBool("-dps_normalize", "dps: step zeta_t = gamma / ||y - A x0hat|| per sample (Chung et al. 2023); false: gamma / (2 sigma_y^2), the Gaussian likelihood of y at x0hat", "SgmScoreSetFromOptions", norm, &norm, &fn));
  if (type == SGM_GUIDANCE_DPS) { /* the posterior type's options: -inverse_file, -inverse_mask, -inverse_y, -inverse_sigma */
    if (!score->meas) PetscCall(PetscNew(&score->meas));
    PetscCall(SgmMeasurementSetFromOptions(PetscOptionsObject, score->meas, &fmeas));
  }
  if (!(fg || fs || fy || fn || fmeas)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(type != SGM_GUIDANCE_NONE || !(fs || fy), comm, PETSC_ERR_USER_INPUT, "%s has no effect without -guidance classifier, cfg or dps: add one (-guidance_scale 1 samples the class-conditional distribution)", fy ? "-class" : "-guidance_scale");
  PetscCheck(type == SGM_GUIDANCE_DPS || !fn, comm, PETSC_ERR_USER_INPUT, "-dps_normalize has no effect without -guidance dps: add it, or remove -dps_normalize");
  PetscCheck(type != SGM_GUIDANCE_DPS || !fy, comm, PETSC_ERR_USER_INPUT, "-class has no effect with -guidance dps, which guides towards the measurement of -inverse_file or -inverse_mask: remove -class");
  PetscCheck(!fy || y >= 0, comm, PETSC_ERR_USER_INPUT, "-class must be a non-negative class label; got %" PetscInt_FMT, y);
  PetscCall(SgmScoreSetGuidance(score, type, gamma, y));
  score->dpsfixed = (PetscBool)!norm;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The measurement built for the score's dimension, and the checks dps needs. */
static PetscErrorCode DPSSetUp(SgmScore score)
{
  MPI_Comm  comm = PetscObjectComm((PetscObject)score);
  PetscBool posterior;

  PetscFunctionBegin;
  PetscCall(PetscObjectTypeCompare((PetscObject)score, SGMSCOREPOSTERIOR, &posterior));
  PetscCheck(!posterior, comm, PETSC_ERR_USER_INPUT, "-guidance dps adds the measurement's likelihood to a prior score, and the posterior score already contains it: use -guidance dps with the prior's score type (e.g. -score_type gaussian or gmm), or the posterior score without guidance");
  PetscCheck(score->meas, comm, PETSC_ERR_USER_INPUT, "-guidance dps needs a measurement: give -inverse_file FILE.h5 (datasets /A [p,d], /y [p]) or -inverse_mask i_1,...,i_p with -inverse_y y_1,...,y_p");
  PetscCall(SgmMeasurementSetUp(comm, score->meas, score->dim, "the score"));
  PetscCheck(score->meas->A, comm, PETSC_ERR_USER_INPUT, "-guidance dps needs a measurement: give -inverse_file FILE.h5 (datasets /A [p,d], /y [p]) or -inverse_mask i_1,...,i_p with -inverse_y y_1,...,y_p");
  PetscCheck(!score->dpsfixed || score->meas->sigy > 0, comm, PETSC_ERR_USER_INPUT, "-guidance dps with -dps_normalize false needs the noise level of the measurement for its step gamma / (2 sigma_y^2): give -inverse_sigma sigma_y > 0");
  if (!score->condset) PetscCall(SgmScoreDestroy(&score->cond)); /* dps needs no second model */
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Build (or check) the conditional score: a caller's, the -cond_ options', or the type's. */
PetscErrorCode SgmScoreGuidanceSetUp_Private(SgmScore score)
{
  MPI_Comm    comm = PetscObjectComm((PetscObject)score);
  const char *prefix, *type = ((PetscObject)score)->type_name;
  char        cprefix[256];
  PetscBool   fromopts;

  PetscFunctionBegin;
  if (score->ops->apply != SgmScoreGuidanceApply_Private) score->applyu = score->ops->apply;
  if (score->guidance == SGM_GUIDANCE_NONE) {
    score->ops->apply = score->applyu;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (score->guidance == SGM_GUIDANCE_DPS) {
    PetscCall(DPSSetUp(score));
    score->ops->apply = SgmScoreGuidanceApply_Private;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (!score->condset) PetscCall(SgmScoreDestroy(&score->cond));
  if (!score->cond) {
    PetscCall(PetscObjectGetOptionsPrefix((PetscObject)score, &prefix));
    PetscCall(PetscSNPrintf(cprefix, sizeof(cprefix), "%scond_", prefix ? prefix : ""));
    PetscCall(PetscOptionsHasName(((PetscObject)score)->options, cprefix, "-score_type", &fromopts));
    if (fromopts) {
      PetscCall(SgmScoreCreate(comm, &score->cond));
      PetscCall(PetscObjectSetOptions((PetscObject)score->cond, ((PetscObject)score)->options));
      PetscCall(PetscObjectSetOptionsPrefix((PetscObject)score->cond, cprefix));
      PetscCall(SgmScoreSetSDE(score->cond, score->sde));
      PetscCall(SgmScoreSetFromOptions(score->cond));
      PetscCheck(score->cond->guidance == SGM_GUIDANCE_NONE, comm, PETSC_ERR_USER_INPUT, "The conditional score cannot itself be guided: remove -%sguidance", cprefix);
    } else {
      PetscCheck(score->ops->conditional, comm, PETSC_ERR_USER_INPUT, "-guidance %s needs a conditional score s(x,t|y): the %s score has no class labels, so give one with -cond_score_type TYPE and its options prefixed by -cond_ (e.g. -cond_gaussian_mean)", SgmGuidanceTypes[score->guidance], type);
      PetscCheck(score->cls >= 0, comm, PETSC_ERR_USER_INPUT, "-guidance %s with the %s score needs the class to guide towards: add -class y", SgmGuidanceTypes[score->guidance], type);
      PetscUseTypeMethod(score, conditional, score->cls, &score->cond);
    }
  }
  PetscCall(SgmScoreSetSDE(score->cond, score->sde)); /* diffused by the same SDE */
  PetscCall(SgmScoreSetUp(score->cond));
  PetscCheck(score->cond->dim == score->dim, comm, PETSC_ERR_ARG_SIZ, "The conditional score has dimension %" PetscInt_FMT " but the score has dimension %" PetscInt_FMT ": they must model the same space", score->cond->dim, score->dim);
  score->ops->apply = SgmScoreGuidanceApply_Private;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Scratch of n samples: d entries each (s_c, classifier gradient), 2d + p for dps (x0hat then J_s u,
   u, r). */
static PetscErrorCode GuidanceWork(SgmScore score, PetscInt n)
{
  const PetscInt per = score->guidance == SGM_GUIDANCE_DPS ? 2 * score->dim + score->meas->p : score->dim;

  PetscFunctionBegin;
  if (n * per > score->gworkn) {
    PetscCall(PetscFree(score->gwork));
    score->gworkn = n * per;
    PetscCall(PetscMalloc1(score->gworkn, &score->gwork));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  s += g, the DPS term of the n samples x at time t, given s = s(x,t) (Chung et al. 2023, Alg. 1).
  With x0hat = (x + sigma^2 s) / alpha, r = y - A x0hat and u = A^T r, the chain rule gives
      grad_x ||r||^2 = -(2/alpha) (I + sigma^2 J_s)^T u,   J_s = ds/dx.
  A conservative score is the gradient of log p_t, so J_s is its Hessian, symmetric, and the
  vector-Jacobian product J_s^T u is the Jacobian-vector product J_s u: one JVP per evaluation.
  g = -zeta_t grad_x ||r||^2 = (2 zeta_t / alpha) (u + sigma^2 J_s u).
*/
static PetscErrorCode DPSTerm(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, PetscScalar *s)
{
  const SgmMeasurement *ms = score->meas;
  const PetscInt        d = score->dim, p = ms->p;
  PetscScalar          *x0 = score->gwork, *u = x0 + n * d, *r = u + n * d, *Ju = x0;
  PetscReal             alpha, sigma, s2;

  PetscFunctionBegin;
  PetscCall(SgmSDEMarginal(score->sde, t, &alpha, &sigma));
  s2 = sigma * sigma;
  for (PetscInt i = 0; i < n * d; i++) x0[i] = (x[i] + s2 * s[i]) / alpha; /* Tweedie */
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt k = 0; k < p; k++) r[i * p + k] = ms->y[k];
  if (ms->mask) { /* rows of I: r = y - x0hat[mask], u = r scattered */
    PetscCall(PetscArrayzero(u, n * d));
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt k = 0; k < p; k++) {
        r[i * p + k] -= x0[i * d + ms->mask[k]];
        u[i * d + ms->mask[k]] = r[i * p + k];
      }
  } else { /* column-major views: X0 [d,n], R [p,n], U [d,n]; R = Y - A X0, U = A^T R */
    const PetscScalar *a;
    const PetscScalar  one = 1, zero = 0, mone = -1;
    PetscBLASInt       bd, bp, bn, lda;
    PetscInt           ld;
    PetscCall(PetscBLASIntCast(d, &bd));
    PetscCall(PetscBLASIntCast(p, &bp));
    PetscCall(PetscBLASIntCast(n, &bn));
    PetscCall(MatDenseGetLDA(ms->A, &ld));
    PetscCall(PetscBLASIntCast(ld, &lda));
    PetscCall(MatDenseGetArrayRead(ms->A, &a));
    PetscCallBLAS("BLASgemm", BLASgemm_("N", "N", &bp, &bn, &bd, &mone, a, &lda, x0, &bd, &one, r, &bp));
    PetscCallBLAS("BLASgemm", BLASgemm_("T", "N", &bd, &bn, &bp, &one, a, &lda, r, &bp, &zero, u, &bd));
    PetscCall(MatDenseRestoreArrayRead(ms->A, &a));
  }
  PetscCall(SgmScoreJacobianVectorUnguided_Private(score, t, n, x, u, Ju)); /* x0hat is no longer needed */
  for (PetscInt i = 0; i < n; i++) {
    PetscReal rn = 0, zeta, c;
    for (PetscInt k = 0; k < p; k++) rn += PetscRealPart(r[i * p + k] * r[i * p + k]);
    rn   = PetscSqrtReal(rn);
    zeta = score->dpsfixed ? score->gamma / (2 * ms->sigy * ms->sigy) : (rn > 0 ? score->gamma / rn : 0); /* r = 0: g = 0 */
    c    = 2 * zeta / alpha;
    for (PetscInt j = 0; j < d; j++) s[i * d + j] += c * (u[i * d + j] + s2 * Ju[i * d + j]);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* g = grad_x log p(y|x_t), given su = s(x,t): the classifier's, or exactly s(x,t|y) - s(x,t). */
static PetscErrorCode ClassifierGradient(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, const PetscScalar *su, PetscScalar *g)
{
  PetscFunctionBegin;
  if (score->classgrad) {
    PetscCall((*score->classgrad)(score, t, n, score->cls, x, g, score->classgradctx));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall((*score->cond->ops->apply)(score->cond, t, n, x, g));
  for (PetscInt i = 0; i < n * score->dim; i++) g[i] -= su[i];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* g = grad_x log p(y|x_t) of the n samples x at time t (guidance must be set up). */
PetscErrorCode SgmScoreClassifierGradient(SgmScore score, PetscReal t, PetscInt n, const PetscScalar x[], PetscScalar g[])
{
  PetscScalar *su = NULL;

  PetscFunctionBegin;
  PetscCall(SgmScoreSetUp(score));
  PetscCheck(score->classgrad || score->cond, PetscObjectComm((PetscObject)score), PETSC_ERR_ARG_WRONGSTATE, "No classifier: set one with SgmScoreSetClassifierGradient() or turn guidance on (-guidance classifier -class y)");
  if (!score->classgrad) {
    PetscCall(PetscMalloc1(n * score->dim, &su));
    PetscCall(SgmScoreApplyUnguided_Private(score, t, n, x, su));
  }
  PetscCall(ClassifierGradient(score, t, n, x, su, g));
  PetscCall(PetscFree(su));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreGuidanceApply_Private(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, PetscScalar *s)
{
  const PetscReal gamma = score->gamma;
  PetscScalar    *w;

  PetscFunctionBegin;
  PetscCall(GuidanceWork(score, n));
  w = score->gwork;
  PetscCall((*score->applyu)(score, t, n, x, s));
  if (score->guidance == SGM_GUIDANCE_DPS) {
    if (gamma > 0 && n > 0) PetscCall(DPSTerm(score, t, n, x, s)); /* gamma = 0: the unguided score, bit for bit */
  } else if (score->guidance == SGM_GUIDANCE_CFG) {
    PetscCall((*score->cond->ops->apply)(score->cond, t, n, x, w));
    /* exact at both ends: gamma = 0 gives s_u, gamma = 1 gives s_c, bit for bit */
    for (PetscInt i = 0; i < n * score->dim; i++) s[i] = (1 - gamma) * s[i] + gamma * w[i];
  } else {
    PetscCall(ClassifierGradient(score, t, n, x, s, w));
    for (PetscInt i = 0; i < n * score->dim; i++) s[i] += gamma * w[i];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A user classifier has no JVP, and the dps term contains J_s itself (its JVP would need third
   derivatives of log p_t): their guided scores are differentiated by central differences. */
static PetscBool GuidanceByDifferences(SgmScore score)
{
  return (PetscBool)(score->guidance == SGM_GUIDANCE_DPS || (score->classgrad && score->guidance == SGM_GUIDANCE_CLASSIFIER));
}

PetscErrorCode SgmScoreGuidanceJacobianVector_Private(SgmScore score, PetscReal t, PetscInt n, const PetscScalar x[], const PetscScalar v[], PetscScalar Jv[])
{
  const PetscReal gamma = score->gamma;
  PetscScalar    *w;

  PetscFunctionBegin;
  if (GuidanceByDifferences(score)) { /* no JVP of the guidance term: differentiate the guided score */
    PetscCall(SgmScoreJacobianVectorFD_Private(score, SgmScoreGuidanceApply_Private, t, n, x, v, Jv));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(GuidanceWork(score, n));
  w = score->gwork;
  PetscCall(SgmScoreJacobianVectorUnguided_Private(score, t, n, x, v, Jv));
  PetscCall(SgmScoreJacobianVector(score->cond, t, n, x, v, w));
  for (PetscInt i = 0; i < n * score->dim; i++) Jv[i] = (1 - gamma) * Jv[i] + gamma * w[i];
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreGuidanceDivergence_Private(SgmScore score, PetscReal t, PetscInt n, const PetscScalar x[], PetscReal div[])
{
  const PetscReal gamma = score->gamma;
  PetscReal      *dc;

  PetscFunctionBegin;
  if (GuidanceByDifferences(score)) { /* d JVPs of the guided score */
    const PetscInt d = score->dim;
    PetscScalar   *e, *Je;
    PetscCall(PetscCalloc2(n * d, &e, n * d, &Je));
    for (PetscInt i = 0; i < n; i++) div[i] = 0;
    for (PetscInt j = 0; j < d; j++) {
      for (PetscInt i = 0; i < n; i++) e[i * d + j] = 1;
      PetscCall(SgmScoreGuidanceJacobianVector_Private(score, t, n, x, e, Je));
      for (PetscInt i = 0; i < n; i++) {
        div[i] += PetscRealPart(Je[i * d + j]);
        e[i * d + j] = 0;
      }
    }
    PetscCall(PetscFree2(e, Je));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscMalloc1(n, &dc));
  PetscCall(SgmScoreDivergenceUnguided_Private(score, t, n, x, div));
  PetscCall(SgmScoreDivergence(score->cond, t, n, x, dc));
  for (PetscInt i = 0; i < n; i++) div[i] = (1 - gamma) * div[i] + gamma * dc[i];
  PetscCall(PetscFree(dc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A guided score is the gradient of a known density only at gamma = 0 (p_t) and gamma = 1 (p_t(.|y)). */
PetscErrorCode SgmScoreGuidanceLogDensity_Private(SgmScore score, PetscReal t, PetscInt n, const PetscScalar x[], PetscReal logp[])
{
  MPI_Comm comm = PetscObjectComm((PetscObject)score);

  PetscFunctionBegin;
  PetscCheck(score->guidance != SGM_GUIDANCE_DPS || score->gamma == 0, comm, PETSC_ERR_SUP, "A score with -guidance dps and -guidance_scale %g is the gradient of log p_t(x) minus a multiple of ||y - A x0hat||, whose normalising constant is not known: use the SDE prior (sgm nll without -nll_model_prior) or -guidance_scale 0", (double)score->gamma);
  PetscCheck(score->gamma == 0 || score->gamma == 1, comm, PETSC_ERR_SUP, "A guided score with -guidance_scale %g is not the gradient of a known log-density (only gamma = 0 and gamma = 1 are): use the SDE prior (sgm nll without -nll_model_prior) or gamma = 0 or 1", (double)score->gamma);
  PetscCheck(score->gamma == 0 || !score->classgrad || score->guidance == SGM_GUIDANCE_CFG, comm, PETSC_ERR_SUP, "The log-density of a score guided by a classifier is not known in closed form");
  if (score->gamma == 0) {
    PetscCheck(score->ops->logdensity, comm, PETSC_ERR_SUP, "Score type %s has no closed-form density", ((PetscObject)score)->type_name);
    PetscUseTypeMethod(score, logdensity, t, n, x, logp);
  } else PetscCall(SgmScoreLogDensity(score->cond, t, n, x, logp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Attributes guidance, guidance_scale, class, the inner NFE counts, and the conditional score's
   own attributes (and target) in the group /conditional; for dps instead its step rule, its cost
   and the measurement (the inverse_* attributes and /measurement, as the posterior type writes). */
PetscErrorCode SgmScoreGuidanceWriteAttributes_Private(SgmScore score, hid_t file)
{
  hid_t grp;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrString(file, "guidance", SgmGuidanceTypes[score->guidance]));
  if (score->guidance == SGM_GUIDANCE_NONE) PetscFunctionReturn(PETSC_SUCCESS);
  if (score->guidance == SGM_GUIDANCE_DPS) {
    PetscCall(SgmH5AttrReal(file, "guidance_scale", score->gamma));
    PetscCall(SgmH5AttrInt(file, "dps_normalize", score->dpsfixed ? 0 : 1));
    PetscCall(SgmH5AttrString(file, "dps_step", score->dpsfixed ? "zeta_t = guidance_scale / (2 inverse_sigma^2)" : "zeta_t = guidance_scale / ||y - A x0hat|| per sample"));
    PetscCall(SgmH5AttrInt(file, "guidance_evaluations_per_nfe", 1));            /* the model */
    PetscCall(SgmH5AttrInt(file, "guidance_jvps_per_nfe", score->gamma > 0 ? 1 : 0)); /* J_s u */
    PetscCall(SgmH5AttrString(file, "guidance_jvp", score->ops->jvp ? "analytic" : "central differences (2 evaluations)"));
    PetscCall(SgmMeasurementWriteAttributes(PetscObjectComm((PetscObject)score), score->meas, file));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SgmH5AttrReal(file, "guidance_scale", score->gamma));
  PetscCall(SgmH5AttrInt(file, "class", score->cls));
  PetscCall(SgmH5AttrString(file, "guidance_classifier", score->classgrad ? "user" : "exact: s(x,t|y) - s(x,t)"));
  PetscCall(SgmH5AttrInt(file, "guidance_evaluations_per_nfe", 2)); /* the unconditional and the conditional (or classifier) model */
  if (score->cond) {
    PetscCallHDF5(grp = H5Gcreate2(file, "conditional", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    PetscCall(SgmScoreWriteAttributes(score->cond, grp));
    PetscCallHDF5(H5Gclose(grp));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreGuidanceView_Private(SgmScore score, PetscViewer viewer)
{
  PetscFunctionBegin;
  if (score->guidance == SGM_GUIDANCE_NONE) PetscFunctionReturn(PETSC_SUCCESS);
  if (score->guidance == SGM_GUIDANCE_DPS) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "guidance dps, scale %g, step %s, %" PetscInt_FMT " %s, sigma_y %g\n", (double)score->gamma, score->dpsfixed ? "gamma / (2 sigma_y^2)" : "gamma / ||y - A x0hat||", score->meas ? score->meas->p : 0,
                                     score->meas && score->meas->mask ? "observed coordinates" : "linear measurements", score->meas ? (double)score->meas->sigy : 0.0));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscViewerASCIIPrintf(viewer, "guidance %s, scale %g, class %" PetscInt_FMT "%s\n", SgmGuidanceTypes[score->guidance], (double)score->gamma, score->cls, score->classgrad ? ", user classifier" : ""));
  if (score->cond) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "conditional score:\n"));
    PetscCall(PetscViewerASCIIPushTab(viewer));
    PetscCall(PetscObjectPrintClassNamePrefixType((PetscObject)score->cond, viewer));
    PetscCall(PetscViewerASCIIPushTab(viewer));
    PetscTryTypeMethod(score->cond, view, viewer);
    PetscCall(PetscViewerASCIIPopTab(viewer));
    PetscCall(PetscViewerASCIIPopTab(viewer));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreGuidanceDestroy_Private(SgmScore score)
{
  PetscFunctionBegin;
  PetscCall(SgmScoreDestroy(&score->cond));
  PetscCall(PetscFree(score->gwork));
  score->gworkn = 0;
  if (score->meas) PetscCall(SgmMeasurementClear(score->meas));
  PetscCall(PetscFree(score->meas));
  PetscFunctionReturn(PETSC_SUCCESS);
}
