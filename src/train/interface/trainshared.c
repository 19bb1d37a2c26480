/*
  Internal pieces shared by the trainers of `sgm train` (SgmTrainer) and `sgm train-ae`
  (src/cmd/trainae.c), declared in sgm/private/trainimpl.h:
    SgmTrainLoadData_Private        the training set read in parallel and replicated on every rank;
    SgmTrainCheckpointWrite_Private the atomic checkpoint write: rank 0 writes FILE.tmp through a
                                    callback and renames it, so a crash while writing leaves the
                                    previous checkpoint intact;
    SgmTrainCheckpointOpen_Private  rank 0 opens a checkpoint and reads its kind ("train", "train-ae");
    SgmTrainWriteArray_Private, SgmTrainReadArray_Private   1-D double datasets of a checkpoint;
    SgmTrainSignalStop_Private      after a step: the test hook -train_test_signal_step and whether
                                    SIGTERM/SIGUSR1 reached any rank (all ranks stop at the same step).
*/
#include <sgm/private/trainimpl.h>
#include <sgmio.h>
#include <sgmsampler.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* Read the dataset [N,d] of file (dataset: in/out, "" = /data, else /samples) in parallel, each rank
   a block of rows, then share the whole set; with labels != NULL also the optional /labels [N]
   (non-negative integers; *labels NULL and *nclasses 0 without them). */
PetscErrorCode SgmTrainLoadData_Private(MPI_Comm comm, const char datafile[], char dataset[], size_t dlen, PetscInt *N, PetscInt *d, PetscReal **data, PetscInt **labels, PetscInt *nclasses)
{
  hid_t              file;
  PetscInt           dims[2];
  SgmBatch           b;
  Vec                X;
  PetscMPIInt        size, *counts, *displs;
  const PetscScalar *x;

  PetscFunctionBegin;
  PetscCall(SgmH5OpenParallel(comm, datafile, &file));
  if (!dataset[0]) {
    PetscCheck(H5Lexists(file, "data", H5P_DEFAULT) > 0 || H5Lexists(file, "samples", H5P_DEFAULT) > 0, comm, PETSC_ERR_USER_INPUT, "'%s' has neither /data nor /samples: name the dataset to train on with -train_dataset", datafile);
    PetscCall(PetscStrncpy(dataset, H5Lexists(file, "data", H5P_DEFAULT) > 0 ? "data" : "samples", dlen));
  }
  PetscCheck(H5Lexists(file, dataset, H5P_DEFAULT) > 0, comm, PETSC_ERR_USER_INPUT, "'%s' has no dataset /%s (-train_dataset)", datafile, dataset);
  PetscCall(SgmH5DatasetShape(comm, file, dataset, 2, dims));
  PetscCheck(dims[0] > 0 && dims[1] > 0, comm, PETSC_ERR_USER_INPUT, "The dataset /%s of '%s' is empty (%" PetscInt_FMT " x %" PetscInt_FMT ")", dataset, datafile, dims[0], dims[1]);
  *N = dims[0];
  *d = dims[1];
  if (labels) {
    *labels   = NULL;
    *nclasses = 0;
  }
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMalloc2(size, &counts, size, &displs));
  PetscCall(PetscMalloc1(*N * *d, data));
  for (int pass = 0; pass < 2; pass++) {
    PetscInt dd = pass ? 1 : *d;
    if (pass) { /* /labels [N], optional */
      if (!labels || H5Lexists(file, "labels", H5P_DEFAULT) <= 0) break;
      PetscCall(SgmH5DatasetShape(comm, file, "labels", 1, dims));
      PetscCheck(dims[0] == *N, comm, PETSC_ERR_USER_INPUT, "/labels of '%s' has %" PetscInt_FMT " entries but /data has %" PetscInt_FMT " rows", datafile, dims[0], *N);
    }
    PetscCall(SgmBatchCreate(comm, *N, dd, &b));
    PetscCall(SgmBatchCreateVec(&b, &X));
    PetscCall(SgmH5ReadBatch(file, pass ? "labels" : dataset, &b, X));
    {
      PetscMPIInt mine = (PetscMPIInt)(b.n * dd), start = (PetscMPIInt)(b.rstart * dd);
      PetscCallMPI(MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, comm));
      PetscCallMPI(MPI_Allgather(&start, 1, MPI_INT, displs, 1, MPI_INT, comm));
    }
    PetscCall(VecGetArrayRead(X, &x));
    if (!pass) {
      PetscCallMPI(MPI_Allgatherv(x, (PetscMPIInt)(b.n * dd), MPIU_REAL, *data, counts, displs, MPIU_REAL, comm));
    } else {
      PetscReal *lv;
      PetscCall(PetscMalloc1(*N, &lv));
      PetscCallMPI(MPI_Allgatherv(x, (PetscMPIInt)b.n, MPIU_REAL, lv, counts, displs, MPIU_REAL, comm));
      PetscCall(PetscMalloc1(*N, labels));
      for (PetscInt i = 0; i < *N; i++) {
        PetscCheck(lv[i] >= 0 && lv[i] == PetscFloorReal(lv[i]) && lv[i] < 1e6, comm, PETSC_ERR_USER_INPUT, "/labels of '%s' must be integers 0, 1, ...; entry %" PetscInt_FMT " is %g", datafile, i, (double)lv[i]);
        (*labels)[i] = (PetscInt)lv[i];
        *nclasses    = PetscMax(*nclasses, (*labels)[i] + 1);
      }
      PetscCall(PetscFree(lv));
    }
    PetscCall(VecRestoreArrayRead(X, &x));
    PetscCall(VecDestroy(&X));
  }
  PetscCall(PetscFree2(counts, displs));
  PetscCallHDF5(H5Fclose(file));
  for (PetscInt i = 0; i < *N * *d; i++) PetscCheck(PetscIsNormalReal((*data)[i]) || (*data)[i] == 0, comm, PETSC_ERR_USER_INPUT, "/%s of '%s' has a non-finite value in row %" PetscInt_FMT, dataset, datafile, i / *d);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmTrainWriteArray_Private(hid_t loc, const char name[], hsize_t n, const PetscReal v[])
{
  hid_t space, dset;

  PetscFunctionBegin;
  PetscCallHDF5(space = H5Screate_simple(1, &n, NULL));
  PetscCallHDF5(dset = H5Dcreate2(loc, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (n) PetscCallHDF5(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
  PetscCallHDF5(H5Dclose(dset));
  PetscCallHDF5(H5Sclose(space));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Read a 1-D double dataset of exactly n entries; 0 on success, 1 if missing or of another size. */
int SgmTrainReadArray_Private(hid_t loc, const char name[], hsize_t n, PetscReal v[])
{
  hid_t   dset, space;
  hsize_t m = 0;
  int     bad;

  if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return 1;
  if ((dset = H5Dopen2(loc, name, H5P_DEFAULT)) < 0) return 1;
  space = H5Dget_space(dset);
  bad   = space < 0 || H5Sget_simple_extent_ndims(space) != 1 || H5Sget_simple_extent_dims(space, &m, NULL) < 0 || m != n;
  if (!bad && n) bad = H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0;
  if (space >= 0) H5Sclose(space);
  H5Dclose(dset);
  return bad;
}

/* Rank 0 writes fname.tmp (attribute checkpoint_kind = kind, then write(file, ctx)) and renames it
   to fname; collective. */
PetscErrorCode SgmTrainCheckpointWrite_Private(MPI_Comm comm, const char fname[], const char kind[], PetscErrorCode (*write)(hid_t, void *), void *ctx)
{
  PetscMPIInt rank;
  int         err = 0;
  char        tmp[PETSC_MAX_PATH_LEN + 8];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.tmp", fname));
  if (!rank) {
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) err = 1;
    else {
      PetscCall(SgmH5AttrString(f, "checkpoint_kind", kind));
      PetscCall((*write)(f, ctx));
      if (H5Fclose(f) < 0 || rename(tmp, fname)) err = 2;
    }
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_WRITE, "Cannot write the training checkpoint '%s' (directory missing, not writable, or disk full)", fname);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* On rank 0 only (not collective): the string attribute name of loc into buf[len] if it exists (buf
   unchanged otherwise).  Returns nonzero if it exists but cannot be read; the caller broadcasts the
   outcome, so no collective error here. */
int SgmTrainReadStringAttr_Private(hid_t loc, const char name[], char buf[], size_t len)
{
  hid_t a, mem;
  int   bad;

  if (H5Aexists(loc, name) <= 0) return 0;
  a   = H5Aopen(loc, name, H5P_DEFAULT);
  mem = H5Tcopy(H5T_C_S1);
  H5Tset_size(mem, len);
  bad = a < 0 || H5Aread(a, mem, buf) < 0;
  buf[len - 1] = 0;
  if (a >= 0) H5Aclose(a);
  H5Tclose(mem);
  return bad;
}

/* On rank 0 only (not collective): open the checkpoint fname read-only into *f and read its kind
   into kind[len]: the attribute checkpoint_kind ("train", "train-ae"); without it "train" if the
   file has the attribute net_type (checkpoints of `sgm train` written before checkpoint_kind
   existed), else "" (not a training checkpoint, or its kind unreadable).  Returns 0, or 1 (and
   *f < 0) if the file cannot be opened. */
int SgmTrainCheckpointOpen_Private(const char fname[], hid_t *f, char kind[], size_t len)
{
  kind[0] = 0;
  *f      = H5Fopen(fname, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (*f < 0) return 1;
  if (H5Aexists(*f, "checkpoint_kind") <= 0) {
    if (H5Aexists(*f, "net_type") > 0) (void)snprintf(kind, len, "train");
    return 0;
  }
  if (SgmTrainReadStringAttr_Private(*f, "checkpoint_kind", kind, len)) kind[0] = 0;
  return 0;
}

/* After a training step (collective): rank 0 raises SIGTERM if step == sigstep (the test hook
   -train_test_signal_step), and *stop says whether SIGTERM/SIGUSR1 reached any rank, so that every
   rank stops at the same step. */
PetscErrorCode SgmTrainSignalStop_Private(MPI_Comm comm, PetscInt step, PetscInt sigstep, PetscBool *stop)
{
  PetscMPIInt rank;
  int         caught;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (step == sigstep && !rank) raise(SIGTERM);
  caught = SgmSignalCaught() ? 1 : 0;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &caught, 1, MPI_INT, MPI_MAX, comm));
  *stop = caught ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}
