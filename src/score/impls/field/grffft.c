/*
  Stationary Gaussian random field on a periodic grid (doc/fields.md), the score diagonal in Fourier
  space: with x_0 ~ N(0, C), C = F^{-1} diag(S(k)) F, and x_t = a x_0 + s eps,
      s(x, t) = -F^{-1} diag(1 / (a^2 S(k) + s^2)) F x,
  two real FFTs per field and evaluation through PETSc's FFTW interface (MATFFTW: FFTW's MPI r2c/c2r
  transforms, slab-distributed over the ranks), the DMDA block moved to natural order and into FFTW's
  slabs by vector scatters.  Spectrum (-grf_spectrum):
      matern   S(k) = 1/q(k), q the SPDE symbol tau (kappa^2 + sum_d 4/h^2 sin^2(pi k_d/n_d))^alpha
               (spde.h): the periodic gmrf with the same tau, kappa, alpha, exactly.
*/
#include "spde.h"
#include <sgmio.h>

typedef struct {
  SgmSPDE    spde;
  Mat        F;
  Vec        g, gs, nat, xf, yf, zf;
  PetscReal *q;  /* [nq] q(k) = 1/S(k) at this rank's complex entries of F x */
  PetscInt   nq;
  PetscReal *lam; /* [nq] the diagonal of the score at the current (a, s), over N */
  PetscReal  a, s;
} SgmScore_GRFFFT;

static PetscErrorCode GRFAtTime(SgmScore score, PetscReal t)
{
  SgmScore_GRFFFT *g = (SgmScore_GRFFFT *)score->data;
  PetscReal        a, s, iN = 1.0 / score->field->ngrid;

  PetscFunctionBegin;
  PetscCall(SgmSDEMarginal(score->sde, t, &a, &s));
  if (a == g->a && s == g->s) PetscFunctionReturn(PETSC_SUCCESS);
  /* -q/(a^2 + s^2 q) = -1/(a^2 S + s^2), with the 1/N of the unnormalised backward transform */
  for (PetscInt m = 0; m < g->nq; m++) g->lam[m] = -g->q[m] / (a * a + s * s * g->q[m]) * iN;
  g->a = a;
  g->s = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreApply_GRFFFT(SgmScore score, PetscReal t, PetscInt n, const PetscScalar *x, PetscScalar *s)
{
  SgmScore_GRFFFT *g  = (SgmScore_GRFFFT *)score->data;
  DM               da = score->field->da;
  const PetscInt   nl = score->field->nloc;

  PetscFunctionBegin;
  PetscCall(GRFAtTime(score, t));
  for (PetscInt i = 0; i < n; i++) {
    PetscScalar *y;
    PetscCall(VecPlaceArray(g->g, x + i * nl));
    PetscCall(DMDAGlobalToNaturalBegin(da, g->g, INSERT_VALUES, g->nat));
    PetscCall(DMDAGlobalToNaturalEnd(da, g->g, INSERT_VALUES, g->nat));
    PetscCall(VecResetArray(g->g));
    PetscCall(VecScatterPetscToFFTW(g->F, g->nat, g->xf));
    PetscCall(MatMult(g->F, g->xf, g->yf));
    PetscCall(VecGetArray(g->yf, &y));
    for (PetscInt m = 0; m < g->nq; m++) {
      y[2 * m] *= g->lam[m];
      y[2 * m + 1] *= g->lam[m];
    }
    PetscCall(VecRestoreArray(g->yf, &y));
    PetscCall(MatMultTranspose(g->F, g->yf, g->zf));
    PetscCall(VecScatterFFTWToPetsc(g->F, g->zf, g->nat));
    PetscCall(VecPlaceArray(g->gs, s + i * nl));
    PetscCall(DMDANaturalToGlobalBegin(da, g->nat, INSERT_VALUES, g->gs));
    PetscCall(DMDANaturalToGlobalEnd(da, g->nat, INSERT_VALUES, g->gs));
    PetscCall(VecResetArray(g->gs));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreSetFromOptions_GRFFFT(SgmScore score, PetscOptionItems *PetscOptionsObject)
{
  SgmScore_GRFFFT *g = (SgmScore_GRFFFT *)score->data;
  const char *const spectra[] = {"matern", "SgmGRFSpectrum", "SGM_GRF_", NULL};
  PetscEnum         sp        = (PetscEnum)0;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "FFT Gaussian random field score options");
  PetscCall(PetscOptionsEnum("-grf_spectrum", "Spectral density S(k): matern = 1/(symbol of the SPDE precision, -grf_tau/-grf_kappa/-grf_alpha)", "", spectra, sp, &sp, NULL));
  PetscCall(SgmSPDESetFromOptions(PetscOptionsObject, PetscObjectComm((PetscObject)score), "grf", &g->spde));
  PetscOptionsHeadEnd();
  PetscCall(SgmScoreFieldSetFromOptions_Private(score, PetscOptionsObject));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreReset_GRFFFT(SgmScore score)
{
  SgmScore_GRFFFT *g = (SgmScore_GRFFFT *)score->data;

  PetscFunctionBegin;
  PetscCall(MatDestroy(&g->F));
  PetscCall(VecDestroy(&g->g));
  PetscCall(VecDestroy(&g->gs));
  PetscCall(VecDestroy(&g->nat));
  PetscCall(VecDestroy(&g->xf));
  PetscCall(VecDestroy(&g->yf));
  PetscCall(VecDestroy(&g->zf));
  PetscCall(PetscFree2(g->q, g->lam));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreSetUp_GRFFFT(SgmScore score)
{
  SgmScore_GRFFFT *g = (SgmScore_GRFFFT *)score->data;
  MPI_Comm         comm = PetscObjectComm((PetscObject)score);
  SgmField         f;
  PetscInt         fd[3], lo, hi, nh, rest = 1;

  PetscFunctionBegin;
  PetscCall(SgmScoreReset_GRFFFT(score));
  PetscCall(SgmScoreFieldSetUp_Private(score, 1));
  f = score->field;
  PetscCheck(f->periodic, comm, PETSC_ERR_USER_INPUT, "The grf_fft score needs a periodic grid: add -field_periodic true (or use -score_type gmrf)");
  PetscCheck(f->dof == 1, comm, PETSC_ERR_USER_INPUT, "The grf_fft score is for scalar fields: remove -field_dof %" PetscInt_FMT, f->dof);
  {
    PetscMPIInt size;
    PetscCallMPI(MPI_Comm_size(comm, &size));
    PetscCheck(f->dim == 2 || size == 1, comm, PETSC_ERR_USER_INPUT, "The grf_fft score needs a 2-D grid on more than one rank (PETSc %d.%d's MATFFTW has no parallel real 3-D transform): run 3-D fields on 1 rank or use -score_type gmrf", PETSC_VERSION_MAJOR, PETSC_VERSION_MINOR);
  }
  for (PetscInt a = 0; a < f->dim; a++) fd[a] = f->M[f->dim - 1 - a]; /* row-major [nz][ny][nx] */
  PetscCall(MatCreateFFT(comm, f->dim, fd, MATFFTW, &g->F));
  PetscCall(MatCreateVecsFFTW(g->F, &g->xf, &g->yf, &g->zf));
  PetscCall(DMCreateGlobalVector(f->da, &g->g));
  PetscCall(VecDuplicate(g->g, &g->gs));
  PetscCall(DMDACreateNaturalVector(f->da, &g->nat));
  /* this rank's part of F x: whole rows of the [n0][..][nlast/2 + 1] complex array */
  nh = fd[f->dim - 1] / 2 + 1;
  for (PetscInt a = 1; a < f->dim - 1; a++) rest *= fd[a];
  PetscCall(VecGetOwnershipRange(g->yf, &lo, &hi));
  PetscCheck(lo % 2 == 0 && (hi - lo) % 2 == 0, comm, PETSC_ERR_PLIB, "Unexpected FFTW layout");
  g->nq = (hi - lo) / 2;
  PetscCall(PetscMalloc2(g->nq, &g->q, g->nq, &g->lam));
  for (PetscInt m = 0; m < g->nq; m++) {
    PetscInt c = lo / 2 + m, k[3], r;
    k[0] = c % nh; /* x */
    r    = c / nh;
    if (f->dim == 3) {
      k[1] = r % fd[1];
      k[2] = r / fd[1];
    } else k[1] = r;
    (void)rest;
    g->q[m] = SgmSPDESymbol(&g->spde, f, k);
  }
  g->a = g->s = -1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreAttributes_GRFFFT(SgmScore score, hid_t file)
{
  SgmScore_GRFFFT *g = (SgmScore_GRFFFT *)score->data;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrString(file, "grf_spectrum", "matern"));
  PetscCall(SgmH5AttrReal(file, "grf_tau", g->spde.tau));
  PetscCall(SgmH5AttrReal(file, "grf_kappa", g->spde.kappa));
  PetscCall(SgmH5AttrInt(file, "grf_alpha", g->spde.alpha));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreView_GRFFFT(SgmScore score, PetscViewer viewer)
{
  SgmScore_GRFFFT *g = (SgmScore_GRFFFT *)score->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "stationary GRF by FFTW, Matern spectrum S = 1/(%g (%g^2 + |k|_h^2)^%" PetscInt_FMT ")\n", (double)g->spde.tau, (double)g->spde.kappa, g->spde.alpha));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmScoreDestroy_GRFFFT(SgmScore score)
{
  PetscFunctionBegin;
  PetscCall(SgmScoreReset_GRFFFT(score));
  PetscCall(PetscFree(score->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmScoreCreate_GRFFFT(SgmScore score)
{
  SgmScore_GRFFFT *g;

  PetscFunctionBegin;
  PetscCall(PetscNew(&g));
  g->spde.tau                = 1;
  g->spde.kappa              = 1;
  g->spde.alpha              = 1;
  score->data                = g;
  score->ops->apply          = SgmScoreApply_GRFFFT;
  score->ops->setfromoptions = SgmScoreSetFromOptions_GRFFFT;
  score->ops->setup          = SgmScoreSetUp_GRFFFT;
  score->ops->attributes     = SgmScoreAttributes_GRFFFT;
  score->ops->view           = SgmScoreView_GRFFFT;
  score->ops->destroy        = SgmScoreDestroy_GRFFFT;
  PetscFunctionReturn(PETSC_SUCCESS);
}
