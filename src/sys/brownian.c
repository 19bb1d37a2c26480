/*
  A virtual Brownian tree (Li et al. 2020, "Scalable gradients for SDEs"; Kidger et al. 2021):
  W(s), s in [0, L], of one sample is a deterministic function of (seed, sample index, s), built by
  recursive Brownian-bridge bisection with Philox noise keyed by the tree node:
      W(L) = sqrt(L) z_0,   W(m) = (W(a) + W(b))/2 + sqrt((b - a)/4) z_node,  m = (a + b)/2,
  descending `depth` levels towards s and interpolating linearly inside the last interval.  An
  increment W(b) - W(a) is then the same whatever partition it is part of, whichever steps an
  adaptive sampler rejected before, and on any number of ranks.
*/
#include <sgmsys.h>
#include <math.h>

/* W of sample `index` (d components) at s in [0, L]; work has room for 3d reals. */
void SgmBrownianTreeValue(uint64_t seed, PetscInt index, PetscInt d, PetscReal L, PetscInt depth, PetscReal s, PetscReal W[], PetscReal work[])
{
  PetscReal *Wa = work, *Wb = work + d, *z = work + 2 * d, a = 0, b = L;
  uint32_t   node = 1;

  s = PetscMin(PetscMax(s, 0), L);
  SgmRandomNormalSample(seed, SGM_STREAM_BROWNIAN, 0, index, d, z);
  for (PetscInt j = 0; j < d; j++) {
    Wa[j] = 0;
    Wb[j] = PetscSqrtReal(L) * z[j];
  }
  if (s == L) { /* the root itself, exactly */
    for (PetscInt j = 0; j < d; j++) W[j] = Wb[j];
    return;
  }
  for (PetscInt level = 0; level < depth; level++) {
    PetscReal m = 0.5 * (a + b), sd = PetscSqrtReal(0.25 * (b - a));
    SgmRandomNormalSample(seed, SGM_STREAM_BROWNIAN, (PetscInt)node, index, d, z);
    if (s < m) {
      for (PetscInt j = 0; j < d; j++) Wb[j] = 0.5 * (Wa[j] + Wb[j]) + sd * z[j];
      b    = m;
      node = 2 * node;
    } else {
      for (PetscInt j = 0; j < d; j++) Wa[j] = 0.5 * (Wa[j] + Wb[j]) + sd * z[j];
      a    = m;
      node = 2 * node + 1;
    }
    if (s == a) {
      for (PetscInt j = 0; j < d; j++) W[j] = Wa[j];
      return;
    }
  }
  for (PetscInt j = 0; j < d; j++) W[j] = Wa[j] + (s - a) / (b - a) * (Wb[j] - Wa[j]);
}
