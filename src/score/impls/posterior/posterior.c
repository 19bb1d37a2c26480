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
  dense Mat, the same on every rank.
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
  char       prior[PETSC_MAX_PATH_LEN];   /* -posterior_prior_file */
  char       invfile[PETSC_MAX_PATH_LEN]; /* -inverse_file, or empty with a mask */
  PetscInt   K, d, p;
  PetscReal *w, *m, *C; /* prior: weights [K], means [K,d], covariances [K,d,d] */
  Mat        A;       /* [p,d] MATSEQDENSE, identical on all ranks */
  PetscReal *y;       /* [p] */
  PetscInt  *mask;    /* [p] observed coordinates (mask form), or NULL */
  PetscReal  sigy;    /* -inverse_sigma */
} SgmScore_Posterior;

static PetscErrorCode PosteriorClear(SgmScore_Posterior *sp)
{
  PetscFunctionBegin;
  PetscCall(PetscFree3(sp->w, sp->m, sp->C));
  PetscCall(PetscFree(sp->y));
  PetscCall(PetscFree(sp->mask));
  PetscCall(MatDestroy(&sp->A));
  sp->K = sp->d = sp->p = 0;
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

/* A [p,d] and y [p] from -inverse_file. */
static PetscErrorCode LoadMeasurementFile(SgmScore score)
{
  SgmScore_Posterior *sp   = (SgmScore_Posterior *)score->data;
  MPI_Comm            comm = PetscObjectComm((PetscObject)score);
  PetscInt            da[2], dy[1], d = sp->d;
  PetscReal          *a, *y, *ac;

  PetscFunctionBegin;
  PetscCall(SgmH5ReadReal(comm, sp->invfile, "/A", 2, da, &a));
  PetscCall(SgmH5ReadReal(comm, sp->invfile, "/y", 1, dy, &y));
  PetscCheck(da[1] == d, comm, PETSC_ERR_ARG_SIZ, "In '%s', /A has %" PetscInt_FMT " columns but the prior '%s' has dimension %" PetscInt_FMT ": A must be [p,%" PetscInt_FMT "]", sp->invfile, da[1], sp->prior, d, d);
  PetscCheck(dy[0] == da[0], comm, PETSC_ERR_ARG_SIZ, "In '%s', /y has %" PetscInt_FMT " entries but /A has %" PetscInt_FMT " rows: give one measurement per row of A", sp->invfile, dy[0], da[0]);
  sp->p = da[0];
  PetscCall(MatCreateSeqDense(PETSC_COMM_SELF, sp->p, d, NULL, &sp->A));
  PetscCall(MatDenseGetArrayWrite(sp->A, &ac)); /* column-major, leading dimension p */
  for (PetscInt i = 0; i < sp->p; i++)
    for (PetscInt j = 0; j < d; j++) ac[i + j * sp->p] = a[i * d + j];
  PetscCall(MatDenseRestoreArrayWrite(sp->A, &ac));
  PetscCall(MatAssemblyBegin(sp->A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(sp->A, MAT_FINAL_ASSEMBLY));
  PetscCall(PetscMalloc1(sp->p, &sp->y));
  PetscCall(PetscArraycpy(sp->y, y, sp->p));
  PetscCall(PetscFree(a));
  PetscCall(PetscFree(y));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A = rows mask of I. */
static PetscErrorCode MaskMatrix(SgmScore score)
{
  SgmScore_Posterior *sp   = (SgmScore_Posterior *)score->data;
  MPI_Comm            comm = PetscObjectComm((PetscObject)score);

  PetscFunctionBegin;
  for (PetscInt i = 0; i < sp->p; i++) {
    PetscCheck(sp->mask[i] >= 0 && sp->mask[i] < sp->d, comm, PETSC_ERR_USER_INPUT, "-inverse_mask entry %" PetscInt_FMT " is %" PetscInt_FMT "; observed coordinates must lie in 0..%" PetscInt_FMT, i, sp->mask[i], sp->d - 1);
    for (PetscInt j = 0; j < i; j++) PetscCheck(sp->mask[j] != sp->mask[i], comm, PETSC_ERR_USER_INPUT, "-inverse_mask lists coordinate %" PetscInt_FMT " twice: give each observed coordinate once", sp->mask[i]);
  }
  PetscCall(MatCreateSeqDense(PETSC_COMM_SELF, sp->p, sp->d, NULL, &sp->A));
  PetscCall(MatZeroEntries(sp->A));
  for (PetscInt i = 0; i < sp->p; i++) PetscCall(MatSetValue(sp->A, i, sp->mask[i], 1.0, INSERT_VALUES));
  PetscCall(MatAssemblyBegin(sp->A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(sp->A, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreSetFromOptions_Posterior(SgmScore score, PetscOptionItems *PetscOptionsObject)
{
  SgmScore_Posterior *sp   = (SgmScore_Posterior *)score->data;
  MPI_Comm            comm = PetscObjectComm((PetscObject)score);
  PetscInt            nmax, nm, ny;
  PetscInt           *mask;
  PetscReal          *y;
  PetscBool           fprior, ffile, fmask, fy, fs;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Posterior score options (y = A x + n, Gaussian prior; doc/inverse.md)");
  PetscCall(PetscOptionsString("-posterior_prior_file", "HDF5 file of the prior: Gaussian (/mean [d], /covariance [d,d]) or mixture (/weights [K], /means [K,d], /covariances [K,d,d])", "SgmScoreSetFromOptions", sp->prior, sp->prior, sizeof(sp->prior), &fprior));
  PetscCall(PetscOptionsString("-inverse_file", "HDF5 file of the measurement: /A [p,d], /y [p]", "SgmScoreSetFromOptions", sp->invfile, sp->invfile, sizeof(sp->invfile), &ffile));
  PetscCall(PetscOptionsReal("-inverse_sigma", "Standard deviation sigma_y > 0 of the measurement noise", "SgmScoreSetFromOptions", sp->sigy, &sp->sigy, &fs));
  if (fprior) PetscCall(LoadPrior(score));
  nmax = PetscMax(sp->d, 1) + 1; /* one more than allowed, so that too many entries are detected */
  nm = ny = nmax;
  PetscCall(PetscCalloc2(nmax, &mask, nmax, &y));
  PetscCall(PetscOptionsIntArray("-inverse_mask", "Observed coordinates i_1,...,i_p (A = those rows of the identity)", "SgmScoreSetFromOptions", mask, &nm, &fmask));
  PetscCall(PetscOptionsRealArray("-inverse_y", "Measured values y_1,...,y_p of the coordinates in -inverse_mask", "SgmScoreSetFromOptions", y, &ny, &fy));
  PetscOptionsHeadEnd();
  PetscCheck(!(ffile && (fmask || fy)), comm, PETSC_ERR_USER_INPUT, "Give either -inverse_file or -inverse_mask with -inverse_y, not both");
  PetscCheck(!fy || fmask, comm, PETSC_ERR_USER_INPUT, "-inverse_y needs -inverse_mask i_1,...,i_p: the coordinates the values belong to");
  PetscCheck(!fs || (sp->sigy > 0 && PetscIsNormalReal(sp->sigy)), comm, PETSC_ERR_USER_INPUT, "-inverse_sigma must be a finite number > 0 (the noise std of the measurement); got %g", (double)sp->sigy);
  if (sp->d == 0) { /* no prior (also when sgm probes the options of every type): set-up says so */
    PetscCall(PetscFree2(mask, y));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (fprior || ffile || fmask) PetscCall(MatDestroy(&sp->A));
  if (ffile) PetscCall(LoadMeasurementFile(score));
  if (fmask) {
    PetscCheck(fy, comm, PETSC_ERR_USER_INPUT, "-inverse_mask needs the measured values: add -inverse_y y_1,...,y_p");
    PetscCheck(nm <= sp->d && nm > 0, comm, PETSC_ERR_USER_INPUT, "-inverse_mask has %" PetscInt_FMT " entries; give between 1 and d = %" PetscInt_FMT " observed coordinates", nm, sp->d);
    PetscCheck(ny == nm, comm, PETSC_ERR_ARG_SIZ, "-inverse_y has %" PetscInt_FMT " values but -inverse_mask has %" PetscInt_FMT " coordinates: give one value per observed coordinate", ny, nm);
    PetscCall(PetscFree(sp->y));
    PetscCall(PetscFree(sp->mask));
    sp->p = nm;
    PetscCall(PetscMalloc1(nm, &sp->mask));
    PetscCall(PetscMalloc1(nm, &sp->y));
    PetscCall(PetscArraycpy(sp->mask, mask, nm));
    PetscCall(PetscArraycpy(sp->y, y, nm));
    PetscCall(MaskMatrix(score));
  }
  PetscCall(PetscFree2(mask, y));
  if (fprior || ffile || fmask || fs) score->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* m_post, C_post by the Woodbury form (see the top of the file); all arrays row-major except the
   LAPACK work arrays, which are column-major (C and C_post are symmetric, so both orders agree). */
static PetscErrorCode ComputePosterior(SgmScore score, PetscInt k, PetscReal *mpost, PetscReal *Cpost, PetscReal *logev)
{
  SgmScore_Posterior *sp   = (SgmScore_Posterior *)score->data;
  MPI_Comm            comm = PetscObjectComm((PetscObject)score);
  const PetscInt      d = sp->d, p = sp->p;
  const PetscScalar  *a;
  PetscScalar        *AC, *S, *r;
  PetscBLASInt        bd, bp, lda, one = 1, info;
  PetscInt            ld;
  const PetscScalar   s1 = 1, s0 = 0, sm1 = -1;

  PetscFunctionBegin;
  PetscCall(PetscBLASIntCast(d, &bd));
  PetscCall(PetscBLASIntCast(p, &bp));
  PetscCall(MatDenseGetLDA(sp->A, &ld));
  PetscCall(PetscBLASIntCast(ld, &lda));
  PetscCall(MatDenseGetArrayRead(sp->A, &a));
  PetscCall(PetscMalloc3(p * d, &AC, p * p, &S, p, &r));
  /* AC = A C [p,d];  S = AC A^T + sigma_y^2 I [p,p] */
  const PetscReal *Ck = sp->C + k * d * d, *mk = sp->m + k * d;
  PetscCallBLAS("BLASgemm", BLASgemm_("N", "N", &bp, &bd, &bd, &s1, a, &lda, Ck, &bd, &s0, AC, &bp));
  PetscCallBLAS("BLASgemm", BLASgemm_("N", "T", &bp, &bp, &bd, &s1, AC, &bp, a, &lda, &s0, S, &bp));
  for (PetscInt i = 0; i < p; i++) S[i + i * p] += sp->sigy * sp->sigy;
  /* r = y - A m */
  for (PetscInt i = 0; i < p; i++) {
    PetscReal v = sp->y[i];
    for (PetscInt j = 0; j < d; j++) v -= PetscRealPart(a[i + j * ld]) * mk[j];
    r[i] = v;
  }
  PetscCall(MatDenseRestoreArrayRead(sp->A, &a));
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
  PetscCheck(sp->A, comm, PETSC_ERR_USER_INPUT, "The posterior score has no measurement: give -inverse_file FILE.h5 (datasets /A [p,d], /y [p]) or -inverse_mask i_1,...,i_p with -inverse_y y_1,...,y_p");
  PetscCheck(sp->sigy > 0, comm, PETSC_ERR_USER_INPUT, "The posterior score needs the noise level of the measurement: give -inverse_sigma sigma_y > 0");
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
  hsize_t             dd[2] = {(hsize_t)sp->d, (hsize_t)sp->d}, da[2] = {(hsize_t)sp->p, (hsize_t)sp->d}, dp[1] = {(hsize_t)sp->p};
  const PetscScalar  *a;
  PetscReal          *ar;
  PetscInt            ld;

  PetscFunctionBegin;
  PetscCall((*sp->mixattributes)(score, file));
  PetscCall(SgmH5AttrString(file, "posterior_prior_file", sp->prior));
  PetscCall(SgmH5AttrString(file, "inverse_file", sp->invfile));
  PetscCall(SgmH5AttrString(file, "inverse_operator", sp->mask ? "mask" : "matrix"));
  PetscCall(SgmH5AttrInt(file, "inverse_observations", sp->p));
  PetscCall(SgmH5AttrReal(file, "inverse_sigma", sp->sigy));
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
  PetscCall(PetscMalloc1(sp->p * sp->d, &ar));
  PetscCall(MatDenseGetLDA(sp->A, &ld));
  PetscCall(MatDenseGetArrayRead(sp->A, &a));
  for (PetscInt i = 0; i < sp->p; i++)
    for (PetscInt j = 0; j < sp->d; j++) ar[i * sp->d + j] = PetscRealPart(a[i + j * ld]);
  PetscCall(MatDenseRestoreArrayRead(sp->A, &a));
  PetscCallHDF5(grp = H5Gcreate2(file, "measurement", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(SgmH5AttrString(grp, "model", "y = A x + n, n ~ N(0, sigma_y^2 I)"));
  PetscCall(SgmH5AttrReal(grp, "sigma_y", sp->sigy));
  PetscCall(SgmH5WriteSmall(comm, grp, "A", 2, da, ar));
  PetscCall(SgmH5WriteSmall(comm, grp, "y", 1, dp, sp->y));
  if (sp->mask) {
    for (PetscInt i = 0; i < sp->p; i++) ar[i] = (PetscReal)sp->mask[i];
    PetscCall(SgmH5WriteSmall(comm, grp, "mask", 1, dp, ar));
  }
  PetscCallHDF5(H5Gclose(grp));
  PetscCall(PetscFree(ar));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreView_Posterior(SgmScore score, PetscViewer viewer)
{
  SgmScore_Posterior *sp = (SgmScore_Posterior *)score->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "posterior of the prior %s given %" PetscInt_FMT " %s, sigma_y %g\n", sp->prior, sp->p, sp->mask ? "observed coordinates" : "linear measurements", (double)sp->sigy));
  PetscCall((*sp->mixview)(score, viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreDestroy_Posterior(SgmScore score)
{
  SgmScore_Posterior *sp = (SgmScore_Posterior *)score->data;

  PetscFunctionBegin;
  PetscCall(PosteriorClear(sp));
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
