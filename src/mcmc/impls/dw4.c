/*
  DW4 (Koehler, Klein, Noe 2020, sec. 6.1): 4 particles in 2-D with the double-well pair potential
      E(x) = sum_{i<j} a (d_ij - d0)^4 + b (d_ij - d0)^2,   a = 0.9, b = -4, d0 = 4, kT = 1,
  i.e. their 1/(2 tau) sum_{i,j} over ordered pairs with tau = 1 (bgflow MultiDoubleWellPotential,
  dim 8, a = 0, b = -4, c = 0.9, offset 4).  Each pair has minima at d = d0 +- sqrt(-b/(2a)).
  Invariant under translations, rotations, reflections and permutations.
*/
#include <sgm/private/energyimpl.h>

#define DW4_A  0.9
#define DW4_B  -4.0
#define DW4_D0 4.0

static PetscErrorCode SgmEnergyEval_DW4(SgmEnergy e, const PetscReal x[], PetscReal *E, PetscReal parts[], PetscReal grad[])
{
  PetscReal s = 0;

  PetscFunctionBegin;
  (void)e;
  if (grad) PetscCall(PetscArrayzero(grad, 8));
  for (int i = 0; i < 4; i++)
    for (int j = i + 1; j < 4; j++) {
      PetscReal dx = x[2 * i] - x[2 * j], dy = x[2 * i + 1] - x[2 * j + 1], d = PetscSqrtReal(dx * dx + dy * dy), u = d - DW4_D0, u2 = u * u;
      s += DW4_A * u2 * u2 + DW4_B * u2;
      if (grad) {
        PetscReal g = (4 * DW4_A * u2 * u + 2 * DW4_B * u) / d; /* dE/dd / d */
        grad[2 * i] += g * dx;
        grad[2 * i + 1] += g * dy;
        grad[2 * j] -= g * dx;
        grad[2 * j + 1] -= g * dy;
      }
    }
  *E = s;
  if (parts) parts[0] = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const char *const dw4parts[] = {"pair"};

PETSC_INTERN PetscErrorCode SgmEnergyCreate_DW4(SgmEnergy e)
{
  PetscFunctionBegin;
  e->n          = 4;
  e->dim        = 2;
  e->nparts     = 1;
  e->partnames  = dw4parts;
  e->init_scale = 2;
  e->step       = 0.5;
  e->eval       = SgmEnergyEval_DW4;
  PetscFunctionReturn(PETSC_SUCCESS);
}
