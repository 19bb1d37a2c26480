/* `sgm score`: evaluate a score model at given points and times (to inspect or test a model). */
#include <sgmscore.h>
#include <sgmio.h>
#include "commands.h"

PetscErrorCode SgmCommandScore(MPI_Comm comm)
{
  SgmScore           score;
  SgmOutput          out = NULL;
  char               input[PETSC_MAX_PATH_LEN] = "", output[PETSC_MAX_PATH_LEN] = "score.h5";
  PetscBool          overwrite = PETSC_FALSE, help, allowunused = PETSC_FALSE, left = PETSC_TRUE, leftset, tset, quiet = PETSC_FALSE;
  PetscReal          tall = -1, T, eps;
  PetscInt           dims[2], d, dt[1];
  SgmBatch           b, bt;
  Vec                X, S, Tv;
  hid_t              file;
  SgmSDE             sde;
  const PetscScalar *x, *tv;
  PetscScalar       *s;

  PetscFunctionBegin;
  PetscOptionsBegin(comm, NULL, "sgm score: evaluate a score model at given points", "sgm");
  PetscCall(PetscOptionsString("-input", "HDF5 file with the points /x [N,d] and their times /t [N] (or one time for all with -t)", "", input, input, sizeof(input), NULL));
  PetscCall(PetscOptionsReal("-t", "Evaluate every point at this time instead of /t", "", tall, &tall, &tset));
  PetscCall(PetscOptionsString("-output", "HDF5 file to write: /score [N,d] (and /x, /t copied)", "", output, output, sizeof(output), NULL));
  PetscCall(PetscOptionsBool("-overwrite", "Replace the output file if it exists", "", overwrite, &overwrite, NULL));
  PetscCall(PetscOptionsBool("-quiet", "Do not print the summary", "", quiet, &quiet, NULL));
  PetscCall(PetscOptionsBool("-allow_unused_options", "Run even if an option is used by no part of sgm", "", allowunused, &allowunused, NULL));
  PetscOptionsEnd();
  PetscCall(SgmScoreCreate(comm, &score));
  PetscCall(SgmScoreSetFromOptions(score));
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) {
    PetscCall(SgmScoreDestroy(&score));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SgmScoreSetUp(score));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-options_left", &left, &leftset));
  if (!allowunused && !(leftset && !left)) PetscCall(SgmCheckUnusedOptions(comm, "score"));
  PetscCheck(input[0], comm, PETSC_ERR_USER_INPUT, "Give the points with -input FILE.h5 (datasets /x [N,d] and /t [N], or -t TIME)");
  PetscCall(SgmScoreGetDimension(score, &d));
  PetscCall(SgmScoreGetSDE(score, &sde));
  PetscCall(SgmSDEGetInterval(sde, &eps, &T));
  PetscCall(SgmH5OpenParallel(comm, input, &file));
  PetscCall(SgmH5DatasetShape(comm, file, "x", 2, dims));
  PetscCheck(dims[1] == d, comm, PETSC_ERR_USER_INPUT, "/x of '%s' has %" PetscInt_FMT " columns but the score model has dimension %" PetscInt_FMT, input, dims[1], d);
  PetscCall(SgmBatchCreate(comm, dims[0], d, &b));
  PetscCall(SgmBatchCreate(comm, dims[0], 1, &bt));
  PetscCall(SgmBatchCreateVec(&b, &X));
  PetscCall(VecDuplicate(X, &S));
  PetscCall(SgmBatchCreateVec(&bt, &Tv));
  PetscCall(SgmH5ReadBatch(file, "x", &b, X));
  if (tset) PetscCall(VecSet(Tv, tall));
  else {
    PetscCall(SgmH5DatasetShape(comm, file, "t", 1, dt));
    PetscCheck(dt[0] == dims[0], comm, PETSC_ERR_USER_INPUT, "/t of '%s' has %" PetscInt_FMT " entries but /x has %" PetscInt_FMT " rows", input, dt[0], dims[0]);
    PetscCall(SgmH5ReadBatch(file, "t", &bt, Tv));
  }
  PetscCallHDF5(H5Fclose(file));
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(VecGetArrayRead(Tv, &tv));
  PetscCall(VecGetArray(S, &s));
  for (PetscInt i = 0; i < b.n;) { /* one evaluation per run of equal times */
    PetscInt j = i + 1;
    PetscCheck(tv[i] > 0 && tv[i] <= T, comm, PETSC_ERR_USER_INPUT, "Time %g of point %" PetscInt_FMT " is outside (0, T = %g]", (double)tv[i], b.rstart + i, (double)T);
    while (j < b.n && tv[j] == tv[i]) j++;
    PetscCall(SgmScoreApplyArray(score, tv[i], j - i, x + i * d, s + i * d));
    i = j;
  }
  PetscCall(VecRestoreArray(S, &s));
  PetscCall(VecRestoreArrayRead(Tv, &tv));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCall(SgmOutputCreate(comm, output, overwrite, &out));
  PetscCall(SgmOutputWriteBatch(out, "score", &b, S));
  PetscCall(SgmOutputWriteBatch(out, "x", &b, X));
  PetscCall(SgmOutputWriteBatch(out, "t", &bt, Tv));
  PetscCall(SgmOutputGetFile(out, &file));
  PetscCall(SgmScoreWriteAttributes(score, file));
  PetscCall(SgmOutputWriteProvenance(out, 0));
  PetscCall(SgmOutputClose(&out));
  if (!quiet) PetscCall(PetscPrintf(comm, "sgm score: %" PetscInt_FMT " points of dimension %" PetscInt_FMT " -> %s\n", b.N, d, output));
  PetscCall(VecDestroy(&X));
  PetscCall(VecDestroy(&S));
  PetscCall(VecDestroy(&Tv));
  PetscCall(SgmScoreDestroy(&score));
  PetscFunctionReturn(PETSC_SUCCESS);
}
