/*
  SgmCloudAE: the equivariant autoencoder of GeoLDM (Xu et al. 2023; doc/geometric.md, "GeoLDM") for
  point clouds of natoms atoms in sx dimensions without atom types.  Encoder and decoder are egnn
  networks (src/nn/impls/egnn/egnn.c) with time input 0:
      encoder  x [n sx]           -> mu = (mu_x, mu_h) [n (sx + k)]: mu_x = P(x^L - x^0) equivariant
                                     with zero CoM, mu_h = W_out h^L + b_out invariant (k per atom);
      decoder  z = (z_x, z_h)     -> x_hat = P(z_x^L - z_x^0) [n sx], equivariant, zero CoM.
  q(z|x) = N(mu, sigma_0^2) with a fixed sigma_0 (-ae_latent_sigma) on the zero-CoM subspace for z_x,
  and the loss per cloud is GeoLDM's with its KL to N(0, I) at fixed variance (constants dropped):
      l = ||x_hat(mu + sigma_0 P eps) - x||^2 + w_KL ||mu||^2 / 2         (w_KL: -ae_kl_weight).
  Exact gradients by the egnn adjoint through decoder (to its input) and encoder.
*/
#pragma once

#include <sgmnet.h>

typedef struct _p_SgmCloudAE *SgmCloudAE;

PETSC_EXTERN PetscErrorCode SgmCloudAECreate(MPI_Comm, SgmCloudAE *);
PETSC_EXTERN PetscErrorCode SgmCloudAESetFromOptions(SgmCloudAE);
PETSC_EXTERN PetscErrorCode SgmCloudAESetUp(SgmCloudAE, PetscInt);
PETSC_EXTERN PetscErrorCode SgmCloudAEInitialize(SgmCloudAE, uint64_t);
PETSC_EXTERN PetscErrorCode SgmCloudAEGetSizes(SgmCloudAE, PetscInt *, PetscInt *, PetscInt *);
PETSC_EXTERN PetscErrorCode SgmCloudAEGetParameters(SgmCloudAE, PetscInt *, PetscReal **, PetscInt *, PetscReal **);
PETSC_EXTERN PetscErrorCode SgmCloudAEGetRegularization(SgmCloudAE, PetscReal *, PetscReal *);
PETSC_EXTERN PetscErrorCode SgmCloudAEGetDecoder(SgmCloudAE, SgmNet *);
PETSC_EXTERN PetscErrorCode SgmCloudAEEncode(SgmCloudAE, PetscInt, const PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmCloudAEDecode(SgmCloudAE, PetscInt, const PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmCloudAELoss(SgmCloudAE, PetscInt, const PetscReal[], const PetscReal[], PetscReal *, PetscReal *, PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmCloudAESave(SgmCloudAE, hid_t);
PETSC_EXTERN PetscErrorCode SgmCloudAELoad(SgmCloudAE, hid_t);
PETSC_EXTERN PetscErrorCode SgmCloudAEView(SgmCloudAE, PetscViewer);
PETSC_EXTERN PetscErrorCode SgmCloudAEDestroy(SgmCloudAE *);
/* the decoder alone, as `sgm sample` applies it to latent samples: x [nb n sx] from z [nb n (sx + k)] */
PETSC_EXTERN PetscErrorCode SgmNetCloudDecode(SgmNet, PetscInt, const PetscReal[], PetscReal[]);
