/* SgmScore interface: registry, options, and batched evaluation with NFE counting. */
#include <sgm/private/scoreimpl.h>
#include <sgmio.h>

PetscFunctionList SgmScoreList = NULL;

PetscErrorCode SgmScoreRegister(const char name[], PetscErrorCode (*create)(SgmScore))
{
  PetscFunctionBegin;
  PetscCall(SgmInitializePackage());
  PetscCall(PetscFunctionListAdd(&SgmScoreList, name, create));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreCreate(MPI_Comm comm, SgmScore *score)
{
  SgmScore s;

  PetscFunctionBegin;
  PetscValidPointer(score, 2);
  PetscCall(SgmInitializePackage());
  PetscCall(PetscHeaderCreate(s, SGM_SCORE_CLASSID, "SgmScore", "Score model", "SgmScore", comm, SgmScoreDestroy, SgmScoreView));
  s->fd_h  = 1e-5;
  s->gamma = 1;
  s->cls   = -1;
  *score   = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreSetType(SgmScore score, SgmScoreType type)
{
  PetscErrorCode (*create)(SgmScore);
  PetscBool match;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(score, SGM_SCORE_CLASSID, 1);
  PetscCall(PetscObjectTypeCompare((PetscObject)score, type, &match));
  if (match) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFunctionListFind(SgmScoreList, type, &create));
  if (!create) {
    char         list[256] = "";
    const char **names;
    int          nn;
    PetscCall(PetscFunctionListGet(SgmScoreList, &names, &nn));
    for (int i = 0; i < nn; i++) {
      PetscCall(PetscStrlcat(list, i ? ", " : "", sizeof(list)));
      PetscCall(PetscStrlcat(list, names[i], sizeof(list)));
    }
    PetscCall(PetscFree(names));
    SETERRQ(PetscObjectComm((PetscObject)score), PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown score type '%s' (-score_type): choose one of %s", type, list);
  }
  PetscTryTypeMethod(score, destroy);
  PetscCall(SgmFieldDestroy(&score->field));
  PetscCall(PetscMemzero(&score->fieldopts, sizeof(score->fieldopts)));
  PetscCall(PetscMemzero(score->ops, sizeof(struct _SgmScoreOps)));
  score->data        = NULL;
  score->setupcalled = PETSC_FALSE;
  score->collective  = PETSC_FALSE;
  score->datadim     = 0;
  PetscCall(PetscObjectChangeTypeName((PetscObject)score, type));
  PetscCall((*create)(score));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreGetType(SgmScore score, SgmScoreType *type)
{
  PetscFunctionBegin;
  *type = ((PetscObject)score)->type_name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The score diffuses its data distribution with this SDE. */
PetscErrorCode SgmScoreSetSDE(SgmScore score, SgmSDE sde)
{
  PetscFunctionBegin;
  PetscCall(PetscObjectReference((PetscObject)sde));
  PetscCall(SgmSDEDestroy(&score->sde));
  score->sde         = sde;
  score->setupcalled = PETSC_FALSE; /* a type may build state from the SDE in its set-up */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreGetSDE(SgmScore score, SgmSDE *sde)
{
  PetscFunctionBegin;
  if (!score->sde) {
    PetscCall(SgmSDECreate(PetscObjectComm((PetscObject)score), &score->sde));
    PetscCall(PetscObjectSetOptionsPrefix((PetscObject)score->sde, ((PetscObject)score)->prefix));
  }
  *sde = score->sde;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreSetFromOptions(SgmScore score)
{
  char      type[256];
  PetscBool flg;
  SgmSDE    sde;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(score, SGM_SCORE_CLASSID, 1);
  PetscCall(SgmScoreGetSDE(score, &sde));
  PetscCall(SgmSDESetFromOptions(sde));
  PetscObjectOptionsBegin((PetscObject)score);
  PetscCall(PetscOptionsFList("-score_type", "Score model", "SgmScoreSetType", SgmScoreList, ((PetscObject)score)->type_name ? ((PetscObject)score)->type_name : SGMSCOREGMM, type, sizeof(type), &flg));
  if (flg || !((PetscObject)score)->type_name) PetscCall(SgmScoreSetType(score, flg ? type : SGMSCOREGMM));
  PetscCall(PetscOptionsInt("-score_zero_com_atoms", "Samples are point clouds of this many atoms in the zero centre-of-mass subspace (0: no)", "SgmScoreSetZeroCoM", score->zcom_atoms, &score->zcom_atoms, NULL));
  PetscCheck(score->zcom_atoms >= 0, PetscObjectComm((PetscObject)score), PETSC_ERR_USER_INPUT, "-score_zero_com_atoms must be >= 0; got %" PetscInt_FMT, score->zcom_atoms);
  PetscCall(SgmScoreGuidanceSetFromOptions_Private(score, PetscOptionsObject)); /* interface options, before the type's section */
  PetscTryTypeMethod(score, setfromoptions, PetscOptionsObject);
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreSetUp(SgmScore score)
{
  SgmSDE sde;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(score, SGM_SCORE_CLASSID, 1);
  if (score->setupcalled) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(((PetscObject)score)->type_name, PetscObjectComm((PetscObject)score), PETSC_ERR_ARG_WRONGSTATE, "Set the score type first (-score_type)");
  PetscCall(SgmScoreGetSDE(score, &sde));
  PetscCall(SgmSDESetUp(sde));
  PetscTryTypeMethod(score, setup);
  PetscCheck(score->dim > 0, PetscObjectComm((PetscObject)score), PETSC_ERR_PLIB, "Score type %s did not set its dimension", ((PetscObject)score)->type_name);
  PetscCheck(!score->field || score->guidance == SGM_GUIDANCE_NONE, PetscObjectComm((PetscObject)score), PETSC_ERR_USER_INPUT, "Guidance (-guidance) is not available for field samples (score type %s): remove -guidance", ((PetscObject)score)->type_name);
  PetscCheck(!score->zcom_atoms || (score->zcom_atoms >= 2 && score->dim % score->zcom_atoms == 0), PetscObjectComm((PetscObject)score), PETSC_ERR_USER_INPUT, "-score_zero_com_atoms %" PetscInt_FMT " must be at least 2 and divide the sample dimension %" PetscInt_FMT, score->zcom_atoms, score->dim);
  PetscCheck(!score->zcom_atoms || score->dim / score->zcom_atoms <= 16, PetscObjectComm((PetscObject)score), PETSC_ERR_USER_INPUT, "-score_zero_com_atoms %" PetscInt_FMT " gives %" PetscInt_FMT " coordinates per atom (dimension %" PetscInt_FMT "); point clouds have at most 16", score->zcom_atoms, score->dim / score->zcom_atoms, score->dim);
  PetscCheck(!score->zcom_atoms || score->zcom_feat < score->dim / score->zcom_atoms, PetscObjectComm((PetscObject)score), PETSC_ERR_PLIB, "%" PetscInt_FMT " feature channels of %" PetscInt_FMT " per atom leave no coordinates", score->zcom_feat, score->dim / score->zcom_atoms);
  PetscCheck(!score->zcom_atoms || !score->field, PetscObjectComm((PetscObject)score), PETSC_ERR_USER_INPUT, "-score_zero_com_atoms is for point clouds, not field samples (score type %s)", ((PetscObject)score)->type_name);
  PetscCall(SgmScoreGuidanceSetUp_Private(score));
  score->setupcalled = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Point clouds in the zero centre-of-mass subspace (EDM): natoms atoms; call before set-up. */
PetscErrorCode SgmScoreSetZeroCoM(SgmScore score, PetscInt natoms)
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(score, SGM_SCORE_CLASSID, 1);
  PetscCheck(natoms >= 0, PetscObjectComm((PetscObject)score), PETSC_ERR_ARG_OUTOFRANGE, "The number of atoms must be >= 0; got %" PetscInt_FMT, natoms);
  score->zcom_atoms = natoms;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Of an atom's channels the last nfeat are invariant features, left out of the projection (GeoLDM
   latents z_h; set by the mlp score type from its network); call before set-up. */
PetscErrorCode SgmScoreSetZeroCoMFeatures(SgmScore score, PetscInt nfeat)
{
  PetscFunctionBegin;
  PetscValidHeaderSpecific(score, SGM_SCORE_CLASSID, 1);
  PetscCheck(nfeat >= 0, PetscObjectComm((PetscObject)score), PETSC_ERR_ARG_OUTOFRANGE, "The number of feature channels must be >= 0; got %" PetscInt_FMT, nfeat);
  score->zcom_feat = nfeat;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreGetZeroCoMFeatures(SgmScore score, PetscInt *nfeat)
{
  PetscFunctionBegin;
  PetscCall(SgmScoreSetUp(score));
  *nfeat = score->zcom_atoms ? score->zcom_feat : 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* natoms > 0 and the space dimension sd = dim/natoms when samples are zero-CoM point clouds; 0, 0 otherwise */
PetscErrorCode SgmScoreGetZeroCoM(SgmScore score, PetscInt *natoms, PetscInt *sd)
{
  PetscFunctionBegin;
  PetscCall(SgmScoreSetUp(score));
  if (natoms) *natoms = score->zcom_atoms;
  if (sd) *sd = score->zcom_atoms ? score->dim / score->zcom_atoms : 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The grid of a field score (gmrf, grf_fft, white), NULL for scores on rows of dimension d. */
PetscErrorCode SgmScoreGetField(SgmScore score, SgmField *field)
{
  PetscFunctionBegin;
  PetscCall(SgmScoreSetUp(score));
  *field = score->field;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreFieldSetFromOptions_Private(SgmScore score, PetscOptionItems *PetscOptionsObject)
{
  PetscFunctionBegin;
  PetscCall(SgmFieldOptionsSetFromOptions(PetscOptionsObject, PetscObjectComm((PetscObject)score), &score->fieldopts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The grid, with ghost width sw for the type's stencil; the dimension of a sample is its size. */
PetscErrorCode SgmScoreFieldSetUp_Private(SgmScore score, PetscInt sw)
{
  PetscFunctionBegin;
  PetscCall(SgmFieldDestroy(&score->field));
  PetscCall(SgmFieldCreate(PetscObjectComm((PetscObject)score), &score->fieldopts, sw, &score->field));
  score->dim        = score->field->ngrid * score->field->dof;
  score->collective = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreGetDimension(SgmScore score, PetscInt *d)
{
  PetscFunctionBegin;
  PetscCall(SgmScoreSetUp(score));
  *d = score->dim;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The dimension of the samples a user sees: that of the data for a latent model (whose score, and
   so the sampler, works in the latent space of dimension SgmScoreGetDimension), else the same. */
PetscErrorCode SgmScoreGetDataDimension(SgmScore score, PetscInt *D)
{
  PetscFunctionBegin;
  PetscCall(SgmScoreSetUp(score));
  *D = score->datadim > 0 ? score->datadim : score->dim;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* x = D(z) for n latent samples z (rows); a copy when the model is not latent. */
PetscErrorCode SgmScoreDecode(SgmScore score, PetscInt n, const PetscScalar z[], PetscScalar x[])
{
  PetscFunctionBegin;
  PetscCall(SgmScoreSetUp(score));
  if (score->ops->decode) PetscUseTypeMethod(score, decode, n, z, x);
  else PetscCall(PetscArraycpy(x, z, n * score->dim));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* s = score(x, t) for the n samples of x (this rank's part of a batch); one NFE, guided or not. */
PetscErrorCode SgmScoreApplyArray(SgmScore score, PetscReal t, PetscInt n, const PetscScalar x[], PetscScalar s[])
{
  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_ScoreEval, score, 0, 0, 0));
  PetscUseTypeMethod(score, apply, t, n, x, s); /* the guided score when guidance is on */
  score->nfe++;
  PetscCall(PetscLogFlops((PetscLogDouble)n * score->dim * 4));
  PetscCall(PetscLogEventEnd(SGM_ScoreEval, score, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreApply(SgmScore score, PetscReal t, const SgmBatch *b, Vec X, Vec S)
{
  const PetscScalar *x;
  PetscScalar       *s;

  PetscFunctionBegin;
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(VecGetArrayWrite(S, &s));
  PetscCall(SgmScoreApplyArray(score, t, b->n, x, s));
  PetscCall(VecRestoreArrayWrite(S, &s));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* log p_t(x) for score models that know their density in closed form. */
PetscErrorCode SgmScoreLogDensity(SgmScore score, PetscReal t, PetscInt n, const PetscScalar x[], PetscReal logp[])
{
  PetscFunctionBegin;
  if (score->guidance != SGM_GUIDANCE_NONE) {
    PetscCall(SgmScoreGuidanceLogDensity_Private(score, t, n, x, logp));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(score->ops->logdensity, PetscObjectComm((PetscObject)score), PETSC_ERR_SUP, "Score type %s has no closed-form density", ((PetscObject)score)->type_name);
  PetscUseTypeMethod(score, logdensity, t, n, x, logp);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Jv = (ds/dx)(x, t) v by the central difference [s(x + h v) - s(x - h v)] / (2h) of the map
  eval, h = fd_h (1 + |x|)/|v| per sample: two evaluations, accurate to O(h^2).
*/
PetscErrorCode SgmScoreJacobianVectorFD_Private(SgmScore score, PetscErrorCode (*eval)(SgmScore, PetscReal, PetscInt, const PetscScalar *, PetscScalar *), PetscReal t, PetscInt n, const PetscScalar x[], const PetscScalar v[], PetscScalar Jv[])
{
  const PetscInt d = score->dim;
  PetscScalar   *xp, *sp, *sm;
  PetscReal     *h;

  PetscFunctionBegin;
  PetscCall(PetscMalloc4(n * d, &xp, n * d, &sp, n * d, &sm, n, &h));
  for (PetscInt i = 0; i < n; i++) {
    PetscReal xn = 0, vn = 0;
    for (PetscInt j = 0; j < d; j++) {
      xn += PetscRealPart(x[i * d + j] * x[i * d + j]);
      vn += PetscRealPart(v[i * d + j] * v[i * d + j]);
    }
    h[i] = vn > 0 ? score->fd_h * (1 + PetscSqrtReal(xn)) / PetscSqrtReal(vn) : 0;
    for (PetscInt j = 0; j < d; j++) xp[i * d + j] = x[i * d + j] + h[i] * v[i * d + j];
  }
  PetscCall((*eval)(score, t, n, xp, sp));
  for (PetscInt i = 0; i < n * d; i++) xp[i] = 2 * x[i] - xp[i];
  PetscCall((*eval)(score, t, n, xp, sm));
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < d; j++) Jv[i * d + j] = h[i] > 0 ? (sp[i * d + j] - sm[i * d + j]) / (2 * h[i]) : 0;
  PetscCall(PetscFree4(xp, sp, sm, h));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The type's own score, also when guidance has put the guided score in ops->apply. */
PetscErrorCode SgmScoreApplyUnguided_Private(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, PetscScalar *s)
{
  PetscFunctionBegin;
  if (score->ops->apply == SgmScoreGuidanceApply_Private) PetscCall((*score->applyu)(score, t, n, x, s));
  else PetscUseTypeMethod(score, apply, t, n, x, s);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The Jacobian-vector product of the type's own score: analytic where the type has it, else by
   central differences. */
PetscErrorCode SgmScoreJacobianVectorUnguided_Private(SgmScore score, PetscReal t, PetscInt n, const PetscScalar x[], const PetscScalar v[], PetscScalar Jv[])
{
  PetscFunctionBegin;
  if (score->ops->jvp) PetscUseTypeMethod(score, jvp, t, n, x, v, Jv);
  else PetscCall(SgmScoreJacobianVectorFD_Private(score, SgmScoreApplyUnguided_Private, t, n, x, v, Jv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The divergence of the type's own score: analytic where the type has it, else d Jacobian-vector
   products with the unit vectors (exact for the trace, d times the cost). */
PetscErrorCode SgmScoreDivergenceUnguided_Private(SgmScore score, PetscReal t, PetscInt n, const PetscScalar x[], PetscReal div[])
{
  const PetscInt d = score->dim;
  PetscScalar   *e, *Je;

  PetscFunctionBegin;
  if (score->ops->divergence) {
    PetscUseTypeMethod(score, divergence, t, n, x, div);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscCalloc2(n * d, &e, n * d, &Je));
  for (PetscInt i = 0; i < n; i++) div[i] = 0;
  for (PetscInt j = 0; j < d; j++) {
    for (PetscInt i = 0; i < n; i++) e[i * d + j] = 1;
    PetscCall(SgmScoreJacobianVectorUnguided_Private(score, t, n, x, e, Je));
    for (PetscInt i = 0; i < n; i++) {
      div[i] += PetscRealPart(Je[i * d + j]);
      e[i * d + j] = 0;
    }
  }
  PetscCall(PetscFree2(e, Je));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Jv = (ds/dx)(x, t) v for each of the n samples (d entries each), of the guided score when
   guidance is on; one JVP counted. */
PetscErrorCode SgmScoreJacobianVector(SgmScore score, PetscReal t, PetscInt n, const PetscScalar x[], const PetscScalar v[], PetscScalar Jv[])
{
  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_ScoreEval, score, 0, 0, 0));
  if (score->guidance != SGM_GUIDANCE_NONE) PetscCall(SgmScoreGuidanceJacobianVector_Private(score, t, n, x, v, Jv));
  else PetscCall(SgmScoreJacobianVectorUnguided_Private(score, t, n, x, v, Jv));
  score->njvp++;
  PetscCall(PetscLogEventEnd(SGM_ScoreEval, score, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* div[i] = trace (ds/dx)(x_i, t), counted as d JVPs. */
PetscErrorCode SgmScoreDivergence(SgmScore score, PetscReal t, PetscInt n, const PetscScalar x[], PetscReal div[])
{
  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_ScoreEval, score, 0, 0, 0));
  if (score->guidance != SGM_GUIDANCE_NONE) PetscCall(SgmScoreGuidanceDivergence_Private(score, t, n, x, div));
  else PetscCall(SgmScoreDivergenceUnguided_Private(score, t, n, x, div));
  score->njvp += score->dim;
  PetscCall(PetscLogEventEnd(SGM_ScoreEval, score, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreGetNJVP(SgmScore score, PetscInt64 *njvp)
{
  PetscFunctionBegin;
  *njvp = score->njvp;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreGetNFE(SgmScore score, PetscInt64 *nfe)
{
  PetscFunctionBegin;
  *nfe = score->nfe;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreWriteAttributes(SgmScore score, hid_t file)
{
  PetscFunctionBegin;
  PetscCall(SgmH5AttrString(file, "score_type", ((PetscObject)score)->type_name));
  PetscCall(SgmH5AttrInt(file, "dimension", score->dim));
  PetscCall(SgmH5AttrInt(file, "score_zero_com_atoms", score->zcom_atoms)); /* 0: not a point cloud */
  if (score->field) PetscCall(SgmFieldWriteAttributes(score->field, file));
  PetscTryTypeMethod(score, attributes, file);
  PetscCall(SgmScoreGuidanceWriteAttributes_Private(score, file));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreView(SgmScore score, PetscViewer viewer)
{
  PetscBool iascii;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(PetscObjectComm((PetscObject)score), &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &iascii));
  if (iascii) {
    PetscCall(PetscObjectPrintClassNamePrefixType((PetscObject)score, viewer));
    PetscCall(PetscViewerASCIIPushTab(viewer));
    PetscTryTypeMethod(score, view, viewer);
    if (score->zcom_atoms) PetscCall(PetscViewerASCIIPrintf(viewer, "point clouds of %" PetscInt_FMT " atoms in %" PetscInt_FMT "-D, zero centre of mass\n", score->zcom_atoms, score->dim / score->zcom_atoms));
    if (score->field) PetscCall(SgmFieldView(score->field, viewer));
    PetscCall(SgmScoreGuidanceView_Private(score, viewer));
    if (score->sde) PetscCall(SgmSDEView(score->sde, viewer));
    PetscCall(PetscViewerASCIIPopTab(viewer));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmScoreDestroy(SgmScore *score)
{
  PetscFunctionBegin;
  if (!*score) PetscFunctionReturn(PETSC_SUCCESS);
  PetscValidHeaderSpecific(*score, SGM_SCORE_CLASSID, 1);
  if (--((PetscObject)(*score))->refct > 0) {
    *score = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscTryTypeMethod(*score, destroy);
  PetscCall(SgmFieldDestroy(&(*score)->field));
  PetscCall(SgmScoreGuidanceDestroy_Private(*score));
  PetscCall(SgmSDEDestroy(&(*score)->sde));
  PetscCall(PetscHeaderDestroy(score));
  PetscFunctionReturn(PETSC_SUCCESS);
}
