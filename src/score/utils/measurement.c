/*
  The linear measurement of an inverse problem (doc/inverse.md), y = A x + n, n ~ N(0, sigma_y^2 I),
  shared by the posterior score type and the dps guidance:
      -inverse_file F.h5 (/A [p,d], /y [p])   or   -inverse_mask i_1,...,i_p -inverse_y y_1,...,y_p
  (A = those rows of I), and -inverse_sigma sigma_y.  The options are read before the dimension d
  is known (a guided score learns it at set-up); SgmMeasurementSetUp() then checks them against d
  and builds A, a sequential dense Mat that is the same on every rank.
*/
#include <sgm/private/scoreimpl.h>
#include <sgmio.h>

/* Free the measurement built by SgmMeasurementSetUp() (the options are kept). */
static PetscErrorCode MeasurementClearBuilt(SgmMeasurement *ms)
{
  PetscFunctionBegin;
  PetscCall(MatDestroy(&ms->A));
  PetscCall(PetscFree(ms->y));
  PetscCall(PetscFree(ms->mask));
  ms->p = ms->d = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmMeasurementClear(SgmMeasurement *ms)
{
  PetscFunctionBegin;
  PetscCall(MeasurementClearBuilt(ms));
  PetscCall(PetscFree(ms->optmask));
  PetscCall(PetscFree(ms->opty));
  ms->noptmask = ms->nopty = 0;
  ms->file[0]              = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The number of entries given to an array option: PETSc reads at most as many as the array holds
   (and drops the rest silently), so read into ever larger arrays until one is not filled. */
static PetscErrorCode ArrayOptionLength(PetscOptionItems *PetscOptionsObject, const char name[], PetscBool isint, PetscInt *len)
{
  PetscInt  cap = 16, n;
  PetscReal *buf; /* at least as wide as a PetscInt */
  PetscBool set;

  PetscFunctionBegin;
  do {
    cap *= 2;
    n = cap;
    PetscCall(PetscMalloc1(cap, &buf));
    if (isint) PetscCall(PetscOptionsGetIntArray(PetscOptionsObject->options, PetscOptionsObject->prefix, name, (PetscInt *)buf, &n, &set));
    else PetscCall(PetscOptionsGetRealArray(PetscOptionsObject->options, PetscOptionsObject->prefix, name, buf, &n, &set));
    PetscCall(PetscFree(buf));
  } while (set && n == cap);
  *len = set ? n : 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -inverse_file, -inverse_sigma, -inverse_mask, -inverse_y, inside the caller's options section;
   *changed: one of them was given.  The checks that need no dimension are made here. */
PetscErrorCode SgmMeasurementSetFromOptions(PetscOptionItems *PetscOptionsObject, SgmMeasurement *ms, PetscBool *changed)
{
  MPI_Comm   comm = PetscOptionsObject->comm;
  PetscInt   nm, ny, *mask;
  PetscReal *y;
  PetscBool  ffile, fmask, fy, fs;

  PetscFunctionBegin;
  PetscCall(PetscOptionsString("-inverse_file", "HDF5 file of the measurement: /A [p,d], /y [p]", "SgmScoreSetFromOptions", ms->file, ms->file, sizeof(ms->file), &ffile));
  PetscCall(PetscOptionsReal("-inverse_sigma", "Standard deviation sigma_y > 0 of the measurement noise", "SgmScoreSetFromOptions", ms->sigy, &ms->sigy, &fs));
  PetscCall(ArrayOptionLength(PetscOptionsObject, "-inverse_mask", PETSC_TRUE, &nm));
  PetscCall(ArrayOptionLength(PetscOptionsObject, "-inverse_y", PETSC_FALSE, &ny));
  nm = PetscMax(nm, 1);
  ny = PetscMax(ny, 1);
  PetscCall(PetscCalloc2(nm, &mask, ny, &y));
  PetscCall(PetscOptionsIntArray("-inverse_mask", "Observed coordinates i_1,...,i_p (A = those rows of the identity)", "SgmScoreSetFromOptions", mask, &nm, &fmask));
  PetscCall(PetscOptionsRealArray("-inverse_y", "Measured values y_1,...,y_p of the coordinates in -inverse_mask", "SgmScoreSetFromOptions", y, &ny, &fy));
  PetscCheck(!(ffile && (fmask || fy)), comm, PETSC_ERR_USER_INPUT, "Give either -inverse_file or -inverse_mask with -inverse_y, not both");
  PetscCheck(!fy || fmask, comm, PETSC_ERR_USER_INPUT, "-inverse_y needs -inverse_mask i_1,...,i_p: the coordinates the values belong to");
  PetscCheck(!fs || (ms->sigy > 0 && PetscIsNormalReal(ms->sigy)), comm, PETSC_ERR_USER_INPUT, "-inverse_sigma must be a finite number > 0 (the noise std of the measurement); got %g", (double)ms->sigy);
  if (fmask) { /* the mask form replaces a file given before, and the reverse */
    PetscCall(PetscFree(ms->optmask));
    PetscCall(PetscFree(ms->opty));
    PetscCall(PetscMalloc1(nm, &ms->optmask));
    PetscCall(PetscArraycpy(ms->optmask, mask, nm));
    ms->noptmask = nm;
    ms->nopty    = fy ? ny : 0;
    if (fy) {
      PetscCall(PetscMalloc1(ny, &ms->opty));
      PetscCall(PetscArraycpy(ms->opty, y, ny));
    }
    ms->file[0] = 0;
  } else if (ffile) {
    PetscCall(PetscFree(ms->optmask));
    PetscCall(PetscFree(ms->opty));
    ms->noptmask = ms->nopty = 0;
  }
  PetscCall(PetscFree2(mask, y));
  *changed = (PetscBool)(ffile || fmask || fs);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A [p,d] and y [p] from the file; dimof names what has dimension d, for the message. */
static PetscErrorCode LoadFile(MPI_Comm comm, SgmMeasurement *ms, PetscInt d, const char dimof[])
{
  PetscInt   da[2], dy[1];
  PetscReal *a, *y, *ac;

  PetscFunctionBegin;
  PetscCall(SgmH5ReadReal(comm, ms->file, "/A", 2, da, &a));
  PetscCall(SgmH5ReadReal(comm, ms->file, "/y", 1, dy, &y));
  PetscCheck(da[1] == d, comm, PETSC_ERR_ARG_SIZ, "In '%s', /A has %" PetscInt_FMT " columns but %s has dimension %" PetscInt_FMT ": A must be [p,%" PetscInt_FMT "]", ms->file, da[1], dimof, d, d);
  PetscCheck(dy[0] == da[0], comm, PETSC_ERR_ARG_SIZ, "In '%s', /y has %" PetscInt_FMT " entries but /A has %" PetscInt_FMT " rows: give one measurement per row of A", ms->file, dy[0], da[0]);
  ms->p = da[0];
  PetscCall(MatCreateSeqDense(PETSC_COMM_SELF, ms->p, d, NULL, &ms->A));
  PetscCall(MatDenseGetArrayWrite(ms->A, &ac)); /* column-major, leading dimension p */
  for (PetscInt i = 0; i < ms->p; i++)
    for (PetscInt j = 0; j < d; j++) ac[i + j * ms->p] = a[i * d + j];
  PetscCall(MatDenseRestoreArrayWrite(ms->A, &ac));
  PetscCall(MatAssemblyBegin(ms->A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(ms->A, MAT_FINAL_ASSEMBLY));
  PetscCall(PetscMalloc1(ms->p, &ms->y));
  PetscCall(PetscArraycpy(ms->y, y, ms->p));
  PetscCall(PetscFree(a));
  PetscCall(PetscFree(y));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A = the rows mask of I. */
static PetscErrorCode MaskMatrix(MPI_Comm comm, SgmMeasurement *ms, PetscInt d)
{
  const PetscInt nm = ms->noptmask, ny = ms->nopty;

  PetscFunctionBegin;
  PetscCheck(ny > 0, comm, PETSC_ERR_USER_INPUT, "-inverse_mask needs the measured values: add -inverse_y y_1,...,y_p");
  PetscCheck(nm <= d && nm > 0, comm, PETSC_ERR_USER_INPUT, "-inverse_mask has %" PetscInt_FMT " entries; give between 1 and d = %" PetscInt_FMT " observed coordinates", nm, d);
  PetscCheck(ny == nm, comm, PETSC_ERR_ARG_SIZ, "-inverse_y has %" PetscInt_FMT " values but -inverse_mask has %" PetscInt_FMT " coordinates: give one value per observed coordinate", ny, nm);
  for (PetscInt i = 0; i < nm; i++) {
    PetscCheck(ms->optmask[i] >= 0 && ms->optmask[i] < d, comm, PETSC_ERR_USER_INPUT, "-inverse_mask entry %" PetscInt_FMT " is %" PetscInt_FMT "; observed coordinates must lie in 0..%" PetscInt_FMT, i, ms->optmask[i], d - 1);
    for (PetscInt j = 0; j < i; j++) PetscCheck(ms->optmask[j] != ms->optmask[i], comm, PETSC_ERR_USER_INPUT, "-inverse_mask lists coordinate %" PetscInt_FMT " twice: give each observed coordinate once", ms->optmask[i]);
  }
  ms->p = nm;
  PetscCall(PetscMalloc1(nm, &ms->mask));
  PetscCall(PetscMalloc1(nm, &ms->y));
  PetscCall(PetscArraycpy(ms->mask, ms->optmask, nm));
  PetscCall(PetscArraycpy(ms->y, ms->opty, nm));
  PetscCall(MatCreateSeqDense(PETSC_COMM_SELF, ms->p, d, NULL, &ms->A));
  PetscCall(MatZeroEntries(ms->A));
  for (PetscInt i = 0; i < ms->p; i++) PetscCall(MatSetValue(ms->A, i, ms->mask[i], 1.0, INSERT_VALUES));
  PetscCall(MatAssemblyBegin(ms->A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(ms->A, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Build A and y for x of dimension d from the options (dimof: what has dimension d, for the
   messages).  Without a file or a mask, ms->A stays NULL: the caller says what is missing. */
PetscErrorCode SgmMeasurementSetUp(MPI_Comm comm, SgmMeasurement *ms, PetscInt d, const char dimof[])
{
  PetscFunctionBegin;
  PetscCall(MeasurementClearBuilt(ms));
  if (ms->file[0]) PetscCall(LoadFile(comm, ms, d, dimof));
  else if (ms->noptmask) PetscCall(MaskMatrix(comm, ms, d));
  ms->d = ms->A ? d : 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Attributes inverse_file, inverse_operator, inverse_observations, inverse_sigma and the group
   /measurement (A, y, and mask for the mask form). */
PetscErrorCode SgmMeasurementWriteAttributes(MPI_Comm comm, const SgmMeasurement *ms, hid_t file)
{
  hid_t              grp;
  hsize_t            da[2] = {(hsize_t)ms->p, (hsize_t)ms->d}, dp[1] = {(hsize_t)ms->p};
  const PetscScalar *a;
  PetscReal         *ar;
  PetscInt           ld;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrString(file, "inverse_file", ms->file));
  PetscCall(SgmH5AttrString(file, "inverse_operator", ms->mask ? "mask" : "matrix"));
  PetscCall(SgmH5AttrInt(file, "inverse_observations", ms->p));
  PetscCall(SgmH5AttrReal(file, "inverse_sigma", ms->sigy));
  PetscCall(PetscMalloc1(ms->p * ms->d, &ar));
  PetscCall(MatDenseGetLDA(ms->A, &ld));
  PetscCall(MatDenseGetArrayRead(ms->A, &a));
  for (PetscInt i = 0; i < ms->p; i++)
    for (PetscInt j = 0; j < ms->d; j++) ar[i * ms->d + j] = PetscRealPart(a[i + j * ld]);
  PetscCall(MatDenseRestoreArrayRead(ms->A, &a));
  PetscCallHDF5(grp = H5Gcreate2(file, "measurement", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(SgmH5AttrString(grp, "model", "y = A x + n, n ~ N(0, sigma_y^2 I)"));
  PetscCall(SgmH5AttrReal(grp, "sigma_y", ms->sigy));
  PetscCall(SgmH5WriteSmall(comm, grp, "A", 2, da, ar));
  PetscCall(SgmH5WriteSmall(comm, grp, "y", 1, dp, ms->y));
  if (ms->mask) {
    for (PetscInt i = 0; i < ms->p; i++) ar[i] = (PetscReal)ms->mask[i];
    PetscCall(SgmH5WriteSmall(comm, grp, "mask", 1, dp, ar));
  }
  PetscCallHDF5(H5Gclose(grp));
  PetscCall(PetscFree(ar));
  PetscFunctionReturn(PETSC_SUCCESS);
}
