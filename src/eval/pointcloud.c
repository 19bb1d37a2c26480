/*
  Metrics of point clouds (issue 9, doc/geometric.md), used on samples of DW4 / LJ13 against
  held-out reference samples (e.g. from `sgm mcmc`).  A sample of dimension d = n sd is a cloud of
  n atoms, x[i*sd + c].
    energy_w2      W2 between the 1-D distributions of the energies E(x) of the samples and of the
                   reference set, E the -eval_energy of src/mcmc (dw4, lj13):
                       W2^2 = int_0^1 (F^-1(u) - G^-1(u))^2 du
                   with the empirical quantile functions, exact for any sizes N1, N2 (the
                   breakpoints i/N1 and j/N2 are merged in integer units of 1/(N1 N2); for N1 = N2
                   the mean squared difference of the sorted values).  Also the two mean energies.
    distance_w1    W1 between the distributions of all interatomic distances |x_i - x_j|, i < j,
                   pooled over the samples (N1 n(n-1)/2 values) and over the reference set
                   (N2 n(n-1)/2 values): int_0^1 |F^-1 - G^-1| du = int |F(r) - G(r)| dr, as
                   scipy.stats.wasserstein_distance, exact for unequal sizes in the same way.
  Both are translation, rotation and permutation invariant, so they compare clouds without
  aligning them.  Distribution: each rank computes the values of its own rows; they are
  all-gathered in global row order and every rank sorts and integrates the same arrays, so the
  metrics have the same bits on any number of ranks.  Memory: (N1 + N2) n(n-1)/2 doubles per rank.
*/
#include "evalimpl.h"

/* The values of every row of a set, gathered on every rank in global order and sorted: E(x)
   (k = 1) or the k = n(n-1)/2 distances of the pairs i < j. */
static PetscErrorCode CloudValues(SgmEval ev, const SgmBatch *b, Vec X, PetscBool energy, const char what[], PetscReal **all, PetscInt *count)
{
  const PetscInt     n = ev->natoms, sd = b->d / n, k = energy ? 1 : n * (n - 1) / 2;
  const PetscScalar *x;
  PetscReal         *v;
  SgmBatch           vb = *b;
  PetscInt           bad = PETSC_MAX_INT;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(b->n * k + 1, &v));
  PetscCall(VecGetArrayRead(X, &x));
  for (PetscInt r = 0; r < b->n; r++) {
    const PetscScalar *xr = x + r * b->d;
    if (energy) PetscCall(SgmEnergyEval(ev->energy, xr, &v[r], NULL, NULL));
    else
      for (PetscInt i = 0, p = 0; i < n; i++)
        for (PetscInt j = i + 1; j < n; j++, p++) {
          PetscReal s = 0;
          for (PetscInt c = 0; c < sd; c++) s += PetscSqr(PetscRealPart(xr[i * sd + c] - xr[j * sd + c]));
          v[r * k + p] = PetscSqrtReal(s);
        }
    for (PetscInt p = 0; p < k; p++)
      if (PetscIsInfOrNanReal(v[r * k + p]) && bad == PETSC_MAX_INT) bad = b->rstart + r;
  }
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &bad, 1, MPIU_INT, MPI_MIN, b->comm));
  PetscCheck(bad == PETSC_MAX_INT, b->comm, PETSC_ERR_USER_INPUT, "The %s of row %" PetscInt_FMT " of the %s set is not finite: two atoms coincide or the cloud is far from the target", energy ? "energy (-eval_energy)" : "largest interatomic distance", bad, what);
  vb.d = k;
  PetscCall(SgmEvalAllGatherRows_Private(&vb, v, b->N, all));
  PetscCall(PetscFree(v));
  *count = b->N * k;
  PetscCall(PetscSortReal(*count, *all));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEvalPointCloud_Private(SgmEval ev)
{
  MPI_Comm      comm = PetscObjectComm((PetscObject)ev);
  PetscReal    *a, *b;
  PetscInt      na, nb;
  SgmEnergyType type = NULL; /* -eval_energy, NULL: none */

  PetscFunctionBegin;
  if (!ev->natoms) PetscFunctionReturn(PETSC_SUCCESS);
  if (ev->energy) PetscCall(SgmEnergyGetType(ev->energy, &type));
  if (type) {
    PetscInt n, dim;
    PetscCall(SgmEnergyGetSize(ev->energy, &n, &dim));
    PetscCheck(n * dim == ev->bx.d, comm, PETSC_ERR_USER_INPUT, "-eval_energy %s is for %" PetscInt_FMT " atoms in %" PetscInt_FMT "-D (dimension %" PetscInt_FMT "), but the samples have dimension %" PetscInt_FMT, type, n, dim, n * dim, ev->bx.d);
  }
  PetscCheck(ev->natoms >= 2 && ev->bx.d % ev->natoms == 0, comm, PETSC_ERR_USER_INPUT, "-eval_atoms %" PetscInt_FMT " must be at least 2 and divide the dimension %" PetscInt_FMT " of the samples", ev->natoms, ev->bx.d);
  PetscCall(PetscLogEventBegin(SGM_EvalPointCloud, 0, 0, 0, 0));
  if (type) {
    PetscReal sa = 0, sb = 0;
    PetscCall(CloudValues(ev, &ev->bx, ev->X, PETSC_TRUE, "sample", &a, &na));
    PetscCall(CloudValues(ev, &ev->by, ev->Y, PETSC_TRUE, "reference", &b, &nb));
    ev->value[SGM_EVAL_ENERGY_W2] = PetscSqrtReal(SgmEvalWassersteinSorted_Private(2, na, a, nb, b));
    for (PetscInt i = 0; i < na; i++) sa += a[i];
    for (PetscInt i = 0; i < nb; i++) sb += b[i];
    ev->value[SGM_EVAL_ENERGY_MEAN]     = sa / na;
    ev->value[SGM_EVAL_ENERGY_MEAN_REF] = sb / nb;
    ev->has[SGM_EVAL_ENERGY_W2] = ev->has[SGM_EVAL_ENERGY_MEAN] = ev->has[SGM_EVAL_ENERGY_MEAN_REF] = PETSC_TRUE;
    PetscCall(PetscFree(a));
    PetscCall(PetscFree(b));
  }
  PetscCall(CloudValues(ev, &ev->bx, ev->X, PETSC_FALSE, "sample", &a, &na));
  PetscCall(CloudValues(ev, &ev->by, ev->Y, PETSC_FALSE, "reference", &b, &nb));
  ev->value[SGM_EVAL_DISTANCE_W1] = SgmEvalWassersteinSorted_Private(1, na, a, nb, b);
  ev->has[SGM_EVAL_DISTANCE_W1]   = PETSC_TRUE;
  PetscCall(PetscFree(a));
  PetscCall(PetscFree(b));
  PetscCall(PetscLogEventEnd(SGM_EvalPointCloud, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}
