/*
  The trainer (sgmtrain.h): minibatches drawn from the counter-based generator, the loss gradient of
  each rank's share, Adam with linear warm-up, clipping of the global gradient norm, EMA of the
  weights.  Model files and checkpoints: trainio.c.

  The step on shards.  The P parameters are cut into blocks of SGM_TRAIN_BLOCK, and rank r of s owns
  blocks [r nblk / s, (r + 1) nblk / s), the parameters [lo, hi).  A step is
    MPI_Reduce_scatter  the gradient sums (and the loss, on the last rank): each rank gets its shard
    (sums of squares of each of its blocks; MPI_Allgatherv of them and of the loss)
    Adam + EMA on [lo, hi) only, with the clipping scale of the global norm
    MPI_Allgatherv      the updated weights
  instead of an MPI_Allreduce of the whole gradient and the whole update replicated on every rank:
  the same data moved (a ring allreduce is a reduce-scatter and an allgather), a 1/s share of the
  update.  Each parameter gets the same operations whichever rank owns it, and the gradient norm is
  summed block by block in block order, so the weights are the same bits on every rank and the norm
  does not depend on the number of ranks (given the gradient).  Adam's m and v and the EMA are
  whole only on the owner between steps; SgmTrainerGatherState_Private gathers them before they are
  written (model file, checkpoint).
*/
#include <sgm/private/trainimpl.h>
#include <sgm/private/vecmath.h>
#include <sgmio.h>
#include <sgmsampler.h>
#include <sgmdense.h>
#include <sgmgeometric.h>

PetscClassId       SGM_TRAINER_CLASSID;
static PetscLogEvent SGM_TrainGrad, SGM_TrainAllreduce, SGM_TrainUpdate, SGM_TrainGather;
const char *const  SgmLatentTypes[]     = {"none", "pca", "egnn_ae", "SgmLatentType", "SGM_LATENT_", NULL};
const char *const  SgmTrainWeightings[] = {"default", "none", "sigma2", "likelihood", "SgmTrainWeighting", "SGM_TRAIN_WEIGHT_", NULL};

static PetscErrorCode SgmTrainerInitializePackage(void)
{
  static PetscBool done = PETSC_FALSE;

  PetscFunctionBegin;
  if (done) PetscFunctionReturn(PETSC_SUCCESS);
  done = PETSC_TRUE;
  PetscCall(SgmInitializePackage());
  PetscCall(PetscClassIdRegister("SgmTrainer", &SGM_TRAINER_CLASSID));
  PetscCall(PetscLogEventRegister("SgmTrainGrad", SGM_TRAINER_CLASSID, &SGM_TrainGrad));
  PetscCall(PetscLogEventRegister("SgmTrainAllred", SGM_TRAINER_CLASSID, &SGM_TrainAllreduce));
  PetscCall(PetscLogEventRegister("SgmTrainUpdate", SGM_TRAINER_CLASSID, &SGM_TrainUpdate));
  PetscCall(PetscLogEventRegister("SgmTrainGather", SGM_TRAINER_CLASSID, &SGM_TrainGather));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmTrainerCreate(MPI_Comm comm, SgmTrainer *tr)
{
  SgmTrainer t;

  PetscFunctionBegin;
  PetscValidPointer(tr, 2);
  PetscCall(SgmTrainerInitializePackage());
  PetscCall(PetscHeaderCreate(t, SGM_TRAINER_CLASSID, "SgmTrainer", "Score network trainer", "SgmTrainer", comm, SgmTrainerDestroy, SgmTrainerView));
  PetscCall(PetscStrncpy(t->datafile, "", sizeof(t->datafile)));
  t->loss       = SGM_LOSS_DSM;
  t->weighting  = SGM_TRAIN_WEIGHT_DEFAULT;
  t->teps       = -1;
  t->nprobe     = 1;
  t->uncondprob = 0.1;
  t->B          = 256;
  t->steps      = 1000;
  t->warmup     = 100;
  t->logevery   = 100;
  t->ckptevery  = 0;
  t->lr         = 1e-3;
  t->beta1      = 0.9;
  t->beta2      = 0.999;
  t->adameps    = 1e-8;
  t->clip       = 1.0;
  t->emadecay   = 0.999;
  t->seed       = 1;
  t->sigstep    = -1;
  PetscCall(SgmNetCreate(comm, &t->net));
  PetscCall(SgmSDECreate(comm, &t->sde));
  *tr = t;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmTrainerSetFromOptions(SgmTrainer tr)
{
  PetscBool set, help;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(tr, SGM_TRAINER_CLASSID, 1);
  PetscObjectOptionsBegin((PetscObject)tr);
  PetscCall(PetscOptionsString("-train_data", "HDF5 file with the training data /data [N,d] and optional /labels [N]", "SgmTrainerSetUp", tr->datafile, tr->datafile, sizeof(tr->datafile), NULL));
  PetscCall(PetscOptionsString("-train_dataset", "Dataset [N,d] of -train_data to train on (default: /data, else /samples, as written by `sgm mcmc` and `sgm sample`)", "", tr->dataset, tr->dataset, sizeof(tr->dataset), NULL));
  PetscCall(PetscOptionsEnum("-train_loss", "Training loss: simple (DDPM), dsm (denoising), esm (explicit, against -target_score_type), ssm/ssmvr (sliced), ism (implicit, exact divergence)", "SgmNetLoss", SgmLossTypes, (PetscEnum)tr->loss, (PetscEnum *)&tr->loss, NULL));
  PetscCall(PetscOptionsEnum("-train_weighting", "lambda(t) of the score losses: default (simple: 1, others: sigma^2), none, sigma2, likelihood (g^2)", "", SgmTrainWeightings, (PetscEnum)tr->weighting, (PetscEnum *)&tr->weighting, NULL));
  PetscCall(PetscOptionsReal("-train_t_eps", "Smallest training time: t ~ U(t_eps, T) (default: -sde_eps)", "", tr->teps, &tr->teps, NULL));
  PetscCall(PetscOptionsInt("-train_ssm_probes", "Projection vectors per sample of the sliced losses", "", tr->nprobe, &tr->nprobe, NULL));
  PetscCall(PetscOptionsBool("-train_ssm_gaussian", "Gaussian projection vectors for ssm (default: Rademacher)", "", tr->gaussprobe, &tr->gaussprobe, NULL));
  {
    SgmLatentType lt = tr->latent ? SGM_LATENT_PCA : (tr->aefile[0] ? SGM_LATENT_EGNN_AE : SGM_LATENT_NONE);
    PetscBool     set;
    PetscCall(PetscOptionsEnum("-latent", "Latent diffusion: none, pca (train on z = U_k^T (x - mu), the top -latent_dim principal components), or egnn_ae (GeoLDM: point clouds encoded by the autoencoder of -latent_ae_file); samples are decoded", "", SgmLatentTypes, (PetscEnum)lt, (PetscEnum *)&lt, NULL));
    tr->latent = lt == SGM_LATENT_PCA ? PETSC_TRUE : PETSC_FALSE;
    PetscCall(PetscOptionsString("-latent_ae_file", "-latent egnn_ae: HDF5 file of `sgm train-ae` whose /ae encodes the clouds (its decoder is copied into the model file)", "", tr->aefile, tr->aefile, sizeof(tr->aefile), &set));
    PetscCheck(lt != SGM_LATENT_EGNN_AE || tr->aefile[0], PetscObjectComm((PetscObject)tr), PETSC_ERR_USER_INPUT, "-latent egnn_ae needs the autoencoder: give -latent_ae_file ae.h5 (written by `sgm train-ae`)");
    PetscCheck(lt == SGM_LATENT_EGNN_AE || !tr->aefile[0], PetscObjectComm((PetscObject)tr), PETSC_ERR_USER_INPUT, "-latent_ae_file is for -latent egnn_ae");
  }
  PetscCall(PetscOptionsInt("-latent_dim", "Dimension k of the latent space of -latent pca", "", tr->latentdim, &tr->latentdim, NULL));
  PetscCall(PetscOptionsBool("-train_conditional", "Class-conditional training on /labels (class embedding with label dropout)", "", tr->conditional, &tr->conditional, NULL));
  PetscCall(PetscOptionsReal("-train_uncond_prob", "Label dropout: probability that a sample is trained with the null label (classifier-free guidance)", "", tr->uncondprob, &tr->uncondprob, NULL));
  PetscCall(PetscOptionsInt("-train_batch", "Global minibatch size (shared by the ranks)", "", tr->B, &tr->B, NULL));
  PetscCall(PetscOptionsInt("-train_steps", "Number of optimiser steps (in total, also after -restart)", "", tr->steps, &tr->steps, NULL));
  PetscCall(PetscOptionsReal("-train_lr", "Adam learning rate", "", tr->lr, &tr->lr, NULL));
  PetscCall(PetscOptionsInt("-train_warmup", "Steps of linear learning-rate warm-up", "", tr->warmup, &tr->warmup, NULL));
  PetscCall(PetscOptionsReal("-train_beta1", "Adam beta1", "", tr->beta1, &tr->beta1, NULL));
  PetscCall(PetscOptionsReal("-train_beta2", "Adam beta2", "", tr->beta2, &tr->beta2, NULL));
  PetscCall(PetscOptionsReal("-train_adam_eps", "Adam epsilon", "", tr->adameps, &tr->adameps, NULL));
  PetscCall(PetscOptionsReal("-train_clip", "Clip the gradient to this global 2-norm (0: no clipping)", "", tr->clip, &tr->clip, NULL));
  PetscCall(PetscOptionsReal("-train_ema", "Decay of the exponential moving average of the weights (0: none)", "", tr->emadecay, &tr->emadecay, NULL));
  {
    PetscInt seed = (PetscInt)tr->seed;
    PetscCall(PetscOptionsInt("-train_seed", "Seed of the minibatches and of the initial weights (same seed, same training on any number of ranks up to rounding)", "", seed, &seed, &set));
    PetscCheck(!set || seed >= 0, PetscObjectComm((PetscObject)tr), PETSC_ERR_USER_INPUT, "-train_seed must be a non-negative integer; got %" PetscInt_FMT, seed);
    tr->seed = seed;
  }
  PetscCall(PetscOptionsInt("-train_log_every", "Print a progress line every this many steps (0: never)", "", tr->logevery, &tr->logevery, NULL));
  PetscCall(PetscOptionsInt("-train_checkpoint_every", "Write the checkpoint every this many steps (0: only at the end and on SIGTERM/SIGUSR1)", "", tr->ckptevery, &tr->ckptevery, NULL));
  PetscCall(PetscOptionsInt("-train_test_signal_step", "Testing: rank 0 sends itself SIGTERM after this step (regression/train)", "", tr->sigstep, &tr->sigstep, NULL));
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  PetscOptionsEnd();
  PetscCall(SgmSDESetFromOptions(tr->sde));
  PetscCall(SgmNetSetFromOptions(tr->net));
  if (tr->loss == SGM_LOSS_ESM || help) {
    if (!tr->target) {
      PetscCall(SgmScoreCreate(PetscObjectComm((PetscObject)tr), &tr->target));
      PetscCall(PetscObjectSetOptionsPrefix((PetscObject)tr->target, "target_"));
      PetscCall(SgmScoreSetSDE(tr->target, tr->sde));
    }
    PetscCall(SgmScoreSetFromOptions(tr->target));
  }
  tr->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Read /data (and /labels) in parallel, each rank a block of rows, then share the whole set. */
static PetscErrorCode SgmTrainerLoadData(SgmTrainer tr)
{
  PetscFunctionBegin;
  PetscCheck(tr->datafile[0], PetscObjectComm((PetscObject)tr), PETSC_ERR_USER_INPUT, "No training data: give -train_data FILE.h5 with a dataset /data [N,d] (e.g. made by `sgm data`)");
  PetscCall(SgmTrainLoadData_Private(PetscObjectComm((PetscObject)tr), tr->datafile, tr->dataset, sizeof(tr->dataset), &tr->N, &tr->d, &tr->data, &tr->labels, &tr->nclasses));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The linear autoencoder of latent diffusion (lecture notes): mu and the covariance S = (1/N) sum
  (x - mu)(x - mu)^T of the data, S = U diag(lambda) U^T by the distributed eigensolver (pdsyevd),
  U_k the k leading eigenvectors; the data are replaced by z = U_k^T (x - mu).  Then
  (1/N) sum ||x - D(E(x))||^2 = sum of the discarded eigenvalues, which is checked here.
  Every rank holds the whole data set, so mu and S are computed identically on each.
*/
static PetscErrorCode SgmTrainerEncodePCA(SgmTrainer tr)
{
  MPI_Comm   comm = PetscObjectComm((PetscObject)tr);
  PetscInt   N = tr->N, d = tr->d, k = tr->latentdim;
  PetscReal *S, *V, *w, *z, recon = 0, disc = 0, tot = 0;
  SgmDense   A, Vd;

  PetscFunctionBegin;
  PetscCheck(k >= 1 && k <= d, comm, PETSC_ERR_USER_INPUT, "-latent_dim must lie in 1 .. %" PetscInt_FMT " (the data dimension); got %" PetscInt_FMT, d, k);
  PetscCall(PetscCalloc3(d, &tr->lmean, d * k, &tr->lbasis, d, &tr->leig));
  PetscCall(PetscCalloc3(d * d, &S, d * d, &V, d, &w));
  for (PetscInt i = 0; i < N; i++)
    for (PetscInt c = 0; c < d; c++) tr->lmean[c] += tr->data[i * d + c];
  for (PetscInt c = 0; c < d; c++) tr->lmean[c] /= N;
  for (PetscInt i = 0; i < N; i++) { /* two-pass: centred products */
    const PetscReal *x = tr->data + i * d;
    for (PetscInt a = 0; a < d; a++)
      for (PetscInt b = 0; b <= a; b++) S[a * d + b] += (x[a] - tr->lmean[a]) * (x[b] - tr->lmean[b]);
  }
  for (PetscInt a = 0; a < d; a++)
    for (PetscInt b = 0; b <= a; b++) S[b * d + a] = S[a * d + b] = S[a * d + b] / N;
  PetscCall(SgmDenseCreate(comm, d, &A));
  PetscCall(SgmDenseCreate(comm, d, &Vd));
  PetscCall(SgmDenseSetFromReplicated(A, S));
  PetscCall(SgmDenseSymEig(A, w, Vd));
  PetscCall(SgmDenseGetReplicated(Vd, V));
  PetscCall(SgmDenseDestroy(&A));
  PetscCall(SgmDenseDestroy(&Vd));
  /* descending order: column j of U_k is eigenvector d-1-j (pdsyevd returns ascending eigenvalues) */
  for (PetscInt j = 0; j < d; j++) tr->leig[j] = w[d - 1 - j];
  for (PetscInt c = 0; c < d; c++)
    for (PetscInt j = 0; j < k; j++) tr->lbasis[c * k + j] = V[c * d + (d - 1 - j)];
  PetscCall(PetscMalloc1(N * k, &z));
  for (PetscInt i = 0; i < N; i++) {
    const PetscReal *x = tr->data + i * d;
    for (PetscInt j = 0; j < k; j++) {
      PetscReal s = 0;
      for (PetscInt c = 0; c < d; c++) s += tr->lbasis[c * k + j] * (x[c] - tr->lmean[c]);
      z[i * k + j] = s;
    }
    for (PetscInt c = 0; c < d; c++) { /* reconstruction D(E(x)) */
      PetscReal xr = tr->lmean[c];
      for (PetscInt j = 0; j < k; j++) xr += tr->lbasis[c * k + j] * z[i * k + j];
      recon += (x[c] - xr) * (x[c] - xr);
    }
  }
  recon /= N;
  for (PetscInt j = 0; j < d; j++) tot += PetscMax(tr->leig[j], 0);
  for (PetscInt j = k; j < d; j++) disc += PetscMax(tr->leig[j], 0);
  tr->lrecon   = recon;
  tr->ldiscard = disc;
  PetscCheck(PetscAbsReal(recon - disc) <= 1e-8 * tot + 1e-300, comm, PETSC_ERR_PLIB, "PCA: the reconstruction error %g differs from the discarded eigenvalue mass %g", (double)recon, (double)disc);
  PetscCall(PetscFree(tr->data));
  tr->data = z;
  tr->d    = k;
  PetscCall(PetscFree3(S, V, w));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  GeoLDM stage 2 (doc/geometric.md): the centred clouds x [n sx] are replaced by the means of the
  autoencoder's q(z|x), z = (z_x, z_h) [n (sx + k)] per cloud (z_x zero-CoM, k invariant features per
  atom; GeoLDM's latent diffusion trains on samples of q, the mean is our choice: the diffusion then
  models the encoder's image, and sigma_0 of stage 1 taught the decoder to tolerate latent noise).
  The score network gets -net_atoms n and k feature channels.  Every rank encodes the whole set (it
  holds it), so the latent data are identical on every rank.
*/
static PetscErrorCode SgmTrainerEncodeAE(SgmTrainer tr)
{
  MPI_Comm   comm = PetscObjectComm((PetscObject)tr);
  PetscInt   n, sx, k, na;
  PetscReal *z, *xr, se = 0;
  hid_t      file, g;
  PetscBool  egnn;

  PetscFunctionBegin;
  PetscCall(PetscObjectTypeCompare((PetscObject)tr->net, SGMNETEGNN, &egnn));
  PetscCheck(egnn, comm, PETSC_ERR_USER_INPUT, "-latent egnn_ae diffuses point clouds with invariant feature channels: use -net_type egnn");
  PetscCall(SgmCloudAECreate(comm, &tr->ae));
  PetscCall(SgmH5OpenParallel(comm, tr->aefile, &file));
  PetscCheck(H5Lexists(file, "ae", H5P_DEFAULT) > 0, comm, PETSC_ERR_USER_INPUT, "'%s' has no group /ae: it is not an autoencoder file of `sgm train-ae`", tr->aefile);
  PetscCallHDF5(g = H5Gopen2(file, "ae", H5P_DEFAULT));
  PetscCall(SgmCloudAELoad(tr->ae, g));
  PetscCallHDF5(H5Gclose(g));
  PetscCallHDF5(H5Fclose(file));
  PetscCall(SgmCloudAEGetSizes(tr->ae, &n, &sx, &k));
  PetscCheck(n * sx == tr->d, comm, PETSC_ERR_USER_INPUT, "The autoencoder of '%s' is for clouds of %" PetscInt_FMT " atoms in %" PetscInt_FMT "-D (dimension %" PetscInt_FMT ") but /%s of '%s' has dimension %" PetscInt_FMT, tr->aefile, n, sx, n * sx, tr->dataset, tr->datafile, tr->d);
  PetscCall(SgmNetGetAtoms(tr->net, &na, NULL));
  PetscCheck(!na || na == n, comm, PETSC_ERR_USER_INPUT, "-net_atoms %" PetscInt_FMT " differs from the %" PetscInt_FMT " atoms of the autoencoder of '%s' (leave -net_atoms out)", na, n, tr->aefile);
  PetscCall(SgmNetSetAtoms(tr->net, n));
  PetscCall(SgmNetSetCloudFeatures(tr->net, k, k));
  PetscCall(SgmGeomRemoveCoM(tr->N, n, sx, tr->data));
  PetscCall(PetscMalloc1(tr->N * n * (sx + k), &z));
  PetscCall(PetscMalloc1(tr->N * tr->d, &xr));
  PetscCall(SgmCloudAEEncode(tr->ae, tr->N, tr->data, z));
  PetscCall(SgmCloudAEDecode(tr->ae, tr->N, z, xr));
  for (PetscInt q = 0; q < tr->N * tr->d; q++) se += (xr[q] - tr->data[q]) * (xr[q] - tr->data[q]);
  tr->aermse = PetscSqrtReal(se / (tr->N * tr->d));
  PetscCall(PetscFree(tr->data));
  PetscCall(PetscFree(xr));
  tr->data  = z;
  tr->d     = n * (sx + k);
  tr->nfeat = k;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmTrainerSetUp(SgmTrainer tr)
{
  MPI_Comm  comm = PetscObjectComm((PetscObject)tr);
  PetscReal T, eps, *th;
  PetscInt  n, nc;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(tr, SGM_TRAINER_CLASSID, 1);
  if (tr->setupcalled) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(tr->B > 0, comm, PETSC_ERR_USER_INPUT, "-train_batch must be positive; got %" PetscInt_FMT, tr->B);
  PetscCheck(tr->steps >= 0, comm, PETSC_ERR_USER_INPUT, "-train_steps must be >= 0; got %" PetscInt_FMT, tr->steps);
  PetscCheck(tr->lr > 0 && PetscIsNormalReal(tr->lr), comm, PETSC_ERR_USER_INPUT, "-train_lr must be a positive number; got %g", (double)tr->lr);
  PetscCheck(tr->warmup >= 0, comm, PETSC_ERR_USER_INPUT, "-train_warmup must be >= 0; got %" PetscInt_FMT, tr->warmup);
  PetscCheck(tr->beta1 >= 0 && tr->beta1 < 1 && tr->beta2 >= 0 && tr->beta2 < 1, comm, PETSC_ERR_USER_INPUT, "-train_beta1 and -train_beta2 must lie in [0, 1); got %g, %g", (double)tr->beta1, (double)tr->beta2);
  PetscCheck(tr->emadecay >= 0 && tr->emadecay < 1, comm, PETSC_ERR_USER_INPUT, "-train_ema must lie in [0, 1); got %g", (double)tr->emadecay);
  PetscCheck(tr->clip >= 0, comm, PETSC_ERR_USER_INPUT, "-train_clip must be >= 0; got %g", (double)tr->clip);
  PetscCheck(tr->uncondprob >= 0 && tr->uncondprob <= 1, comm, PETSC_ERR_USER_INPUT, "-train_uncond_prob must lie in [0, 1]; got %g", (double)tr->uncondprob);
  PetscCheck(tr->nprobe > 0, comm, PETSC_ERR_USER_INPUT, "-train_ssm_probes must be positive; got %" PetscInt_FMT, tr->nprobe);
  PetscCall(SgmSDESetUp(tr->sde));
  PetscCall(SgmSDEGetInterval(tr->sde, &eps, &T));
  if (tr->teps < 0) tr->teps = eps;
  PetscCheck(tr->teps > 0 && tr->teps < T, comm, PETSC_ERR_USER_INPUT, "-train_t_eps must lie in (0, T = %g); got %g (sigma(0) = 0 makes the losses singular)", (double)T, (double)tr->teps);
  PetscCall(SgmTrainerLoadData(tr));
  tr->datadim = tr->d;
  if (tr->aefile[0]) PetscCall(SgmTrainerEncodeAE(tr));
  PetscCall(SgmNetGetAtoms(tr->net, &tr->natoms, NULL));
  if (tr->natoms > 0) { /* EDM: diffusion in the zero centre-of-mass subspace (x_0 centred, noise projected) */
    SgmNetType nt;
    PetscCall(SgmNetGetType(tr->net, &nt));
    PetscCheck(tr->d % tr->natoms == 0, comm, PETSC_ERR_USER_INPUT, "-net_atoms %" PetscInt_FMT " does not divide the dimension %" PetscInt_FMT " of /%s in '%s'", tr->natoms, tr->d, tr->dataset, tr->datafile);
    PetscCheck(tr->loss == SGM_LOSS_SIMPLE || tr->loss == SGM_LOSS_DSM, comm, PETSC_ERR_USER_INPUT, "-train_loss %s is not available for the %s network: use simple or dsm", SgmLossTypes[tr->loss], nt);
    PetscCheck(!tr->latent, comm, PETSC_ERR_USER_INPUT, "-latent pca is not available for the %s network (its latent space would not be a point cloud)", nt);
    PetscCheck(!tr->conditional, comm, PETSC_ERR_USER_INPUT, "-train_conditional is not available for the %s network: it is unconditional", nt);
    /* invariant feature channels (-net_egnn_features, or GeoLDM's z_h): not centred, their noise not projected */
    PetscCall(SgmNetGetCloudFeatures(tr->net, &tr->nfeat, NULL));
    PetscCheck(tr->nfeat < tr->d / tr->natoms, comm, PETSC_ERR_USER_INPUT, "-net_egnn_features %" PetscInt_FMT " leaves no coordinates in the %" PetscInt_FMT " channels per atom of /%s", tr->nfeat, tr->d / tr->natoms, tr->dataset);
    PetscCall(SgmGeomRemoveCoMStrided(tr->N, tr->natoms, tr->d / tr->natoms, tr->d / tr->natoms - tr->nfeat, tr->data));
  }
  if (tr->latent) PetscCall(SgmTrainerEncodePCA(tr));
  if (tr->conditional) {
    PetscCheck(tr->labels, comm, PETSC_ERR_USER_INPUT, "-train_conditional needs labels: '%s' has no /labels dataset", tr->datafile);
    PetscCall(SgmNetGetNumClasses(tr->net, &nc));
    if (nc == 0) PetscCall(SgmNetSetNumClasses(tr->net, tr->nclasses));
    PetscCall(SgmNetGetNumClasses(tr->net, &nc));
    PetscCheck(nc >= tr->nclasses, comm, PETSC_ERR_USER_INPUT, "-net_classes %" PetscInt_FMT " is smaller than the number of classes in /labels (%" PetscInt_FMT ")", nc, tr->nclasses);
  }
  if (tr->loss == SGM_LOSS_ESM) {
    PetscBool has;
    PetscCall(PetscOptionsHasName(((PetscObject)tr)->options, "target_", "-score_type", &has));
    PetscCheck(has, comm, PETSC_ERR_USER_INPUT, "-train_loss esm needs the exact score: give -target_score_type (e.g. gmm -target_gmm_file input/gmm8.h5)");
  }
  if (tr->target) {
    PetscInt dt;
    PetscCall(SgmScoreSetUp(tr->target));
    PetscCall(SgmScoreGetDimension(tr->target, &dt));
    PetscCheck(dt == tr->d, comm, PETSC_ERR_USER_INPUT, "The target score of -train_loss esm has dimension %" PetscInt_FMT " but the data %" PetscInt_FMT, dt, tr->d);
  }
  PetscCheck(tr->loss != SGM_LOSS_ESM || tr->target, comm, PETSC_ERR_USER_INPUT, "-train_loss esm needs the exact score: give -target_score_type (e.g. gmm -target_gmm_file input/gmm8.h5)");
  PetscCall(SgmNetSetDimension(tr->net, tr->d));
  PetscCall(SgmNetSetUp(tr->net));
  PetscCall(SgmNetInitialize(tr->net, (uint64_t)tr->seed));
  PetscCall(SgmNetGetParameters(tr->net, &tr->P, &th));
  tr->theta = th;
  PetscCall(PetscCalloc4(tr->P, &tr->m, tr->P, &tr->v, tr->P, &tr->ema, tr->P + 1, &tr->gbuf));
  PetscCall(PetscArraycpy(tr->ema, tr->theta, tr->P));
  { /* the shards */
    PetscCallMPI(MPI_Comm_size(comm, &tr->size));
    PetscCallMPI(MPI_Comm_rank(comm, &tr->rank));
    PetscCheck(tr->P < PETSC_MPI_INT_MAX, comm, PETSC_ERR_SUP, "The network has %" PetscInt_FMT " parameters, more than one MPI message can carry", tr->P);
    tr->nblk = (tr->P + SGM_TRAIN_BLOCK - 1) / SGM_TRAIN_BLOCK;
    PetscCall(PetscMalloc5(tr->size, &tr->pcount, tr->size, &tr->pdispl, tr->size, &tr->rcount, tr->size, &tr->bcount, tr->size, &tr->bdispl));
    for (PetscMPIInt r = 0; r < tr->size; r++) {
      const PetscInt b0 = tr->nblk * r / tr->size, b1 = tr->nblk * (r + 1) / tr->size;
      const PetscInt p0 = PetscMin(b0 * SGM_TRAIN_BLOCK, tr->P), p1 = PetscMin(b1 * SGM_TRAIN_BLOCK, tr->P);
      tr->pdispl[r] = (PetscMPIInt)p0;
      tr->pcount[r] = (PetscMPIInt)(p1 - p0);
      tr->rcount[r] = tr->pcount[r] + (r == tr->size - 1);
      tr->bdispl[r] = (PetscMPIInt)b0;
      tr->bcount[r] = (PetscMPIInt)(b1 - b0 + (r == tr->size - 1));
      if (r == tr->rank) {
        tr->lo = p0;
        tr->hi = p1;
      }
    }
    PetscCall(PetscMalloc2(tr->hi - tr->lo + 1, &tr->gshard, tr->nblk + 1, &tr->bsq));
    tr->gathered = PETSC_TRUE;
  }
  PetscCall(PetscCalloc1(PetscMax(tr->steps, 1), &tr->losshist));
  PetscCall(SgmBatchCreate(comm, tr->B, tr->d, &tr->batch));
  n = tr->batch.n;
  PetscCall(PetscMalloc6(n * tr->d, &tr->xt, n * tr->d, &tr->eps, n, &tr->tt, n, &tr->alpha, n, &tr->sigma, n, &tr->w));
  PetscCall(PetscMalloc1(n, &tr->lab));
  if (tr->loss == SGM_LOSS_ESM) PetscCall(PetscMalloc1(n * tr->d, &tr->starget));
  if (tr->loss == SGM_LOSS_SSM || tr->loss == SGM_LOSS_SSMVR) PetscCall(PetscMalloc1(n * tr->nprobe * tr->d, &tr->probes));
  tr->step        = 0;
  tr->setupcalled = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The minibatch of step k on this rank, a pure function of (seed, k, global position). */
static PetscErrorCode SgmTrainerDrawBatch(SgmTrainer tr, PetscInt k)
{
  const PetscInt d = tr->d, n = tr->batch.n;
  PetscReal      T, eps0;

  PetscFunctionBegin;
  PetscCall(SgmSDEGetInterval(tr->sde, &eps0, &T));
  /* the noise of every local position at once (the same counters as one sample at a time) */
  PetscCall(SgmRandomNormalBatch((uint64_t)tr->seed, SGM_STREAM_TRAIN_NOISE, k, &tr->batch, tr->eps));
  /* point clouds: eps <- P eps, so x_t = alpha x_0 + sigma P eps stays in the zero-CoM subspace and
     the simple/dsm targets are the projected noise (EDM sec. 3.2) */
  if (tr->natoms > 0) PetscCall(SgmGeomRemoveCoMStrided(n, tr->natoms, d / tr->natoms, d / tr->natoms - tr->nfeat, tr->eps)); /* GeoLDM: z_h noise not projected */
  for (PetscInt i = 0; i < n; i++) {
    const PetscInt pos = tr->batch.rstart + i;
    PetscReal      u[3], a, s, f, g;
    PetscInt       j;

    SgmRandomUniformSample((uint64_t)tr->seed, SGM_STREAM_TRAIN_DRAW, k, pos, 3, u);
    j = PetscMin((PetscInt)(u[0] * tr->N), tr->N - 1); /* data point, with replacement */
    tr->tt[i] = tr->teps + (T - tr->teps) * u[1];
    tr->lab[i] = (tr->conditional && u[2] >= tr->uncondprob) ? tr->labels[j] : -1;
    PetscCall(SgmSDEMarginal(tr->sde, tr->tt[i], &a, &s));
    tr->alpha[i] = a;
    tr->sigma[i] = s;
    for (PetscInt c = 0; c < d; c++) tr->xt[i * d + c] = a * tr->data[j * d + c] + s * tr->eps[i * d + c];
    switch (tr->weighting) {
    case SGM_TRAIN_WEIGHT_DEFAULT: tr->w[i] = tr->loss == SGM_LOSS_SIMPLE ? 1.0 : s * s; break;
    case SGM_TRAIN_WEIGHT_NONE: tr->w[i] = 1.0; break;
    case SGM_TRAIN_WEIGHT_SIGMA2: tr->w[i] = s * s; break;
    case SGM_TRAIN_WEIGHT_LIKELIHOOD:
      PetscCall(SgmSDECoefficients(tr->sde, tr->tt[i], &f, &g));
      tr->w[i] = g * g;
      break;
    }
    if (tr->starget) PetscCall(SgmScoreApplyArray(tr->target, tr->tt[i], 1, tr->xt + i * d, tr->starget + i * d));
    if (tr->probes) {
      const PetscInt np = tr->nprobe * d;
      PetscReal     *v  = tr->probes + i * np;
      if (tr->gaussprobe) SgmRandomNormalSample((uint64_t)tr->seed, SGM_STREAM_TRAIN_PROBE, k, pos, np, v);
      else {
        SgmRandomUniformSample((uint64_t)tr->seed, SGM_STREAM_TRAIN_PROBE, k, pos, np, v);
        for (PetscInt c = 0; c < np; c++) v[c] = v[c] < 0.5 ? -1.0 : 1.0;
      }
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The shard [lo, hi) of the gradient of the mean loss over the global batch of step k (in tr->gshard,
   or in tr->gbuf on one rank), the global gradient norm (tr->gnorm) and the loss. */
PetscErrorCode SgmTrainerComputeGradient_Private(SgmTrainer tr, PetscInt k, PetscReal *loss)
{
  MPI_Comm          comm = PetscObjectComm((PetscObject)tr);
  PetscReal         l    = 0, *g, *bs, ss = 0;
  const PetscMPIInt rank = tr->rank;
  const PetscInt    n    = tr->hi - tr->lo;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_TrainGrad, tr, 0, 0, 0));
  PetscCall(SgmTrainerDrawBatch(tr, k));
  PetscCall(PetscArrayzero(tr->gbuf, tr->P + 1));
  if (tr->batch.n > 0) PetscCall(SgmNetLoss(tr->net, tr->loss, tr->batch.n, tr->xt, tr->tt, tr->alpha, tr->sigma, tr->conditional ? tr->lab : NULL, tr->eps, tr->starget, tr->nprobe, tr->probes, tr->w, &l, tr->gbuf));
  tr->gbuf[tr->P] = l;
  PetscCall(PetscLogEventEnd(SGM_TrainGrad, tr, 0, 0, 0));
  PetscCall(PetscLogEventBegin(SGM_TrainAllreduce, tr, 0, 0, 0));
  if (tr->size > 1) {
    PetscCallMPI(MPI_Reduce_scatter(tr->gbuf, tr->gshard, tr->rcount, MPIU_REAL, MPI_SUM, comm));
    g = tr->gshard;
  } else g = tr->gbuf;
  /* the mean gradient, and its sums of squares per block, in block order, then the loss: the same
     numbers on every rank */
  bs = tr->bsq + tr->bdispl[rank];
  for (PetscInt b = 0; b < tr->bcount[rank] - (rank == tr->size - 1); b++) {
    const PetscInt p0 = b * SGM_TRAIN_BLOCK, p1 = PetscMin(p0 + SGM_TRAIN_BLOCK, n);
    PetscReal      s  = 0;
    for (PetscInt p = p0; p < p1; p++) {
      g[p] /= tr->B;
      s += g[p] * g[p];
    }
    bs[b] = s;
  }
  if (rank == tr->size - 1) tr->bsq[tr->nblk] = g[n] / tr->B;
  if (tr->size > 1) PetscCallMPI(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, tr->bsq, tr->bcount, tr->bdispl, MPIU_REAL, comm));
  PetscCall(PetscLogEventEnd(SGM_TrainAllreduce, tr, 0, 0, 0));
  for (PetscInt b = 0; b < tr->nblk; b++) ss += tr->bsq[b];
  tr->gnorm = PetscSqrtReal(ss);
  *loss     = tr->bsq[tr->nblk];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Adam's m, v and the EMA whole on every rank (each rank updates only its shard of them). */
PetscErrorCode SgmTrainerGatherState_Private(SgmTrainer tr)
{
  MPI_Comm comm = PetscObjectComm((PetscObject)tr);

  PetscFunctionBegin;
  if (tr->gathered) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCallMPI(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, tr->m, tr->pcount, tr->pdispl, MPIU_REAL, comm));
  PetscCallMPI(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, tr->v, tr->pcount, tr->pdispl, MPIU_REAL, comm));
  PetscCallMPI(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, tr->ema, tr->pcount, tr->pdispl, MPIU_REAL, comm));
  tr->gathered = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The elementwise part of an optimiser step on P parameters: Adam (Kingma & Ba 2015, Alg. 1) with
   the gradient scaled by `scale` (clipping), learning rate lr, bias corrections c1 = 1 - beta1^k,
   c2 = 1 - beta2^k, then the EMA with decay ed.  sqrt through SgmSqrtPositive so the loop vectorises
   (the argument is >= 0).  Also the update of `sgm train-field` (src/cmd/trainfield.c). */
SGM_HOT void SgmAdamEMAUpdate(PetscInt P, PetscReal scale, PetscReal lr, PetscReal b1, PetscReal b2, PetscReal c1, PetscReal c2, PetscReal aeps, PetscReal ed, const PetscReal *restrict g, PetscReal *restrict m, PetscReal *restrict v, PetscReal *restrict th, PetscReal *restrict ema)
{
  for (PetscInt p = 0; p < P; p++) {
    const PetscReal gp = scale * g[p];
    m[p]               = b1 * m[p] + (1 - b1) * gp;
    v[p]               = b2 * v[p] + (1 - b2) * gp * gp;
    th[p] -= lr * (m[p] / c1) / (SgmSqrtPositive(v[p] / c2) + aeps);
    ema[p] = ed * ema[p] + (1 - ed) * th[p];
  }
}

/* One optimiser step on this rank's shard: warm-up, global-norm clipping, Adam, EMA; then the
   weights of all shards on every rank. */
static PetscErrorCode SgmTrainerUpdate(SgmTrainer tr)
{
  const PetscInt k = tr->step + 1; /* 1-based step of Adam's bias correction */
  PetscReal      gn = tr->gnorm, scale = 1, lr, c1, c2, ed;
  const PetscInt lo = tr->lo;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_TrainUpdate, tr, 0, 0, 0));
  PetscCheck(PetscIsNormalReal(gn) || gn == 0, PetscObjectComm((PetscObject)tr), PETSC_ERR_USER_INPUT, "The loss gradient at training step %" PetscInt_FMT " is not finite: lower -train_lr, raise -train_t_eps, or check /data", k);
  if (tr->clip > 0 && gn > tr->clip) scale = tr->clip / gn;
  lr = tr->lr * (tr->warmup > 0 ? PetscMin(1.0, (PetscReal)k / tr->warmup) : 1.0);
  c1 = 1 - PetscPowRealInt(tr->beta1, k);
  c2 = 1 - PetscPowRealInt(tr->beta2, k);
  /* EMA decay with warm-up, min(decay, (1 + k)/(10 + k)), so that the initial weights do not linger
     in the average of a short run (0.999^1500 = 22% of them otherwise) */
  ed = PetscMin(tr->emadecay, (1.0 + k) / (10.0 + k));
  SgmAdamEMAUpdate(tr->hi - lo, scale, lr, tr->beta1, tr->beta2, c1, c2, tr->adameps, ed, tr->size > 1 ? tr->gshard : tr->gbuf, tr->m + lo, tr->v + lo, tr->theta + lo, tr->ema + lo);
  PetscCall(PetscLogFlops(16.0 * (tr->hi - lo)));
  PetscCall(PetscLogEventEnd(SGM_TrainUpdate, tr, 0, 0, 0));
  if (tr->size > 1) {
    PetscCall(PetscLogEventBegin(SGM_TrainGather, tr, 0, 0, 0));
    PetscCallMPI(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, tr->theta, tr->pcount, tr->pdispl, MPIU_REAL, PetscObjectComm((PetscObject)tr)));
    PetscCall(PetscLogEventEnd(SGM_TrainGather, tr, 0, 0, 0));
    tr->gathered = PETSC_FALSE;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void FormatSeconds(PetscReal s, char buf[], size_t len)
{
  long t = (long)(s + 0.5);
  snprintf(buf, len, "%02ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
}

PetscErrorCode SgmTrainerTrain(SgmTrainer tr)
{
  MPI_Comm       comm = PetscObjectComm((PetscObject)tr);
  PetscLogDouble t0, t1, tlast;
  PetscInt       k0, sigstep = tr->sigstep;

  PetscFunctionBegin;
  PetscCall(SgmTrainerSetUp(tr));
  PetscCall(SgmSignalsInstall());
  PetscCall(PetscTime(&t0));
  tlast = t0;
  k0    = tr->step;
  while (tr->step < tr->steps) {
    PetscReal loss;
    PetscBool stop;
    PetscCall(SgmTrainerComputeGradient_Private(tr, tr->step, &loss));
    PetscCheck(PetscIsNormalReal(loss) || loss == 0, comm, PETSC_ERR_USER_INPUT, "The training loss became %s at step %" PetscInt_FMT ": lower -train_lr, raise -train_t_eps, or check /data", PetscIsNanReal(loss) ? "NaN" : "infinite", tr->step + 1);
    PetscCall(SgmTrainerUpdate(tr));
    tr->losshist[tr->step] = loss;
    tr->emaloss            = tr->step == 0 ? loss : 0.99 * tr->emaloss + 0.01 * loss;
    tr->step++;
    if (tr->logevery > 0 && (tr->step % tr->logevery == 0 || tr->step == tr->steps)) {
      char left[32];
      PetscCall(PetscTime(&t1));
      FormatSeconds((t1 - t0) / (tr->step - k0) * (tr->steps - tr->step), left, sizeof(left));
      PetscCall(PetscPrintf(comm, "sgm train: step %6" PetscInt_FMT "/%" PetscInt_FMT "  loss %.6g  ema loss %.6g  %.4g samples/s  left %s\n", tr->step, tr->steps, (double)loss, (double)tr->emaloss, (double)(tr->B * PetscMin(tr->logevery, tr->step - k0) / PetscMax(t1 - tlast, 1e-9)), left));
      tlast = t1;
    }
    PetscCall(SgmTrainSignalStop_Private(comm, tr->step, sigstep, &stop)); /* a signal caught on any rank stops all of them at the same step */
    if (tr->ckptfile[0] && ((tr->ckptevery > 0 && tr->step % tr->ckptevery == 0 && tr->step < tr->steps) || stop)) PetscCall(SgmTrainerWriteCheckpoint(tr, tr->ckptfile));
    if (stop && tr->step < tr->steps) {
      tr->interrupted = PETSC_TRUE;
      break;
    }
  }
  { /* the weights must be the same bits on every rank */
    PetscReal c[2];
    PetscCall(SgmTrainerGetChecksum(tr, &c[0]));
    c[1] = -c[0];
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, c, 2, MPIU_REAL, MPI_MAX, comm));
    PetscCheck(c[0] == -c[1], comm, PETSC_ERR_PLIB, "The network weights differ across ranks after step %" PetscInt_FMT " (checksums %.17g and %.17g)", tr->step, (double)c[0], (double)-c[1]);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmTrainerGetNet(SgmTrainer tr, SgmNet *net)
{
  PetscFunctionBegin;
  *net = tr->net;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmTrainerGetSDE(SgmTrainer tr, SgmSDE *sde)
{
  PetscFunctionBegin;
  *sde = tr->sde;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmTrainerGetStep(SgmTrainer tr, PetscInt *step, PetscInt *steps)
{
  PetscFunctionBegin;
  if (step) *step = tr->step;
  if (steps) *steps = tr->steps;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmTrainerGetInterrupted(SgmTrainer tr, PetscBool *flg)
{
  PetscFunctionBegin;
  *flg = tr->interrupted;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A checksum of the raw weights on this rank (a test compares it across ranks). */
PetscErrorCode SgmTrainerGetChecksum(SgmTrainer tr, PetscReal *sum)
{
  PetscReal s = 0;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < tr->P; p++) s += (p % 7 + 1) * tr->theta[p];
  *sum = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmTrainerView(SgmTrainer tr, PetscViewer viewer)
{
  PetscBool iascii;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(PetscObjectComm((PetscObject)tr), &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &iascii));
  if (!iascii) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscObjectPrintClassNamePrefixType((PetscObject)tr, viewer));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer, "data %s: %" PetscInt_FMT " points of dimension %" PetscInt_FMT "%s\n", tr->datafile, tr->N, tr->d, tr->conditional ? ", class-conditional" : ""));
  if (tr->natoms > 0) PetscCall(PetscViewerASCIIPrintf(viewer, "point clouds of %" PetscInt_FMT " atoms in %" PetscInt_FMT " dimensions%s: data centred, noise projected to the zero centre-of-mass subspace\n", tr->natoms, tr->d / tr->natoms - tr->nfeat, tr->nfeat ? " (plus invariant feature channels, not projected)" : ""));
  if (tr->ae) PetscCall(PetscViewerASCIIPrintf(viewer, "GeoLDM latent diffusion: clouds encoded by the autoencoder of %s (%" PetscInt_FMT " invariant features per atom), reconstruction RMSE %g\n", tr->aefile, tr->nfeat, (double)tr->aermse));
  if (tr->latent) PetscCall(PetscViewerASCIIPrintf(viewer, "latent diffusion on PCA: %" PetscInt_FMT " of %" PetscInt_FMT " components, reconstruction error %g (discarded eigenvalue mass %g)\n", tr->latentdim, tr->datadim, (double)tr->lrecon, (double)tr->ldiscard));
  PetscCall(PetscViewerASCIIPrintf(viewer, "loss %s, weighting %s, t ~ U(%g, T)\n", SgmLossTypes[tr->loss], SgmTrainWeightings[tr->weighting], (double)tr->teps));
  PetscCall(PetscViewerASCIIPrintf(viewer, "Adam lr %g (warm-up %" PetscInt_FMT "), betas %g %g, clip %g, EMA %g; %" PetscInt_FMT " steps of global batch %" PetscInt_FMT "\n", (double)tr->lr, tr->warmup, (double)tr->beta1, (double)tr->beta2, (double)tr->clip, (double)tr->emadecay, tr->steps, tr->B));
  PetscCall(SgmNetView(tr->net, viewer));
  PetscCall(SgmSDEView(tr->sde, viewer));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmTrainerDestroy(SgmTrainer *tr)
{
  SgmTrainer t;

  PetscFunctionBegin;
  if (!tr || !*tr) PetscFunctionReturn(PETSC_SUCCESS);
  t = *tr;
  if (--((PetscObject)t)->refct > 0) {
    *tr = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SgmNetDestroy(&t->net));
  PetscCall(SgmSDEDestroy(&t->sde));
  PetscCall(SgmScoreDestroy(&t->target));
  PetscCall(SgmCloudAEDestroy(&t->ae));
  PetscCall(PetscFree(t->data));
  PetscCall(PetscFree(t->labels));
  PetscCall(PetscFree3(t->lmean, t->lbasis, t->leig));
  PetscCall(PetscFree4(t->m, t->v, t->ema, t->gbuf));
  PetscCall(PetscFree5(t->pcount, t->pdispl, t->rcount, t->bcount, t->bdispl));
  PetscCall(PetscFree2(t->gshard, t->bsq));
  PetscCall(PetscFree(t->losshist));
  PetscCall(PetscFree6(t->xt, t->eps, t->tt, t->alpha, t->sigma, t->w));
  PetscCall(PetscFree(t->lab));
  PetscCall(PetscFree(t->starget));
  PetscCall(PetscFree(t->probes));
  PetscCall(PetscHeaderDestroy(tr));
  PetscFunctionReturn(PETSC_SUCCESS);
}
