/*
  Unit test of the counter-based generator (src/sys/philox.c).
    1. Philox-4x32-10 known answers from Random123's kat_vectors file, and a few more counters
       whose answers come from the independent NumPy implementation regression/unit/philox_ref.py
       (test_philox_ref.sh diffs the two programs' output live).
    2. SgmRandomNormalSample is a pure function of (seed, stream, step, index): the same call gives
       the same bits, another seed/stream/step/index gives other values, component j does not
       depend on the dimension asked for, and SgmRandomNormalBatch agrees with it sample by sample.
    3. Moments of 10^6 normals (mean, variance, skewness, excess kurtosis) and two correlations,
       each within 5 standard errors of a standard normal sample of that size, and their
       Kolmogorov-Smirnov distance to the normal CDF at the same confidence (p = 1e-6).
  Prints one line per check and ends with "N passed, M failed"; exit status is M != 0.  < 1 s.
  Option -philox_print: print only the Philox blocks in philox_ref.py's format and exit.
*/
#include <sgm.h>

#include "check.h"

typedef struct {
  uint32_t ctr[4], key[2], out[4];
} PhiloxCase;

/* The first three: Random123 kat_vectors (philox4x32_10).  The rest: philox_ref.py. */
static const PhiloxCase cases[] = {
  {{0x00000000, 0x00000000, 0x00000000, 0x00000000}, {0x00000000, 0x00000000}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
  {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}, {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
  {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}, {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  {{0x00000001, 0x00000000, 0x00000000, 0x00000000}, {0x00000000, 0x00000000}, {0xf8e4cca4, 0x5cb200db, 0xb1a574eb, 0x097eff67}},
  {{0x00000000, 0x00000007, 0x0000002a, 0x01000000}, {0x00003039, 0x00000000}, {0x2ce84ee0, 0x17abad2e, 0x2347a74e, 0xe68b9715}},
  {{0x12345678, 0x9abcdef0, 0x0fedcba9, 0x87654321}, {0xdeadbeef, 0xcafebabe}, {0xa1d96097, 0x6a066c19, 0x9b792bcb, 0xabc03c65}},
};
#define NCASES ((int)(sizeof(cases) / sizeof(cases[0])))

static PetscErrorCode TestPhilox(Tally *tl, PetscBool print)
{
  PetscFunctionBegin;
  for (int c = 0; c < NCASES; c++) {
    const PhiloxCase *p = &cases[c];
    uint32_t          out[4];
    int               nbad = 0;
    char              name[128];

    SgmPhilox4x32(p->ctr, p->key, out);
    if (print) {
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%08x %08x %08x %08x %08x %08x -> %08x %08x %08x %08x\n", p->ctr[0], p->ctr[1], p->ctr[2], p->ctr[3], p->key[0], p->key[1], out[0], out[1], out[2], out[3]));
      continue;
    }
    for (int i = 0; i < 4; i++) nbad += out[i] != p->out[i];
    PetscCall(PetscSNPrintf(name, sizeof(name), "philox %s ctr %08x.. key %08x..: words wrong", c < 3 ? "kat" : "ref", p->ctr[0], p->key[0]));
    PetscCall(Check(tl, name, nbad, 0));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Number of entries that differ bitwise. */
static int NDiffer(PetscInt n, const PetscScalar *a, const PetscScalar *b)
{
  int c = 0;
  for (PetscInt i = 0; i < n; i++) c += a[i] != b[i];
  return c;
}

static PetscErrorCode TestPure(Tally *tl)
{
  const PetscInt d = 7;
  const uint64_t seed = 0x0123456789abcdefULL;
  PetscScalar    z0[8], z1[8], zs[8], zt[8], zi[8], zk[8], z8[8];
  SgmBatch       b;
  PetscScalar   *zb;

  PetscFunctionBegin;
  SgmRandomNormalSample(seed, SGM_STREAM_SDE, 12, 345, d, z0);
  SgmRandomNormalSample(seed, SGM_STREAM_SDE, 12, 345, d, z1);
  PetscCall(Check(tl, "normal: same (seed,stream,step,index) twice, entries differing", NDiffer(d, z0, z1), 0));
  SgmRandomNormalSample(seed, SGM_STREAM_PRIOR, 12, 345, d, zs);
  SgmRandomNormalSample(seed, SGM_STREAM_SDE, 13, 345, d, zt);
  SgmRandomNormalSample(seed, SGM_STREAM_SDE, 12, 346, d, zi);
  SgmRandomNormalSample(seed + 1, SGM_STREAM_SDE, 12, 345, d, zk);
  PetscCall(Check(tl, "normal: other stream, entries equal", d - NDiffer(d, z0, zs), 0));
  PetscCall(Check(tl, "normal: other step, entries equal", d - NDiffer(d, z0, zt), 0));
  PetscCall(Check(tl, "normal: other index, entries equal", d - NDiffer(d, z0, zi), 0));
  PetscCall(Check(tl, "normal: other seed, entries equal", d - NDiffer(d, z0, zk), 0));
#if defined(PETSC_USE_64BIT_INDICES)
  /* an index above 2^32 uses the counter's high word */
  SgmRandomNormalSample(seed, SGM_STREAM_SDE, 12, (PetscInt)((1LL << 32) + 345), d, zi);
  PetscCall(Check(tl, "normal: index + 2^32, entries equal", d - NDiffer(d, z0, zi), 0));
#endif
  /* component j does not depend on the dimension requested */
  SgmRandomNormalSample(seed, SGM_STREAM_SDE, 12, 345, d + 1, z8);
  PetscCall(Check(tl, "normal: d=7 vs first 7 of d=8, entries differing", NDiffer(d, z0, z8), 0));

  /* the batch routine is the per-sample routine at the global index, for every row (403 rows:
     full blocks of lanes and a partial last block), and a batch starting at another offset */
  {
    int nd = 0;
    PetscCall(SgmBatchCreate(PETSC_COMM_SELF, 403, d, &b));
    PetscCall(PetscMalloc1(b.n * d, &zb));
    PetscCall(SgmRandomNormalBatch(seed, SGM_STREAM_SDE, 12, &b, zb));
    nd += NDiffer(d, z0, zb + 345 * d);
    for (PetscInt i = 0; i < b.n; i++) {
      SgmRandomNormalSample(seed, SGM_STREAM_SDE, 12, i, d, z1);
      nd += NDiffer(d, z1, zb + i * d);
    }
    b.rstart = 1001;
    b.n      = 5;
    PetscCall(SgmRandomNormalBatch(seed, SGM_STREAM_SDE, 12, &b, zb));
    for (PetscInt i = 0; i < b.n; i++) {
      SgmRandomNormalSample(seed, SGM_STREAM_SDE, 12, b.rstart + i, d, z1);
      nd += NDiffer(d, z1, zb + i * d);
    }
    PetscCall(Check(tl, "normal: batch rows vs SgmRandomNormalSample, differing", nd, 0));
    PetscCall(PetscFree(zb));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* 10^6 normals: 1000 samples of dimension 1000; standard errors for n iid N(0,1) draws:
   mean 1/sqrt(n), variance sqrt(2/n), skewness sqrt(6/n), excess kurtosis sqrt(24/n),
   correlation of two independent normals 1/sqrt(n). */
static PetscErrorCode TestMoments(Tally *tl)
{
  const PetscInt ns = 1000, d = 1000;
  const double   n  = (double)ns * d, nse = 5;
  double         s1 = 0, s2 = 0, s3 = 0, s4 = 0, cpair = 0, cstream = 0;
  PetscScalar   *z, *w;
  PetscReal     *all, ks = 0;
  char           name[128];

  PetscFunctionBegin;
  PetscCall(PetscMalloc3(d, &z, d, &w, ns * d, &all));
  for (PetscInt i = 0; i < ns; i++) {
    SgmRandomNormalSample(2024, SGM_STREAM_SDE, 5, i, d, z);
    SgmRandomNormalSample(2024, SGM_STREAM_SAMPLER, 5, i, d, w);
    for (PetscInt j = 0; j < d; j++) {
      double x = z[j], x2 = x * x;
      all[i * d + j] = x;
      s1 += x;
      s2 += x2;
      s3 += x2 * x;
      s4 += x2 * x2;
      cstream += x * w[j];
      if (j % 2 == 0) cpair += x * z[j + 1]; /* the Box-Muller pair (cos, sin) */
    }
  }
  /* Kolmogorov-Smirnov distance to the normal CDF */
  PetscCall(PetscSortReal((PetscInt)n, all));
  for (PetscInt i = 0; i < (PetscInt)n; i++) {
    double F = 0.5 * erfc(-all[i] / sqrt(2.0));
    ks       = PetscMax(ks, PetscMax(fabs((i + 1) / n - F), fabs(F - i / n)));
  }
  PetscCall(PetscFree3(z, w, all));
  double mean = s1 / n, m2 = s2 / n - mean * mean;
  double m3 = s3 / n - 3 * mean * s2 / n + 2 * mean * mean * mean;
  double m4 = s4 / n - 4 * mean * s3 / n + 6 * mean * mean * s2 / n - 3 * mean * mean * mean * mean;
  double skew = m3 / pow(m2, 1.5), kurt = m4 / (m2 * m2) - 3;

  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "moments of %.0e normals: mean %.5f var %.5f skew %.5f exkurt %.5f (SEs %.1e %.1e %.1e %.1e)\n", n, mean, m2, skew, kurt, 1 / sqrt(n), sqrt(2 / n), sqrt(6 / n), sqrt(24 / n)));
  PetscCall(PetscSNPrintf(name, sizeof(name), "moments: |mean| (%g SE)", nse));
  PetscCall(Check(tl, name, fabs(mean), nse / sqrt(n)));
  PetscCall(PetscSNPrintf(name, sizeof(name), "moments: |variance - 1| (%g SE)", nse));
  PetscCall(Check(tl, name, fabs(m2 - 1), nse * sqrt(2 / n)));
  PetscCall(PetscSNPrintf(name, sizeof(name), "moments: |skewness| (%g SE)", nse));
  PetscCall(Check(tl, name, fabs(skew), nse * sqrt(6 / n)));
  PetscCall(PetscSNPrintf(name, sizeof(name), "moments: |excess kurtosis| (%g SE)", nse));
  PetscCall(Check(tl, name, fabs(kurt), nse * sqrt(24 / n)));
  PetscCall(PetscSNPrintf(name, sizeof(name), "moments: |corr(z_2j, z_2j+1)| (%g SE)", nse));
  PetscCall(Check(tl, name, fabs(cpair / (n / 2)), nse / sqrt(n / 2)));
  PetscCall(PetscSNPrintf(name, sizeof(name), "moments: |corr(stream sde, stream sampler)| (%g SE)", nse));
  PetscCall(Check(tl, name, fabs(cstream / n), nse / sqrt(n)));
  /* P(sqrt(n) D_n > x) ~ 2 exp(-2 x^2): x = 2.69 for p = 1e-6, the two-sided tail of 5 SE */
  PetscCall(Check(tl, "distribution: Kolmogorov-Smirnov D_n (p = 1e-6)", ks, 2.69 / sqrt(n)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  Tally     tl = {0, 0};
  PetscBool print = PETSC_FALSE;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SgmInitializePackage());
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-philox_print", &print, NULL));
  PetscCall(TestPhilox(&tl, print));
  if (!print) {
    PetscCall(TestPure(&tl));
    PetscCall(TestMoments(&tl));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%d passed, %d failed\n", tl.pass, tl.fail));
  }
  PetscCall(PetscFinalize());
  return tl.fail != 0;
}
