/*
  The GeoLDM autoencoder (sgmae.h): two egnn networks sharing the options prefix ae_ (-ae_net_width,
  -ae_net_depth, -ae_net_atoms), the encoder with k output features and the decoder with k input
  features (SgmNetSetCloudFeatures).  Passes go in chunks of the egnn tape (SgmNetCloudChunk_Private);
  the loss of a chunk runs encoder and decoder forward, then the decoder adjoint down to z and the
  encoder adjoint to its parameters.  File layout (SgmCloudAESave): the group holds the attributes
  ae_atoms, ae_coordinates, ae_latent_features, ae_latent_sigma, ae_kl_weight and the subgroups
  encoder/ and decoder/ written by SgmNetSave.
*/
#include <sgm/private/netimpl.h>
#include <sgmae.h>
#include <sgmio.h>
#include <sgmgeometric.h>

struct _p_SgmCloudAE {
  MPI_Comm  comm;
  SgmNet    enc, dec;
  PetscInt  n, sx, k; /* atoms, coordinates and latent features per atom */
  PetscReal sigma0, klw;
  PetscBool setupcalled;
};

PetscErrorCode SgmCloudAECreate(MPI_Comm comm, SgmCloudAE *ae)
{
  SgmCloudAE a;

  PetscFunctionBegin;
  PetscCall(PetscNew(&a));
  a->comm   = comm;
  a->k      = 1;
  a->sigma0 = 0.1;
  a->klw    = 0.01;
  PetscCall(SgmNetCreate(comm, &a->enc));
  PetscCall(SgmNetCreate(comm, &a->dec));
  PetscCall(PetscObjectSetOptionsPrefix((PetscObject)a->enc, "ae_"));
  PetscCall(PetscObjectSetOptionsPrefix((PetscObject)a->dec, "ae_"));
  PetscCall(SgmNetSetType(a->enc, SGMNETEGNN));
  PetscCall(SgmNetSetType(a->dec, SGMNETEGNN));
  *ae = a;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCloudAESetFromOptions(SgmCloudAE ae)
{
  PetscFunctionBegin;
  PetscOptionsBegin(ae->comm, NULL, "GeoLDM autoencoder (sgm train-ae) options", "SgmCloudAE");
  PetscCall(PetscOptionsInt("-ae_latent_features", "Invariant latent features z_h per atom (k of GeoLDM)", "SgmCloudAESetUp", ae->k, &ae->k, NULL));
  PetscCall(PetscOptionsReal("-ae_latent_sigma", "Fixed standard deviation sigma_0 of q(z|x) = N(mu(x), sigma_0^2) in training (0: a deterministic autoencoder)", "SgmCloudAELoss", ae->sigma0, &ae->sigma0, NULL));
  PetscCall(PetscOptionsReal("-ae_kl_weight", "Weight of the KL term ||mu||^2/2 of q(z|x) against N(0, I) in the autoencoder loss", "SgmCloudAELoss", ae->klw, &ae->klw, NULL));
  PetscOptionsEnd();
  PetscCheck(ae->k >= 0, ae->comm, PETSC_ERR_USER_INPUT, "-ae_latent_features must be >= 0; got %" PetscInt_FMT, ae->k);
  PetscCheck(ae->sigma0 >= 0 && ae->klw >= 0, ae->comm, PETSC_ERR_USER_INPUT, "-ae_latent_sigma and -ae_kl_weight must be >= 0; got %g and %g", (double)ae->sigma0, (double)ae->klw);
  /* the network options that do not apply to the autoencoder's parts (no time input, no output
     parameterisation): refused rather than silently ignored */
  {
    const char *const unused[] = {"-ae_net_output", "-ae_net_time_input", "-ae_net_sigma_data"};
    for (size_t i = 0; i < sizeof(unused) / sizeof(unused[0]); i++) {
      PetscBool set;
      PetscCall(PetscOptionsHasName(NULL, NULL, unused[i], &set));
      PetscCheck(!set, ae->comm, PETSC_ERR_USER_INPUT, "%s does not apply to the GeoLDM autoencoder (its networks have no time input and output coordinate displacements): remove it", unused[i]);
    }
  }
  PetscCall(SgmNetSetFromOptions(ae->enc));
  PetscCall(SgmNetSetFromOptions(ae->dec));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* d: the data dimension n sx (the atoms from -ae_net_atoms) */
PetscErrorCode SgmCloudAESetUp(SgmCloudAE ae, PetscInt d)
{
  PetscInt n;

  PetscFunctionBegin;
  if (ae->setupcalled) PetscFunctionReturn(PETSC_SUCCESS);
  for (int i = 0; i < 2; i++) {
    SgmNet    net = i ? ae->dec : ae->enc;
    PetscBool egnn;
    PetscCall(PetscObjectTypeCompare((PetscObject)net, SGMNETEGNN, &egnn));
    PetscCheck(egnn, ae->comm, PETSC_ERR_USER_INPUT, "The GeoLDM autoencoder is made of egnn networks: remove -ae_net_type %s", ((PetscObject)net)->type_name);
    PetscCheck(!net->kin && !net->kout, ae->comm, PETSC_ERR_USER_INPUT, "-ae_net_egnn_features does not apply to the autoencoder: its latent features are -ae_latent_features");
  }
  PetscCall(SgmNetGetAtoms(ae->enc, &n, NULL));
  PetscCheck(n >= 2, ae->comm, PETSC_ERR_USER_INPUT, "The autoencoder needs the number of atoms of a cloud: give -ae_net_atoms n (e.g. 4 for DW4)");
  PetscCheck(d % n == 0, ae->comm, PETSC_ERR_USER_INPUT, "-ae_net_atoms %" PetscInt_FMT " does not divide the data dimension %" PetscInt_FMT, n, d);
  ae->n  = n;
  ae->sx = d / n;
  PetscCall(SgmNetSetAtoms(ae->dec, n));
  PetscCall(SgmNetSetDimension(ae->enc, d));
  PetscCall(SgmNetSetDimension(ae->dec, n * (ae->sx + ae->k)));
  PetscCall(SgmNetSetCloudFeatures(ae->enc, 0, ae->k));
  PetscCall(SgmNetSetCloudFeatures(ae->dec, ae->k, 0));
  PetscCall(SgmNetSetUp(ae->enc));
  PetscCall(SgmNetSetUp(ae->dec));
  ae->setupcalled = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCloudAEInitialize(SgmCloudAE ae, uint64_t seed)
{
  PetscFunctionBegin;
  PetscCall(SgmNetInitialize(ae->enc, seed));
  PetscCall(SgmNetInitialize(ae->dec, seed + 1));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCloudAEGetSizes(SgmCloudAE ae, PetscInt *n, PetscInt *sx, PetscInt *k)
{
  PetscFunctionBegin;
  if (n) *n = ae->n;
  if (sx) *sx = ae->sx;
  if (k) *k = ae->k;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCloudAEGetParameters(SgmCloudAE ae, PetscInt *Pe, PetscReal **te, PetscInt *Pd, PetscReal **td)
{
  PetscFunctionBegin;
  PetscCall(SgmNetGetParameters(ae->enc, Pe, te));
  PetscCall(SgmNetGetParameters(ae->dec, Pd, td));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCloudAEGetRegularization(SgmCloudAE ae, PetscReal *sigma0, PetscReal *klw)
{
  PetscFunctionBegin;
  if (sigma0) *sigma0 = ae->sigma0;
  if (klw) *klw = ae->klw;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCloudAEGetDecoder(SgmCloudAE ae, SgmNet *dec)
{
  PetscFunctionBegin;
  *dec = ae->dec;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the mean of q(z|x): z [nb n (sx + k)] */
PetscErrorCode SgmCloudAEEncode(SgmCloudAE ae, PetscInt nb, const PetscReal x[], PetscReal z[])
{
  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_NetForward, ae->enc, 0, 0, 0));
  PetscCall(SgmNetEGNNApply_Private(ae->enc, nb, x, z));
  PetscCall(PetscLogEventEnd(SGM_NetForward, ae->enc, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetCloudDecode(SgmNet dec, PetscInt nb, const PetscReal z[], PetscReal x[])
{
  PetscBool egnn;

  PetscFunctionBegin;
  PetscCall(PetscObjectTypeCompare((PetscObject)dec, SGMNETEGNN, &egnn));
  PetscCheck(egnn && dec->kout == 0, PetscObjectComm((PetscObject)dec), PETSC_ERR_ARG_WRONG, "Not the decoder of a GeoLDM autoencoder (an egnn network without output features)");
  PetscCall(PetscLogEventBegin(SGM_NetForward, dec, 0, 0, 0));
  PetscCall(SgmNetEGNNApply_Private(dec, nb, z, x));
  PetscCall(PetscLogEventEnd(SGM_NetForward, dec, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCloudAEDecode(SgmCloudAE ae, PetscInt nb, const PetscReal z[], PetscReal x[])
{
  PetscFunctionBegin;
  PetscCall(SgmNetCloudDecode(ae->dec, nb, z, x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Sum over nb clouds x [nb n sx] (centred) of l = ||D(mu + sigma_0 eps) - x||^2 + w_KL ||mu||^2/2, the
  sum of the squared errors alone in *sqerr, and the gradient ADDED to grad [Pe + Pd] (encoder
  parameters first; NULL: values only).  eps [nb n (sx + k)]: the latent noise, its coordinate part
  already projected to zero CoM (NULL or sigma_0 = 0: z = mu).
*/
PetscErrorCode SgmCloudAELoss(SgmCloudAE ae, PetscInt nb, const PetscReal x[], const PetscReal eps[], PetscReal *loss, PetscReal *sqerr, PetscReal grad[])
{
  const PetscInt n = ae->n, sx = ae->sx, sl = sx + ae->k, dx = n * sx, dz = n * sl;
  PetscInt       ns, Pe;
  PetscReal      tot = 0, se = 0, *mu, *z, *xh, *xb, *zb;

  PetscFunctionBegin;
  PetscCheck(ae->setupcalled, ae->comm, PETSC_ERR_ORDER, "Call SgmCloudAESetUp() first");
  PetscCall(SgmNetGetParameters(ae->enc, &Pe, NULL));
  PetscCall(SgmNetCloudChunk_Private(ae->enc, PetscMax(nb, 1), &ns));
  PetscCall(PetscMalloc5(ns * dz, &mu, ns * dz, &z, ns * dx, &xh, ns * dx, &xb, ns * dz, &zb));
  for (PetscInt b0 = 0; b0 < nb; b0 += ns) {
    const PetscInt nc = PetscMin(ns, nb - b0);
    PetscCall(PetscLogEventBegin(SGM_NetForward, ae->enc, 0, 0, 0));
    PetscCall(SgmNetEGNNApply_Private(ae->enc, nc, x + b0 * dx, mu));
    for (PetscInt q = 0; q < nc * dz; q++) z[q] = mu[q] + (eps ? ae->sigma0 * eps[b0 * dz + q] : 0);
    PetscCall(SgmNetEGNNApply_Private(ae->dec, nc, z, xh));
    PetscCall(PetscLogEventEnd(SGM_NetForward, ae->enc, 0, 0, 0));
    for (PetscInt q = 0; q < nc * dx; q++) {
      const PetscReal r = xh[q] - x[b0 * dx + q];
      se += r * r;
      xb[q] = 2 * r;
    }
    for (PetscInt q = 0; q < nc * dz; q++) tot += 0.5 * ae->klw * mu[q] * mu[q];
    if (grad) {
      PetscCall(PetscLogEventBegin(SGM_NetBackward, ae->enc, 0, 0, 0));
      PetscCall(SgmNetEGNNAdjoint_Private(ae->dec, nc, xb, grad + Pe, zb));
      for (PetscInt q = 0; q < nc * dz; q++) zb[q] += ae->klw * mu[q]; /* the adjoint of mu */
      PetscCall(SgmNetEGNNAdjoint_Private(ae->enc, nc, zb, grad, NULL));
      PetscCall(PetscLogEventEnd(SGM_NetBackward, ae->enc, 0, 0, 0));
    }
  }
  PetscCall(PetscFree5(mu, z, xh, xb, zb));
  *loss = tot + se;
  if (sqerr) *sqerr = se;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCloudAESave(SgmCloudAE ae, hid_t group)
{
  hid_t g;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrInt(group, "ae_atoms", ae->n));
  PetscCall(SgmH5AttrInt(group, "ae_coordinates", ae->sx));
  PetscCall(SgmH5AttrInt(group, "ae_latent_features", ae->k));
  PetscCall(SgmH5AttrReal(group, "ae_latent_sigma", ae->sigma0));
  PetscCall(SgmH5AttrReal(group, "ae_kl_weight", ae->klw));
  PetscCallHDF5(g = H5Gcreate2(group, "encoder", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(SgmNetSave(ae->enc, g));
  PetscCallHDF5(H5Gclose(g));
  PetscCallHDF5(g = H5Gcreate2(group, "decoder", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(SgmNetSave(ae->dec, g));
  PetscCallHDF5(H5Gclose(g));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Into a freshly created autoencoder (no SetUp): sizes, regulariser and both networks from the group. */
PetscErrorCode SgmCloudAELoad(SgmCloudAE ae, hid_t group)
{
  PetscInt64 v;
  hid_t      g;

  PetscFunctionBegin;
  PetscCheck(!ae->setupcalled, ae->comm, PETSC_ERR_ORDER, "Load an autoencoder before its set-up");
  PetscCheck(H5Lexists(group, "encoder", H5P_DEFAULT) > 0 && H5Lexists(group, "decoder", H5P_DEFAULT) > 0, ae->comm, PETSC_ERR_FILE_UNEXPECTED, "The group has no encoder/ and decoder/: it is not a GeoLDM autoencoder of `sgm train-ae`");
  PetscCall(SgmH5AttrGetInt(ae->comm, group, "ae_atoms", &v));
  ae->n = (PetscInt)v;
  PetscCall(SgmH5AttrGetInt(ae->comm, group, "ae_coordinates", &v));
  ae->sx = (PetscInt)v;
  PetscCall(SgmH5AttrGetInt(ae->comm, group, "ae_latent_features", &v));
  ae->k = (PetscInt)v;
  PetscCall(SgmH5AttrGetReal(ae->comm, group, "ae_latent_sigma", &ae->sigma0));
  PetscCall(SgmH5AttrGetReal(ae->comm, group, "ae_kl_weight", &ae->klw));
  PetscCallHDF5(g = H5Gopen2(group, "encoder", H5P_DEFAULT));
  PetscCall(SgmNetLoad(ae->enc, g));
  PetscCallHDF5(H5Gclose(g));
  PetscCallHDF5(g = H5Gopen2(group, "decoder", H5P_DEFAULT));
  PetscCall(SgmNetLoad(ae->dec, g));
  PetscCallHDF5(H5Gclose(g));
  PetscCheck(ae->enc->kin == 0 && ae->enc->kout == ae->k && ae->dec->kin == ae->k && ae->dec->kout == 0 && ae->enc->natoms == ae->n && ae->dec->natoms == ae->n && ae->enc->d == ae->n * ae->sx, ae->comm, PETSC_ERR_FILE_UNEXPECTED, "The encoder and decoder of the autoencoder file do not fit its attributes");
  ae->setupcalled = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCloudAEView(SgmCloudAE ae, PetscViewer viewer)
{
  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "GeoLDM autoencoder: clouds of %" PetscInt_FMT " atoms in %" PetscInt_FMT "-D, latent %" PetscInt_FMT " coordinates + %" PetscInt_FMT " invariant features per atom, sigma_0 %g, KL weight %g\n", ae->n, ae->sx, ae->sx, ae->k, (double)ae->sigma0, (double)ae->klw));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer, "encoder: "));
  PetscCall(SgmNetView(ae->enc, viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer, "decoder: "));
  PetscCall(SgmNetView(ae->dec, viewer));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCloudAEDestroy(SgmCloudAE *ae)
{
  PetscFunctionBegin;
  if (!ae || !*ae) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SgmNetDestroy(&(*ae)->enc));
  PetscCall(SgmNetDestroy(&(*ae)->dec));
  PetscCall(PetscFree(*ae));
  PetscFunctionReturn(PETSC_SUCCESS);
}
