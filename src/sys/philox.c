/* Philox-4x32-10 counter-based generator (Salmon, Moraes, Dror, Shaw, SC'11) and the normal
   variates sgm derives from it.  Written from the paper's definition; checked against the
   Random123 known-answer vectors in regression/unit/test_random.c. */
#include <sgmfield.h>
#include <sgm/private/vecmath.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u /* golden ratio */
#define PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

SGM_INLINE void PhiloxRound(uint32_t c[4], const uint32_t k[2])
{
  uint64_t p0 = (uint64_t)PHILOX_M0 * c[0];
  uint64_t p1 = (uint64_t)PHILOX_M1 * c[2];
  uint32_t o0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k[0];
  uint32_t o1 = (uint32_t)p1;
  uint32_t o2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k[1];
  uint32_t o3 = (uint32_t)p0;
  c[0] = o0; c[1] = o1; c[2] = o2; c[3] = o3;
}

void SgmPhilox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
  uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
  uint32_t k[2] = {key[0], key[1]};
  for (int r = 0; r < 10; r++) {
    if (r) { k[0] += PHILOX_W0; k[1] += PHILOX_W1; }
    PhiloxRound(c, k);
  }
  out[0] = c[0]; out[1] = c[1]; out[2] = c[2]; out[3] = c[3];
}

/*
  The normal variates.  Counter = (pair index j, step, sample index low word, sample index high word
  with the stream in its top byte); key = the 64-bit seed.  Each counter gives two uniforms and, by
  the Box-Muller transform, the components 2j and 2j+1 of that sample's noise.

  The batch version works on blocks of SGM_LANES consecutive samples, one sample per lane: Philox
  rounds, uniforms, log, sqrt and sincos then vectorise across samples (see vecmath.h).  The last
  partial block is computed whole and only its valid lanes are copied out, so a sample's noise is
  the same instructions on the same counter wherever it sits on whichever rank.
*/

/* Uniform on the open interval (0,1) from 64 random bits: 1 + 52 bits is built directly as a double
   in [1,2) (no integer-to-double conversion, which does not vectorise below AVX-512), and
   subtracting 1 - 2^-53 is exact and centres the 2^52 values, so u is never 0 or 1. */
SGM_INLINE double Uniform52(uint32_t hi, uint32_t lo)
{
  const uint64_t a = ((uint64_t)hi << 32) | lo;
  return SgmAsDouble(0x3FF0000000000000ULL | (a >> 12)) - (1.0 - 0x1p-53);
}

/* Noise of component pair j of SGM_LANES samples with global indices idx0, idx0+1, ... */
static SGM_HOT void NormalPairBlock(const uint32_t key[2], uint32_t step, uint32_t ctr3xor, uint64_t idx0, uint32_t j, double *restrict zc, double *restrict zs)
{
  _Alignas(SGM_ALIGN) double rad[SGM_LANES], u2[SGM_LANES];

  for (int l = 0; l < SGM_LANES; l++) {
    const uint64_t idx = idx0 + (uint64_t)l;
    uint32_t       c[4] = {j, step, (uint32_t)idx, (uint32_t)(idx >> 32) ^ ctr3xor};
    uint32_t       k[2] = {key[0], key[1]};
    for (int r = 0; r < 10; r++) { /* fully unrolled by the compiler; lanes are vectorised */
      if (r) { k[0] += PHILOX_W0; k[1] += PHILOX_W1; }
      PhiloxRound(c, k);
    }
    rad[l] = SgmSqrtPositive(-2.0 * SgmLogUnit(Uniform52(c[0], c[1])));
    u2[l]  = Uniform52(c[2], c[3]);
  }
  for (int l = 0; l < SGM_LANES; l++) {
    double sn, cs;
    SgmSinCos2Pi(u2[l], &sn, &cs);
    zc[l] = rad[l] * cs;
    zs[l] = rad[l] * sn;
  }
}

/* d normal variates for each of SGM_LANES samples from global index idx0, written row-major
   z[l*d + c]; zt is scratch of 2 SGM_LANES doubles. */
static SGM_HOT void NormalBlock(const uint32_t key[2], uint32_t step, uint32_t ctr3xor, uint64_t idx0, PetscInt d, double *restrict zt, PetscScalar *restrict z)
{
  for (PetscInt j = 0; 2 * j < d; j++) {
    NormalPairBlock(key, step, ctr3xor, idx0, (uint32_t)j, zt, zt + SGM_LANES);
    for (int l = 0; l < SGM_LANES; l++) z[l * d + 2 * j] = zt[l];
    if (2 * j + 1 < d)
      for (int l = 0; l < SGM_LANES; l++) z[l * d + 2 * j + 1] = zt[SGM_LANES + l];
  }
}

/* d normal variates for one sample: lane 0 of a block, so identical to what the batch gives. */
void SgmRandomNormalSample(uint64_t seed, SgmStream stream, PetscInt step, PetscInt index, PetscInt d, PetscScalar *z)
{
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  _Alignas(SGM_ALIGN) double zt[2 * SGM_LANES];

  for (PetscInt j = 0; 2 * j < d; j++) {
    NormalPairBlock(key, (uint32_t)step, (uint32_t)stream << 24, (uint64_t)index, (uint32_t)j, zt, zt + SGM_LANES);
    z[2 * j] = zt[0];
    if (2 * j + 1 < d) z[2 * j + 1] = zt[SGM_LANES];
  }
}

/* Noise of component pair j at SGM_LANES arbitrary indices idx[l]: the lanes of NormalPairBlock,
   each lane the same instructions on its own counter, so the value at an index does not depend on
   the lane it is computed in. */
static SGM_HOT void NormalPairGather(const uint32_t key[2], uint32_t step, uint32_t ctr3xor, const uint64_t *restrict idx, uint32_t j, double *restrict zc, double *restrict zs)
{
  _Alignas(SGM_ALIGN) double rad[SGM_LANES], u2[SGM_LANES];

  for (int l = 0; l < SGM_LANES; l++) {
    uint32_t c[4] = {j, step, (uint32_t)idx[l], (uint32_t)(idx[l] >> 32) ^ ctr3xor};
    uint32_t k[2] = {key[0], key[1]};
    for (int r = 0; r < 10; r++) {
      if (r) { k[0] += PHILOX_W0; k[1] += PHILOX_W1; }
      PhiloxRound(c, k);
    }
    rad[l] = SgmSqrtPositive(-2.0 * SgmLogUnit(Uniform52(c[0], c[1])));
    u2[l]  = Uniform52(c[2], c[3]);
  }
  for (int l = 0; l < SGM_LANES; l++) {
    double sn, cs;
    SgmSinCos2Pi(u2[l], &sn, &cs);
    zc[l] = rad[l] * cs;
    zs[l] = rad[l] * sn;
  }
}

/*
  Field batches: the dof components at grid point p of field i are those of a "sample" with global
  index (rstart + i) ngrid + nat[p] (SgmRandomNormalSample with d = dof), so a field's noise is a
  function of the global grid index only, whatever the DMDA process grid.
*/
static PetscErrorCode RandomNormalField(const uint32_t key[2], uint32_t step, uint32_t c3, const SgmBatch *b, PetscScalar *z)
{
  const SgmField f = b->field;
  const PetscInt nl = f->nloc, dof = f->dof;
  _Alignas(SGM_ALIGN) double   zt[2 * SGM_LANES];
  _Alignas(SGM_ALIGN) uint64_t idx[SGM_LANES];

  PetscFunctionBegin;
  for (PetscInt i = 0; i < b->n; i++) {
    const uint64_t base = (uint64_t)(b->rstart + i) * (uint64_t)f->ngrid;
    PetscScalar   *zi   = z + i * nl * dof;
    for (PetscInt p0 = 0; p0 < nl; p0 += SGM_LANES) {
      const PetscInt m = PetscMin(SGM_LANES, nl - p0);
      for (int l = 0; l < SGM_LANES; l++) idx[l] = base + (uint64_t)f->nat[p0 + (l < m ? l : 0)];
      for (PetscInt j = 0; 2 * j < dof; j++) {
        NormalPairGather(key, step, c3, idx, (uint32_t)j, zt, zt + SGM_LANES);
        for (PetscInt l = 0; l < m; l++) {
          zi[(p0 + l) * dof + 2 * j] = zt[l];
          if (2 * j + 1 < dof) zi[(p0 + l) * dof + 2 * j + 1] = zt[SGM_LANES + l];
        }
      }
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Normal variates for every sample this rank owns in the batch, laid out as the batch Vec. */
PetscErrorCode SgmRandomNormalBatch(uint64_t seed, SgmStream stream, PetscInt step, const SgmBatch *b, PetscScalar *z)
{
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)}, c3 = (uint32_t)stream << 24;
  const PetscInt d = b->d, nfull = b->n / SGM_LANES * SGM_LANES;
  _Alignas(SGM_ALIGN) double zt[2 * SGM_LANES];

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_Noise, 0, 0, 0, 0));
  if (b->field) {
    PetscCall(RandomNormalField(key, (uint32_t)step, c3, b, z));
    PetscCall(PetscLogEventEnd(SGM_Noise, 0, 0, 0, 0));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt i = 0; i < nfull; i += SGM_LANES) NormalBlock(key, (uint32_t)step, c3, (uint64_t)(b->rstart + i), d, zt, z + i * d);
  if (nfull < b->n) { /* the last block is computed whole, then its valid rows copied */
    PetscScalar *zpad;
    PetscCall(PetscMalloc1(SGM_LANES * d, &zpad));
    NormalBlock(key, (uint32_t)step, c3, (uint64_t)(b->rstart + nfull), d, zt, zpad);
    PetscCall(PetscArraycpy(z + nfull * d, zpad, (b->n - nfull) * d));
    PetscCall(PetscFree(zpad));
  }
  PetscCall(PetscLogEventEnd(SGM_Noise, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* n uniform variates in (0, 1) for one index: u[2j], u[2j+1] from the Philox block with counter
   (j, step, index, stream), 52 random bits each.  Use a stream of its own: the normal variates of
   the same counters are functions of the same bits. */
void SgmRandomUniformSample(uint64_t seed, SgmStream stream, PetscInt step, PetscInt index, PetscInt n, PetscReal *u)
{
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  const uint64_t idx    = (uint64_t)index;

  for (PetscInt j = 0; 2 * j < n; j++) {
    const uint32_t c[4] = {(uint32_t)j, (uint32_t)step, (uint32_t)idx, (uint32_t)(idx >> 32) ^ ((uint32_t)stream << 24)};
    uint32_t       o[4];
    SgmPhilox4x32(c, key, o);
    u[2 * j] = Uniform52(o[0], o[1]);
    if (2 * j + 1 < n) u[2 * j + 1] = Uniform52(o[2], o[3]);
  }
}
