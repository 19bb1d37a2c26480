/*
  LJ13 (Koehler, Klein, Noe 2020, sec. 6.1): 13 particles in 3-D, kT = 1,
      E(x) = c sum_{i<j} eps [ (r_m/d_ij)^12 - 2 (r_m/d_ij)^6 ] + 1/2 sum_i |x_i - x_CoM|^2,
  eps = r_m = 1 (so 4 eps [(s/d)^12 - (s/d)^6] with r_m = 2^(1/6) s).  The pair-sum convention:
  bgflow's LennardJonesPotential, which generated the published LJ13 data, sums over the ordered
  pairs i != j (c = 2, -lj_pairs ordered, the default); the physical energy is the unordered sum
  (c = 1, -lj_pairs unordered, a different target: the same energy at twice the temperature).  The
  harmonic centre term is bgflow's oscillator (scale 1).  Parts: "pair" = sum_{i<j} eps[...], the
  pair energy per unordered pair (the number quoted for the data, about -26.1; the ordered sum that
  enters E is twice it), and "oscillator"; E = c pair + oscillator.
*/
#include <sgm/private/energyimpl.h>
#include <sgmio.h>

const char *const SgmLJPairsTypes[] = {"ordered", "unordered", "SgmLJPairs", "SGM_LJ_PAIRS_", NULL};

typedef struct {
  SgmLJPairs pairs;
} SgmEnergy_LJ;

static PetscErrorCode SgmEnergyEval_LJ13(SgmEnergy e, const PetscReal x[], PetscReal *E, PetscReal parts[], PetscReal grad[])
{
  SgmEnergy_LJ   *lj = (SgmEnergy_LJ *)e->data;
  const PetscReal c  = lj->pairs == SGM_LJ_PAIRS_ORDERED ? 2 : 1;
  PetscReal       pair = 0, osc = 0, m[3] = {0, 0, 0};

  PetscFunctionBegin;
  if (grad) PetscCall(PetscArrayzero(grad, 39));
  for (int i = 0; i < 13; i++)
    for (int j = i + 1; j < 13; j++) {
      PetscReal v[3] = {x[3 * i] - x[3 * j], x[3 * i + 1] - x[3 * j + 1], x[3 * i + 2] - x[3 * j + 2]};
      PetscReal r2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2], s6 = 1 / (r2 * r2 * r2);
      pair += s6 * s6 - 2 * s6;
      if (grad) {
        PetscReal g = c * 12 * (s6 - s6 * s6) / r2; /* dE/dd / d */
        for (int k = 0; k < 3; k++) {
          grad[3 * i + k] += g * v[k];
          grad[3 * j + k] -= g * v[k];
        }
      }
    }
  for (int i = 0; i < 13; i++)
    for (int k = 0; k < 3; k++) m[k] += x[3 * i + k];
  for (int k = 0; k < 3; k++) m[k] /= 13;
  for (int i = 0; i < 13; i++)
    for (int k = 0; k < 3; k++) {
      PetscReal y = x[3 * i + k] - m[k];
      osc += 0.5 * y * y;
      if (grad) grad[3 * i + k] += y; /* sum_i (x_i - m) = 0: the CoM's own derivative drops out */
    }
  *E = c * pair + osc;
  if (parts) {
    parts[0] = pair;
    parts[1] = osc;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmEnergySetFromOptions_LJ13(SgmEnergy e, PetscOptionItems *PetscOptionsObject)
{
  SgmEnergy_LJ *lj = (SgmEnergy_LJ *)e->data;

  PetscFunctionBegin;
  PetscCall(PetscOptionsEnum("-lj_pairs", "LJ13 pair sum over ordered pairs i != j (the published data) or unordered i < j", "", SgmLJPairsTypes, (PetscEnum)lj->pairs, (PetscEnum *)&lj->pairs, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmEnergyAttributes_LJ13(SgmEnergy e, hid_t obj)
{
  SgmEnergy_LJ *lj = (SgmEnergy_LJ *)e->data;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrString(obj, "lj_pairs", SgmLJPairsTypes[lj->pairs]));
  PetscCall(SgmH5AttrReal(obj, "lj_pair_weight", lj->pairs == SGM_LJ_PAIRS_ORDERED ? 2 : 1));
  PetscCall(SgmH5AttrString(obj, "energy_definition", "E = lj_pair_weight * energy_pair + energy_oscillator, energy_pair = sum_{i<j} [d^-12 - 2 d^-6], energy_oscillator = 0.5 sum_i |x_i - x_CoM|^2"));
  PetscCall(SgmH5AttrReal(obj, "lj_eps", 1));
  PetscCall(SgmH5AttrReal(obj, "lj_rm", 1));
  PetscCall(SgmH5AttrReal(obj, "oscillator_scale", 1));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SgmEnergyDestroy_LJ13(SgmEnergy e)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(e->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const char *const lj13parts[] = {"pair", "oscillator"};

PETSC_INTERN PetscErrorCode SgmEnergyCreate_LJ13(SgmEnergy e)
{
  SgmEnergy_LJ *lj;

  PetscFunctionBegin;
  PetscCall(PetscNew(&lj));
  lj->pairs         = SGM_LJ_PAIRS_ORDERED;
  e->data           = lj;
  e->n              = 13;
  e->dim            = 3;
  e->nparts         = 2;
  e->partnames      = lj13parts;
  e->init_scale     = 0.8;
  e->step           = 0.1;
  e->eval           = SgmEnergyEval_LJ13;
  e->setfromoptions = SgmEnergySetFromOptions_LJ13;
  e->attributes     = SgmEnergyAttributes_LJ13;
  e->destroy        = SgmEnergyDestroy_LJ13;
  PetscFunctionReturn(PETSC_SUCCESS);
}
