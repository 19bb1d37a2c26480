/*
  The zero-centre-of-mass subspace of point clouds (EDM, Hoogeboom et al. 2022, sec. 3.2; GeoLDM):
  X = {x in R^{n x dim} : sum_i x_i = 0}, of dimension (n-1) dim.  The diffusion runs inside X: the
  noise is projected onto it and the state re-projected after every step, and the Gaussians of the
  prior and of the likelihood are the isotropic normal restricted to X.
*/
#include <sgmgeometric.h>

/* x_i <- x_i - (1/n) sum_j x_j for each of nb clouds of n points in dim dimensions (in place).
   The mean is summed in point order, so a cloud's result does not depend on where it sits. */
PetscErrorCode SgmGeomRemoveCoM(PetscInt nb, PetscInt n, PetscInt dim, PetscScalar x[])
{
  PetscFunctionBegin;
  PetscCheck(n > 0 && dim > 0 && dim <= 16, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "A point cloud needs n > 0 points in 1..16 dimensions; got n = %" PetscInt_FMT ", dim = %" PetscInt_FMT, n, dim);
  for (PetscInt b = 0; b < nb; b++) {
    PetscScalar *xb = x + b * n * dim, m[16] = {0};
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt c = 0; c < dim; c++) m[c] += xb[i * dim + c];
    for (PetscInt c = 0; c < dim; c++) m[c] /= n;
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt c = 0; c < dim; c++) xb[i * dim + c] -= m[c];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The same for clouds whose atoms carry stride >= dim channels: the first dim of each atom are its
   coordinates and are centred, the other stride - dim are invariant features (GeoLDM's z_h) and are
   left alone.  stride == dim is SgmGeomRemoveCoM. */
PetscErrorCode SgmGeomRemoveCoMStrided(PetscInt nb, PetscInt n, PetscInt stride, PetscInt dim, PetscScalar x[])
{
  PetscFunctionBegin;
  PetscCheck(n > 0 && dim > 0 && dim <= 16 && stride >= dim, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "A point cloud needs n > 0 points in 1..16 dimensions and stride >= dim; got n = %" PetscInt_FMT ", dim = %" PetscInt_FMT ", stride = %" PetscInt_FMT, n, dim, stride);
  for (PetscInt b = 0; b < nb; b++) {
    PetscScalar *xb = x + b * n * stride, m[16] = {0};
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt c = 0; c < dim; c++) m[c] += xb[i * stride + c];
    for (PetscInt c = 0; c < dim; c++) m[c] /= n;
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt c = 0; c < dim; c++) xb[i * stride + c] -= m[c];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  log N_X(x; 0, sigma^2): the isotropic Gaussian on the subspace X, a density with respect to the
  (n-1) dim dimensional Lebesgue measure of X (EDM eq. 4 with its footnote):
      log N_X = -|P x|^2 / (2 sigma^2) - (n-1) dim / 2 log(2 pi sigma^2),
  P the projection onto X (x is projected here, so a translated cloud has the same density).
*/
PetscErrorCode SgmGeomZeroCoMGaussianLogDensity(PetscInt n, PetscInt dim, PetscReal sigma, const PetscScalar x[], PetscReal *logp)
{
  PetscScalar m[16] = {0};
  PetscReal   q     = 0;

  PetscFunctionBegin;
  PetscCheck(n > 1 && dim > 0 && dim <= 16, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "The zero-CoM Gaussian needs n > 1 points in 1..16 dimensions; got n = %" PetscInt_FMT ", dim = %" PetscInt_FMT, n, dim);
  PetscCheck(sigma > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "The zero-CoM Gaussian needs sigma > 0; got %g", (double)sigma);
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt c = 0; c < dim; c++) m[c] += x[i * dim + c];
  for (PetscInt c = 0; c < dim; c++) m[c] /= n;
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt c = 0; c < dim; c++) {
      PetscReal y = PetscRealPart(x[i * dim + c] - m[c]);
      q += y * y;
    }
  *logp = -0.5 * q / (sigma * sigma) - 0.5 * (PetscReal)((n - 1) * dim) * PetscLogReal(2 * PETSC_PI * sigma * sigma);
  PetscFunctionReturn(PETSC_SUCCESS);
}
