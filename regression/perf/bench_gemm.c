/*
  bench_gemm: GFlop/s of SgmGemm / SgmGemmFloat (src/nn/gemm.c) on one product, for
  regression/perf/bench-gemm.py (which runs NumPy and PyTorch on the same shapes in the same run).

    bench_gemm -M 512 -N 1024 -K 512 -ta N -tb N -precision double|single -net_gemm blas|avx512 -time 0.5

  C = op(A) op(B) with beta = 1 (how the network passes call it), column-major, operands filled with
  a fixed pattern; repeated until -time seconds have passed, in 5 rounds; prints the best round's rate
  ("gflops <rate>").
*/
#include <sgm.h>
#include <sgmnet.h>

int main(int argc, char **argv)
{
  PetscInt  M = 512, N = 1024, K = 512, reps = 0;
  char      ta[2] = "N", tb[2] = "N";
  PetscBool single = PETSC_FALSE;
  PetscReal tmin = 0.5, best = 0;
  char      prec[16] = "double";
  double   *A, *B, *C;
  float    *Af, *Bf, *Cf;

  PetscCall(PetscInitialize(&argc, &argv, NULL, "bench_gemm: GFlop/s of sgm's dense product"));
  PetscCall(SgmInitializePackage());
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "bench_gemm options", NULL);
  PetscCall(PetscOptionsInt("-M", "rows of C", NULL, M, &M, NULL));
  PetscCall(PetscOptionsInt("-N", "columns of C", NULL, N, &N, NULL));
  PetscCall(PetscOptionsInt("-K", "inner dimension", NULL, K, &K, NULL));
  PetscCall(PetscOptionsString("-ta", "op(A): N or T", NULL, ta, ta, sizeof(ta), NULL));
  PetscCall(PetscOptionsString("-tb", "op(B): N or T", NULL, tb, tb, sizeof(tb), NULL));
  PetscCall(PetscOptionsString("-precision", "double or single", NULL, prec, prec, sizeof(prec), NULL));
  PetscCall(PetscOptionsReal("-time", "seconds per round", NULL, tmin, &tmin, NULL));
  {
    SgmGemmType type = SGM_GEMM_AUTO;
    PetscBool   set;
    PetscCall(PetscOptionsEnum("-net_gemm", "kernel", NULL, SgmGemmTypes, (PetscEnum)type, (PetscEnum *)&type, &set));
    if (set) PetscCall(SgmGemmSetType(type));
  }
  PetscOptionsEnd();
  PetscCall(PetscStrcmp(prec, "single", &single));
  PetscCheck(M > 0 && N > 0 && K > 0, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE, "-M, -N and -K must be positive");
  PetscCall(PetscMalloc3(M * K, &A, K * N, &B, M * N, &C));
  PetscCall(PetscMalloc3(M * K, &Af, K * N, &Bf, M * N, &Cf));
  for (PetscInt q = 0; q < M * K; q++) Af[q] = (float)(A[q] = (q % 97) * 0.01 - 0.48);
  for (PetscInt q = 0; q < K * N; q++) Bf[q] = (float)(B[q] = (q % 89) * 0.01 - 0.44);
  for (PetscInt q = 0; q < M * N; q++) Cf[q] = (float)(C[q] = 0);
  for (int round = 0; round < 5; round++) {
    PetscLogDouble t0, t1;
    PetscInt       n = 0;
    PetscCall(PetscTime(&t0));
    do {
      if (single) PetscCall(SgmGemmFloat(ta, tb, M, N, K, 1, Af, ta[0] == 'N' ? M : K, Bf, tb[0] == 'N' ? K : N, 1, Cf, M));
      else PetscCall(SgmGemm(ta, tb, M, N, K, 1, A, ta[0] == 'N' ? M : K, B, tb[0] == 'N' ? K : N, 1, C, M));
      n++;
      PetscCall(PetscTime(&t1));
    } while (t1 - t0 < tmin);
    best = PetscMax(best, 2.0 * M * N * K * n / (t1 - t0) * 1e-9);
    reps += n;
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "gflops %.2f products %" PetscInt_FMT "\n", best, reps));
  PetscCall(PetscFree3(A, B, C));
  PetscCall(PetscFree3(Af, Bf, Cf));
  PetscCall(PetscFinalize());
  return 0;
}
