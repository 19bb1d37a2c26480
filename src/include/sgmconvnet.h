/*
  SgmConvNet: a small convolutional score network for field batches (doc/fields.md, "A learned local
  score").  L layers of (2r+1)^dim box-stencil convolutions, C channels, SiLU, a time embedding that
  adds a per-channel bias to every hidden layer; the output F predicts the noise, s = -F / sigma.
  A layer's input is ghost-exchanged on a DMDA of stencil width r (dof = its channels) before the
  stencil is applied, so every output point is the same fixed-order sum on any process grid.
  The parameters are one flat array, the same on every rank.
*/
#pragma once

#include <sgmfield.h>

typedef struct _n_SgmConvNet *SgmConvNet;

PETSC_EXTERN PetscErrorCode SgmConvNetCreate(MPI_Comm, SgmConvNet *);
PETSC_EXTERN PetscErrorCode SgmConvNetSetFromOptions(SgmConvNet);
PETSC_EXTERN PetscErrorCode SgmConvNetSetSigmaData(SgmConvNet, PetscReal);
PETSC_EXTERN PetscErrorCode SgmConvNetSetUp(SgmConvNet, SgmField);
PETSC_EXTERN PetscErrorCode SgmConvNetInitialize(SgmConvNet, uint64_t);
PETSC_EXTERN PetscErrorCode SgmConvNetGetParameters(SgmConvNet, PetscInt *, PetscReal **);
/* s[b] = score of the n local field blocks x[b] at (alpha[b], sigma[b]); collective */
PETSC_EXTERN PetscErrorCode SgmConvNetScore(SgmConvNet, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], PetscReal[]);
/*
  DSM loss with weight sigma^2, sum over the n fields and this rank's points of
  sigma^2 ||s(x_t) + eps / sigma||^2 = ||F(x_t) - eps||^2, x_t = alpha x0 + sigma eps, and its
  gradient with respect to theta ADDED to grad[P] (this rank's share: sum it over the ranks).  Collective.
*/
PETSC_EXTERN PetscErrorCode SgmConvNetLossDSM(SgmConvNet, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[], PetscReal *, PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmConvNetSave(SgmConvNet, hid_t, const PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmConvNetLoad(SgmConvNet, const char[], const char[]);
PETSC_EXTERN PetscErrorCode SgmConvNetView(SgmConvNet, PetscViewer);
PETSC_EXTERN PetscErrorCode SgmConvNetDestroy(SgmConvNet *);

/* The score type of a trained SgmConvNet: -score_type convnet -score_file model.h5 */
#define SGMSCORECONVNET "convnet"
