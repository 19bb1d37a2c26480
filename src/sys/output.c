/*
  The run's HDF5 output file.  Written collectively through MPI-IO under the name FILE.partial,
  renamed to FILE by rank 0 once everything is on disk, and removed if the run fails.

  Layout:  /samples [N,d]            final samples, rows in global sample order
           /trajectory/x [F,N,d]     frames, unlimited leading dimension, one frame per chunk
  A field batch (sgmfield.h) is written as /samples [B,ny,nx] or [B,nz,ny,nx] (a trailing [dof] with
  several components) and /trajectory/x [F,B,...]: each rank selects its DMDA block of all B fields
  as one hyperslab, and the grid is in the field_* root attributes.
           /trajectory/t [F]         diffusion time of each frame
           /nfe                      score evaluations per sample
           root attributes           provenance (see SgmOutputWriteProvenance)
*/
#include <sgmio.h>
#include <sgmfield.h>
#include <sgmconf.h>
#include <unistd.h>
#include <errno.h>

struct _n_SgmOutput {
  MPI_Comm  comm;
  char      path[PETSC_MAX_PATH_LEN];
  char      tmp[PETSC_MAX_PATH_LEN + 16];
  hid_t     file, dxpl;
  hid_t     trajx, trajt; /* trajectory datasets, created on the first frame */
  hsize_t   nframes;
  SgmOutput next; /* list of open outputs, for removal on failure */
};

static SgmOutput SgmOutputsOpen = NULL;

/* A write that fails is, in practice, a full disk or an exceeded quota: say so in one sentence. */
#define SgmCallHDF5Write(o, what, call) \
  do { \
    if ((call) < 0) SETERRQ((o)->comm, PETSC_ERR_FILE_WRITE, "Could not write %s to '%s' (disk full or quota exceeded?)", what, (o)->tmp); \
  } while (0)

PetscErrorCode SgmOutputCreate(MPI_Comm comm, const char path[], PetscBool overwrite, SgmOutput *out)
{
  SgmOutput   o;
  PetscMPIInt rank;
  int         exists = 0;
  hid_t       fapl;

  PetscFunctionBegin;
  PetscCheck(path && path[0], comm, PETSC_ERR_USER_INPUT, "No output file given: use -output FILE");
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) exists = access(path, F_OK) == 0;
  PetscCallMPI(MPI_Bcast(&exists, 1, MPI_INT, 0, comm));
  PetscCheck(!exists || overwrite, comm, PETSC_ERR_FILE_OPEN, "The output file '%s' exists already: remove it, choose another -output, or add -overwrite", path);
  PetscCall(PetscNew(&o));
  o->comm  = comm;
  o->trajx = o->trajt = -1;
  PetscCall(PetscStrncpy(o->path, path, sizeof(o->path)));
  PetscCall(PetscSNPrintf(o->tmp, sizeof(o->tmp), "%s.partial", path));
  PetscCallHDF5(fapl = H5Pcreate(H5P_FILE_ACCESS));
  PetscCallHDF5(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL));
  o->file = H5Fcreate(o->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  PetscCallHDF5(H5Pclose(fapl));
  if (o->file < 0) {
    PetscCall(PetscFree(o));
    SETERRQ(comm, PETSC_ERR_FILE_OPEN, "Cannot create the output file '%s': is its directory there and writable?", path);
  }
  PetscCallHDF5(o->dxpl = H5Pcreate(H5P_DATASET_XFER));
  PetscCallHDF5(H5Pset_dxpl_mpio(o->dxpl, H5FD_MPIO_COLLECTIVE));
  o->next        = SgmOutputsOpen;
  SgmOutputsOpen = o;
  *out           = o;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reopen FILE.partial left by an interrupted run (restart), with its trajectory so far. */
PetscErrorCode SgmOutputResume(MPI_Comm comm, const char path[], SgmOutput *out)
{
  SgmOutput o;
  hid_t     fapl;

  PetscFunctionBegin;
  PetscCall(PetscNew(&o));
  o->comm  = comm;
  o->trajx = o->trajt = -1;
  PetscCall(PetscStrncpy(o->path, path, sizeof(o->path)));
  PetscCall(PetscSNPrintf(o->tmp, sizeof(o->tmp), "%s.partial", path));
  PetscCallHDF5(fapl = H5Pcreate(H5P_FILE_ACCESS));
  PetscCallHDF5(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL));
  o->file = H5Fopen(o->tmp, H5F_ACC_RDWR, fapl);
  PetscCallHDF5(H5Pclose(fapl));
  if (o->file < 0) {
    PetscCall(PetscFree(o));
    SETERRQ(comm, PETSC_ERR_FILE_OPEN, "Cannot resume the output: '%s.partial' of the interrupted run is missing or unreadable (restart with the same -output, or rerun from scratch)", path);
  }
  if (H5Lexists(o->file, "trajectory", H5P_DEFAULT) > 0) {
    hid_t   space;
    hsize_t dims[7];
    PetscCallHDF5(o->trajx = H5Dopen2(o->file, "trajectory/x", H5P_DEFAULT));
    PetscCallHDF5(o->trajt = H5Dopen2(o->file, "trajectory/t", H5P_DEFAULT));
    PetscCallHDF5(space = H5Dget_space(o->trajx));
    PetscCallHDF5(H5Sget_simple_extent_dims(space, dims, NULL));
    PetscCallHDF5(H5Sclose(space));
    o->nframes = dims[0];
  }
  PetscCallHDF5(o->dxpl = H5Pcreate(H5P_DATASET_XFER));
  PetscCallHDF5(H5Pset_dxpl_mpio(o->dxpl, H5FD_MPIO_COLLECTIVE));
  o->next        = SgmOutputsOpen;
  SgmOutputsOpen = o;
  *out           = o;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Keep the first nframes frames of the trajectory (those a checkpoint knows of). */
PetscErrorCode SgmOutputTrajectoryTruncate(SgmOutput o, PetscInt nframes)
{
  PetscFunctionBegin;
  if (o->trajx < 0) {
    PetscCheck(nframes == 0, o->comm, PETSC_ERR_FILE_UNEXPECTED, "The output '%s.partial' has no trajectory but the checkpoint counts %" PetscInt_FMT " frames", o->path, nframes);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck((hsize_t)nframes <= o->nframes, o->comm, PETSC_ERR_FILE_UNEXPECTED, "The output '%s.partial' has %d trajectory frames, fewer than the %" PetscInt_FMT " the checkpoint counts", o->path, (int)o->nframes, nframes);
  {
    hid_t   space;
    hsize_t dims[7], t = (hsize_t)nframes;
    PetscCallHDF5(space = H5Dget_space(o->trajx));
    PetscCallHDF5(H5Sget_simple_extent_dims(space, dims, NULL));
    PetscCallHDF5(H5Sclose(space));
    dims[0] = t;
    SgmCallHDF5Write(o, "a trajectory frame", H5Dset_extent(o->trajx, dims));
    PetscCallHDF5(H5Dset_extent(o->trajt, &t));
  }
  o->nframes = (hsize_t)nframes;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Everything written so far reaches the disk: a kill after this leaves a readable file. */
PetscErrorCode SgmOutputFlush(SgmOutput o)
{
  PetscFunctionBegin;
  SgmCallHDF5Write(o, "the buffered data", H5Fflush(o->file, H5F_SCOPE_GLOBAL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmOutputGetFile(SgmOutput o, hid_t *file)
{
  PetscFunctionBegin;
  *file = o->file;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Provenance: what made this file, so that scripts never need to guess. */
PetscErrorCode SgmOutputWriteProvenance(SgmOutput o, PetscInt64 seed)
{
  char        buf[4096], *opts;
  PetscMPIInt size, len;
  unsigned    maj, min, rel;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrString(o->file, "sgm_version", SGM_VERSION_STRING));
  PetscCall(SgmH5AttrString(o->file, "git_revision", SGM_GIT_REVISION));
  PetscCall(SgmH5AttrString(o->file, "configure_args", SGM_CONFIGURE_ARGS));
  PetscCall(PetscGetVersion(buf, sizeof(buf)));
  PetscCall(SgmH5AttrString(o->file, "petsc_version", buf));
  H5get_libversion(&maj, &min, &rel);
  PetscCall(PetscSNPrintf(buf, sizeof(buf), "%u.%u.%u", maj, min, rel));
  PetscCall(SgmH5AttrString(o->file, "hdf5_version", buf));
  PetscCallMPI(MPI_Get_library_version(buf, &len));
  buf[PetscMin(len, (PetscMPIInt)sizeof(buf) - 1)] = 0;
  for (char *c = buf; *c; c++)
    if (*c == '\n') *c = ' ';
  PetscCall(SgmH5AttrString(o->file, "mpi_version", buf));
  PetscCallMPI(MPI_Comm_size(o->comm, &size));
  PetscCall(SgmH5AttrInt(o->file, "nranks", size));
  PetscCall(SgmH5AttrInt(o->file, "seed", seed));
  PetscCall(PetscOptionsGetAll(NULL, &opts));
  PetscCall(SgmH5AttrString(o->file, "options", opts));
  PetscCall(PetscFree(opts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Shape of a batch in a file: [N,d], or [B,(nz,)ny,nx(,dof)] for fields; this rank's hyperslab
   (start, count) of it and the number of entries it holds.  Returns the rank of the shape. */
int SgmBatchFileShape(const SgmBatch *b, hsize_t dims[], hsize_t start[], hsize_t count[])
{
  int nd = 0;

  if (!b->field) {
    dims[0] = (hsize_t)b->N; start[0] = (hsize_t)b->rstart; count[0] = (hsize_t)b->n;
    dims[1] = (hsize_t)b->d; start[1] = 0;                  count[1] = (hsize_t)b->d;
    return 2;
  }
  dims[nd] = (hsize_t)b->N; start[nd] = (hsize_t)b->rstart; count[nd] = (hsize_t)b->n; nd++;
  for (PetscInt a = b->field->dim - 1; a >= 0; a--, nd++) { /* z, y, x: x fastest, as in memory */
    dims[nd]  = (hsize_t)b->field->M[a];
    start[nd] = (hsize_t)b->field->xs[a];
    count[nd] = (hsize_t)b->field->xm[a];
  }
  if (b->field->dof > 1) {
    dims[nd] = count[nd] = (hsize_t)b->field->dof; start[nd] = 0; nd++;
  }
  return nd;
}

/* This rank's part of a batch in a dataset of the batch's shape (or frame f of [F, shape]). */
static PetscErrorCode SelectRows(hid_t fspace, PetscBool framed, hsize_t frame, const SgmBatch *b, hid_t *mspace)
{
  hsize_t dims[6], start[7], count[7], n = 1;
  int     nd;

  PetscFunctionBegin;
  nd = SgmBatchFileShape(b, dims, start + 1, count + 1);
  for (int i = 1; i <= nd; i++) n *= count[i];
  PetscCallHDF5(*mspace = H5Screate_simple(nd, count + 1, NULL));
  if (!n) {
    PetscCallHDF5(H5Sselect_none(fspace));
    PetscCallHDF5(H5Sselect_none(*mspace));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  start[0] = frame;
  count[0] = 1;
  PetscCallHDF5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, framed ? start : start + 1, NULL, framed ? count : count + 1, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmOutputWriteBatch(SgmOutput o, const char name[], const SgmBatch *b, Vec X)
{
  hsize_t            dims[6], start[6], count[6];
  hid_t              fspace, mspace, dset;
  const PetscScalar *x;
  int                nd = SgmBatchFileShape(b, dims, start, count);

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_HDF5Write, 0, 0, 0, 0));
  PetscCallHDF5(fspace = H5Screate_simple(nd, dims, NULL));
  SgmCallHDF5Write(o, name, dset = H5Dcreate2(o->file, name, H5T_NATIVE_DOUBLE, fspace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(SelectRows(fspace, PETSC_FALSE, 0, b, &mspace));
  PetscCall(VecGetArrayRead(X, &x));
  SgmCallHDF5Write(o, name, H5Dwrite(dset, H5T_NATIVE_DOUBLE, mspace, fspace, o->dxpl, x));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCallHDF5(H5Sclose(mspace));
  PetscCallHDF5(H5Sclose(fspace));
  PetscCallHDF5(H5Dclose(dset));
  PetscCall(PetscLogEventEnd(SGM_HDF5Write, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One value per sample, dataset [N] in global sample order; v holds this rank's b->n values. */
PetscErrorCode SgmOutputWriteSampleValues(SgmOutput o, const char name[], const SgmBatch *b, const PetscReal v[])
{
  hsize_t dims = (hsize_t)b->N, start = (hsize_t)b->rstart, count = (hsize_t)b->n;
  hid_t   fspace, mspace, dset;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_HDF5Write, 0, 0, 0, 0));
  PetscCallHDF5(fspace = H5Screate_simple(1, &dims, NULL));
  SgmCallHDF5Write(o, name, dset = H5Dcreate2(o->file, name, H5T_NATIVE_DOUBLE, fspace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCallHDF5(mspace = H5Screate_simple(1, &count, NULL));
  if (count) PetscCallHDF5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL));
  else {
    PetscCallHDF5(H5Sselect_none(fspace));
    PetscCallHDF5(H5Sselect_none(mspace));
  }
  SgmCallHDF5Write(o, name, H5Dwrite(dset, H5T_NATIVE_DOUBLE, mspace, fspace, o->dxpl, v));
  PetscCallHDF5(H5Sclose(mspace));
  PetscCallHDF5(H5Sclose(fspace));
  PetscCallHDF5(H5Dclose(dset));
  PetscCall(PetscLogEventEnd(SGM_HDF5Write, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TrajectoryCreate(SgmOutput o, const SgmBatch *b)
{
  hid_t   grp, space, dcpl;
  hsize_t dims[7], maxd[7], chunk[7], start[7], count[7], one = 1, zero = 0, unl = H5S_UNLIMITED, rest = 1;
  int     nd = 1 + SgmBatchFileShape(b, dims + 1, start + 1, count + 1);

  PetscFunctionBegin;
  dims[0] = 0;
  maxd[0] = H5S_UNLIMITED;
  chunk[0] = 1;
  for (int i = 1; i < nd; i++) {
    maxd[i] = chunk[i] = dims[i];
    if (i > 1) rest *= dims[i];
  }
  /* a chunk must stay below 4 GiB: cap the samples of one chunk at 2^26/(sample size) (512 MiB of doubles) */
  chunk[1] = PetscMin(dims[1], PetscMax((hsize_t)1, ((hsize_t)1 << 26) / rest));
  PetscCallHDF5(grp = H5Gcreate2(o->file, "trajectory", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCallHDF5(space = H5Screate_simple(nd, dims, maxd));
  PetscCallHDF5(dcpl = H5Pcreate(H5P_DATASET_CREATE));
  PetscCallHDF5(H5Pset_chunk(dcpl, nd, chunk));
  SgmCallHDF5Write(o, "the trajectory", o->trajx = H5Dcreate2(grp, "x", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  PetscCallHDF5(H5Pclose(dcpl));
  PetscCallHDF5(H5Sclose(space));
  PetscCallHDF5(space = H5Screate_simple(1, &zero, &unl));
  PetscCallHDF5(dcpl = H5Pcreate(H5P_DATASET_CREATE));
  PetscCallHDF5(H5Pset_chunk(dcpl, 1, &one));
  PetscCallHDF5(o->trajt = H5Dcreate2(grp, "t", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  PetscCallHDF5(H5Pclose(dcpl));
  PetscCallHDF5(H5Sclose(space));
  PetscCallHDF5(H5Gclose(grp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Append one frame (the whole batch at diffusion time t); collective. */
PetscErrorCode SgmOutputTrajectoryAppend(SgmOutput o, const SgmBatch *b, PetscReal t, Vec X)
{
  hsize_t            dims[7], start[7], count[7], tdim = o->nframes + 1, one = 1;
  hid_t              fspace, mspace;
  const PetscScalar *x;
  PetscMPIInt        rank;
  double             tv = (double)t;

  PetscFunctionBegin;
  (void)SgmBatchFileShape(b, dims + 1, start + 1, count + 1);
  dims[0] = o->nframes + 1;
  PetscCall(PetscLogEventBegin(SGM_HDF5Write, 0, 0, 0, 0));
  if (o->trajx < 0) PetscCall(TrajectoryCreate(o, b));
  SgmCallHDF5Write(o, "a trajectory frame", H5Dset_extent(o->trajx, dims));
  PetscCallHDF5(fspace = H5Dget_space(o->trajx));
  PetscCall(SelectRows(fspace, PETSC_TRUE, o->nframes, b, &mspace));
  PetscCall(VecGetArrayRead(X, &x));
  SgmCallHDF5Write(o, "a trajectory frame", H5Dwrite(o->trajx, H5T_NATIVE_DOUBLE, mspace, fspace, o->dxpl, x));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCallHDF5(H5Sclose(mspace));
  PetscCallHDF5(H5Sclose(fspace));

  SgmCallHDF5Write(o, "a trajectory time", H5Dset_extent(o->trajt, &tdim));
  PetscCallHDF5(fspace = H5Dget_space(o->trajt));
  PetscCallHDF5(mspace = H5Screate_simple(1, &one, NULL));
  PetscCallMPI(MPI_Comm_rank(o->comm, &rank));
  if (!rank) {
    PetscCallHDF5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &o->nframes, NULL, &one, NULL));
  } else {
    PetscCallHDF5(H5Sselect_none(fspace));
    PetscCallHDF5(H5Sselect_none(mspace));
  }
  SgmCallHDF5Write(o, "a trajectory time", H5Dwrite(o->trajt, H5T_NATIVE_DOUBLE, mspace, fspace, o->dxpl, &tv));
  PetscCallHDF5(H5Sclose(mspace));
  PetscCallHDF5(H5Sclose(fspace));
  o->nframes++;
  PetscCall(PetscLogEventEnd(SGM_HDF5Write, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef enum {
  OUTPUT_PUBLISH, /* rename FILE.partial to FILE */
  OUTPUT_DISCARD, /* remove FILE.partial */
  OUTPUT_SUSPEND  /* leave FILE.partial for a restart */
} OutputEnd;

static PetscErrorCode OutputFree(SgmOutput *out, OutputEnd end)
{
  SgmOutput   o = *out, *p;
  PetscMPIInt rank;
  herr_t      err = 0;

  PetscFunctionBegin;
  if (!o) PetscFunctionReturn(PETSC_SUCCESS);
  for (p = &SgmOutputsOpen; *p; p = &(*p)->next)
    if (*p == o) {
      *p = o->next;
      break;
    }
  if (o->trajx >= 0) H5Dclose(o->trajx);
  if (o->trajt >= 0) H5Dclose(o->trajt);
  H5Pclose(o->dxpl);
  err = H5Fclose(o->file);
  PetscCallMPI(MPI_Comm_rank(o->comm, &rank));
  if (!rank) {
    if (end == OUTPUT_PUBLISH && err >= 0) {
      if (rename(o->tmp, o->path)) {
        (void)unlink(o->tmp);
        err = -1;
      }
    } else if (end != OUTPUT_SUSPEND || err < 0) (void)unlink(o->tmp);
  }
  if (end != OUTPUT_DISCARD) PetscCallMPI(MPI_Bcast(&err, sizeof(err), MPI_BYTE, 0, o->comm));
  PetscCheck(end == OUTPUT_DISCARD || err >= 0, o->comm, PETSC_ERR_FILE_WRITE, "Could not complete the output file '%s' (disk full or directory removed?)", o->path);
  PetscCall(PetscFree(o));
  *out = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Close and publish the file under its final name. */
PetscErrorCode SgmOutputClose(SgmOutput *out)
{
  PetscFunctionBegin;
  PetscCall(OutputFree(out, OUTPUT_PUBLISH));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Close and remove: nothing half-written is left behind. */
PetscErrorCode SgmOutputDiscard(SgmOutput *out)
{
  PetscFunctionBegin;
  PetscCall(OutputFree(out, OUTPUT_DISCARD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Close and keep FILE.partial, flushed, for a later -restart. */
PetscErrorCode SgmOutputSuspend(SgmOutput *out)
{
  PetscFunctionBegin;
  PetscCall(OutputFree(out, OUTPUT_SUSPEND));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Called on the error path: remove every temporary file this process still has open.  Not
   collective; only the removal (by any rank) matters here. */
PetscErrorCode SgmOutputDiscardAll(void)
{
  PetscFunctionBegin;
  while (SgmOutputsOpen) {
    SgmOutput o    = SgmOutputsOpen;
    SgmOutputsOpen = o->next;
    (void)unlink(o->tmp);
    PetscCall(PetscFree(o));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
