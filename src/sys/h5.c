/* Small HDF5 helpers: attributes, small datasets, and validated reads of input files. */
#include <sgmio.h>
#include <unistd.h>

PetscErrorCode SgmH5AttrString(hid_t obj, const char name[], const char value[])
{
  hid_t type, space, attr;

  PetscFunctionBegin;
  PetscCallHDF5(type = H5Tcopy(H5T_C_S1));
  PetscCallHDF5(H5Tset_size(type, strlen(value) + 1));
  PetscCallHDF5(H5Tset_strpad(type, H5T_STR_NULLTERM));
  PetscCallHDF5(space = H5Screate(H5S_SCALAR));
  if (H5Aexists(obj, name) > 0) PetscCallHDF5(H5Adelete(obj, name));
  PetscCallHDF5(attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
  PetscCallHDF5(H5Awrite(attr, type, value));
  PetscCallHDF5(H5Aclose(attr));
  PetscCallHDF5(H5Sclose(space));
  PetscCallHDF5(H5Tclose(type));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmH5AttrScalar(hid_t obj, const char name[], hid_t type, const void *value)
{
  hid_t space, attr;

  PetscFunctionBegin;
  PetscCallHDF5(space = H5Screate(H5S_SCALAR));
  if (H5Aexists(obj, name) > 0) PetscCallHDF5(H5Adelete(obj, name));
  PetscCallHDF5(attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
  PetscCallHDF5(H5Awrite(attr, type, value));
  PetscCallHDF5(H5Aclose(attr));
  PetscCallHDF5(H5Sclose(space));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmH5AttrReal(hid_t obj, const char name[], PetscReal v)
{
  double x = (double)v;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrScalar(obj, name, H5T_NATIVE_DOUBLE, &x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmH5AttrInt(hid_t obj, const char name[], PetscInt64 v)
{
  int64_t x = (int64_t)v;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrScalar(obj, name, H5T_NATIVE_INT64, &x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A small dataset, identical on all ranks.  Creation is collective; rank 0 alone writes the values
   (independent raw-data I/O, allowed on an MPI-IO file). */
PetscErrorCode SgmH5WriteSmall(MPI_Comm comm, hid_t loc, const char name[], PetscInt ndim, const hsize_t dims[], const PetscReal v[])
{
  hid_t       space, dset;
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallHDF5(space = H5Screate_simple((int)ndim, dims, NULL));
  PetscCallHDF5(dset = H5Dcreate2(loc, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!rank) PetscCallHDF5(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
  PetscCallHDF5(H5Dclose(dset));
  PetscCallHDF5(H5Sclose(space));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Rank 0's part of SgmH5ReadReal: returns 0 and the data, or 1 and a message. */
static int ReadOnRoot(const char fname[], const char dname[], PetscInt ndim, PetscInt dims[], double **data, char *msg, size_t len)
{
  hid_t       file = -1, dset = -1, space = -1, type = -1;
  int         rank, status = 1;
  hsize_t     hd[8];
  size_t      total = 1;
  H5T_class_t cls;

  *data = NULL;
  if (access(fname, R_OK)) {
    snprintf(msg, len, "cannot read the file '%s': it does not exist or is not readable", fname);
    return 1;
  }
  file = H5Fopen(fname, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) {
    snprintf(msg, len, "the file '%s' is not a readable HDF5 file", fname);
    return 1;
  }
  if (H5Lexists(file, dname, H5P_DEFAULT) <= 0 || (dset = H5Dopen2(file, dname, H5P_DEFAULT)) < 0) {
    snprintf(msg, len, "the HDF5 file '%s' has no dataset '%s'", fname, dname);
    goto done;
  }
  space = H5Dget_space(dset);
  type  = H5Dget_type(dset);
  cls   = H5Tget_class(type);
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
    snprintf(msg, len, "the dataset '%s' in '%s' is not numeric", dname, fname);
    goto done;
  }
  rank = H5Sget_simple_extent_ndims(space);
  if (rank != (int)ndim || rank > 8) {
    snprintf(msg, len, "the dataset '%s' in '%s' has %d dimension(s); expected %d", dname, fname, rank, (int)ndim);
    goto done;
  }
  H5Sget_simple_extent_dims(space, hd, NULL);
  for (int i = 0; i < rank; i++) {
    dims[i] = (PetscInt)hd[i];
    total *= hd[i];
  }
  if (!total) {
    snprintf(msg, len, "the dataset '%s' in '%s' is empty", dname, fname);
    goto done;
  }
  *data = (double *)malloc(total * sizeof(double));
  if (!*data || H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *data) < 0) {
    snprintf(msg, len, "the dataset '%s' in '%s' could not be read (truncated or corrupt file?)", dname, fname);
    goto done;
  }
  for (size_t i = 0; i < total; i++)
    if (!isfinite((*data)[i])) {
      snprintf(msg, len, "the dataset '%s' in '%s' contains NaN or Inf (entry %zu)", dname, fname, i);
      goto done;
    }
  status = 0;
done:
  if (status && *data) {
    free(*data);
    *data = NULL;
  }
  if (type >= 0) H5Tclose(type);
  if (space >= 0) H5Sclose(space);
  if (dset >= 0) H5Dclose(dset);
  if (file >= 0) H5Fclose(file);
  return status;
}

PetscErrorCode SgmH5ReadReal(MPI_Comm comm, const char fname[], const char dname[], PetscInt ndim, PetscInt dims[], PetscReal **v)
{
  PetscMPIInt rank;
  int         status = 0;
  char        msg[PETSC_MAX_PATH_LEN + 256] = "";
  double     *data = NULL;
  PetscInt    total = 1;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_HDF5Read, 0, 0, 0, 0));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) status = ReadOnRoot(fname, dname, ndim, dims, &data, msg, sizeof(msg));
  PetscCallMPI(MPI_Bcast(&status, 1, MPI_INT, 0, comm));
  if (status) {
    PetscCallMPI(MPI_Bcast(msg, sizeof(msg), MPI_CHAR, 0, comm));
    SETERRQ(comm, PETSC_ERR_FILE_READ, "%s", msg);
  }
  PetscCallMPI(MPI_Bcast(dims, (PetscMPIInt)ndim, MPIU_INT, 0, comm));
  for (PetscInt i = 0; i < ndim; i++) total *= dims[i];
  PetscCall(PetscMalloc1(total, v));
  if (!rank) {
    for (PetscInt i = 0; i < total; i++) (*v)[i] = (PetscReal)data[i];
    free(data);
  }
  PetscCallMPI(MPI_Bcast(*v, (PetscMPIInt)total, MPIU_REAL, 0, comm));
  PetscCall(PetscLogEventEnd(SGM_HDF5Read, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A scalar attribute of obj, which must exist: name it in the message when it does not. */
static PetscErrorCode SgmH5AttrGet(MPI_Comm comm, hid_t obj, const char name[], hid_t type, void *v)
{
  hid_t attr;

  PetscFunctionBegin;
  PetscCheck(H5Aexists(obj, name) > 0, comm, PETSC_ERR_FILE_UNEXPECTED, "The HDF5 file has no attribute '%s' (not a file sgm wrote?)", name);
  PetscCallHDF5(attr = H5Aopen(obj, name, H5P_DEFAULT));
  PetscCallHDF5(H5Aread(attr, type, v));
  PetscCallHDF5(H5Aclose(attr));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmH5AttrGetReal(MPI_Comm comm, hid_t obj, const char name[], PetscReal *v)
{
  double x;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrGet(comm, obj, name, H5T_NATIVE_DOUBLE, &x));
  *v = (PetscReal)x;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmH5AttrGetInt(MPI_Comm comm, hid_t obj, const char name[], PetscInt64 *v)
{
  int64_t x;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrGet(comm, obj, name, H5T_NATIVE_INT64, &x));
  *v = (PetscInt64)x;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmH5AttrGetString(MPI_Comm comm, hid_t obj, const char name[], char v[], size_t len)
{
  hid_t attr, type, mem;

  PetscFunctionBegin;
  PetscCheck(H5Aexists(obj, name) > 0, comm, PETSC_ERR_FILE_UNEXPECTED, "The HDF5 file has no attribute '%s' (not a file sgm wrote?)", name);
  PetscCallHDF5(attr = H5Aopen(obj, name, H5P_DEFAULT));
  PetscCallHDF5(type = H5Aget_type(attr));
  PetscCheck(H5Tget_class(type) == H5T_STRING && H5Tget_size(type) <= len, comm, PETSC_ERR_FILE_UNEXPECTED, "The attribute '%s' is not a string of at most %zu bytes", name, len);
  PetscCallHDF5(mem = H5Tcopy(H5T_C_S1));
  PetscCallHDF5(H5Tset_size(mem, len));
  PetscCallHDF5(H5Aread(attr, mem, v));
  v[len - 1] = 0;
  PetscCallHDF5(H5Tclose(mem));
  PetscCallHDF5(H5Tclose(type));
  PetscCallHDF5(H5Aclose(attr));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A field batch: this rank's DMDA block of every field from a dataset [B,(nz,)ny,nx(,dof)]. */
static PetscErrorCode ReadField(hid_t file, const char name[], const SgmBatch *b, Vec X)
{
  hid_t        dset, fspace, mspace, dxpl;
  hsize_t      want[6], start[6], count[6], dims[8];
  int          nd = SgmBatchFileShape(b, want, start, count), rank;
  PetscBool    same;
  PetscScalar *x;

  PetscFunctionBegin;
  PetscCallHDF5(dset = H5Dopen2(file, name, H5P_DEFAULT));
  PetscCallHDF5(fspace = H5Dget_space(dset));
  rank = H5Sget_simple_extent_ndims(fspace);
  same = (PetscBool)(rank == nd);
  if (same) {
    PetscCallHDF5(H5Sget_simple_extent_dims(fspace, dims, NULL));
    for (int i = 0; i < nd; i++) same = (PetscBool)(same && dims[i] == want[i]);
  }
  PetscCheck(same, b->comm, PETSC_ERR_USER_INPUT, "The dataset '%s' does not hold %" PetscInt_FMT " fields of the grid given by -field_grid (%d dimensions where %d are expected, or other sizes): use the grid of the file", name, b->N, rank, nd);
  PetscCallHDF5(mspace = H5Screate_simple(nd, count, NULL));
  PetscCallHDF5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL));
  PetscCallHDF5(dxpl = H5Pcreate(H5P_DATASET_XFER));
  PetscCallHDF5(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE));
  PetscCall(VecGetArrayWrite(X, &x));
  PetscCallHDF5(H5Dread(dset, H5T_NATIVE_DOUBLE, mspace, fspace, dxpl, x));
  PetscCall(VecRestoreArrayWrite(X, &x));
  PetscCallHDF5(H5Pclose(dxpl));
  PetscCallHDF5(H5Sclose(mspace));
  PetscCallHDF5(H5Sclose(fspace));
  PetscCallHDF5(H5Dclose(dset));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* This rank's rows of a dataset [N,d] into X (the batch layout); collective.  With d = 1 a
   one-dimensional dataset [N] is read too (e.g. /labels). */
PetscErrorCode SgmH5ReadBatch(hid_t file, const char name[], const SgmBatch *b, Vec X)
{
  hid_t        dset, fspace, mspace, dxpl;
  hsize_t      dims[2] = {0, 1}, start[2] = {(hsize_t)b->rstart, 0}, count[2] = {(hsize_t)b->n, (hsize_t)b->d};
  int          rank;
  PetscScalar *x;

  PetscFunctionBegin;
  PetscCheck(H5Lexists(file, name, H5P_DEFAULT) > 0, b->comm, PETSC_ERR_FILE_UNEXPECTED, "The HDF5 file has no dataset '%s'", name);
  if (b->field) {
    PetscCall(ReadField(file, name, b, X));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCallHDF5(dset = H5Dopen2(file, name, H5P_DEFAULT));
  PetscCallHDF5(fspace = H5Dget_space(dset));
  rank = H5Sget_simple_extent_ndims(fspace);
  PetscCheck(rank == 2 || (rank == 1 && b->d == 1), b->comm, PETSC_ERR_FILE_UNEXPECTED, "The dataset '%s' is not two-dimensional", name);
  PetscCallHDF5(H5Sget_simple_extent_dims(fspace, dims, NULL));
  PetscCheck(dims[0] == (hsize_t)b->N && dims[1] == (hsize_t)b->d, b->comm, PETSC_ERR_FILE_UNEXPECTED, "The dataset '%s' has shape [%d,%d]; expected [%" PetscInt_FMT ",%" PetscInt_FMT "]", name, (int)dims[0], (int)dims[1], b->N, b->d);
  PetscCallHDF5(mspace = H5Screate_simple(rank, count, NULL));
  if (b->n) PetscCallHDF5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL));
  else {
    PetscCallHDF5(H5Sselect_none(fspace));
    PetscCallHDF5(H5Sselect_none(mspace));
  }
  PetscCallHDF5(dxpl = H5Pcreate(H5P_DATASET_XFER));
  PetscCallHDF5(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE));
  PetscCall(VecGetArrayWrite(X, &x));
  PetscCallHDF5(H5Dread(dset, H5T_NATIVE_DOUBLE, mspace, fspace, dxpl, x));
  PetscCall(VecRestoreArrayWrite(X, &x));
  PetscCallHDF5(H5Pclose(dxpl));
  PetscCallHDF5(H5Sclose(mspace));
  PetscCallHDF5(H5Sclose(fspace));
  PetscCallHDF5(H5Dclose(dset));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Open an existing HDF5 file read-only on every rank of comm (MPI-IO); one sentence if it cannot be. */
PetscErrorCode SgmH5OpenParallel(MPI_Comm comm, const char path[], hid_t *file)
{
  hid_t fapl;
  int   ok = access(path, R_OK) == 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm));
  PetscCheck(ok, comm, PETSC_ERR_FILE_OPEN, "Cannot read the file '%s': it does not exist or is not readable", path);
  PetscCallHDF5(fapl = H5Pcreate(H5P_FILE_ACCESS));
  PetscCallHDF5(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL));
  *file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  PetscCallHDF5(H5Pclose(fapl));
  PetscCheck(*file >= 0, comm, PETSC_ERR_FILE_OPEN, "The file '%s' is not a readable HDF5 file", path);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The shape of a numeric dataset of rank ndim; one sentence if it is missing or of another rank. */
PetscErrorCode SgmH5DatasetShape(MPI_Comm comm, hid_t file, const char name[], PetscInt ndim, PetscInt dims[])
{
  hid_t       dset, space, type;
  hsize_t     hd[8];
  int         rank;
  H5T_class_t cls;

  PetscFunctionBegin;
  PetscCheck(H5Lexists(file, name, H5P_DEFAULT) > 0, comm, PETSC_ERR_FILE_UNEXPECTED, "The HDF5 file has no dataset '%s'", name);
  PetscCallHDF5(dset = H5Dopen2(file, name, H5P_DEFAULT));
  PetscCallHDF5(space = H5Dget_space(dset));
  PetscCallHDF5(type = H5Dget_type(dset));
  cls  = H5Tget_class(type);
  rank = H5Sget_simple_extent_ndims(space);
  PetscCheck(cls == H5T_FLOAT || cls == H5T_INTEGER, comm, PETSC_ERR_FILE_UNEXPECTED, "The dataset '%s' is not numeric", name);
  PetscCheck(rank == (int)ndim && rank <= 8, comm, PETSC_ERR_FILE_UNEXPECTED, "The dataset '%s' has %d dimension(s); expected %d", name, rank, (int)ndim);
  PetscCallHDF5(H5Sget_simple_extent_dims(space, hd, NULL));
  for (int i = 0; i < rank; i++) dims[i] = (PetscInt)hd[i];
  PetscCallHDF5(H5Tclose(type));
  PetscCallHDF5(H5Sclose(space));
  PetscCallHDF5(H5Dclose(dset));
  PetscFunctionReturn(PETSC_SUCCESS);
}
