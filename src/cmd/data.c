/* `sgm data`: write a built-in 2-D toy dataset (src/data/toy.c, doc/data.md) to one HDF5 file,
   /data [N,2] and /labels [N], the points spread over the ranks and written collectively. */
#include <sgmdata.h>
#include <sgmio.h>
#include "commands.h"

/* /labels [N] (64-bit integers) in global point order; every rank enters, even with no rows. */
static PetscErrorCode WriteLabels(SgmOutput out, const SgmBatch *b, const PetscInt64 labels[])
{
  hsize_t dims = (hsize_t)b->N, start = (hsize_t)b->rstart, count = (hsize_t)b->n;
  hid_t   file, fspace, mspace, dset, dxpl;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_HDF5Write, 0, 0, 0, 0));
  PetscCall(SgmOutputGetFile(out, &file));
  PetscCallHDF5(fspace = H5Screate_simple(1, &dims, NULL));
  dset = H5Dcreate2(file, "labels", H5T_STD_I64LE, fspace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  PetscCheck(dset >= 0, b->comm, PETSC_ERR_FILE_WRITE, "Could not write the labels (disk full or quota exceeded?)");
  PetscCallHDF5(mspace = H5Screate_simple(1, &count, NULL));
  if (count) PetscCallHDF5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL));
  else {
    PetscCallHDF5(H5Sselect_none(fspace));
    PetscCallHDF5(H5Sselect_none(mspace));
  }
  PetscCallHDF5(dxpl = H5Pcreate(H5P_DATASET_XFER));
  PetscCallHDF5(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE));
  PetscCheck(H5Dwrite(dset, H5T_NATIVE_INT64, mspace, fspace, dxpl, labels) >= 0, b->comm, PETSC_ERR_FILE_WRITE, "Could not write the labels (disk full or quota exceeded?)");
  PetscCallHDF5(H5Pclose(dxpl));
  PetscCallHDF5(H5Sclose(mspace));
  PetscCallHDF5(H5Sclose(fspace));
  PetscCallHDF5(H5Dclose(dset));
  PetscCall(PetscLogEventEnd(SGM_HDF5Write, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PrintDatasets(MPI_Comm comm)
{
  PetscInt           n;
  const char *const *names;

  PetscFunctionBegin;
  PetscCall(SgmToyGetNames(&n, &names));
  PetscCall(PetscPrintf(comm, "Datasets (-dataset NAME), definitions in doc/data.md:\n"));
  for (PetscInt k = 0; k < n; k++) {
    const char *help;
    PetscCall(SgmToyGetInfo(comm, names[k], &help, NULL, NULL));
    PetscCall(PetscPrintf(comm, "  %-13s %s\n", names[k], help));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCommandData(MPI_Comm comm)
{
  char            dataset[64] = "", output[PETSC_MAX_PATH_LEN] = "data.h5";
  PetscBool       overwrite = PETSC_FALSE, quiet = PETSC_FALSE, help, allowunused = PETSC_FALSE, left = PETSC_TRUE, leftset;
  PetscInt        N = 10000, seed = 0, nclasses;
  SgmBatch        b;
  SgmOutput       out = NULL;
  Vec             X;
  PetscScalar    *x;
  PetscInt64     *labels = NULL;
  hid_t           file;
  PetscLogDouble  t0, t1;
  PetscMPIInt     size;

  PetscFunctionBegin;
  PetscOptionsBegin(comm, NULL, "sgm data: write a built-in 2-D toy dataset", "sgm");
  PetscCall(PetscOptionsString("-dataset", "Toy dataset: swissroll, moons, checkerboard, 8gaussians, pinwheel or circles (listed below)", "SgmToySampleBatch", dataset, dataset, sizeof(dataset), NULL));
  PetscCall(PetscOptionsInt("-n", "Number of points N", "", N, &N, NULL));
  PetscCall(PetscOptionsInt("-seed", "Seed of the counter-based generator (same seed, same points on any number of ranks)", "", seed, &seed, NULL));
  PetscCall(PetscOptionsString("-output", "HDF5 file to write (/data [N,2], /labels [N], definition and provenance attributes)", "", output, output, sizeof(output), NULL));
  PetscCall(PetscOptionsBool("-overwrite", "Replace the output file if it exists", "", overwrite, &overwrite, NULL));
  PetscCall(PetscOptionsBool("-quiet", "Do not print the run summary", "", quiet, &quiet, NULL));
  PetscCall(PetscOptionsBool("-allow_unused_options", "Run even if an option is used by no part of sgm (by default such an option, e.g. a misspelt one, is an error)", "", allowunused, &allowunused, NULL));
  PetscOptionsEnd();
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) {
    PetscCall(PrintDatasets(comm));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(dataset[0], comm, PETSC_ERR_USER_INPUT, "No dataset given: use -dataset NAME (swissroll, moons, checkerboard, 8gaussians, pinwheel or circles)");
  PetscCall(SgmToyGetInfo(comm, dataset, NULL, NULL, &nclasses));
  PetscCheck(N > 0, comm, PETSC_ERR_USER_INPUT, "-n must be a positive number of points; got %" PetscInt_FMT, N);
  PetscCheck(seed >= 0, comm, PETSC_ERR_USER_INPUT, "-seed must be a non-negative integer; got %" PetscInt_FMT, seed);
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-options_left", &left, &leftset));
  if (!allowunused && !(leftset && !left)) PetscCall(SgmCheckUnusedOptions(comm, "data"));

  PetscCall(SgmBatchCreate(comm, N, 2, &b));
  PetscCall(SgmBatchCreateVec(&b, &X));
  if (nclasses) PetscCall(PetscMalloc1(PetscMax(b.n, 1), &labels)); /* never NULL: a rank with no rows still writes */
  PetscCall(PetscTime(&t0));
  PetscCall(VecGetArray(X, &x));
  PetscCall(SgmToySampleBatch(comm, dataset, (uint64_t)seed, &b, x, labels));
  PetscCall(VecRestoreArray(X, &x));
  PetscCall(PetscTime(&t1));

  PetscCall(SgmOutputCreate(comm, output, overwrite, &out));
  PetscCall(SgmOutputGetFile(out, &file));
  PetscCall(SgmOutputWriteBatch(out, "data", &b, X));
  if (nclasses) PetscCall(WriteLabels(out, &b, labels)); /* collective: every rank, even with no rows */
  PetscCall(SgmOutputWriteProvenance(out, seed));
  PetscCall(SgmToyWriteAttributes(comm, dataset, file));
  PetscCall(SgmH5AttrInt(file, "n", N));
  PetscCall(SgmOutputClose(&out));

  if (!quiet) {
    PetscCallMPI(MPI_Comm_size(comm, &size));
    PetscCall(PetscPrintf(comm, "sgm data: %" PetscInt_FMT " points of %s (seed %" PetscInt_FMT "%s), %d rank(s), %.3f s -> %s\n", N, dataset, seed, nclasses ? ", with /labels" : "", size, t1 - t0, output));
  }
  PetscCall(PetscFree(labels));
  PetscCall(VecDestroy(&X));
  PetscFunctionReturn(PETSC_SUCCESS);
}
