/*
  `sgm mcmc`: Metropolis sampling of the DW4 and LJ13 energies (src/mcmc, doc/geometric.md).
  Independent chains are spread over the ranks, whole chains per rank; each chain is a pure function
  of (seed, chain index), so the output is bitwise the same on any number of ranks.
  Output: /samples [C*S, n*dim] (row c*S + k = sample k of chain c, CoM-centred), /energy [C*S],
  /energy_<part> [C*S] for targets with several parts, attributes with the sampler settings, the
  acceptance rate, the chain statistics and provenance.
*/
#include <sgmmcmc.h>
#include <sgmsampler.h>
#include <sgmio.h>
#include "commands.h"

#define MAXQ 3 /* E and at most two parts */

/* Mean over all C*S samples, its standard error from the C independent chain means, and the
   integrated autocorrelation time tau (in recorded samples) = S var(chain means) / var(samples).
   st[c*2q + 2j] = mean of quantity j in chain c, st[c*2q + 2j + 1] = its within-chain variance. */
static void ChainStats(PetscInt C, PetscInt S, PetscInt q, const PetscReal st[], PetscReal mean[], PetscReal se[], PetscReal tau[])
{
  for (PetscInt j = 0; j < q; j++) {
    PetscReal m = 0, vb = 0, vw = 0;
    for (PetscInt c = 0; c < C; c++) m += st[c * 2 * q + 2 * j] / C;
    for (PetscInt c = 0; c < C; c++) {
      PetscReal d = st[c * 2 * q + 2 * j] - m;
      vb += d * d / PetscMax(C - 1, 1);
      vw += st[c * 2 * q + 2 * j + 1] / C;
    }
    mean[j] = m;
    se[j]   = PetscSqrtReal(vb / C);
    tau[j]  = vw > 0 ? S * vb / (vw + vb * (S - 1.0) / S) : 0; /* var(samples) = within + between */
  }
}

PetscErrorCode SgmCommandMCMC(MPI_Comm comm)
{
  SgmEnergy          e;
  SgmMCMCParams      p;
  char               output[PETSC_MAX_PATH_LEN] = "mcmc.h5", name[64];
  PetscBool          overwrite = PETSC_FALSE, quiet = PETSC_FALSE, allowunused = PETSC_FALSE, left = PETSC_TRUE, leftset, help;
  PetscInt           C = 64, seed = 0, n, dim, nd, np, nq, cn = PETSC_DECIDE, cstart, burnin = 2000, thin = 10, S = 1000;
  const char *const *partnames;
  PetscReal         *x, *E, *parts, *st, *allst, mean[MAXQ], se[MAXQ], tau[MAXQ], step = -1, init = -1;
  PetscInt64         acc = 0, prop = 0, a, pr, tot[2];
  SgmBatch           b;
  Vec                X;
  SgmOutput          out = NULL;
  hid_t              file;
  PetscLogDouble     t0, t1;
  PetscMPIInt        size, *counts, *displs;
  PetscLogEvent      ev;
  SgmMCMCMove        move = SGM_MCMC_MOVE_PARTICLE;
  SgmEnergyType      type;

  PetscFunctionBegin;
  PetscCall(PetscLogEventRegister("SgmMCMCChain", SGM_SAMPLER_CLASSID, &ev));
  PetscCall(SgmEnergyCreate(comm, &e));
  PetscCall(SgmEnergySetFromOptions(e));
  PetscCall(SgmEnergyGetSize(e, &n, &dim));
  PetscCall(SgmEnergyGetType(e, &type));
  PetscCall(SgmEnergyGetParts(e, &np, &partnames));
  nd = n * dim;
  PetscOptionsBegin(comm, NULL, "sgm mcmc: Metropolis sampling of DW4 / LJ13 (doc/geometric.md)", "sgm");
  PetscCall(PetscOptionsInt("-mcmc_chains", "Number C of independent chains, spread over the ranks", "", C, &C, NULL));
  PetscCall(PetscOptionsInt("-mcmc_samples", "Samples S recorded per chain (the output has C*S rows)", "", S, &S, NULL));
  PetscCall(PetscOptionsInt("-mcmc_burnin", "Sweeps discarded at the start of each chain", "", burnin, &burnin, NULL));
  PetscCall(PetscOptionsInt("-mcmc_thin", "Sweeps between recorded samples", "", thin, &thin, NULL));
  PetscCall(PetscOptionsReal("-mcmc_step", "Proposal standard deviation per coordinate (default: dw4 0.5, lj13 0.1 for particle moves)", "", step, &step, NULL));
  PetscCall(PetscOptionsEnum("-mcmc_move", "particle: one particle at a time, n proposals per sweep; all: every particle, one proposal per sweep", "", SgmMCMCMoves, (PetscEnum)move, (PetscEnum *)&move, NULL));
  PetscCall(PetscOptionsReal("-mcmc_init_scale", "The chains start at init_scale * N(0, I), centred (default: dw4 2, lj13 0.8)", "", init, &init, NULL));
  PetscCall(PetscOptionsInt("-seed", "Seed of the counter-based generator (same seed, same chains on any number of ranks)", "", seed, &seed, NULL));
  PetscCall(PetscOptionsString("-output", "HDF5 file to write (/samples, /energy, attributes)", "", output, output, sizeof(output), NULL));
  PetscCall(PetscOptionsBool("-overwrite", "Replace the output file if it exists", "", overwrite, &overwrite, NULL));
  PetscCall(PetscOptionsBool("-quiet", "Do not print the run summary", "", quiet, &quiet, NULL));
  PetscCall(PetscOptionsBool("-allow_unused_options", "Run even if an option is used by no part of sgm", "", allowunused, &allowunused, NULL));
  PetscOptionsEnd();
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) {
    PetscCall(SgmEnergyDestroy(&e));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(C > 0, comm, PETSC_ERR_USER_INPUT, "-mcmc_chains must be a positive number of chains; got %" PetscInt_FMT, C);
  PetscCheck(S > 0, comm, PETSC_ERR_USER_INPUT, "-mcmc_samples must be a positive number of samples per chain; got %" PetscInt_FMT, S);
  PetscCheck(burnin >= 0, comm, PETSC_ERR_USER_INPUT, "-mcmc_burnin must be a non-negative number of sweeps; got %" PetscInt_FMT, burnin);
  PetscCheck(thin > 0, comm, PETSC_ERR_USER_INPUT, "-mcmc_thin must be a positive number of sweeps; got %" PetscInt_FMT, thin);
  PetscCheck(seed >= 0, comm, PETSC_ERR_USER_INPUT, "-seed must be a non-negative integer; got %" PetscInt_FMT, seed);
  {
    PetscReal step0, init0;
    PetscCall(SgmEnergyGetDefaults(e, &step0, &init0));
    if (step < 0) step = move == SGM_MCMC_MOVE_PARTICLE ? step0 : step0 / PetscSqrtReal((PetscReal)n);
    if (init < 0) init = init0;
  }
  PetscCheck(step > 0, comm, PETSC_ERR_USER_INPUT, "-mcmc_step must be positive; got %g", (double)step);
  PetscCheck(init > 0, comm, PETSC_ERR_USER_INPUT, "-mcmc_init_scale must be positive; got %g", (double)init);
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-options_left", &left, &leftset));
  if (!allowunused && !(leftset && !left)) PetscCall(SgmCheckUnusedOptions(comm, "mcmc"));
  p = (SgmMCMCParams){step, init, burnin, thin, S, move, (uint64_t)seed};

  /* whole chains per rank; the rows of the output are the chains' samples in chain order */
  PetscCall(PetscSplitOwnership(comm, &cn, &C));
  PetscCallMPI(MPI_Scan(&cn, &cstart, 1, MPIU_INT, MPI_SUM, comm));
  cstart -= cn;
  b = (SgmBatch){comm, C * S, nd, cn * S, cstart * S};
  PetscCall(SgmBatchCreateVec(&b, &X));
  nq = 1 + (np > 1 ? np : 0);
  PetscCall(PetscMalloc3(PetscMax(cn * S, 1), &E, PetscMax(cn * S * np, 1), &parts, 2 * MAXQ * PetscMax(cn, 1), &st));
  PetscCall(PetscTime(&t0));
  PetscCall(VecGetArray(X, &x));
  PetscCall(PetscLogEventBegin(ev, 0, 0, 0, 0));
  for (PetscInt c = 0; c < cn; c++) {
    PetscCall(SgmMCMCRunChain(e, &p, cstart + c, x + c * S * nd, E + c * S, parts + c * S * np, &a, &pr));
    acc += a;
    prop += pr;
    for (PetscInt j = 0; j < nq; j++) { /* chain mean and variance of E and of each part */
      PetscReal m = 0, v = 0;
      for (PetscInt k = 0; k < S; k++) m += (j ? parts[(c * S + k) * np + j - 1] : E[c * S + k]) / S;
      for (PetscInt k = 0; k < S; k++) {
        PetscReal d = (j ? parts[(c * S + k) * np + j - 1] : E[c * S + k]) - m;
        v += d * d / PetscMax(S - 1, 1);
      }
      st[c * 2 * nq + 2 * j]     = m;
      st[c * 2 * nq + 2 * j + 1] = v;
    }
  }
  PetscCall(PetscLogEventEnd(ev, 0, 0, 0, 0));
  PetscCall(VecRestoreArray(X, &x));
  PetscCall(PetscTime(&t1));
  tot[0] = acc;
  tot[1] = prop;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, tot, 2, MPIU_INT64, MPI_SUM, comm));
  /* the statistics from all chains in chain order: the same bits on any number of ranks */
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMalloc3(C * 2 * nq, &allst, size, &counts, size, &displs));
  {
    PetscMPIInt mine = (PetscMPIInt)(cn * 2 * nq);
    PetscCallMPI(MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, comm));
    displs[0] = 0;
    for (PetscMPIInt r = 1; r < size; r++) displs[r] = displs[r - 1] + counts[r - 1];
    PetscCallMPI(MPI_Allgatherv(st, mine, MPIU_REAL, allst, counts, displs, MPIU_REAL, comm));
  }
  ChainStats(C, S, nq, allst, mean, se, tau);

  PetscCall(SgmOutputCreate(comm, output, overwrite, &out));
  PetscCall(SgmOutputGetFile(out, &file));
  PetscCall(SgmOutputWriteBatch(out, "samples", &b, X));
  PetscCall(SgmOutputWriteSampleValues(out, "energy", &b, E));
  if (np > 1) {
    PetscReal *v;
    PetscCall(PetscMalloc1(PetscMax(cn * S, 1), &v));
    for (PetscInt j = 0; j < np; j++) {
      for (PetscInt k = 0; k < cn * S; k++) v[k] = parts[k * np + j];
      PetscCall(PetscSNPrintf(name, sizeof(name), "energy_%s", partnames[j]));
      PetscCall(SgmOutputWriteSampleValues(out, name, &b, v));
    }
    PetscCall(PetscFree(v));
  }
  PetscCall(SgmOutputWriteProvenance(out, seed));
  PetscCall(SgmEnergyWriteAttributes(e, file));
  PetscCall(SgmH5AttrInt(file, "mcmc_chains", C));
  PetscCall(SgmH5AttrInt(file, "mcmc_samples", S));
  PetscCall(SgmH5AttrInt(file, "mcmc_burnin", burnin));
  PetscCall(SgmH5AttrInt(file, "mcmc_thin", thin));
  PetscCall(SgmH5AttrReal(file, "mcmc_step", step));
  PetscCall(SgmH5AttrReal(file, "mcmc_init_scale", init));
  PetscCall(SgmH5AttrString(file, "mcmc_move", SgmMCMCMoves[move]));
  PetscCall(SgmH5AttrString(file, "row_order", "row c*mcmc_samples + k is sample k of chain c"));
  PetscCall(SgmH5AttrReal(file, "acceptance_rate", (PetscReal)tot[0] / (PetscReal)PetscMax(tot[1], 1)));
  PetscCall(SgmH5AttrReal(file, "run_time_s", t1 - t0));
  for (PetscInt j = 0; j < nq; j++) {
    const char *q = j ? partnames[j - 1] : "energy";
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s%s_mean", j ? "energy_" : "", q));
    PetscCall(SgmH5AttrReal(file, name, mean[j]));
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s%s_se", j ? "energy_" : "", q));
    PetscCall(SgmH5AttrReal(file, name, se[j]));
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s%s_tau", j ? "energy_" : "", q));
    PetscCall(SgmH5AttrReal(file, name, tau[j]));
  }
  PetscCall(SgmOutputClose(&out));

  if (!quiet) {
    PetscCall(PetscPrintf(comm, "sgm mcmc: %s, %" PetscInt_FMT " chains x %" PetscInt_FMT " samples (burn-in %" PetscInt_FMT ", thin %" PetscInt_FMT " sweeps, %s moves, step %g), %d rank(s), %.2f s -> %s\n", type, C, S, burnin, thin, SgmMCMCMoves[move], (double)step, size, t1 - t0, output));
    PetscCall(PetscPrintf(comm, "  acceptance %.4f\n", (double)tot[0] / (double)PetscMax(tot[1], 1)));
    for (PetscInt j = 0; j < nq; j++) PetscCall(PetscPrintf(comm, "  %-18s mean %12.5f  se %.5f  tau %.2f samples\n", j ? partnames[j - 1] : "energy", (double)mean[j], (double)se[j], (double)tau[j]));
  }
  PetscCall(PetscFree3(allst, counts, displs));
  PetscCall(PetscFree3(E, parts, st));
  PetscCall(VecDestroy(&X));
  PetscCall(SgmEnergyDestroy(&e));
  PetscFunctionReturn(PETSC_SUCCESS);
}
