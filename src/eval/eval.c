/*
  SgmEval (sgmeval.h): the object that holds the two sets, the options and the metrics, and writes
  them as one JSON line, an HDF5 group and a human-readable view.  The metric kernels are in
  moments.c (means, covariances), sliced.c (sliced W2) and pairs.c (MMD^2, energy distance); the
  Frechet distance is SgmFrechetDistance (src/sys/dense.c, ScaLAPACK); the point-cloud metrics
  (energy-histogram W2, interatomic-distance W1) are in pointcloud.c.
*/
#include "evalimpl.h"
#include <sgm/private/scoreimpl.h>
#include <sgmio.h>
#include <sgmdense.h>
#include <sgm/private/energyimpl.h>

PetscClassId  SGM_EVAL_CLASSID;
PetscLogEvent SGM_EvalMoments, SGM_EvalFrechet, SGM_EvalSliced, SGM_EvalPairs, SGM_EvalNLL, SGM_EvalPointCloud;

const char *const SgmEvalMetricNames[] = {"mean_error", "cov_rel_error", "frechet_distance", "sliced_w2", "mmd2", "mmd_bandwidth", "energy_distance", "nll", "nll_se", "nll_reference", "nll_reference_se", "energy_w2", "energy_mean", "energy_mean_reference", "distance_w1"};

static PetscErrorCode SgmEvalInitializePackage(void)
{
  static PetscBool done = PETSC_FALSE;

  PetscFunctionBegin;
  if (done) PetscFunctionReturn(PETSC_SUCCESS);
  done = PETSC_TRUE;
  PetscCall(SgmInitializePackage());
  PetscCall(PetscClassIdRegister("SgmEval", &SGM_EVAL_CLASSID));
  PetscCall(PetscLogEventRegister("SgmEvalMoments", SGM_EVAL_CLASSID, &SGM_EvalMoments));
  PetscCall(PetscLogEventRegister("SgmEvalFrechet", SGM_EVAL_CLASSID, &SGM_EvalFrechet));
  PetscCall(PetscLogEventRegister("SgmEvalSliced", SGM_EVAL_CLASSID, &SGM_EvalSliced));
  PetscCall(PetscLogEventRegister("SgmEvalPairs", SGM_EVAL_CLASSID, &SGM_EvalPairs));
  PetscCall(PetscLogEventRegister("SgmEvalNLL", SGM_EVAL_CLASSID, &SGM_EvalNLL));
  PetscCall(PetscLogEventRegister("SgmEvalPointCloud", SGM_EVAL_CLASSID, &SGM_EvalPointCloud));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEvalCreate(MPI_Comm comm, SgmEval *eval)
{
  SgmEval ev;

  PetscFunctionBegin;
  PetscValidPointer(eval, 2);
  PetscCall(SgmEvalInitializePackage());
  PetscCall(PetscHeaderCreate(ev, SGM_EVAL_CLASSID, "SgmEval", "Comparison of sample sets", "SgmEval", comm, SgmEvalDestroy, SgmEvalView));
  ev->nproj     = 1000;
  ev->nmedian   = 1000;
  ev->seed      = 0;
  ev->bandwidth = 0;
  ev->pairwise  = PETSC_TRUE;
  ev->writedirs = PETSC_FALSE;
  *eval         = ev;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEvalSetFromOptions(SgmEval ev)
{
  PetscInt  seed = (PetscInt)ev->seed;
  char      etype[64] = "none";
  PetscBool flg;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(ev, SGM_EVAL_CLASSID, 1);
  if (!ev->energy) PetscCall(SgmEnergyCreate(PetscObjectComm((PetscObject)ev), &ev->energy)); /* fills SgmEnergyList; typeless until chosen */
  if (ev->energy->type) PetscCall(PetscStrncpy(etype, ev->energy->type, sizeof(etype)));
  PetscObjectOptionsBegin((PetscObject)ev);
  PetscCall(PetscOptionsInt("-eval_sw_projections", "Number of random directions of the sliced Wasserstein-2 distance", "SgmEvalSetFromOptions", ev->nproj, &ev->nproj, NULL));
  PetscCall(PetscOptionsBool("-eval_sw_write_directions", "Write the directions to the output (/eval/sw_directions [P,d])", "SgmEvalSetFromOptions", ev->writedirs, &ev->writedirs, NULL));
  PetscCall(PetscOptionsInt("-eval_seed", "Seed of the sliced-Wasserstein directions (Philox stream 9)", "SgmEvalSetFromOptions", seed, &seed, NULL));
  PetscCall(PetscOptionsBool("-eval_pairwise", "Compute MMD^2 and the energy distance (cost (N1+N2)^2 d)", "SgmEvalSetFromOptions", ev->pairwise, &ev->pairwise, NULL));
  PetscCall(PetscOptionsReal("-eval_mmd_bandwidth", "RBF bandwidth h of k = exp(-|x-y|^2/(2h^2)); 0: median heuristic", "SgmEvalSetFromOptions", ev->bandwidth, &ev->bandwidth, NULL));
  PetscCall(PetscOptionsInt("-eval_median_points", "Points of the deterministic subsample of the median heuristic", "SgmEvalSetFromOptions", ev->nmedian, &ev->nmedian, NULL));
  PetscCall(PetscOptionsFList("-eval_energy", "Point clouds: W2 between the energy distributions of samples and reference under this energy (dw4, lj13; sets -eval_atoms); none: no energy metric", "SgmEvalSetFromOptions", SgmEnergyList, etype, etype, sizeof(etype), &flg));
  if (flg) {
    PetscBool none;
    PetscErrorCode (*create)(SgmEnergy);
    PetscCall(PetscStrcmp(etype, "none", &none));
    if (!none) {
      PetscCall(PetscFunctionListFind(SgmEnergyList, etype, &create));
      PetscCheck(create, PetscObjectComm((PetscObject)ev), PETSC_ERR_USER_INPUT, "Unknown -eval_energy '%s': choose dw4, lj13 or none", etype);
      PetscCall(SgmEnergySetType(ev->energy, etype));
      ev->natoms = ev->energy->n;
    } else if (ev->energy->type) { /* back to no energy */
      PetscCall(SgmEnergyDestroy(&ev->energy));
      PetscCall(SgmEnergyCreate(PetscObjectComm((PetscObject)ev), &ev->energy));
    }
  }
  if (ev->energy->type && ev->energy->setfromoptions) PetscCall(ev->energy->setfromoptions(ev->energy, PetscOptionsObject)); /* -lj_pairs */
  PetscCall(PetscOptionsInt("-eval_atoms", "Point clouds: samples are clouds of this many atoms (x[i*sd + c]); gives the interatomic-distance W1 (0: not point clouds)", "SgmEvalSetFromOptions", ev->natoms, &ev->natoms, NULL));
  PetscOptionsEnd();
  PetscCheck(ev->natoms >= 0, PetscObjectComm((PetscObject)ev), PETSC_ERR_USER_INPUT, "-eval_atoms must be >= 0, not %" PetscInt_FMT, ev->natoms);
  PetscCheck(!ev->energy->type || ev->natoms == ev->energy->n, PetscObjectComm((PetscObject)ev), PETSC_ERR_USER_INPUT, "-eval_atoms %" PetscInt_FMT " contradicts -eval_energy %s (%" PetscInt_FMT " atoms)", ev->natoms, ev->energy->type, ev->energy->n);
  PetscCheck(ev->nproj >= 1, PetscObjectComm((PetscObject)ev), PETSC_ERR_USER_INPUT, "-eval_sw_projections must be at least 1, not %" PetscInt_FMT, ev->nproj);
  PetscCheck(ev->nmedian >= 2 && ev->nmedian <= 20000, PetscObjectComm((PetscObject)ev), PETSC_ERR_USER_INPUT, "-eval_median_points must be between 2 and 20000 (it costs M^2/2 distances in memory), not %" PetscInt_FMT, ev->nmedian);
  PetscCheck(ev->bandwidth >= 0, PetscObjectComm((PetscObject)ev), PETSC_ERR_USER_INPUT, "-eval_mmd_bandwidth must be positive (or 0 for the median heuristic), not %g", (double)ev->bandwidth);
  PetscCheck(seed >= 0, PetscObjectComm((PetscObject)ev), PETSC_ERR_USER_INPUT, "-eval_seed must be non-negative, not %" PetscInt_FMT, seed);
  ev->seed = seed;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A set of at least two finite rows: one sentence naming the first bad row otherwise. */
static PetscErrorCode CheckSet(const SgmBatch *b, Vec X, const char what[])
{
  const PetscScalar *x;
  PetscInt           bad = PETSC_MAX_INT;

  PetscFunctionBegin;
  PetscCheck(b->N >= 2, b->comm, PETSC_ERR_USER_INPUT, "The %s set has %" PetscInt_FMT " point(s); at least 2 are needed (covariances, U-statistics)", what, b->N);
  PetscCall(VecGetArrayRead(X, &x));
  for (PetscInt i = 0; i < b->n * b->d && bad == PETSC_MAX_INT; i++)
    if (!PetscIsNormalReal(x[i]) && x[i] != 0) bad = b->rstart + i / b->d;
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &bad, 1, MPIU_INT, MPI_MIN, b->comm));
  PetscCheck(bad == PETSC_MAX_INT, b->comm, PETSC_ERR_USER_INPUT, "The %s set has a NaN, Inf or subnormal value in row %" PetscInt_FMT, what, bad);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEvalSetSamples(SgmEval ev, const SgmBatch *b, Vec X)
{
  PetscFunctionBegin;
  PetscCall(CheckSet(b, X, "sample"));
  PetscCall(PetscObjectReference((PetscObject)X));
  PetscCall(VecDestroy(&ev->X));
  ev->X  = X;
  ev->bx = *b;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEvalSetReference(SgmEval ev, const SgmBatch *b, Vec Y)
{
  PetscFunctionBegin;
  PetscCall(CheckSet(b, Y, "reference"));
  PetscCall(PetscObjectReference((PetscObject)Y));
  PetscCall(VecDestroy(&ev->Y));
  ev->Y  = Y;
  ev->by = *b;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A score type whose density is known in closed form (gmm, gaussian); evaluated at t = 0. */
PetscErrorCode SgmEvalSetReferenceDensity(SgmEval ev, SgmScore score)
{
  SgmScoreType type;

  PetscFunctionBegin;
  PetscCall(SgmScoreSetUp(score));
  PetscCall(SgmScoreGetType(score, &type));
  PetscCheck(score->ops->logdensity && score->guidance == SGM_GUIDANCE_NONE, PetscObjectComm((PetscObject)ev), PETSC_ERR_USER_INPUT, "The reference score type '%s' has no closed-form density: the NLL needs -reference_score_type gmm or gaussian", type);
  PetscCall(PetscObjectReference((PetscObject)score));
  PetscCall(SgmScoreDestroy(&ev->density));
  ev->density = score;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Mean -log p_0(x) and its standard error.  p_0 is the data density itself: the score types give
  log p_t with the marginal (alpha, sigma) of their SDE, and every SDE has alpha(0) = 1, sigma(0) = 0
  exactly, so t = 0 is the undiffused mixture (its covariances must then be non-singular).
*/
static PetscErrorCode MeanNLL(SgmEval ev, const SgmBatch *b, Vec X, const char what[], PetscReal *mean, PetscReal *se)
{
  const PetscScalar *x;
  PetscReal         *lp, s[2];
  PetscInt           bad = PETSC_MAX_INT;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_EvalNLL, 0, 0, 0, 0));
  {
    SgmSDE    sde;
    PetscReal a, sg;
    PetscCall(SgmScoreGetSDE(ev->density, &sde));
    PetscCall(SgmSDEMarginal(sde, 0, &a, &sg));
    PetscCheck(a == 1 && sg == 0, PetscObjectComm((PetscObject)ev), PETSC_ERR_PLIB, "The SDE's marginal at t = 0 is alpha = %g, sigma = %g, not the data distribution", (double)a, (double)sg);
  }
  PetscCall(PetscMalloc1(2 * b->n, &lp));
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(SgmScoreLogDensity(ev->density, 0, b->n, x, lp));
  PetscCall(VecRestoreArrayRead(X, &x));
  for (PetscInt i = b->n - 1; i >= 0; i--) { /* pairs (-log p, log^2 p), in place from the end */
    const PetscReal l = lp[i];
    if (!PetscIsNormalReal(l) && l != 0) bad = b->rstart + i;
    lp[2 * i]     = -l;
    lp[2 * i + 1] = l * l;
  }
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &bad, 1, MPIU_INT, MPI_MIN, b->comm));
  PetscCheck(bad == PETSC_MAX_INT, b->comm, PETSC_ERR_USER_INPUT, "Point %" PetscInt_FMT " of the %s set has zero or undefined density under the reference (a singular covariance?)", bad, what);
  PetscCall(SgmReproducibleSum(b->comm, b->n, 2, lp, s));
  *mean = s[0] / (PetscReal)b->N;
  *se   = PetscSqrtReal(PetscMax(0, (s[1] - b->N * *mean * *mean) / (PetscReal)(b->N - 1)) / (PetscReal)b->N);
  PetscCall(PetscFree(lp));
  PetscCall(PetscLogEventEnd(SGM_EvalNLL, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Moments(SgmEval ev)
{
  const PetscInt     d = ev->bx.d;
  const PetscScalar *x, *y;
  PetscReal          dm = 0, dS = 0, nS = 0, fd;

  PetscFunctionBegin;
  PetscCall(PetscFree4(ev->mux, ev->muy, ev->Sx, ev->Sy));
  PetscCall(PetscMalloc4(d, &ev->mux, d, &ev->muy, d * d, &ev->Sx, d * d, &ev->Sy));
  PetscCall(VecGetArrayRead(ev->X, &x));
  PetscCall(SgmEvalMoments_Private(&ev->bx, x, ev->mux, ev->Sx));
  PetscCall(VecRestoreArrayRead(ev->X, &x));
  PetscCall(VecGetArrayRead(ev->Y, &y));
  PetscCall(SgmEvalMoments_Private(&ev->by, y, ev->muy, ev->Sy));
  PetscCall(VecRestoreArrayRead(ev->Y, &y));
  for (PetscInt j = 0; j < d; j++) dm += (ev->mux[j] - ev->muy[j]) * (ev->mux[j] - ev->muy[j]);
  for (PetscInt j = 0; j < d * d; j++) {
    dS += (ev->Sx[j] - ev->Sy[j]) * (ev->Sx[j] - ev->Sy[j]);
    nS += ev->Sy[j] * ev->Sy[j];
  }
  ev->value[SGM_EVAL_MEAN_ERROR] = PetscSqrtReal(dm);
  ev->value[SGM_EVAL_COV_ERROR]  = nS > 0 ? PetscSqrtReal(dS / nS) : PETSC_INFINITY;
  ev->has[SGM_EVAL_MEAN_ERROR] = ev->has[SGM_EVAL_COV_ERROR] = PETSC_TRUE;
  PetscCall(PetscLogEventBegin(SGM_EvalFrechet, 0, 0, 0, 0));
  PetscCall(SgmFrechetDistance(PetscObjectComm((PetscObject)ev), d, ev->mux, ev->Sx, ev->muy, ev->Sy, &fd));
  PetscCall(PetscLogEventEnd(SGM_EvalFrechet, 0, 0, 0, 0));
  ev->value[SGM_EVAL_FRECHET] = fd;
  ev->has[SGM_EVAL_FRECHET]   = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEvalCompute(SgmEval ev)
{
  MPI_Comm comm = PetscObjectComm((PetscObject)ev);

  PetscFunctionBegin;
  PetscValidHeaderSpecific(ev, SGM_EVAL_CLASSID, 1);
  PetscCheck(ev->X, comm, PETSC_ERR_USER_INPUT, "No sample set to evaluate: give it with -samples FILE.h5");
  PetscCheck(ev->Y || ev->density, comm, PETSC_ERR_USER_INPUT, "Nothing to compare the samples with: give a reference set (-reference FILE.h5) or a known density (-reference_score_type gmm -reference_gmm_file FILE.h5)");
  for (int k = 0; k < SGM_EVAL_NMETRIC; k++) ev->has[k] = PETSC_FALSE;
  if (ev->Y) {
    PetscCheck(ev->bx.d == ev->by.d, comm, PETSC_ERR_USER_INPUT, "The samples have dimension %" PetscInt_FMT " but the reference set has dimension %" PetscInt_FMT, ev->bx.d, ev->by.d);
    PetscCall(SgmEvalPointCloud_Private(ev)); /* first: it checks its options against the data */
    PetscCall(Moments(ev));
    PetscCall(SgmEvalSliced_Private(ev));
    if (ev->pairwise) PetscCall(SgmEvalPairs_Private(ev));
  } else PetscCheck(!ev->natoms, comm, PETSC_ERR_USER_INPUT, "The point-cloud metrics (-eval_energy, -eval_atoms) compare with reference samples: give them with -reference FILE.h5");
  if (ev->density) {
    PetscInt d;
    PetscCall(SgmScoreGetDimension(ev->density, &d));
    PetscCheck(d == ev->bx.d, comm, PETSC_ERR_USER_INPUT, "The samples have dimension %" PetscInt_FMT " but the reference density has dimension %" PetscInt_FMT, ev->bx.d, d);
    PetscCall(MeanNLL(ev, &ev->bx, ev->X, "sample", &ev->value[SGM_EVAL_NLL], &ev->value[SGM_EVAL_NLL_SE]));
    ev->has[SGM_EVAL_NLL] = ev->has[SGM_EVAL_NLL_SE] = PETSC_TRUE;
    if (ev->Y) {
      PetscCall(MeanNLL(ev, &ev->by, ev->Y, "reference", &ev->value[SGM_EVAL_NLL_REF], &ev->value[SGM_EVAL_NLL_REF_SE]));
      ev->has[SGM_EVAL_NLL_REF] = ev->has[SGM_EVAL_NLL_REF_SE] = PETSC_TRUE;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The value of a metric by its name (the JSON key); *has is false if it was not computed. */
PetscErrorCode SgmEvalGetMetric(SgmEval ev, const char name[], PetscReal *v, PetscBool *has)
{
  PetscFunctionBegin;
  for (int k = 0; k < SGM_EVAL_NMETRIC; k++) {
    PetscBool match;
    PetscCall(PetscStrcmp(name, SgmEvalMetricNames[k], &match));
    if (match) {
      *v   = ev->value[k];
      *has = ev->has[k];
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  SETERRQ(PetscObjectComm((PetscObject)ev), PETSC_ERR_ARG_WRONG, "No metric named '%s'", name);
}

/* One JSON line on stdout (rank 0): the sizes, every metric computed (%.17g) and `extra`, a
   string of further "key": value pairs or "" (the caller's file names). */
PetscErrorCode SgmEvalViewJSON(SgmEval ev, const char extra[])
{
  MPI_Comm comm = PetscObjectComm((PetscObject)ev);

  PetscFunctionBegin;
  PetscCall(PetscPrintf(comm, "{\"command\": \"eval\", \"d\": %" PetscInt_FMT ", \"n_samples\": %" PetscInt_FMT, ev->bx.d, ev->bx.N));
  if (ev->Y) PetscCall(PetscPrintf(comm, ", \"n_reference\": %" PetscInt_FMT ", \"sw_projections\": %" PetscInt_FMT, ev->by.N, ev->nproj));
  for (int k = 0; k < SGM_EVAL_NMETRIC; k++)
    if (ev->has[k]) PetscCall(PetscPrintf(comm, ", \"%s\": %.17g", SgmEvalMetricNames[k], (double)ev->value[k]));
  PetscCall(PetscPrintf(comm, "%s%s}\n", extra && extra[0] ? ", " : "", extra ? extra : ""));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The group /eval of an output file: every metric as an attribute, the moments and the per-direction
   W2^2 as datasets, and how they were computed. */
PetscErrorCode SgmEvalWrite(SgmEval ev, hid_t file)
{
  MPI_Comm       comm = PetscObjectComm((PetscObject)ev);
  const PetscInt d    = ev->bx.d;
  hid_t          g;
  hsize_t        dims[2];

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_HDF5Write, 0, 0, 0, 0));
  PetscCallHDF5(g = H5Gcreate2(file, "eval", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  for (int k = 0; k < SGM_EVAL_NMETRIC; k++)
    if (ev->has[k]) PetscCall(SgmH5AttrReal(g, SgmEvalMetricNames[k], ev->value[k]));
  PetscCall(SgmH5AttrInt(g, "d", d));
  PetscCall(SgmH5AttrInt(g, "n_samples", ev->bx.N));
  PetscCall(SgmH5AttrString(g, "covariance", "two-pass, fixed-point (rank-invariant) sums, divisor N - 1"));
  if (ev->Y) {
    PetscCall(SgmH5AttrInt(g, "n_reference", ev->by.N));
    PetscCall(SgmH5AttrString(g, "frechet_definition", "|mu_s - mu_r|^2 + Tr(S_s + S_r - 2 (S_s^1/2 S_r S_s^1/2)^1/2), ScaLAPACK eigendecompositions"));
    PetscCall(SgmH5AttrInt(g, "sw_projections", ev->nproj));
    PetscCall(SgmH5AttrInt(g, "sw_seed", ev->seed));
    PetscCall(SgmH5AttrString(g, "sw_formula", ev->swformula));
    PetscCall(SgmH5AttrString(g, "sw_directions_rule", "theta_p = z/|z|, z = SgmRandomNormalSample(sw_seed, stream 9, step 0, index p, d)"));
    dims[0] = (hsize_t)d;
    PetscCall(SgmH5WriteSmall(comm, g, "mean_samples", 1, dims, ev->mux));
    PetscCall(SgmH5WriteSmall(comm, g, "mean_reference", 1, dims, ev->muy));
    dims[1] = (hsize_t)d;
    PetscCall(SgmH5WriteSmall(comm, g, "cov_samples", 2, dims, ev->Sx));
    PetscCall(SgmH5WriteSmall(comm, g, "cov_reference", 2, dims, ev->Sy));
    dims[0] = (hsize_t)ev->nproj;
    PetscCall(SgmH5WriteSmall(comm, g, "sw_w2sq", 1, dims, ev->w2sq));
    if (ev->writedirs) PetscCall(SgmH5WriteSmall(comm, g, "sw_directions", 2, dims, ev->dirs));
    if (ev->has[SGM_EVAL_MMD2]) {
      PetscCall(SgmH5AttrString(g, "mmd_kernel", "exp(-|x-y|^2/(2 h^2)), unbiased U-statistic"));
      PetscCall(SgmH5AttrString(g, "mmd_bandwidth_rule", ev->nmedianused ? "median pairwise distance of the pooled subsample z_floor(m (N1+N2)/M), m < M" : "given (-eval_mmd_bandwidth)"));
      PetscCall(SgmH5AttrInt(g, "mmd_median_points", ev->nmedianused));
      PetscCall(SgmH5AttrString(g, "energy_definition", "2 E|X-Y| - E|X-X'| - E|Y-Y'|, U-statistics"));
    }
  }
  if (ev->has[SGM_EVAL_DISTANCE_W1]) {
    PetscCall(SgmH5AttrInt(g, "point_cloud_atoms", ev->natoms));
    PetscCall(SgmH5AttrString(g, "distance_w1_definition", "W1 between the empirical distributions of all interatomic distances |x_i - x_j|, i < j, of the samples and of the reference; exact quantile functions (any sizes)"));
  }
  if (ev->has[SGM_EVAL_ENERGY_W2]) {
    PetscCall(SgmH5AttrString(g, "energy_w2_definition", "W2 between the empirical distributions of E(x) of the samples and of the reference; exact quantile functions (any sizes)"));
    PetscCall(SgmEnergyWriteAttributes(ev->energy, g));
  }
  if (ev->density) {
    SgmScoreType type;
    PetscCall(SgmScoreGetType(ev->density, &type));
    PetscCall(SgmH5AttrString(g, "nll_density", type));
    PetscCall(SgmH5AttrString(g, "nll_definition", "mean of -log p_0(x) (nats), p_0 the reference density at t = 0; se = std/sqrt(N)"));
  }
  PetscCallHDF5(H5Gclose(g));
  if (ev->density) PetscCall(SgmScoreWriteAttributes(ev->density, file));
  PetscCall(PetscLogEventEnd(SGM_HDF5Write, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEvalView(SgmEval ev, PetscViewer viewer)
{
  PetscBool isascii;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(PetscObjectComm((PetscObject)ev), &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &isascii));
  if (!isascii) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscViewerASCIIPrintf(viewer, "sgm eval: %" PetscInt_FMT " samples", ev->bx.N));
  if (ev->Y) PetscCall(PetscViewerASCIIPrintf(viewer, " vs %" PetscInt_FMT " reference points", ev->by.N));
  PetscCall(PetscViewerASCIIPrintf(viewer, ", d = %" PetscInt_FMT "\n", ev->bx.d));
  if (ev->has[SGM_EVAL_MEAN_ERROR]) PetscCall(PetscViewerASCIIPrintf(viewer, "  |mu_s - mu_r| = %.6g   |S_s - S_r|_F/|S_r|_F = %.6g   Frechet distance = %.6g\n", (double)ev->value[SGM_EVAL_MEAN_ERROR], (double)ev->value[SGM_EVAL_COV_ERROR], (double)ev->value[SGM_EVAL_FRECHET]));
  if (ev->has[SGM_EVAL_SLICED_W2]) PetscCall(PetscViewerASCIIPrintf(viewer, "  sliced W2 = %.6g (%" PetscInt_FMT " directions, %s)\n", (double)ev->value[SGM_EVAL_SLICED_W2], ev->nproj, ev->swformula));
  if (ev->has[SGM_EVAL_MMD2]) PetscCall(PetscViewerASCIIPrintf(viewer, "  MMD^2 = %.6g (RBF, h = %.6g)   energy distance = %.6g\n", (double)ev->value[SGM_EVAL_MMD2], (double)ev->value[SGM_EVAL_BANDWIDTH], (double)ev->value[SGM_EVAL_ENERGY]));
  if (ev->has[SGM_EVAL_ENERGY_W2]) PetscCall(PetscViewerASCIIPrintf(viewer, "  %s energy: W2 between the energy distributions = %.6g   mean energy %.6g (reference %.6g)\n", ev->energy->type, (double)ev->value[SGM_EVAL_ENERGY_W2], (double)ev->value[SGM_EVAL_ENERGY_MEAN], (double)ev->value[SGM_EVAL_ENERGY_MEAN_REF]));
  if (ev->has[SGM_EVAL_DISTANCE_W1]) PetscCall(PetscViewerASCIIPrintf(viewer, "  interatomic distances (%" PetscInt_FMT " atoms): W1 = %.6g\n", ev->natoms, (double)ev->value[SGM_EVAL_DISTANCE_W1]));
  if (ev->has[SGM_EVAL_NLL]) PetscCall(PetscViewerASCIIPrintf(viewer, "  NLL of the samples under the reference density = %.6g +- %.2g nats", (double)ev->value[SGM_EVAL_NLL], (double)ev->value[SGM_EVAL_NLL_SE]));
  if (ev->has[SGM_EVAL_NLL_REF]) PetscCall(PetscViewerASCIIPrintf(viewer, " (reference set: %.6g +- %.2g)", (double)ev->value[SGM_EVAL_NLL_REF], (double)ev->value[SGM_EVAL_NLL_REF_SE]));
  if (ev->has[SGM_EVAL_NLL]) PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmEvalDestroy(SgmEval *eval)
{
  PetscFunctionBegin;
  if (!*eval) PetscFunctionReturn(PETSC_SUCCESS);
  PetscValidHeaderSpecific(*eval, SGM_EVAL_CLASSID, 1);
  if (--((PetscObject)(*eval))->refct > 0) {
    *eval = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(VecDestroy(&(*eval)->X));
  PetscCall(VecDestroy(&(*eval)->Y));
  PetscCall(SgmScoreDestroy(&(*eval)->density));
  PetscCall(SgmEnergyDestroy(&(*eval)->energy));
  PetscCall(PetscFree4((*eval)->mux, (*eval)->muy, (*eval)->Sx, (*eval)->Sy));
  PetscCall(PetscFree2((*eval)->w2sq, (*eval)->dirs));
  PetscCall(PetscHeaderDestroy(eval));
  PetscFunctionReturn(PETSC_SUCCESS);
}
