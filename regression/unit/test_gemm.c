/*
  Unit test of the networks' dense products (src/nn/gemm.c): SgmGemm and SgmGemmFloat with the
  kernels blas and avx512 (-net_gemm).

  (a) Accuracy, all four transposition cases, ragged sizes that cross every block edge of the avx512
      kernel (M past MC = 192 (double) and 384 (float) and not a multiple of the 16/32-row tile, N
      past NC = 4096 and not a multiple of the 12-column tile, K past KC = 256 (double) and 512
      (float), K = 0, 1), leading dimensions larger than the
      matrices, alpha 1 and -0.75, beta 0 (C filled with NaN: must not be read), 1 and 0.5.  The
      reference is the triple loop in long double (64-bit mantissa), independent of both kernels.
      Entrywise bound (K + 3) u (|alpha| (|A| |B|)_ij + |beta C_ij|) with u = 2^-53 (2^-24 in
      float): the forward error bound of an inner product of length K evaluated in any order with
      rounding (Higham, Accuracy and Stability, 3.1, gamma_K ~ K u), plus the roundings of alpha,
      beta and the update.  Reported: the worst ratio error / bound (the check is ratio <= 1).  The
      system BLAS must meet the same bound (a check of the reference and of the bound).
  (b) The check can fail: the product with the last term of the inner dimension left out has a
      ratio far above 1 (required > 10).
  (c) The property sampling relies on (bitwise rank independence of a network score): a column of C
      computed among 1000 columns, among 25 (an offset block) and alone is the same to the bit, for
      op(A) W x W with W = 300 (past MC) and op(B) W x N, in the cases a network pass uses (N N and
      T N), with beta 0 and beta 1 (bias written first), in double and float.  Reported: the number
      of differing entries (bound 0).
  (d) Bad arguments (a transposition flag other than N/T, a negative size, a leading dimension
      smaller than its matrix) are refused.
  Without AVX-512 the avx512 checks are replaced by one line saying so, and -net_gemm avx512 must be
  refused.  Prints one line per check and "N passed, M failed"; exit status M != 0.  About 4 s.
*/
#include <sgm.h>
#include <sgmnet.h>

#include "check.h"

static uint64_t rngstep = 900;

static void Normals(PetscInt count, PetscReal *z)
{
  SgmRandomNormalSample(777, SGM_STREAM_PRIOR, (PetscInt)rngstep++, 0, count, z);
}

/* Fill a rows x cols matrix with leading dimension ld (the padding rows get a huge value: reading
   them would show) */
static void Fill(PetscInt rows, PetscInt cols, PetscInt ld, PetscReal *a)
{
  Normals(ld * cols, a);
  for (PetscInt j = 0; j < cols; j++)
    for (PetscInt i = rows; i < ld; i++) a[i + j * ld] = 1e300;
}

/* worst (|C - C_ref| / bound) over the M x N entries; C0 is C before the call */
static double Ratio(char ta, char tb, PetscInt M, PetscInt N, PetscInt K, double alpha, const double *A, PetscInt lda, const double *B, PetscInt ldb, double beta, const double *C0, const double *C, PetscInt ldc, double u, PetscInt drop)
{
  double worst = 0;

  for (PetscInt j = 0; j < N; j++)
    for (PetscInt i = 0; i < M; i++) {
      long double s = 0, abs = 0;
      double      bound, err;

      for (PetscInt p = 0; p < K - drop; p++) {
        const long double a = ta == 'N' ? A[i + p * lda] : A[p + i * lda], b = tb == 'N' ? B[p + j * ldb] : B[j + p * ldb];
        s += a * b;
        abs += fabsl(a * b);
      }
      s = (long double)alpha * s + (beta == 0 ? 0 : (long double)beta * C0[i + j * ldc]);
      bound = (double)((K + 3) * u * (fabs(alpha) * abs + (beta == 0 ? 0 : fabs(beta * C0[i + j * ldc])))) + 1e-300;
      err   = (double)fabsl((long double)C[i + j * ldc] - s);
      if (!(err <= bound * 1e300)) return PETSC_INFINITY; /* NaN */
      worst = PetscMax(worst, err / bound);
    }
  return worst;
}

typedef struct {
  PetscInt M, N, K;
} Shape;

/* (a) and (b) for one kernel and precision */
static PetscErrorCode TestAccuracy(Tally *tl, SgmGemmType kernel, PetscBool single)
{
  const Shape shapes[] = {
    {1,   1,    1  },
    {2,   1000, 128},
    {17,  13,   300},
    {33,  12,   0  },
    {64,  200,  1  },
    {197, 4100, 257},
    {128, 1024, 128},
    {7,   50,   513},
    {390, 30,   520}
  };
  const char  *cases[] = {"NN", "NT", "TN", "TT"};
  const double alphas[] = {1, -0.75}, betas[] = {0, 1, 0.5}, u = single ? PetscPowReal(2, -24) : PetscPowReal(2, -53);
  double       worst[4] = {0, 0, 0, 0}, dropped = PETSC_INFINITY;
  char         name[128];

  PetscFunctionBegin;
  PetscCall(SgmGemmSetType(kernel));
  for (PetscInt c = 0; c < 4; c++) {
    const char ta = cases[c][0], tb = cases[c][1];
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
      const PetscInt M = shapes[s].M, N = shapes[s].N, K = shapes[s].K;
      /* the 4100-column case in N N only (it is the NC edge; the triple loop costs a second) */
      if (N > 4096 && c) continue;
      {
        const PetscInt ar = ta == 'N' ? M : K, ac = ta == 'N' ? K : M, br = tb == 'N' ? K : N, bc = tb == 'N' ? N : K;
        const PetscInt lda = PetscMax(1, ar) + 3, ldb = PetscMax(1, br) + 1, ldc = M + 2;
        double        *A, *B, *C0, *C;
        float         *Af, *Bf, *Cf;

        PetscCall(PetscMalloc4(lda * PetscMax(ac, 1), &A, ldb * PetscMax(bc, 1), &B, ldc * N, &C0, ldc * N, &C));
        PetscCall(PetscMalloc3(lda * PetscMax(ac, 1), &Af, ldb * PetscMax(bc, 1), &Bf, ldc * N, &Cf));
        Fill(ar, ac, lda, A);
        Fill(br, bc, ldb, B);
        Fill(M, N, ldc, C0);
        if (single) { /* round the inputs to float: the reference then sees the same numbers */
          for (PetscInt q = 0; q < lda * ac; q++) A[q] = Af[q] = (float)A[q];
          for (PetscInt q = 0; q < ldb * bc; q++) B[q] = Bf[q] = (float)B[q];
          for (PetscInt q = 0; q < ldc * N; q++) C0[q] = (float)C0[q];
        }
        for (int ia = 0; ia < 2; ia++)
          for (int ib = 0; ib < 3; ib++) {
            const double alpha = alphas[ia], beta = betas[ib];
            if (N > 4096 && (ia || ib == 2)) continue; /* the NC edge: alpha 1, beta 0 and 1 */
            for (PetscInt q = 0; q < ldc * N; q++) C[q] = beta == 0 && q % ldc < M ? NAN : C0[q];
            if (single) {
              for (PetscInt q = 0; q < ldc * N; q++) Cf[q] = (float)C[q];
              PetscCall(SgmGemmFloat(cases[c], cases[c] + 1, M, N, K, (float)alpha, Af, lda, Bf, ldb, (float)beta, Cf, ldc));
              for (PetscInt q = 0; q < ldc * N; q++) C[q] = Cf[q];
            } else PetscCall(SgmGemm(cases[c], cases[c] + 1, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc));
            worst[c] = PetscMax(worst[c], Ratio(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C0, C, ldc, u, 0));
            /* the padding rows of C are untouched */
            for (PetscInt j = 0; j < N; j++)
              for (PetscInt i = M; i < ldc; i++)
                if (C[i + j * ldc] != C0[i + j * ldc]) worst[c] = PETSC_INFINITY;
            /* (b): measured against the product without its last inner term */
            if (K > 100 && M < 100 && ia == 0 && ib == 1) dropped = PetscMin(dropped, Ratio(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C0, C, ldc, u, 1));
          }
        PetscCall(PetscFree4(A, B, C0, C));
        PetscCall(PetscFree3(Af, Bf, Cf));
      }
    }
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s %s %s: error / ((K+3) u |A||B|)", kernel == SGM_GEMM_BLAS ? "blas  " : "avx512", single ? "float " : "double", cases[c]));
    PetscCall(Check(tl, name, worst[c], 1));
  }
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s %s: a term left out is seen (ratio > 10)", kernel == SGM_GEMM_BLAS ? "blas  " : "avx512", single ? "float " : "double"));
  PetscCall(Check(tl, name, 10 / dropped, 1));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (c): a column does not depend on its neighbours */
static PetscErrorCode TestColumns(Tally *tl, PetscBool single)
{
  const PetscInt W = 300, N = 1000, off = 137, nb = 25, one = 611;
  const char    *cases[] = {"NN", "TN"};
  double        *A, *B, *C, *Cb, *Bias;
  float         *Af, *Bf, *Cf, *Cbf;
  char           name[128];

  PetscFunctionBegin;
  PetscCall(PetscMalloc5(W * W, &A, W * N, &B, W * N, &C, W * N, &Cb, W * N, &Bias));
  PetscCall(PetscMalloc4(W * W, &Af, W * N, &Bf, W * N, &Cf, W * N, &Cbf));
  Normals(W * W, A);
  Normals(W * N, B);
  Normals(W * N, Bias);
  for (PetscInt q = 0; q < W * W; q++) Af[q] = (float)A[q];
  for (PetscInt q = 0; q < W * N; q++) Bf[q] = (float)B[q];
  for (int c = 0; c < 2; c++)
    for (int beta = 0; beta < 2; beta++) {
      PetscInt differ = 0;
      /* all N columns, then the block [off, off + nb) and the column one on their own */
      for (int pass = 0; pass < 3; pass++) {
        const PetscInt j0 = pass == 0 ? 0 : pass == 1 ? off : one, n = pass == 0 ? N : pass == 1 ? nb : 1;
        double        *out = pass == 0 ? C : Cb;
        float         *outf = pass == 0 ? Cf : Cbf;
        for (PetscInt q = j0 * W; q < (j0 + n) * W; q++) {
          out[q]  = Bias[q];
          outf[q] = (float)Bias[q];
        }
        if (single) PetscCall(SgmGemmFloat(cases[c], "N", W, n, W, 1, Af, W, Bf + j0 * W, W, (float)beta, outf + j0 * W, W));
        else PetscCall(SgmGemm(cases[c], "N", W, n, W, 1, A, W, B + j0 * W, W, beta, out + j0 * W, W));
      }
      for (PetscInt j = off; j < off + nb; j++)
        for (PetscInt i = 0; i < W; i++) differ += single ? Cf[i + j * W] != Cbf[i + j * W] : C[i + j * W] != Cb[i + j * W];
      for (PetscInt i = 0; i < W; i++) differ += single ? Cf[i + one * W] != Cbf[i + one * W] : C[i + one * W] != Cb[i + one * W];
      PetscCall(PetscSNPrintf(name, sizeof(name), "%s %s beta %d: columns alone = among 1000 (bits)", single ? "float " : "double", cases[c], beta));
      PetscCall(Check(tl, name, (double)differ, 0));
    }
  PetscCall(PetscFree5(A, B, C, Cb, Bias));
  PetscCall(PetscFree4(Af, Bf, Cf, Cbf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (d) */
static PetscErrorCode TestRefuse(Tally *tl)
{
  double         a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 4}, c[4];
  PetscErrorCode e1, e2, e3;

  PetscFunctionBegin;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  e1 = SgmGemm("X", "N", 2, 2, 2, 1, a, 2, b, 2, 0, c, 2);
  e2 = SgmGemm("N", "N", 2, -1, 2, 1, a, 2, b, 2, 0, c, 2);
  e3 = SgmGemm("N", "T", 2, 2, 2, 1, a, 1, b, 2, 0, c, 2);
  PetscCall(PetscPopErrorHandler());
  PetscCall(Check(tl, "refused: flag X, N = -1, lda < M", (e1 ? 0 : 1) + (e2 ? 0 : 1) + (e3 ? 0 : 1), 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  Tally     tl = {0, 0};
  PetscBool have;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SgmInitializePackage());
  PetscCall(SgmGemmHaveAVX512(&have));
  for (int single = 0; single < 2; single++) {
    PetscCall(TestAccuracy(&tl, SGM_GEMM_BLAS, (PetscBool)single));
    if (have) PetscCall(TestAccuracy(&tl, SGM_GEMM_AVX512, (PetscBool)single));
  }
  if (have) {
    PetscCall(SgmGemmSetType(SGM_GEMM_AVX512));
    PetscCall(TestColumns(&tl, PETSC_FALSE));
    PetscCall(TestColumns(&tl, PETSC_TRUE));
  } else {
    PetscErrorCode e;

    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "this CPU has no AVX-512F: the avx512 kernel is not tested here\n"));
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    e = SgmGemmSetType(SGM_GEMM_AVX512);
    PetscCall(PetscPopErrorHandler());
    PetscCall(Check(&tl, "-net_gemm avx512 refused without AVX-512F", e ? 0 : 1, 0));
  }
  PetscCall(TestRefuse(&tl));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  PetscCall(PetscFinalize());
  return tl.fail != 0;
}
