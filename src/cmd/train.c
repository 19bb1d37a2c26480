/* `sgm train`: train a score network on an HDF5 dataset and write the model file (doc/training.md). */
#include <sgmtrain.h>
#include <sgmio.h>
#include <sgmsampler.h>
#include "commands.h"

PetscErrorCode SgmCommandTrain(MPI_Comm comm)
{
  SgmTrainer     tr;
  SgmOutput      out = NULL;
  char           output[PETSC_MAX_PATH_LEN] = "model.h5", restart[PETSC_MAX_PATH_LEN] = "", ckpt[PETSC_MAX_PATH_LEN + 8] = "";
  PetscBool      overwrite = PETSC_FALSE, help, view, quiet = PETSC_FALSE, allowunused = PETSC_FALSE, left = PETSC_TRUE, leftset, hasckpt, interrupted;
  PetscInt       step, steps;
  PetscInt64     seed = 1;
  PetscLogDouble t0, t1;
  hid_t          file;

  PetscFunctionBegin;
  PetscOptionsBegin(comm, NULL, "sgm train: train a score network", "sgm");
  PetscCall(PetscOptionsString("-output", "HDF5 model file to write (/model = EMA weights, /model_raw, /train/loss, provenance)", "", output, output, sizeof(output), NULL));
  PetscCall(PetscOptionsBool("-overwrite", "Replace the output file if it exists", "", overwrite, &overwrite, NULL));
  PetscCall(PetscOptionsBool("-quiet", "Print neither progress lines nor the summary", "", quiet, &quiet, NULL));
  PetscCall(PetscOptionsBool("-allow_unused_options", "Run even if an option is used by no part of sgm (by default such an option, e.g. a misspelt one, is an error)", "", allowunused, &allowunused, NULL));
  PetscCall(PetscOptionsString("-train_checkpoint", "Checkpoint file (default: OUTPUT.ckpt); written at the end, every -train_checkpoint_every steps and on SIGTERM/SIGUSR1", "SgmTrainerSetCheckpoint", ckpt, ckpt, sizeof(ckpt), &hasckpt));
  PetscCall(PetscOptionsName("-train_view", "Print the trainer, its network and SDE before training", "SgmTrainerView", NULL));
  PetscCall(PetscOptionsString("-restart", "Continue training from this checkpoint (same options; -train_steps is the new total)", "SgmTrainerRestart", restart, restart, sizeof(restart), NULL));
  PetscOptionsEnd();
  if (!hasckpt) PetscCall(PetscSNPrintf(ckpt, sizeof(ckpt), "%s.ckpt", output));

  PetscCall(SgmTrainerCreate(comm, &tr));
  PetscCall(SgmTrainerSetFromOptions(tr));
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) {
    PetscCall(SgmTrainerDestroy(&tr));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (quiet) PetscCall(PetscOptionsSetValue(NULL, "-train_log_every", "0"));
  if (quiet) PetscCall(SgmTrainerSetFromOptions(tr));
  PetscCall(SgmTrainerSetCheckpoint(tr, ckpt));
  PetscCall(SgmTrainerSetUp(tr)); /* every input is checked before a file is created */
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-options_left", &left, &leftset));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-train_view", &view)); /* used below, after the check */
  if (!allowunused && !(leftset && !left)) PetscCall(SgmCheckUnusedOptions(comm, "train"));
  if (restart[0]) PetscCall(SgmTrainerRestart(tr, restart));
  PetscCall(SgmOutputCreate(comm, output, overwrite, &out));
  if (view) PetscCall(PetscObjectViewFromOptions((PetscObject)tr, NULL, "-train_view"));

  PetscCall(PetscTime(&t0));
  PetscCall(SgmTrainerTrain(tr));
  PetscCall(PetscTime(&t1));
  PetscCall(SgmTrainerGetStep(tr, &step, &steps));
  PetscCall(SgmTrainerGetInterrupted(tr, &interrupted));
  if (interrupted) {
    PetscCall(SgmOutputDiscard(&out));
    PetscCall(PetscPrintf(comm, "sgm train: stopped by a signal after step %" PetscInt_FMT " of %" PetscInt_FMT "; resume with the same options and -restart %s\n", step, steps, ckpt));
    PetscCall(SgmTrainerDestroy(&tr));
    SgmExitStatus = SGM_EXIT_CHECKPOINTED;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SgmTrainerWriteCheckpoint(tr, ckpt)); /* to continue training later */
  PetscCall(SgmOutputGetFile(out, &file));
  PetscCall(SgmTrainerWriteModel(tr, file));
  {
    PetscInt sd = 1;
    PetscCall(PetscOptionsGetInt(NULL, NULL, "-train_seed", &sd, NULL));
    seed = sd;
  }
  PetscCall(SgmOutputWriteProvenance(out, seed));
  PetscCall(SgmH5AttrReal(file, "wall_time_seconds", t1 - t0));
  PetscCall(SgmOutputClose(&out));
  if (!quiet) {
    PetscReal   sum;
    PetscMPIInt size;
    PetscCall(SgmTrainerGetChecksum(tr, &sum));
    PetscCallMPI(MPI_Comm_size(comm, &size));
    PetscCall(PetscPrintf(comm, "sgm train: %" PetscInt_FMT " steps, %d rank(s), %.3f s, weight checksum %.17g -> %s (checkpoint %s)\n", step, size, t1 - t0, (double)sum, output, ckpt));
  }
  PetscCall(SgmTrainerDestroy(&tr));
  PetscFunctionReturn(PETSC_SUCCESS);
}
