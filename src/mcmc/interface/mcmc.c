/*
  Metropolis random-walk chains (Metropolis et al. 1953) on exp(-E(x)).  A chain is a pure function
  of (seed, chain index): its initial state, every proposal and every acceptance uniform come from
  the counter-based generator with the chain index as the sample index, so samples do not depend
  on how chains are spread over ranks.

    initial state   x = init_scale * N(0, I) from stream SGM_STREAM_MCMC, step 0, then centred
    particle move   sweep s, particle p, counter step t = 1 + s n + p:  x_p' = x_p + h z,
                    z ~ N(0, I_dim) (stream SGM_STREAM_MCMC), accepted iff u < exp(-(E' - E)),
                    u ~ U(0,1) (stream SGM_STREAM_MCMC_ACCEPT); the cloud is re-centred after the sweep
    all move        sweep s, t = 1 + s:  x' = x + h P z, z ~ N(0, I_{n dim}), P the zero-CoM projection
  Both proposals are symmetric; the energies are translation invariant, so the chain on the centred
  cloud samples exp(-E) restricted to the zero-CoM subspace.  Sample k is the state after sweep
  burnin + (k+1) thin.
*/
#include <sgm/private/energyimpl.h>
#include <sgmgeometric.h>

const char *const SgmMCMCMoves[] = {"particle", "all", "SgmMCMCMove", "SGM_MCMC_MOVE_", NULL};

/*
  Run chain `chain`: x[k*n*dim ...] (nsamples states, centred), E[k] and parts[k*nparts ...];
  *acc and *prop count accepted and proposed moves after burn-in.
*/
PetscErrorCode SgmMCMCRunChain(SgmEnergy e, const SgmMCMCParams *p, PetscInt chain, PetscReal x[], PetscReal E[], PetscReal parts[], PetscInt64 *acc, PetscInt64 *prop)
{
  const PetscInt n = e->n, dim = e->dim, nd = n * dim;
  const PetscInt nsweeps = p->burnin + p->nsamples * p->thin;
  PetscReal     *cur, *trial, Ec, Et, u;
  PetscScalar    z[64];
  PetscInt       k = 0;

  PetscFunctionBegin;
  PetscCheck(nd <= 64, PETSC_COMM_SELF, PETSC_ERR_SUP, "The MCMC chains handle at most 64 coordinates; the target has %" PetscInt_FMT, nd);
  PetscCheck((PetscReal)nsweeps * (p->move == SGM_MCMC_MOVE_PARTICLE ? n : 1) < 4.0e9, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "The chain is too long for the 32-bit step counter of the generator: lower -mcmc_burnin, -mcmc_samples or -mcmc_thin");
  *acc = *prop = 0;
  PetscCall(PetscMalloc2(nd, &cur, nd, &trial));
  SgmRandomNormalSample(p->seed, SGM_STREAM_MCMC, 0, chain, nd, z);
  for (PetscInt c = 0; c < nd; c++) cur[c] = p->init_scale * PetscRealPart(z[c]);
  PetscCall(SgmGeomRemoveCoM(1, n, dim, cur));
  PetscCall(e->eval(e, cur, &Ec, NULL, NULL));
  for (PetscInt s = 0; s < nsweeps; s++) {
    const PetscBool count = (PetscBool)(s >= p->burnin);
    if (p->move == SGM_MCMC_MOVE_PARTICLE) {
      for (PetscInt q = 0; q < n; q++) {
        const PetscInt t = 1 + s * n + q;
        SgmRandomNormalSample(p->seed, SGM_STREAM_MCMC, t, chain, dim, z);
        SgmRandomUniformSample(p->seed, SGM_STREAM_MCMC_ACCEPT, t, chain, 1, &u);
        PetscCall(PetscArraycpy(trial, cur, nd));
        for (PetscInt c = 0; c < dim; c++) trial[q * dim + c] += p->step * PetscRealPart(z[c]);
        PetscCall(e->eval(e, trial, &Et, NULL, NULL));
        if (count) (*prop)++;
        if (PetscLogReal(u) < Ec - Et) { /* also rejects E' = NaN or +inf */
          PetscCall(PetscArraycpy(cur, trial, nd));
          Ec = Et;
          if (count) (*acc)++;
        }
      }
      PetscCall(SgmGeomRemoveCoM(1, n, dim, cur));
      PetscCall(e->eval(e, cur, &Ec, NULL, NULL));
    } else {
      const PetscInt t = 1 + s;
      SgmRandomNormalSample(p->seed, SGM_STREAM_MCMC, t, chain, nd, z);
      SgmRandomUniformSample(p->seed, SGM_STREAM_MCMC_ACCEPT, t, chain, 1, &u);
      PetscCall(SgmGeomRemoveCoM(1, n, dim, z));
      for (PetscInt c = 0; c < nd; c++) trial[c] = cur[c] + p->step * PetscRealPart(z[c]);
      PetscCall(e->eval(e, trial, &Et, NULL, NULL));
      if (count) (*prop)++;
      if (PetscLogReal(u) < Ec - Et) {
        PetscCall(PetscArraycpy(cur, trial, nd));
        Ec = Et;
        if (count) (*acc)++;
      }
    }
    if (count && (s - p->burnin + 1) % p->thin == 0) {
      PetscCall(PetscArraycpy(x + k * nd, cur, nd));
      PetscCall(e->eval(e, cur, &E[k], parts ? parts + k * e->nparts : NULL, NULL));
      k++;
    }
  }
  PetscCall(PetscFree2(cur, trial));
  PetscFunctionReturn(PETSC_SUCCESS);
}
