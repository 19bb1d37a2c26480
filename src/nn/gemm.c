/*
  The dense products of the score networks, C = alpha op(A) op(B) + beta C (column-major, op = N or
  T), in double (SgmGemm) and float (SgmGemmFloat), with two kernels (SgmGemmSetType, -net_gemm):

  blas    the system BLAS (dgemm_/sgemm_: Debian's OpenBLAS).
  avx512  sgm's own packed product for CPUs with AVX-512F.  Debian 12's OpenBLAS 0.3.21 does not
          know AMD Zen 4/5 and runs its AVX2 ("Haswell") kernels there (OPENBLAS_CORETYPE=Haswell is
          how such machines are set up); this kernel uses the 512-bit FMA units and runs 1.5 - 1.7x
          faster on the shapes of a training step (doc/performance.md, regression/perf/bench-gemm).
  auto    avx512 where the CPU (and the OS) support AVX-512F, blas elsewhere.  The default.

  The avx512 kernel is the classical blocked scheme (Goto; BLIS): op(B) is packed in panels of
  KC rows by NR columns, op(A) in panels of MR rows by KC columns, and a register tile of MR x NR
  entries of C (double: 16 x 12 in 24 zmm registers; float: 32 x 12) accumulates kc rank-1 updates
  with FMAs before it is added to C.  Every column of C therefore gets the same operations in the
  same order wherever it sits in C and however many columns there are: the reduction over K is split
  at the same multiples of KC for every column, partial tiles are computed by the same full-tile code
  on zero-padded panels and stored through masks.  So a sample's network output does not depend on
  which other samples share its pass, which keeps sampling with a network score bitwise the same on
  any number of ranks (regression/unit/test_gemm checks this property, and the error bound against
  the BLAS product, for all four transposition cases and ragged sizes).
*/
#include <sgm/private/netimpl.h>
#include <petscblaslapack.h>

#if defined(__GNUC__) && defined(__x86_64__)
  #define SGM_GEMM_HAVE_AVX512 1
  #include <immintrin.h>
#endif

const char *const SgmGemmTypes[] = {"auto", "blas", "avx512", "SgmGemmType", "SGM_GEMM_", NULL};

static SgmGemmType SgmGemmTypeCurrent = SGM_GEMM_AUTO; /* as set; resolved at each call */
static PetscBool   SgmGemmAVX512Checked = PETSC_FALSE, SgmGemmAVX512 = PETSC_FALSE;
static PetscLogEvent SGM_Gemm = 0;

/* Whether this CPU and OS run AVX-512F (libgcc's check includes the OS's saving of the zmm state). */
PetscErrorCode SgmGemmHaveAVX512(PetscBool *have)
{
  PetscFunctionBegin;
  if (!SgmGemmAVX512Checked) {
#if defined(SGM_GEMM_HAVE_AVX512)
    __builtin_cpu_init();
    SgmGemmAVX512 = __builtin_cpu_supports("avx512f") ? PETSC_TRUE : PETSC_FALSE;
#endif
    SgmGemmAVX512Checked = PETSC_TRUE;
  }
  *have = SgmGemmAVX512;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmGemmSetType(SgmGemmType type)
{
  PetscBool have;

  PetscFunctionBegin;
  PetscCall(SgmGemmHaveAVX512(&have));
  PetscCheck(type != SGM_GEMM_AVX512 || have, PETSC_COMM_SELF, PETSC_ERR_SUP, "-net_gemm avx512 needs a CPU with AVX-512F and this one has none; use -net_gemm auto or blas");
  SgmGemmTypeCurrent = type;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The setting (auto, blas, avx512). */
PetscErrorCode SgmGemmGetType(SgmGemmType *type)
{
  PetscFunctionBegin;
  *type = SgmGemmTypeCurrent;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The kernel the products use: blas or avx512 (auto resolved). */
PetscErrorCode SgmGemmGetKernel(SgmGemmType *type)
{
  PetscBool have;

  PetscFunctionBegin;
  PetscCall(SgmGemmHaveAVX512(&have));
  *type = SgmGemmTypeCurrent == SGM_GEMM_AUTO ? (have ? SGM_GEMM_AVX512 : SGM_GEMM_BLAS) : SgmGemmTypeCurrent;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmGemmFinalize_Private(void)
{
  PetscFunctionBegin;
  SGM_Gemm = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The log event "SgmGemm" (flops 2 M N K) and the process-wide -net_gemm; called once by SgmNetCreate. */
PetscErrorCode SgmGemmInitialize_Private(void)
{
  SgmGemmType type = SgmGemmTypeCurrent;
  PetscBool   set;

  PetscFunctionBegin;
  if (!SGM_Gemm) {
    PetscCall(PetscLogEventRegister("SgmGemm", SGM_NET_CLASSID, &SGM_Gemm));
    PetscCall(PetscRegisterFinalize(SgmGemmFinalize_Private));
  }
  PetscCall(PetscOptionsGetEnum(NULL, NULL, "-net_gemm", SgmGemmTypes, (PetscEnum *)&type, &set));
  if (set) PetscCall(SgmGemmSetType(type));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -net_gemm in the options of obj (a network, or the mlp score that loads one), for -help: only
   when obj has no prefix, since the kernel is process-wide (SgmGemmInitialize_Private reads the
   unprefixed option once in any case). */
PetscErrorCode SgmGemmSetFromOptions_Private(PetscOptionItems *PetscOptionsObject, PetscObject obj)
{
  SgmGemmType gemm;
  PetscBool   set;

  PetscFunctionBegin;
  if (obj->prefix) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SgmGemmGetType(&gemm));
  PetscCall(PetscOptionsEnum("-net_gemm", "Kernel of the dense products, process-wide: auto (avx512 where the CPU has AVX-512F, else blas), blas (the system BLAS) or avx512 (sgm's packed AVX-512 kernel)", "SgmGemmSetType", SgmGemmTypes, (PetscEnum)gemm, (PetscEnum *)&gemm, &set));
  if (set) PetscCall(SgmGemmSetType(gemm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

#if defined(SGM_GEMM_HAVE_AVX512)
  /* Blocking (elements): KC rows of op(B) per packed panel (a 12-column panel: 24 KB, in L1), MC rows
     of op(A) per packed block (in L2: 384 KB double, 768 KB float), NC columns.  Measured on the
     training step (widths 128 - 512, 1024 columns): float gains 5 - 10% from KC 512 / MC 384 over
     256 / 192, double loses 2% with MC 384. */
  #define GEMM_KCD 256
  #define GEMM_MCD 192
  #define GEMM_KCS 512
  #define GEMM_MCS 384
  #define GEMM_NC  4096

/* Packing buffers, kept between calls (a pass makes tens of products) and freed at PetscFinalize. */
static void  *GemmMem = NULL;
static size_t GemmMemSize = 0;

static PetscErrorCode GemmWorkspaceFree(void)
{
  PetscFunctionBegin;
  free(GemmMem);
  GemmMem     = NULL;
  GemmMemSize = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode GemmWorkspace(size_t na, size_t nb, void **pa, void **pb)
{
  const size_t la = (na + 63) / 64 * 64, need = la + (nb + 63) / 64 * 64;

  PetscFunctionBegin;
  if (need > GemmMemSize) {
    if (!GemmMem) PetscCall(PetscRegisterFinalize(GemmWorkspaceFree));
    free(GemmMem);
    GemmMem = aligned_alloc(64, need);
    PetscCheck(GemmMem, PETSC_COMM_SELF, PETSC_ERR_MEM, "Out of memory: %zu bytes for the packing buffers of a matrix product", need);
    GemmMemSize = need;
  }
  *pa = GemmMem;
  *pb = (char *)GemmMem + la;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Micro-kernels: C[0:mv, 0:nv] += alpha * (the MR x kc panel a, a[p*MR + i]) (the kc x 12 panel b).
  b is in one of two layouts, so that packing op(B) is a plain copy in both transposition cases:
  row panels (op(B) = B^T: b[p*12 + j]) or column panels (op(B) = B: b[j*KC + p]).  Both
  kernels do the same FMAs in the same order.  KERNEL_BODY(V, MR/2-lane vector type, ...) is
  shared by the four (double/float x row/column).
*/
  #define KERNEL_BODY(VT, LANES, LOAD, SET1, FMADD, ZERO, MASKT, MLOAD, MSTORE, BIDX) \
    do { \
      VT x0[12], x1[12]; \
      _Pragma("GCC unroll 12") for (int j = 0; j < 12; j++) x0[j] = x1[j] = ZERO(); \
      for (PetscInt p = 0; p < kc; p++) { \
        const VT a0 = LOAD(a), a1 = LOAD(a + LANES); \
        _Pragma("GCC unroll 12") for (int j = 0; j < 12; j++) { \
          const VT bj = SET1(b[BIDX]); \
          x0[j]       = FMADD(a0, bj, x0[j]); \
          x1[j]       = FMADD(a1, bj, x1[j]); \
        } \
        a += 2 * LANES; \
      } \
      { \
        const MASKT m0 = (MASKT)(mv >= LANES ? (MASKT)~0u : (1u << mv) - 1); \
        const MASKT m1 = (MASKT)(mv >= 2 * LANES ? (MASKT)~0u : mv <= LANES ? 0 : (1u << (mv - LANES)) - 1); \
        const VT    al = SET1(alpha); \
        _Pragma("GCC unroll 12") for (int j = 0; j < 12; j++) { \
          if (j < nv) { \
            MSTORE(c + j * ldc, m0, FMADD(al, x0[j], MLOAD(m0, c + j * ldc))); \
            MSTORE(c + j * ldc + LANES, m1, FMADD(al, x1[j], MLOAD(m1, c + j * ldc + LANES))); \
          } \
        } \
      } \
    } while (0)

  #define SGM_AVX512 __attribute__((target("avx512f")))
SGM_AVX512 static void KernelRowD(PetscInt kc, const double *restrict a, const double *restrict b, double *restrict c, PetscInt ldc, int mv, int nv, double alpha)
{
  KERNEL_BODY(__m512d, 8, _mm512_load_pd, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_setzero_pd, __mmask8, _mm512_maskz_loadu_pd, _mm512_mask_storeu_pd, p * 12 + j);
}
SGM_AVX512 static void KernelColD(PetscInt kc, const double *restrict a, const double *restrict b, double *restrict c, PetscInt ldc, int mv, int nv, double alpha)
{
  KERNEL_BODY(__m512d, 8, _mm512_load_pd, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_setzero_pd, __mmask8, _mm512_maskz_loadu_pd, _mm512_mask_storeu_pd, j * GEMM_KCD + p);
}
SGM_AVX512 static void KernelRowS(PetscInt kc, const float *restrict a, const float *restrict b, float *restrict c, PetscInt ldc, int mv, int nv, float alpha)
{
  KERNEL_BODY(__m512, 16, _mm512_load_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_setzero_ps, __mmask16, _mm512_maskz_loadu_ps, _mm512_mask_storeu_ps, p * 12 + j);
}
SGM_AVX512 static void KernelColS(PetscInt kc, const float *restrict a, const float *restrict b, float *restrict c, PetscInt ldc, int mv, int nv, float alpha)
{
  KERNEL_BODY(__m512, 16, _mm512_load_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_setzero_ps, __mmask16, _mm512_maskz_loadu_ps, _mm512_mask_storeu_ps, j * GEMM_KCS + p);
}

/*
  Packing (AVX-512 copies).  A panel: d[p*MR + i] = op(A)[i, p], zero rows beyond mv.  ta = N: MR
  consecutive entries of a column of A per p (masked loads); ta = T: a row of A per p, gathered
  (vindex i*lda).  B panel: tb = N column panels (a copy of kc consecutive entries per column), tb = T
  row panels (12 consecutive entries of a column of B per p); zero columns beyond nv.
*/
  #define PACK_FUNCS(T, SFX, KC, LANES, VT, MASKT, MLOAD, STORE, MSTORE, ZERO, GATHER, VIDX) \
    SGM_AVX512 static void PackAN##SFX(PetscInt kc, PetscInt mv, const T *s, PetscInt lda, T *restrict d) \
    { \
      const MASKT m0 = (MASKT)(mv >= LANES ? (MASKT)~0u : (1u << mv) - 1); \
      const MASKT m1 = (MASKT)(mv >= 2 * LANES ? (MASKT)~0u : mv <= LANES ? 0 : (1u << (mv - LANES)) - 1); \
      for (PetscInt p = 0; p < kc; p++) { \
        STORE(d + p * 2 * LANES, MLOAD(m0, s + p * lda)); \
        STORE(d + p * 2 * LANES + LANES, MLOAD(m1, s + p * lda + LANES)); \
      } \
    } \
    SGM_AVX512 static void PackAT##SFX(PetscInt kc, PetscInt mv, const T *s, PetscInt lda, T *restrict d) \
    { \
      const MASKT m0 = (MASKT)(mv >= LANES ? (MASKT)~0u : (1u << mv) - 1); \
      const MASKT m1 = (MASKT)(mv >= 2 * LANES ? (MASKT)~0u : mv <= LANES ? 0 : (1u << (mv - LANES)) - 1); \
      const VIDX; \
      for (PetscInt p = 0; p < kc; p++) { \
        STORE(d + p * 2 * LANES, GATHER(ZERO(), m0, i0, s + p)); \
        STORE(d + p * 2 * LANES + LANES, GATHER(ZERO(), m1, i1, s + p)); \
      } \
    } \
    SGM_AVX512 static void PackBN##SFX(PetscInt kc, PetscInt nv, const T *s, PetscInt ldb, T *restrict d) \
    { \
      for (PetscInt j = 0; j < 12; j++) { \
        if (j < nv) memcpy(d + j * KC, s + j * ldb, sizeof(T) * (size_t)kc); \
        else memset(d + j * KC, 0, sizeof(T) * (size_t)kc); \
      } \
    } \
    SGM_AVX512 static void PackBT##SFX(PetscInt kc, PetscInt nv, const T *s, PetscInt ldb, T *restrict d) \
    { \
      const MASKT m0 = (MASKT)(nv >= LANES ? (MASKT)~0u : (1u << nv) - 1); \
      const MASKT m1 = (MASKT)(nv <= LANES ? 0 : (1u << ((nv - LANES) & 31)) - 1); \
      const MASKT w0 = (MASKT)(LANES >= 12 ? 0xfffu : (MASKT)~0u); \
      const MASKT w1 = (MASKT)(LANES >= 12 ? 0 : (1u << ((12 - LANES) & 31)) - 1); \
      for (PetscInt p = 0; p < kc; p++) { \
        MSTORE(d + p * 12, w0, MLOAD(m0, s + p * ldb)); \
        if (w1) MSTORE(d + p * 12 + LANES, w1, MLOAD(m1, s + p * ldb + LANES)); \
      } \
    }
/* a B row of 12: double 8 + 4 lanes, float 12 of 16 (w0, w1) */
  #define GatherD(src, m, idx, base) _mm512_mask_i32gather_pd(src, m, idx, base, 8)
  #define GatherS(src, m, idx, base) _mm512_mask_i32gather_ps(src, m, idx, base, 4)
  /* the gather offsets of PackAT: rows i*lda of the two halves of a panel */
  #define IDXD __m256i i0 = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)lda)); const __m256i i1 = _mm256_add_epi32(i0, _mm256_set1_epi32((int)(8 * lda)))
  #define IDXS __m512i i0 = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32((int)lda)); const __m512i i1 = _mm512_add_epi32(i0, _mm512_set1_epi32((int)(16 * lda)))
PACK_FUNCS(double, D, GEMM_KCD, 8, __m512d, __mmask8, _mm512_maskz_loadu_pd, _mm512_store_pd, _mm512_mask_storeu_pd, _mm512_setzero_pd, GatherD, IDXD)
PACK_FUNCS(float, S, GEMM_KCS, 16, __m512, __mmask16, _mm512_maskz_loadu_ps, _mm512_store_ps, _mm512_mask_storeu_ps, _mm512_setzero_ps, GatherS, IDXS)

  #define GT      double
  #define GMR     16
  #define GNR     12
  #define GKC     GEMM_KCD
  #define GMC     GEMM_MCD
  #define GSFX(f) f##D
  #define GNAME   GemmPackedD
  #include "gemmdriver.h"
  #undef GT
  #undef GMR
  #undef GKC
  #undef GMC
  #undef GSFX
  #undef GNAME
  #define GT      float
  #define GMR     32
  #define GKC     GEMM_KCS
  #define GMC     GEMM_MCS
  #define GSFX(f) f##S
  #define GNAME   GemmPackedS
  #include "gemmdriver.h"
  #undef GT
  #undef GMR
  #undef GNR
  #undef GKC
  #undef GMC
  #undef GSFX
  #undef GNAME
#endif

#if defined(PETSC_BLASLAPACK_CAPS)
  #define SGM_SGEMM SGEMM
#elif defined(PETSC_BLASLAPACK_UNDERSCORE)
  #define SGM_SGEMM sgemm_
#else
  #define SGM_SGEMM sgemm
#endif
PETSC_EXTERN void SGM_SGEMM(const char *, const char *, const PetscBLASInt *, const PetscBLASInt *, const PetscBLASInt *, const float *, const float *, const PetscBLASInt *, const float *, const PetscBLASInt *, const float *, float *, const PetscBLASInt *);

/* What both entry points do first: check the arguments, resolve the kernel, start the log event and
   convert the sizes for the BLAS (m, n, k, lda, ldb, ldc); and last: the flops, the event. */
static PetscErrorCode GemmBegin(const char *ta, const char *tb, PetscInt M, PetscInt N, PetscInt K, PetscInt lda, PetscInt ldb, PetscInt ldc, SgmGemmType *type, PetscBLASInt s[6])
{
  const PetscInt v[6] = {M, N, K, lda, ldb, ldc};

  PetscFunctionBegin;
  PetscCheck((ta[0] == 'N' || ta[0] == 'T') && (tb[0] == 'N' || tb[0] == 'T'), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "gemm: the transposition flags must be N or T, got %s and %s", ta, tb);
  PetscCheck(M >= 0 && N >= 0 && K >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "gemm: negative size %" PetscInt_FMT " x %" PetscInt_FMT " x %" PetscInt_FMT, M, N, K);
  PetscCheck(lda >= PetscMax(1, ta[0] == 'N' ? M : K) && ldb >= PetscMax(1, tb[0] == 'N' ? K : N) && ldc >= PetscMax(1, M), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "gemm: a leading dimension is smaller than its matrix");
  PetscCall(SgmGemmGetKernel(type));
  for (int q = 0; q < 6; q++) PetscCall(PetscBLASIntCast(v[q], &s[q]));
  if (SGM_Gemm) PetscCall(PetscLogEventBegin(SGM_Gemm, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode GemmEnd(PetscInt M, PetscInt N, PetscInt K)
{
  PetscFunctionBegin;
  PetscCall(PetscLogFlops(2.0 * M * N * K));
  if (SGM_Gemm) PetscCall(PetscLogEventEnd(SGM_Gemm, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* C = alpha op(A) op(B) + beta C; C is M x N, op(A) M x K, op(B) K x N, column-major. */
PetscErrorCode SgmGemm(const char *ta, const char *tb, PetscInt M, PetscInt N, PetscInt K, PetscReal alpha, const PetscReal *A, PetscInt lda, const PetscReal *B, PetscInt ldb, PetscReal beta, PetscReal *C, PetscInt ldc)
{
  SgmGemmType  type;
  PetscBLASInt s[6];

  PetscFunctionBegin;
  if (!M || !N) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(GemmBegin(ta, tb, M, N, K, lda, ldb, ldc, &type, s));
#if defined(SGM_GEMM_HAVE_AVX512)
  if (type == SGM_GEMM_AVX512) PetscCall(GemmPackedD(ta[0], tb[0], M, N, K, alpha, A, lda, B, ldb, beta, C, ldc));
  else
#endif
    PetscCallBLAS("BLASgemm", BLASgemm_(ta, tb, &s[0], &s[1], &s[2], &alpha, A, &s[3], B, &s[4], &beta, C, &s[5]));
  PetscCall(GemmEnd(M, N, K));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The same in float (the training passes of -net_precision single). */
PetscErrorCode SgmGemmFloat(const char *ta, const char *tb, PetscInt M, PetscInt N, PetscInt K, float alpha, const float *A, PetscInt lda, const float *B, PetscInt ldb, float beta, float *C, PetscInt ldc)
{
  SgmGemmType  type;
  PetscBLASInt s[6];

  PetscFunctionBegin;
  if (!M || !N) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(GemmBegin(ta, tb, M, N, K, lda, ldb, ldc, &type, s));
#if defined(SGM_GEMM_HAVE_AVX512)
  if (type == SGM_GEMM_AVX512) PetscCall(GemmPackedS(ta[0], tb[0], M, N, K, alpha, A, lda, B, ldb, beta, C, ldc));
  else
#endif
    PetscCallBLAS("sgemm", SGM_SGEMM(ta, tb, &s[0], &s[1], &s[2], &alpha, A, &s[3], B, &s[4], &beta, C, &s[5]));
  PetscCall(GemmEnd(M, N, K));
  PetscFunctionReturn(PETSC_SUCCESS);
}
