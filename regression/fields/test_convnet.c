/*
  The convolutional score network of fields (sgmconvnet.h, doc/fields.md), on the grid of the
  -field_grid / -field_periodic / -da_processors_* options:
    1. the gradient of the DSM loss over a batch of 2 fields (summed over ranks with one allreduce)
       against central finite differences of the loss, every parameter: max |g_fd - g| / max |g| < 1e-6;
    2. the forward pass: prints "forward hash" = a hash of (global index, bits of the score) over all
       points, independent of the order of the points; test_convnet.sh compares it across 1, 2 and
       4 ranks and the process grids 1x4, 4x1, 2x2 (bitwise independence of the process grid).
  Runs in well under a second.
*/
#include <sgmconvnet.h>
#include "../unit/check.h"

static uint64_t Mix(uint64_t z) /* splitmix64's finaliser */
{
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static PetscErrorCode Loss(SgmConvNet net, const PetscReal *al, const PetscReal *si, const PetscReal *x0, const PetscReal *eps, PetscReal *l, PetscReal *g, PetscInt P)
{
  PetscFunctionBegin;
  if (g) PetscCall(PetscArrayzero(g, P));
  PetscCall(SgmConvNetLossDSM(net, 2, al, si, x0, eps, l, g));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, l, 1, MPIU_REAL, MPIU_SUM, PETSC_COMM_WORLD));
  if (g) PetscCall(MPIU_Allreduce(MPI_IN_PLACE, g, P, MPIU_REAL, MPIU_SUM, PETSC_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  Tally           tl = {0, 0};
  SgmFieldOptions fo = {0};
  SgmField        f;
  SgmBatch        b;
  SgmConvNet      net;
  PetscInt        P, nl;
  PetscReal      *theta, *g, *x0, *eps, *s, al[2] = {0.8, 0.45}, si[2] = {0.3, 0.9}, l0, lp, lm, emax = 0, gmax = 0;
  uint64_t        hash = 0;
  char            name[128];

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "test_convnet", "");
  PetscCall(SgmFieldOptionsSetFromOptions(PetscOptionsObject, PETSC_COMM_WORLD, &fo));
  PetscOptionsEnd();
  PetscCall(SgmFieldCreate(PETSC_COMM_WORLD, &fo, 1, &f));
  PetscCall(SgmBatchCreateField(PETSC_COMM_WORLD, 2, f, &b));
  PetscCall(SgmConvNetCreate(PETSC_COMM_WORLD, &net));
  PetscCall(SgmConvNetSetFromOptions(net));
  PetscCall(SgmConvNetSetSigmaData(net, 1.3));
  PetscCall(SgmConvNetSetUp(net, f));
  PetscCall(SgmConvNetInitialize(net, 5));
  PetscCall(SgmConvNetGetParameters(net, &P, &theta));
  for (PetscInt p = 0; p < P; p++) { /* non-zero biases too */
    PetscReal z;
    SgmRandomNormalSample(9, SGM_STREAM_NET_INIT, 3, p, 1, &z);
    theta[p] += 0.2 * z;
  }
  nl = f->nloc;
  PetscCall(PetscMalloc4(P, &g, 2 * nl + 1, &x0, 2 * nl + 1, &eps, 2 * nl + 1, &s));
  PetscCall(SgmRandomNormalBatch(3, SGM_STREAM_PRIOR, 0, &b, x0));
  PetscCall(SgmRandomNormalBatch(3, SGM_STREAM_SDE, 0, &b, eps));

  /* 1. gradient against central differences */
  PetscCall(Loss(net, al, si, x0, eps, &l0, g, P));
  for (PetscInt p = 0; p < P; p++) {
    const PetscReal t = theta[p], h = 1e-5 * PetscMax(1, PetscAbsReal(t));
    theta[p] = t + h;
    PetscCall(Loss(net, al, si, x0, eps, &lp, NULL, P));
    theta[p] = t - h;
    PetscCall(Loss(net, al, si, x0, eps, &lm, NULL, P));
    theta[p] = t;
    emax     = PetscMax(emax, PetscAbsReal((lp - lm) / (2 * h) - g[p]));
    gmax     = PetscMax(gmax, PetscAbsReal(g[p]));
  }
  PetscCall(PetscSNPrintf(name, sizeof(name), "DSM gradient vs central FD, %" PetscInt_FMT " parameters", P));
  PetscCall(Check(&tl, name, emax / gmax, 1e-6));

  /* 2. forward hash over (global index, bits of s) */
  PetscCall(SgmConvNetScore(net, 2, al, si, x0, s));
  for (PetscInt i = 0; i < 2; i++)
    for (PetscInt p = 0; p < nl; p++) {
      uint64_t bits;
      memcpy(&bits, &s[i * nl + p], sizeof(bits));
      hash += Mix(Mix((uint64_t)(i * f->ngrid + f->nat[p])) ^ bits);
    }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &hash, 1, MPI_UINT64_T, MPI_SUM, PETSC_COMM_WORLD));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "forward hash %016llx\n", (unsigned long long)hash));

  PetscCall(PetscFree4(g, x0, eps, s));
  PetscCall(SgmConvNetDestroy(&net));
  PetscCall(SgmFieldDestroy(&f));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  PetscCall(PetscFinalize());
  return tl.fail ? 1 : 0;
}
