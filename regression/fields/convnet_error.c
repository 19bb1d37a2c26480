/*
  Relative error of a trained convolutional score network against the exact GMRF score, per noise
  level (doc/fields.md, "A learned local score"):

      err(t) = || s_theta(x_t, t) - s(x_t, t) || / || s(x_t, t) ||,  x_t = alpha x_0 + sigma eps,

  norms over all points of all test fields; x_0 = /samples of -test_data (fields not used in
  training), eps from the counter-based generator.  The exact score is -score_type gmrf with the
  -gmrf_* options, the network -score_file model.h5; both read -field_grid and the -sde_ options.
  Prints one line per time of -times t1,t2,...  (a few seconds for 64 fields of 64^2).
*/
#include <sgm/private/scoreimpl.h>
#include <sgmconvnet.h>
#include <sgmio.h>

int main(int argc, char **argv)
{
  MPI_Comm  comm;
  SgmScore  ex, nn;
  SgmBatch  b;
  Vec       X0, E, Xt, S, Sn;
  hid_t     file;
  char      data[PETSC_MAX_PATH_LEN] = "";
  PetscReal times[32] = {1e-3, 0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0};
  PetscInt  nt = 9, dims[4];

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  comm = PETSC_COMM_WORLD;
  PetscCall(SgmInitializePackage());
  PetscOptionsBegin(comm, NULL, "convnet_error", "");
  PetscCall(PetscOptionsString("-test_data", "HDF5 file of test fields (/samples)", "", data, data, sizeof(data), NULL));
  PetscCall(PetscOptionsRealArray("-times", "Times t at which to compare", "", times, &nt, NULL));
  PetscOptionsEnd();
  PetscCall(SgmScoreCreate(comm, &ex));
  PetscCall(SgmScoreSetType(ex, SGMSCOREGMRF));
  PetscCall(SgmScoreSetFromOptions(ex));
  PetscCall(SgmScoreSetUp(ex));
  PetscCall(SgmScoreCreate(comm, &nn));
  PetscCall(SgmScoreSetType(nn, SGMSCORECONVNET));
  PetscCall(SgmScoreSetFromOptions(nn));
  PetscCall(SgmScoreSetUp(nn));
  PetscCall(SgmH5OpenParallel(comm, data, &file));
  PetscCall(SgmH5DatasetShape(comm, file, "samples", ex->field->dim + 1, dims));
  PetscCall(SgmBatchCreateField(comm, dims[0], ex->field, &b));
  PetscCall(SgmBatchCreateVec(&b, &X0));
  PetscCall(SgmH5ReadBatch(file, "samples", &b, X0));
  PetscCallHDF5(H5Fclose(file));
  PetscCall(VecDuplicate(X0, &E));
  PetscCall(VecDuplicate(X0, &Xt));
  PetscCall(VecDuplicate(X0, &S));
  PetscCall(VecDuplicate(X0, &Sn));
  PetscCall(PetscPrintf(comm, "%" PetscInt_FMT " test fields of %" PetscInt_FMT " points\n       t      alpha      sigma   |s| rms   rel. error\n", dims[0], ex->field->ngrid));
  for (PetscInt i = 0; i < nt; i++) {
    PetscReal    a, s, ns, nd;
    PetscScalar *e;
    PetscCall(SgmSDEMarginal(ex->sde, times[i], &a, &s));
    PetscCall(VecGetArrayWrite(E, &e));
    PetscCall(SgmRandomNormalBatch(77, SGM_STREAM_PRIOR, i, &b, e));
    PetscCall(VecRestoreArrayWrite(E, &e));
    PetscCall(VecAXPBYPCZ(Xt, a, s, 0, X0, E));
    PetscCall(SgmScoreApply(ex, times[i], &b, Xt, S));
    PetscCall(SgmScoreApply(nn, times[i], &b, Xt, Sn));
    PetscCall(VecNorm(S, NORM_2, &ns));
    PetscCall(VecAXPY(Sn, -1, S));
    PetscCall(VecNorm(Sn, NORM_2, &nd));
    PetscCall(PetscPrintf(comm, "%8.4g  %9.4g  %9.4g  %8.4g  %10.4f\n", (double)times[i], (double)a, (double)s, (double)(ns / PetscSqrtReal((PetscReal)dims[0] * ex->field->ngrid)), (double)(nd / ns)));
  }
  PetscCall(VecDestroy(&X0));
  PetscCall(VecDestroy(&E));
  PetscCall(VecDestroy(&Xt));
  PetscCall(VecDestroy(&S));
  PetscCall(VecDestroy(&Sn));
  PetscCall(SgmScoreDestroy(&ex));
  PetscCall(SgmScoreDestroy(&nn));
  PetscCall(PetscFinalize());
  return 0;
}
