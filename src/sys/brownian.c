/*
  A virtual Brownian tree (Li et al. 2020, "Scalable gradients for SDEs"; Kidger et al. 2021):
  W(s), s in [0, L], of one sample is a deterministic function of (seed, sample index, s), built by
  recursive Brownian-bridge bisection with Philox noise keyed by the tree node:
      W(L) = sqrt(L) z_0,   W(m) = (W(a) + W(b))/2 + sqrt((b - a)/4) z_node,  m = (a + b)/2,
  descending `depth` levels towards s and interpolating linearly inside the last interval.  An
  increment W(b) - W(a) is then the same whatever partition it is part of, whichever steps an
  adaptive sampler rejected before, and on any number of ranks.  All samples of a batch are queried
  at the same s, so they walk the same nodes: each level is one batched (vectorised) noise draw.
*/
#include <sgmsys.h>
#include <math.h>

/* W at s in [0, L] for the b->n samples of this rank; work has room for 3 n d reals. */
PetscErrorCode SgmBrownianTreeBatch(uint64_t seed, const SgmBatch *b, PetscReal L, PetscInt depth, PetscReal s, PetscReal W[], PetscReal work[])
{
  const PetscInt nd = b->n * b->d;
  PetscReal     *Wa = work, *Wb = work + nd, *z = work + 2 * nd, a = 0, c = L;
  uint32_t       node = 1;

  PetscFunctionBegin;
  s = PetscMin(PetscMax(s, 0), L);
  PetscCall(SgmRandomNormalBatch(seed, SGM_STREAM_BROWNIAN, 0, b, z));
  for (PetscInt k = 0; k < nd; k++) {
    Wa[k] = 0;
    Wb[k] = PetscSqrtReal(L) * z[k];
  }
  if (s == L) { /* the root itself, exactly */
    PetscCall(PetscArraycpy(W, Wb, nd));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt level = 0; level < depth; level++) {
    PetscReal m = 0.5 * (a + c), sd = PetscSqrtReal(0.25 * (c - a));
    PetscCall(SgmRandomNormalBatch(seed, SGM_STREAM_BROWNIAN, (PetscInt)node, b, z));
    if (s < m) {
      for (PetscInt k = 0; k < nd; k++) Wb[k] = 0.5 * (Wa[k] + Wb[k]) + sd * z[k];
      c    = m;
      node = 2 * node;
    } else {
      for (PetscInt k = 0; k < nd; k++) Wa[k] = 0.5 * (Wa[k] + Wb[k]) + sd * z[k];
      a    = m;
      node = 2 * node + 1;
    }
    if (s == a) {
      PetscCall(PetscArraycpy(W, Wa, nd));
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  for (PetscInt k = 0; k < nd; k++) W[k] = Wa[k] + (s - a) / (c - a) * (Wb[k] - Wa[k]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* W of one sample `index` (d components) at s: the batch walk for a batch of that one sample. */
void SgmBrownianTreeValue(uint64_t seed, PetscInt index, PetscInt d, PetscReal L, PetscInt depth, PetscReal s, PetscReal W[], PetscReal work[])
{
  SgmBatch b = {MPI_COMM_SELF, index + 1, d, 1, index};

  (void)SgmBrownianTreeBatch(seed, &b, L, depth, s, W, work);
}
