/*
  The blocked driver of gemm.c, instantiated twice (double and float): gemm.c defines
    GT (element type), GMR, GNR (register tile), GKC, GMC (block sizes), GSFX(f) (f##D or f##S: the kernels KernelRow,
    KernelCol and the packing routines PackAN, PackAT, PackBN, PackBT of that type), GNAME
  before including this file.  See gemm.c for the blocking and for why every column of C gets the
  same sequence of operations wherever it sits.
*/
static PetscErrorCode GNAME(char ta, char tb, PetscInt M, PetscInt N, PetscInt K, GT alpha, const GT *A, PetscInt lda, const GT *B, PetscInt ldb, GT beta, GT *C, PetscInt ldc)
{
  GT *pa, *pb;
  /* the gather of PackAT takes 32-bit offsets i*lda, i < GMR */
  const PetscBool gather = (PetscBool)(lda < PETSC_MAX_INT / (2 * GMR));

  PetscFunctionBegin;
  if (beta == 0) {
    for (PetscInt j = 0; j < N; j++) PetscCall(PetscArrayzero(C + j * ldc, M));
  } else if (beta != 1) {
    for (PetscInt j = 0; j < N; j++)
      for (PetscInt i = 0; i < M; i++) C[i + j * ldc] *= beta;
  }
  if (!K || alpha == 0) PetscFunctionReturn(PETSC_SUCCESS);
  /* whole tiles: the last panel of a block is padded to GMR rows / GNR columns */
  PetscCall(GemmWorkspace(sizeof(GT) * (size_t)((GMC + GMR - 1) / GMR * GMR) * GKC, sizeof(GT) * (size_t)GKC * ((GEMM_NC + GNR - 1) / GNR * GNR), (void **)&pa, (void **)&pb));
  for (PetscInt jc = 0; jc < N; jc += GEMM_NC) {
    const PetscInt nc = PetscMin(GEMM_NC, N - jc);
    for (PetscInt pc = 0; pc < K; pc += GKC) {
      const PetscInt kc = PetscMin(GKC, K - pc);
      /* op(B)[pc:pc+kc, jc:jc+nc], panel j0/GNR at pb + j0 GKC */
      for (PetscInt j0 = 0; j0 < nc; j0 += GNR) {
        const PetscInt nv = PetscMin(GNR, nc - j0);
        if (tb == 'N') GSFX(PackBN)(kc, nv, B + pc + (size_t)(jc + j0) * ldb, ldb, pb + (size_t)j0 * GKC);
        else GSFX(PackBT)(kc, nv, B + (jc + j0) + (size_t)pc * ldb, ldb, pb + (size_t)j0 * GKC);
      }
      for (PetscInt ic = 0; ic < M; ic += GMC) {
        const PetscInt mc = PetscMin(GMC, M - ic);
        /* op(A)[ic:ic+mc, pc:pc+kc] in panels of GMR rows, d[p*GMR + i], zero beyond mc */
        for (PetscInt i0 = 0; i0 < mc; i0 += GMR) {
          GT *restrict   d  = pa + (size_t)i0 * kc;
          const PetscInt mv = PetscMin(GMR, mc - i0);
          if (ta == 'N') GSFX(PackAN)(kc, mv, A + (ic + i0) + (size_t)pc * lda, lda, d);
          else if (gather) GSFX(PackAT)(kc, mv, A + pc + (size_t)(ic + i0) * lda, lda, d);
          else {
            for (PetscInt i = 0; i < mv; i++) {
              const GT *s = A + pc + (size_t)(ic + i0 + i) * lda;
              for (PetscInt p = 0; p < kc; p++) d[p * GMR + i] = s[p];
            }
            for (PetscInt i = mv; i < GMR; i++)
              for (PetscInt p = 0; p < kc; p++) d[p * GMR + i] = 0;
          }
        }
        for (PetscInt j0 = 0; j0 < nc; j0 += GNR) {
          const int nv = (int)PetscMin(GNR, nc - j0);
          for (PetscInt i0 = 0; i0 < mc; i0 += GMR) {
            GT *c = C + (ic + i0) + (size_t)(jc + j0) * ldc;
            if (tb == 'N') GSFX(KernelCol)(kc, pa + (size_t)i0 * kc, pb + (size_t)j0 * GKC, c, ldc, (int)PetscMin(GMR, mc - i0), nv, alpha);
            else GSFX(KernelRow)(kc, pa + (size_t)i0 * kc, pb + (size_t)j0 * GKC, c, ldc, (int)PetscMin(GMR, mc - i0), nv, alpha);
          }
        }
      }
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
