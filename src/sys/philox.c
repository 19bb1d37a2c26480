/* Philox-4x32-10 counter-based generator (Salmon, Moraes, Dror, Shaw, SC'11) and the normal
   variates sgm derives from it.  Written from the paper's definition; checked against the
   Random123 known-answer vectors in regression/unit/test_random.c. */
#include <sgmsys.h>
#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u /* golden ratio */
#define PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

static inline void PhiloxRound(uint32_t c[4], const uint32_t k[2])
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

/* Uniform on the open interval (0,1) with 53 random bits. */
static inline double Uniform53(uint32_t hi, uint32_t lo)
{
  uint64_t a = ((uint64_t)hi << 32) | lo;
  return ((double)(a >> 11) + 0.5) * 0x1p-53;
}

/*
  d normal variates for one sample.  Counter = (pair index j, step, sample index low word,
  sample index high word with the stream in its top byte); key = the 64-bit seed.  Each counter
  gives two uniforms of 53 bits and, by the Box-Muller transform, the components 2j and 2j+1.
*/
void SgmRandomNormalSample(uint64_t seed, SgmStream stream, PetscInt step, PetscInt index, PetscInt d, PetscScalar *z)
{
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  uint32_t       ctr[4], r[4];
  uint64_t       idx = (uint64_t)index;

  ctr[1] = (uint32_t)step;
  ctr[2] = (uint32_t)idx;
  ctr[3] = (uint32_t)(idx >> 32) ^ ((uint32_t)stream << 24);
  for (PetscInt j = 0; 2 * j < d; j++) {
    ctr[0] = (uint32_t)j;
    SgmPhilox4x32(ctr, key, r);
    double u1 = Uniform53(r[0], r[1]), u2 = Uniform53(r[2], r[3]);
    double rad = sqrt(-2.0 * log(u1)), th = 2.0 * PETSC_PI * u2;
    z[2 * j] = rad * cos(th);
    if (2 * j + 1 < d) z[2 * j + 1] = rad * sin(th);
  }
}

/* Normal variates for every sample this rank owns in the batch, laid out as the batch Vec. */
PetscErrorCode SgmRandomNormalBatch(uint64_t seed, SgmStream stream, PetscInt step, const SgmBatch *b, PetscScalar *z)
{
  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(SGM_Noise, 0, 0, 0, 0));
  for (PetscInt i = 0; i < b->n; i++) SgmRandomNormalSample(seed, stream, step, b->rstart + i, b->d, z + i * b->d);
  PetscCall(PetscLogEventEnd(SGM_Noise, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}
