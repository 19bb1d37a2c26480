/*
  Gaussian data N(m, C): p_t = N(alpha(t) m, alpha(t)^2 C + sigma(t)^2 I), score linear in x.
  From an HDF5 file (-gaussian_file: /mean [d], /covariance [d,d]) or, for a diagonal covariance,
  from options: -gaussian_mean m_1,...,m_d -gaussian_std s_1,...,s_d (one std is used for all).
*/
#include <sgm/private/mixtureimpl.h>

static PetscErrorCode SgmScoreSetFromOptions_Gaussian(SgmScore score, PetscOptionItems *PetscOptionsObject)
{
  SgmScore_Mixture *sm   = (SgmScore_Mixture *)score->data;
  MPI_Comm          comm = PetscObjectComm((PetscObject)score);
  PetscReal         mean[256] = {0}, std[256] = {1}; /* shown as the defaults by -help */
  PetscInt          nm = 256, ns = 256;
  PetscBool         ffile, fmean, fstd;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Gaussian score options");
  PetscCall(PetscOptionsString("-gaussian_file", "HDF5 file with /mean [d] and /covariance [d,d]", "SgmScoreMixtureLoad", sm->file, sm->file, sizeof(sm->file), &ffile));
  PetscCall(PetscOptionsRealArray("-gaussian_mean", "Mean m_1,...,m_d (diagonal covariance given by -gaussian_std)", "SgmScoreMixtureSetComponents", mean, &nm, &fmean));
  PetscCall(PetscOptionsRealArray("-gaussian_std", "Standard deviations s_1,...,s_d, or one for all", "SgmScoreMixtureSetComponents", std, &ns, &fstd));
  PetscOptionsHeadEnd();
  PetscCheck(!(ffile && (fmean || fstd)), comm, PETSC_ERR_USER_INPUT, "Give either -gaussian_file or -gaussian_mean/-gaussian_std, not both");
  if (ffile) PetscCall(SgmScoreMixtureLoadFile(score, PETSC_TRUE));
  else if (fmean || fstd) {
    PetscReal w = 1, *cov;
    PetscCheck(fmean && nm > 0, comm, PETSC_ERR_USER_INPUT, "-gaussian_std needs -gaussian_mean m_1,...,m_d to fix the dimension");
    if (!fstd) {
      std[0] = 1;
      ns     = 1;
    }
    PetscCheck(ns == 1 || ns == nm, comm, PETSC_ERR_ARG_SIZ, "-gaussian_std has %" PetscInt_FMT " entries but -gaussian_mean has %" PetscInt_FMT ": give one std or one per coordinate", ns, nm);
    PetscCall(PetscCalloc1(nm * nm, &cov));
    for (PetscInt j = 0; j < nm; j++) {
      PetscReal s = std[ns == 1 ? 0 : j];
      PetscCheck(s > 0, comm, PETSC_ERR_USER_INPUT, "-gaussian_std entries must be positive; got %g", (double)s);
      cov[j * nm + j] = s * s;
    }
    PetscCall(SgmScoreMixtureSetComponents(score, 1, nm, &w, mean, cov));
    PetscCall(PetscFree(cov));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode SgmScoreCreate_Gaussian(SgmScore score)
{
  PetscFunctionBegin;
  PetscCall(SgmScoreCreate_Mixture(score));
  score->ops->setfromoptions = SgmScoreSetFromOptions_Gaussian;
  ((SgmScore_Mixture *)score->data)->hint = "give -gaussian_file FILE.h5 (datasets /mean [d], /covariance [d,d]) or -gaussian_mean and -gaussian_std";
  PetscFunctionReturn(PETSC_SUCCESS);
}
