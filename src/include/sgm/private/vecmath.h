/*
  Branch-free double-precision exp, log and sincos for the hot loops (mixture score, Box-Muller).

  Why not libm: a call to exp()/log()/sin() in a loop stops gcc from vectorising it, and these
  three functions were most of the sampler's time.  Written as range reduction + a polynomial with
  only +, *, /, selects and bit operations, they vectorise over a block of SGM_LANES samples, at
  1-2 ulp (measured: exp 1, log 2, sqrt 1 ulp; sin/cos 7e-16 absolute).  The polynomials are truncated Taylor
  series whose first neglected term is below 1e-17 relative on the reduced range (so no minimax
  coefficients to trust); exactness of the reductions is argued next to each.

  Why blocks of lanes: sgm's samples must be bitwise identical on any number of ranks, so every
  sample has to go through the same instructions whatever its position in a rank's range.  The
  kernels therefore work on fixed blocks of SGM_LANES samples laid out lane-wise (structure of
  arrays, 64-byte aligned, trip count a compile-time constant: no peeled or scalar remainder
  iterations), and a partial block is padded, never finished by a scalar loop.

  SGM_HOT marks the kernels.  optimize("O3") turns on the vectoriser's full cost model whatever
  CFLAGS say.  target_clones compiles each kernel also for AVX2+FMA (x86-64-v3) and AVX-512
  (x86-64-v4) and picks one when the library loads (an ifunc), so a default -O2 build, which may
  only assume SSE2, still runs 4- and 8-wide on the machine it runs on; with -march=... naming
  AVX-512 already there is nothing to clone.  Every rank of a run on one kind of CPU takes the
  same clone, so rank invariance is unaffected; two different CPUs may differ in the last bits
  (FMA contraction), as they would with -march=native.
  sqrt() is replaced too (SgmSqrtPositive): under the default -fmath-errno gcc guards every sqrt
  call with an errno branch that stops vectorisation, and a function attribute cannot lift that.
*/
#pragma once

#include <stdint.h>
#include <string.h>

#define SGM_LANES 16 /* samples per block: two AVX-512 or four AVX2 vectors of doubles */
#define SGM_ALIGN 64

#if defined(__GNUC__) && !defined(__clang__) && !defined(__INTEL_COMPILER)
  #define SGM_OPT __attribute__((optimize("O3")))
#else
  #define SGM_OPT
#endif
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__x86_64__) && defined(__ELF__) && !defined(__AVX512F__)
  #define SGM_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
  #define SGM_CLONES
#endif
#define SGM_HOT    SGM_OPT SGM_CLONES
#define SGM_INLINE static inline __attribute__((always_inline)) SGM_OPT

/* A loop over the SGM_LANES lanes of a block: keep it a loop (not unrolled into scalar statements
   that the vectoriser handles worse) with no dependence between iterations. */
#define SGM_LANE_LOOP _Pragma("GCC unroll 1") _Pragma("GCC ivdep")

SGM_INLINE uint64_t SgmAsU64(double x)
{
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

SGM_INLINE double SgmAsDouble(uint64_t u)
{
  double x;
  memcpy(&x, &u, sizeof x);
  return x;
}

/* Adding 1.5 2^52 rounds |x| < 2^51 to the nearest integer (in the current rounding mode, i.e.
   to nearest) and leaves that integer, two's complement, in the low bits of the sum. */
#define SGM_ROUND_MAGIC 0x1.8p52

/* ln 2 split so that n*SGM_LN2_HI is exact for |n| < 2^11 (Cody & Waite; fdlibm's constants). */
#define SGM_LN2_HI 6.93147180369123816490e-01
#define SGM_LN2_LO 1.90821492927058770002e-10

/* exp(y) for y <= 0, the log-sum-exp case: 0 below -708 (where exp underflows to subnormals that
   cannot change a sum containing exp(0) = 1).  exp(y) = 2^n exp(r), n = round(y / ln 2),
   r = y - n ln 2 in [-ln2/2, ln2/2] exactly (Cody-Waite); Taylor to r^13 (r^14/14! < 5e-18). */
SGM_INLINE double SgmExpNonPositive(double y)
{
  const double t = y * 1.44269504088896340736 + SGM_ROUND_MAGIC; /* log2(e) */
  const double n = t - SGM_ROUND_MAGIC;
  const double r = (y - n * SGM_LN2_HI) - n * SGM_LN2_LO;
  double       p = 1.0 / 6227020800.0; /* 1/13! */
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  /* 2^n from the low bits of t: (n + 1023) << 52 is the biased exponent field */
  const double scale = SgmAsDouble((SgmAsU64(t) << 52) + ((uint64_t)1023 << 52));
  return y < -708.0 ? 0.0 : p * scale;
}

/* log(u) for a normal u in (0, 1] (the Box-Muller uniform).  u = 2^e m, m in [sqrt(1/2), sqrt 2);
   log m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172: odd series to s^23 (next term < 1e-18). */
SGM_INLINE double SgmLogUnit(double u)
{
  const uint64_t b = SgmAsU64(u);
  /* the exponent field as an exact double: put it in the mantissa of 2^52 and subtract */
  double       e = SgmAsDouble((b >> 52) | 0x4330000000000000ULL) - (0x1p52 + 1023.0);
  double       m = SgmAsDouble((b & 0x000FFFFFFFFFFFFFULL) | 0x3FF0000000000000ULL); /* [1,2) */
  const int    hi = m > 1.41421356237309504880;
  m = hi ? 0.5 * m : m; /* exact */
  e = hi ? e + 1.0 : e;
  const double f = m - 1.0, s = f / (2.0 + f), s2 = s * s;
  double       R = 2.0 / 23;
  R = R * s2 + 2.0 / 21;
  R = R * s2 + 2.0 / 19;
  R = R * s2 + 2.0 / 17;
  R = R * s2 + 2.0 / 15;
  R = R * s2 + 2.0 / 13;
  R = R * s2 + 2.0 / 11;
  R = R * s2 + 2.0 / 9;
  R = R * s2 + 2.0 / 7;
  R = R * s2 + 2.0 / 5;
  R = R * s2 + 2.0 / 3;
  /* log m = 2s + s (s^2 R) */
  return e * SGM_LN2_HI + (2.0 * s + (s * (s2 * R) + e * SGM_LN2_LO));
}

/* sqrt(w) for a normal w > 0 without libm: 1/sqrt(w) from the exponent-halving bit trick (3.4%
   error; Lomont's constant) and four Newton steps y <- y (3 - w y^2)/2 (error 1.5 e^2 each: 2e-21),
   then one Heron correction of s = w y, which brings the result to within an ulp. */
SGM_INLINE double SgmSqrtPositive(double w)
{
  double y = SgmAsDouble(0x5FE6EB50C7B537A9ULL - (SgmAsU64(w) >> 1));
  y        = y * (1.5 - 0.5 * w * y * y);
  y        = y * (1.5 - 0.5 * w * y * y);
  y        = y * (1.5 - 0.5 * w * y * y);
  y        = y * (1.5 - 0.5 * w * y * y);
  const double s = w * y;
  return s + 0.5 * y * (w - s * s);
}

/* sin and cos of q pi/2 + x from the reduced argument |x| <= pi/4 and the quadrant iq = q mod 4:
   Taylor to x^19 / x^18 (next terms < 1e-17), then the quadrant swaps and negates.  Shared by
   SgmSinCos2Pi and the network's time features (src/nn/mlp.c). */
SGM_INLINE void SgmSinCosReduced(double x, uint64_t iq, double *sn, double *cs)
{
  const double x2 = x * x;
  double       S  = -1.0 / 121645100408832000.0; /* -1/19! */
  S = S * x2 + 1.0 / 355687428096000.0;
  S = S * x2 - 1.0 / 1307674368000.0;
  S = S * x2 + 1.0 / 6227020800.0;
  S = S * x2 - 1.0 / 39916800.0;
  S = S * x2 + 1.0 / 362880.0;
  S = S * x2 - 1.0 / 5040.0;
  S = S * x2 + 1.0 / 120.0;
  S = S * x2 - 1.0 / 6.0;
  S = x + x * (x2 * S);
  double C = 1.0 / 6402373705728000.0; /* 1/18! */
  C = C * x2 - 1.0 / 20922789888000.0;
  C = C * x2 + 1.0 / 87178291200.0;
  C = C * x2 - 1.0 / 479001600.0;
  C = C * x2 + 1.0 / 3628800.0;
  C = C * x2 - 1.0 / 40320.0;
  C = C * x2 + 1.0 / 720.0;
  C = C * x2 - 1.0 / 24.0;
  C = C * x2 + 0.5;
  C = 1.0 - x2 * C;
  /* angle = q pi/2 + x:  q=0 (S, C), 1 (C, -S), 2 (-S, -C), 3 (-C, S) */
  const double s0 = (iq & 1) ? C : S, c0 = (iq & 1) ? S : C;
  *sn = (iq & 2) ? -s0 : s0;
  *cs = ((iq + 1) & 2) ? -c0 : c0;
}

/* sin and cos of 2 pi u for u in [0, 1] (the Box-Muller angle).  q = round(4u) and r = u - q/4 are
   exact (u is a multiple of 2^-54), so the only reduction error is the rounding of x = 2 pi r,
   |x| <= pi/4. */
SGM_INLINE void SgmSinCos2Pi(double u, double *sn, double *cs)
{
  const double   t = 4.0 * u + SGM_ROUND_MAGIC;
  const double   q = t - SGM_ROUND_MAGIC;
  const uint64_t iq = SgmAsU64(t) & 3;
  SgmSinCosReduced(6.28318530717958647693 * (u - 0.25 * q), iq, sn, cs);
}
