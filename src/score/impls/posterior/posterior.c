/*
  Exact posterior of a Gaussian prior under a linear measurement (doc/inverse.md):
      x ~ N(m, C),   y = A x + n,   n ~ N(0, sigma_y^2 I),
      p(x | y) = N(m_post, C_post),
      C_post = (C^-1 + A^T A / sigma_y^2)^-1 = C - C A^T S^-1 A C,   S = A C A^T + sigma_y^2 I,
      m_post = C_post (C^-1 m + A^T y / sigma_y^2) = m + C A^T S^-1 (y - A m).
  The Woodbury form needs only the Cholesky factor of the p x p matrix S = L L^T:
      W = L^-1 A C,   C_post = C - W^T W,   m_post = m + W^T L^-1 (y - A m).
  p(x_t | y) = int q(x_t | x_0) p(x_0 | y) dx_0 is the posterior diffused by the forward SDE, so the
  posterior served as a K = 1 mixture (mixturescore.c) gives the exact score of p(x_t | y) at every t,
  with its log-density, Jacobian-vector products and divergence.

  A Gaussian-mixture prior sum_k w_k N(m_k, C_k) gives the mixture posterior
      p(x | y) = sum_k w'_k N(m_post,k, C_post,k),   w'_k proportional to w_k N(y; A m_k, S_k),
  each component updated as above; log N(y; A m_k, S_k) = -|L^-1 r|^2/2 - sum log L_ii - p/2 log 2 pi.

  Prior: -posterior_prior_file (HDF5 /mean [d], /covariance [d,d], as the gaussian type, or the gmm
  layout /weights [K], /means [K,d], /covariances [K,d,d]).
  Measurement: -inverse_file (HDF5 /A [p,d], /y [p]) or -inverse_mask i_1,...,i_p with
  -inverse_y y_1,...,y_p (A = those rows of I); -inverse_sigma sigma_y > 0.  A is a sequential
  dense Mat, the same on every rank.  The measurement is read by measurement.c, shared with the dps
  guidance (guidance.c).
*/
#include <sgm/private/mixtureimpl.h>
#include <sgmio.h>
#include <petscmat.h>
#include <petscblaslapack.h>

typedef struct {
  SgmScore_Mixture mix; /* first member: the posterior N(m_post, C_post), served by mixturescore.c */
  PetscErrorCode (*mixsetup)(SgmScore);
  PetscErrorCode (*mixdestroy)(SgmScore);
  PetscErrorCode (*mixattributes)(SgmScore, hid_t);
  PetscErrorCode (*mixview)(SgmScore, PetscViewer);
  char           prior[PETSC_MAX_PATH_LEN]; /* -posterior_prior_file */
  PetscInt       K, d;
  PetscReal     *w, *m, *C; /* prior: weights [K], means [K,d], covariances [K,d,d] */
  SgmMeasurement meas;      /* A, y, sigma_y (measurement.c) */
} SgmScore_Posterior;

static PetscErrorCode PosteriorClear(SgmScore_Posterior *sp)
{
  PetscFunctionBegin;
  PetscCall(PetscFree3(sp->w, sp->m, sp->C));
  sp->K = sp->d = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode LoadPrior(SgmScore score)
{
  SgmScore_Posterior *sp   = (SgmScore_Posterior *)score->data;
  MPI_Comm            comm = PetscObjectComm((PetscObject)score);
  PetscInt            dw[1] = {1}, dm[2], dc[3];
  PetscReal          *w = NULL, *m, *C;
  hid_t               f;
  PetscBool           gmm;

  PetscFunctionBegin;
  PetscCall(SgmH5OpenParallel(comm, sp->prior, &f));
  gmm = (PetscBool)(H5Lexists(f, "weights", H5P_DEFAULT) > 0);
  PetscCallHDF5(H5Fclose(f));
  if (gmm) { /* mixture prior, the gmm layout */
    PetscCall(SgmH5ReadReal(comm, sp->prior, "/weights", 1, dw, &w));
    PetscCall(SgmH5ReadReal(comm, sp->prior, "/means", 2, dm, &m));
    PetscCall(SgmH5ReadReal(comm, sp->prior, "/covariances", 3, dc, &C));
    PetscCheck(dm[0] == dw[0] && dc[0] == dw[0] && dc[1] == dm[1] && dc[2] == dm[1], comm, PETSC_ERR_ARG_SIZ, "In '%s', /weights, /means and /covariances have inconsistent shapes ([%" PetscInt_FMT "], [%" PetscInt_FMT ",%" PetscInt_FMT "], [%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT "])", sp->prior, dw[0], dm[0], dm[1], dc[0], dc[1], dc[2]);
    for (PetscInt k = 0; k < dw[0]; k++) PetscCheck(w[k] > 0, comm, PETSC_ERR_USER_INPUT, "In '%s', weight %" PetscInt_FMT " is %g; weights must be positive", sp->prior, k, (double)w[k]);
  } else {
    PetscCall(SgmH5ReadReal(comm, sp->prior, "/mean", 1, dm, &m));
    PetscCall(SgmH5ReadReal(comm, sp->prior, "/covariance", 2, dc, &C));
    PetscCheck(dc[0] == dm[0] && dc[1] == dm[0], comm, PETSC_ERR_ARG_SIZ, "In '%s', /covariance has shape [%" PetscInt_FMT ",%" PetscInt_FMT "] but /mean has length %" PetscInt_FMT ": expected [%" PetscInt_FMT ",%" PetscInt_FMT "]", sp->prior, dc[0], dc[1], dm[0], dm[0], dm[0]);
    dm[1] = dm[0];
  }
  PetscCall(PosteriorClear(sp));
  sp->K = dw[0];
  sp->d = dm[1];
  PetscCall(PetscMalloc3(sp->K, &sp->w, sp->K * sp->d, &sp->m, sp->K * sp->d * sp->d, &sp->C));
  for (PetscInt k = 0; k < sp->K; k++) sp->w[k] = w ? w[k] : 1;
  PetscCall(PetscArraycpy(sp->m, m, sp->K * sp->d));
  PetscCall(PetscArraycpy(sp->C, C, sp->K * sp->d * sp->d));
  PetscCall(PetscFree(w));
  PetscCall(PetscFree(m));
  PetscCall(PetscFree(C));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreSetFromOptions_Posterior(SgmScore score, PetscOptionItems *PetscOptionsObject)
{
  SgmScore_Posterior *sp   = (SgmScore_Posterior *)score->data;
  MPI_Comm            comm = PetscObjectComm((PetscObject)score);
  char                what[PETSC_MAX_PATH_LEN + 16];
  PetscBool           fprior, fmeas;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Posterior score options (y = A x + n, Gaussian prior; doc/inverse.md)");
  PetscCall(PetscOptionsString("-posterior_prior_file", "HDF5 file of the prior: Gaussian (/mean [d], /covariance [d,d]) or mixture (/weights [K], /means [K,d], /covariances [K,d,d])", "SgmScoreSetFromOptions", sp->prior, sp->prior, sizeof(sp->prior), &fprior));
  if (fprior) PetscCall(LoadPrior(score));
  PetscCall(SgmMeasurementSetFromOptions(PetscOptionsObject, &sp->meas, &fmeas));
  PetscOptionsHeadEnd();
  if (sp->d == 0) PetscFunctionReturn(PETSC_SUCCESS); /* no prior (also when sgm probes the options of every type): set-up says so */
  if (fprior || fmeas) { /* built now, so that a bad measurement is reported with the options */
    PetscCall(PetscSNPrintf(what, sizeof(what), "the prior '%s'", sp->prior));
    PetscCall(SgmMeasurementSetUp(comm, &sp->meas, sp->d, what));
    score->setupcalled = PETSC_FALSE;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* m_post, C_post by the Woodbury form (see the top of the file); all arrays row-major except the
   LAPACK work arrays, which are column-major (C and C_post are symmetric, so both orders agree). */
static PetscErrorCode ComputePosterior(SgmScore score, PetscInt k, PetscReal *mpost, PetscReal *Cpost, PetscReal *logev)
{
  SgmScore_Posterior *sp   = (SgmScore_Posterior *)score->data;
  MPI_Comm            comm = PetscObjectComm((PetscObject)score);
  const PetscInt      d = sp->d, p = sp->meas.p;
  const PetscScalar  *a;
  PetscScalar        *AC, *S, *r;
  PetscBLASInt        bd, bp, lda, one = 1, info;
  PetscInt            ld;
  const PetscScalar   s1 = 1, s0 = 0, sm1 = -1;

  PetscFunctionBegin;
  PetscCall(PetscBLASIntCast(d, &bd));
  PetscCall(PetscBLASIntCast(p, &bp));
  PetscCall(MatDenseGetLDA(sp->meas.A, &ld));
  PetscCall(PetscBLASIntCast(ld, &lda));
  PetscCall(MatDenseGetArrayRead(sp->meas.A, &a));
  PetscCall(PetscMalloc3(p * d, &AC, p * p, &S, p, &r));
  /* AC = A C [p,d];  S = AC A^T + sigma_y^2 I [p,p] */
  const PetscReal *Ck = sp->C + k * d * d, *mk = sp->m + k * d;
  PetscCallBLAS("BLASgemm", BLASgemm_("N", "N", &bp, &bd, &bd, &s1, a, &lda, Ck, &bd, &s0, AC, &bp));
  PetscCallBLAS("BLASgemm", BLASgemm_("N", "T", &bp, &bp, &bd, &s1, AC, &bp, a, &lda, &s0, S, &bp));
  for (PetscInt i = 0; i < p; i++) S[i + i * p] += sp->meas.sigy * sp->meas.sigy;
  /* r = y - A m */
  for (PetscInt i = 0; i < p; i++) {
    PetscReal v = sp->meas.y[i];
    for (PetscInt j = 0; j < d; j++) v -= PetscRealPart(a[i + j * ld]) * mk[j];
    r[i] = v;
  }
  PetscCall(MatDenseRestoreArrayRead(sp->meas.A, &a));
  PetscCallBLAS("LAPACKpotrf", LAPACKpotrf_("L", &bp, S, &bp, &info));
  PetscCheck(info == 0, comm, PETSC_ERR_USER_INPUT, "A C A^T + sigma_y^2 I is not positive definite (LAPACK potrf info %d): check /A and -inverse_sigma", (int)info);
  /* W = L^-1 AC (in place), z = L^-1 r */
  PetscCallBLAS("LAPACKtrtrs", LAPACKtrtrs_("L", "N", "N", &bp, &bd, S, &bp, AC, &bp, &info));
  PetscCheck(info == 0, comm, PETSC_ERR_LIB, "Triangular solve failed (LAPACK trtrs info %d)", (int)info);
  PetscCallBLAS("LAPACKtrtrs", LAPACKtrtrs_("L", "N", "N", &bp, &one, S, &bp, r, &bp, &info));
  PetscCheck(info == 0, comm, PETSC_ERR_LIB, "Triangular solve failed (LAPACK trtrs info %d)", (int)info);
  /* log N(y; A m_k, S) = -|z|^2/2 - sum log L_ii - p/2 log 2 pi, z = L^-1 r */
  *logev = -0.5 * p * PetscLogReal(2 * PETSC_PI);
  for (PetscInt i = 0; i < p; i++) *logev -= 0.5 * PetscSqr(PetscRealPart(r[i])) + PetscLogReal(PetscRealPart(S[i + i * p]));
  /* C_post = C - W^T W, symmetrised;  m_post = m + W^T z */
  PetscCall(PetscArraycpy(Cpost, Ck, d * d));
  PetscCallBLAS("BLASgemm", BLASgemm_("T", "N", &bd, &bd, &bp, &sm1, AC, &bp, AC, &bp, &s1, Cpost, &bd));
  for (PetscInt i = 0; i < d; i++)
    for (PetscInt j = 0; j < i; j++) Cpost[i * d + j] = Cpost[j * d + i] = 0.5 * (Cpost[i * d + j] + Cpost[j * d + i]);
  for (PetscInt j = 0; j < d; j++) {
    PetscReal v = mk[j];
    for (PetscInt i = 0; i < p; i++) v += PetscRealPart(AC[i + j * p]) * PetscRealPart(r[i]);
    mpost[j] = v;
  }
  PetscCall(PetscFree3(AC, S, r));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreSetUp_Posterior(SgmScore score)
{
  SgmScore_Posterior *sp   = (SgmScore_Posterior *)score->data;
  MPI_Comm            comm = PetscObjectComm((PetscObject)score);
  PetscReal          *w, *mpost, *Cpost, lmax = PETSC_MIN_REAL, sum = 0;
  const PetscInt      K = sp->K, d = sp->d;

  PetscFunctionBegin;
  PetscCheck(sp->d > 0, comm, PETSC_ERR_USER_INPUT, "The posterior score has no prior: give -posterior_prior_file FILE.h5 (datasets /mean [d], /covariance [d,d], or /weights, /means, /covariances)");
  PetscCheck(sp->meas.A, comm, PETSC_ERR_USER_INPUT, "The posterior score has no measurement: give -inverse_file FILE.h5 (datasets /A [p,d], /y [p]) or -inverse_mask i_1,...,i_p with -inverse_y y_1,...,y_p");
  PetscCheck(sp->meas.sigy > 0, comm, PETSC_ERR_USER_INPUT, "The posterior score needs the noise level of the measurement: give -inverse_sigma sigma_y > 0");
  PetscCall(PetscMalloc3(K, &w, K * d, &mpost, K * d * d, &Cpost));
  for (PetscInt k = 0; k < K; k++) { /* w'_k = w_k N(y; A m_k, S_k), normalised by log-sum-exp */
    PetscCall(ComputePosterior(score, k, mpost + k * d, Cpost + k * d * d, &w[k]));
    w[k] += PetscLogReal(sp->w[k]);
    lmax = PetscMax(lmax, w[k]);
  }
  for (PetscInt k = 0; k < K; k++) sum += (w[k] = PetscExpReal(w[k] - lmax));
  for (PetscInt k = 0; k < K; k++) w[k] = PetscMax(w[k] / sum, 1e-300); /* a component the data rule out still has a (tiny) positive weight */
  PetscCall(SgmScoreMixtureSetComponents(score, K, d, w, mpost, Cpost));
  PetscCall(PetscSNPrintf(sp->mix.file, sizeof(sp->mix.file), "posterior of %s", sp->prior)); /* score_file, and messages */
  PetscCall(PetscFree3(w, mpost, Cpost));
  PetscCall((*sp->mixsetup)(score)); /* checks C_post symmetric positive definite, eigendecomposes it */
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* /target is the posterior (mixturescore.c); the prior in /prior, the measurement in /measurement. */
static PetscErrorCode SgmScoreAttributes_Posterior(SgmScore score, hid_t file)
{
  SgmScore_Posterior *sp   = (SgmScore_Posterior *)score->data;
  MPI_Comm            comm = PetscObjectComm((PetscObject)score);
  hid_t               grp;
  hsize_t             dd[2] = {(hsize_t)sp->d, (hsize_t)sp->d};

  PetscFunctionBegin;
  PetscCall((*sp->mixattributes)(score, file));
  PetscCall(SgmH5AttrString(file, "posterior_prior_file", sp->prior));
  PetscCall(SgmMeasurementWriteAttributes(comm, &sp->meas, file)); /* inverse_* attributes and /measurement */
  PetscCallHDF5(grp = H5Gcreate2(file, "prior", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (sp->K == 1) {
    PetscCall(SgmH5AttrString(grp, "kind", "gaussian"));
    PetscCall(SgmH5WriteSmall(comm, grp, "mean", 1, dd, sp->m));
    PetscCall(SgmH5WriteSmall(comm, grp, "covariance", 2, dd, sp->C));
  } else {
    hsize_t dk[1] = {(hsize_t)sp->K}, dkm[2] = {(hsize_t)sp->K, (hsize_t)sp->d}, dkc[3] = {(hsize_t)sp->K, (hsize_t)sp->d, (hsize_t)sp->d};
    PetscCall(SgmH5AttrString(grp, "kind", "gaussian_mixture"));
    PetscCall(SgmH5WriteSmall(comm, grp, "weights", 1, dk, sp->w));
    PetscCall(SgmH5WriteSmall(comm, grp, "means", 2, dkm, sp->m));
    PetscCall(SgmH5WriteSmall(comm, grp, "covariances", 3, dkc, sp->C));
  }
  PetscCallHDF5(H5Gclose(grp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreView_Posterior(SgmScore score, PetscViewer viewer)
{
  SgmScore_Posterior *sp = (SgmScore_Posterior *)score->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "posterior of the prior %s given %" PetscInt_FMT " %s, sigma_y %g\n", sp->prior, sp->meas.p, sp->meas.mask ? "observed coordinates" : "linear measurements", (double)sp->meas.sigy));
  PetscCall((*sp->mixview)(score, viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreDestroy_Posterior(SgmScore score)
{
  SgmScore_Posterior *sp = (SgmScore_Posterior *)score->data;

  PetscFunctionBegin;
  PetscCall(PosteriorClear(sp));
  PetscCall(SgmMeasurementClear(&sp->meas));
  PetscCall((*sp->mixdestroy)(score)); /* frees score->data, i.e. sp */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmScoreCreate_Posterior(SgmScore score)
{
  SgmScore_Posterior *sp;

  PetscFunctionBegin;
  PetscCall(SgmScoreCreate_Mixture(score));
  PetscCall(PetscNew(&sp));
  sp->mix = *(SgmScore_Mixture *)score->data; /* the mixture's data becomes the first member */
  PetscCall(PetscFree(score->data));
  score->data       = sp;
  sp->mixsetup      = score->ops->setup;
  sp->mixdestroy    = score->ops->destroy;
  sp->mixattributes = score->ops->attributes;
  sp->mixview       = score->ops->view;
  sp->mix.hint      = "give -posterior_prior_file, a measurement and -inverse_sigma";
  score->ops->setfromoptions = SgmScoreSetFromOptions_Posterior;
  score->ops->setup          = SgmScoreSetUp_Posterior;
  score->ops->attributes     = SgmScoreAttributes_Posterior;
  score->ops->view           = SgmScoreView_Posterior;
  score->ops->destroy        = SgmScoreDestroy_Posterior;
  PetscFunctionReturn(PETSC_SUCCESS);
}
