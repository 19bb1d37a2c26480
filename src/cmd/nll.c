/* `sgm nll`: negative log-likelihood of data points through the probability-flow ODE. */
#include <sgmnll.h>
#include "commands.h"

PetscErrorCode SgmCommandNLL(MPI_Comm comm)
{
  SgmNLL          nll;
  SgmScore        score;
  SgmOutput       out = NULL;
  char            data[PETSC_MAX_PATH_LEN] = "", dset[256] = "", output[PETSC_MAX_PATH_LEN] = "nll.h5";
  PetscBool       overwrite = PETSC_FALSE, quiet = PETSC_FALSE, help;
  PetscInt        dims[2], d;
  hid_t           in, file;
  Vec             X;
  const SgmBatch *b;
  PetscLogDouble  t0, t1;
  PetscInt64      nfe, njvp;
  PetscMPIInt     size;

  PetscFunctionBegin;
  PetscOptionsBegin(comm, NULL, "sgm nll: negative log-likelihood by the probability-flow ODE", "sgm");
  PetscCall(PetscOptionsString("-nll_data", "HDF5 file with the points (a /data [N,d] dataset, or the /samples of an sgm sample run)", "", data, data, sizeof(data), NULL));
  PetscCall(PetscOptionsString("-nll_dataset", "Dataset of points in -nll_data (default /data, else /samples)", "", dset, dset, sizeof(dset), NULL));
  PetscCall(PetscOptionsString("-output", "HDF5 file to write (/nll, /nll_se, /bits_per_dim, summary attributes)", "", output, output, sizeof(output), NULL));
  PetscCall(PetscOptionsBool("-overwrite", "Replace the output file if it exists", "", overwrite, &overwrite, NULL));
  PetscCall(PetscOptionsBool("-quiet", "Do not print the run summary", "", quiet, &quiet, NULL));
  PetscOptionsEnd();
  PetscCall(SgmNLLCreate(comm, &nll));
  PetscCall(SgmNLLSetFromOptions(nll));
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) {
    PetscCall(SgmNLLDestroy(&nll));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(data[0], comm, PETSC_ERR_USER_INPUT, "No data given: use -nll_data FILE.h5 (a /data [N,d] dataset)");
  PetscCall(SgmH5OpenParallel(comm, data, &in));
  if (!dset[0]) PetscCall(PetscStrcpy(dset, H5Lexists(in, "data", H5P_DEFAULT) > 0 ? "data" : "samples"));
  PetscCall(SgmH5DatasetShape(comm, in, dset, 2, dims));
  PetscCall(SgmNLLGetScore(nll, &score));
  PetscCall(SgmScoreGetDimension(score, &d));
  PetscCheck(dims[1] == d, comm, PETSC_ERR_ARG_SIZ, "The points '%s' in '%s' have dimension %" PetscInt_FMT " but the score model has %" PetscInt_FMT, dset, data, dims[1], d);
  PetscCheck(dims[0] > 0, comm, PETSC_ERR_USER_INPUT, "The dataset '%s' in '%s' has no points", dset, data);
  PetscCall(SgmNLLSetUp(nll, dims[0]));
  {
    PetscBool allow = PETSC_FALSE, left = PETSC_TRUE, leftset;
    PetscCall(PetscOptionsGetBool(NULL, NULL, "-allow_unused_options", &allow, NULL));
    PetscCall(PetscOptionsGetBool(NULL, NULL, "-options_left", &left, &leftset));
    if (!allow && !(leftset && !left)) PetscCall(SgmCheckUnusedOptions(comm, "nll"));
  }
  PetscCall(SgmNLLGetBatch(nll, &b));
  PetscCall(SgmBatchCreateVec(b, &X));
  PetscCall(SgmH5ReadBatch(in, dset, b, X));
  PetscCallHDF5(H5Fclose(in));
  PetscCall(SgmOutputCreate(comm, output, overwrite, &out));
  PetscCall(PetscObjectViewFromOptions((PetscObject)nll, NULL, "-nll_view"));

  PetscCall(PetscTime(&t0));
  PetscCall(SgmNLLSolve(nll, X));
  PetscCall(PetscTime(&t1));

  PetscCall(SgmOutputGetFile(out, &file));
  PetscCall(SgmNLLWrite(nll, out));
  {
    PetscInt64 seed = 0;
    PetscInt   s    = 0;
    PetscCall(PetscOptionsGetInt(NULL, NULL, "-seed", &s, NULL));
    seed = s;
    PetscCall(SgmOutputWriteProvenance(out, seed));
  }
  PetscCall(SgmH5AttrString(file, "nll_data", data));
  PetscCall(SgmH5AttrString(file, "nll_dataset", dset));
  PetscCall(SgmH5AttrReal(file, "wall_time_seconds", t1 - t0));
  if (!quiet) {
    double mean, mse, bpd, ese;
    hid_t  a;
    PetscCallHDF5(a = H5Aopen(file, "nll_mean", H5P_DEFAULT));
    PetscCallHDF5(H5Aread(a, H5T_NATIVE_DOUBLE, &mean));
    PetscCallHDF5(H5Aclose(a));
    PetscCallHDF5(a = H5Aopen(file, "nll_mean_se", H5P_DEFAULT));
    PetscCallHDF5(H5Aread(a, H5T_NATIVE_DOUBLE, &mse));
    PetscCallHDF5(H5Aclose(a));
    PetscCallHDF5(a = H5Aopen(file, "bits_per_dim_mean", H5P_DEFAULT));
    PetscCallHDF5(H5Aread(a, H5T_NATIVE_DOUBLE, &bpd));
    PetscCallHDF5(H5Aclose(a));
    PetscCallHDF5(a = H5Aopen(file, "nll_estimator_se", H5P_DEFAULT));
    PetscCallHDF5(H5Aread(a, H5T_NATIVE_DOUBLE, &ese));
    PetscCallHDF5(H5Aclose(a));
    PetscCall(SgmNLLGetNFE(nll, &nfe, &njvp));
    PetscCallMPI(MPI_Comm_size(comm, &size));
    PetscCall(PetscPrintf(comm, "sgm nll: %" PetscInt_FMT " points of dimension %" PetscInt_FMT ", NLL %.6g nats (+- %.2g over points, +- %.2g estimator), %.6g bits/dim, NFE %" PetscInt64_FMT ", JVP %" PetscInt64_FMT ", %d rank(s), %.3f s -> %s\n", dims[0], d, mean, mse, ese, bpd, nfe, njvp, size, t1 - t0, output));
    {
      PetscInt na, sd;
      PetscCall(SgmScoreGetZeroCoM(score, &na, &sd));
      if (na) {
        double commax;
        PetscCallHDF5(a = H5Aopen(file, "nll_data_com_max", H5P_DEFAULT));
        PetscCallHDF5(H5Aread(a, H5T_NATIVE_DOUBLE, &commax));
        PetscCallHDF5(H5Aclose(a));
        PetscCall(PetscPrintf(comm, "  zero-CoM point clouds: %" PetscInt_FMT " atoms in %" PetscInt_FMT "-D, density on the %" PetscInt_FMT "-dimensional subspace; largest data CoM coordinate removed %.3g\n", na, sd, (na - 1) * sd, commax));
      }
    }
  }
  PetscCall(SgmOutputClose(&out));
  PetscCall(VecDestroy(&X));
  PetscCall(SgmNLLDestroy(&nll));
  PetscFunctionReturn(PETSC_SUCCESS);
}
