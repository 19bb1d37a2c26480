/*
  Lattice utilities of the crystal code (src/csp): cell parameters, the cell of given parameters,
  inverse, and a greedy reduction to a short basis.  Lattices are rows: L[3a + c] = component c of
  vector a (sgmgeometric.h).
*/
#include <sgmcsp.h>

PetscReal SgmCSPDet3(const PetscReal L[])
{
  return L[0] * (L[4] * L[8] - L[5] * L[7]) - L[1] * (L[3] * L[8] - L[5] * L[6]) + L[2] * (L[3] * L[7] - L[4] * L[6]);
}

/* Li = L^{-1}: fractional coordinates of a Cartesian row x are x Li. */
PetscErrorCode SgmCSPInverse3(const PetscReal L[], PetscReal Li[])
{
  const PetscReal d = SgmCSPDet3(L);

  PetscFunctionBegin;
  PetscCheck(PetscAbsReal(d) > 0 && PetscIsNormalReal(d), PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "A lattice has linearly dependent or non-finite vectors (determinant %g): give three independent vectors", (double)d);
  Li[0] = (L[4] * L[8] - L[5] * L[7]) / d;
  Li[1] = (L[2] * L[7] - L[1] * L[8]) / d;
  Li[2] = (L[1] * L[5] - L[2] * L[4]) / d;
  Li[3] = (L[5] * L[6] - L[3] * L[8]) / d;
  Li[4] = (L[0] * L[8] - L[2] * L[6]) / d;
  Li[5] = (L[2] * L[3] - L[0] * L[5]) / d;
  Li[6] = (L[3] * L[7] - L[4] * L[6]) / d;
  Li[7] = (L[1] * L[6] - L[0] * L[7]) / d;
  Li[8] = (L[0] * L[4] - L[1] * L[3]) / d;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscReal Dot3(const PetscReal a[], const PetscReal b[])
{
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* p = (a, b, c, alpha, beta, gamma), angles in degrees (alpha between b and c). */
void SgmCSPLatticeParameters(const PetscReal L[], PetscReal p[])
{
  for (int a = 0; a < 3; a++) p[a] = PetscSqrtReal(Dot3(L + 3 * a, L + 3 * a));
  for (int a = 0; a < 3; a++) {
    const int b = (a + 1) % 3, c = (a + 2) % 3;
    PetscReal x = Dot3(L + 3 * b, L + 3 * c) / (p[b] * p[c]);
    p[3 + a]    = PetscAcosReal(PetscMax(-1.0, PetscMin(1.0, x))) * 180.0 / PETSC_PI;
  }
}

/* The cell of parameters p: a along x, b in the xy plane (ase.geometry.cellpar_to_cell). */
void SgmCSPLatticeFromParameters(const PetscReal p[], PetscReal L[])
{
  const PetscReal ca = PetscCosReal(p[3] * PETSC_PI / 180), cb = PetscCosReal(p[4] * PETSC_PI / 180);
  const PetscReal cg = PetscCosReal(p[5] * PETSC_PI / 180), sg = PetscSinReal(p[5] * PETSC_PI / 180);
  const PetscReal cy = (ca - cb * cg) / sg, cz2 = 1 - cb * cb - cy * cy;

  L[0] = p[0], L[1] = 0, L[2] = 0;
  L[3] = p[1] * cg, L[4] = p[1] * sg, L[5] = 0;
  L[6] = p[2] * cb, L[7] = p[2] * cy, L[8] = p[2] * PetscSqrtReal(PetscMax(cz2, 0));
}

/*
  Greedy reduction (Semaev 2001; Nguyen & Stehle 2009, the greedy algorithm is Minkowski-reducing
  in dimension 3): sort by length, replace the longest vector by its shortest translate by integer
  combinations of the two shorter ones (the nearest lattice point of their plane, found among the
  4 rounding neighbours of its projection), repeat until nothing shortens.  Then the signs are
  normalised so that the three angles are all <= 90 or all > 90 degrees where possible (Niggli's
  type I / type II convention), and the basis is made right-handed by negating all three if needed
  (negating all keeps the angles).  Not the full Niggli algorithm: its special conditions on the
  boundary (equal lengths, right angles) are not applied, so two reduced bases of one lattice may
  differ by a permutation of equal-length vectors or the sign of a right-angle term.
*/
PetscErrorCode SgmCSPLatticeReduce(const PetscReal L[], PetscReal R[], PetscInt T[])
{
  PetscReal B[9], len[3];
  PetscInt  M[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, it;

  PetscFunctionBegin;
  PetscCheck(PetscAbsReal(SgmCSPDet3(L)) > 0, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "A lattice has linearly dependent vectors: give three independent vectors");
  PetscCall(PetscArraycpy(B, L, 9));
  for (it = 0; it < 1000; it++) {
    PetscBool changed = PETSC_FALSE;
    /* sort by length (insertion sort on rows of B and M) */
    for (int a = 0; a < 3; a++) len[a] = Dot3(B + 3 * a, B + 3 * a);
    for (int a = 1; a < 3; a++)
      for (int b = a; b > 0 && len[b] < len[b - 1] * (1 - 1e-12); b--) {
        PetscReal tr;
        PetscInt  ti;
        for (int c = 0; c < 3; c++) {
          tr = B[3 * b + c], B[3 * b + c] = B[3 * (b - 1) + c], B[3 * (b - 1) + c] = tr;
          ti = M[3 * b + c], M[3 * b + c] = M[3 * (b - 1) + c], M[3 * (b - 1) + c] = ti;
        }
        tr = len[b], len[b] = len[b - 1], len[b - 1] = tr;
      }
    /* reduce each vector against the shorter ones: 2-D (vector 1 vs 0), then 3-D (vector 2 vs 0, 1) */
    for (int a = 1; a < 3; a++) {
      PetscReal g00 = len[0], g01 = Dot3(B, B + 3), g11 = len[1], r0 = Dot3(B + 3 * a, B), r1 = Dot3(B + 3 * a, B + 3), x0, x1, best = Dot3(B + 3 * a, B + 3 * a);
      PetscInt  k0 = 0, k1 = 0;
      if (a == 1) {
        x0 = r0 / g00, x1 = 0;
      } else {
        PetscReal det = g00 * g11 - g01 * g01;
        x0 = (r0 * g11 - r1 * g01) / det, x1 = (r1 * g00 - r0 * g01) / det;
      }
      for (PetscInt i0 = (PetscInt)PetscFloorReal(x0); i0 <= (PetscInt)PetscFloorReal(x0) + 1; i0++)
        for (PetscInt i1 = (a == 1 ? 0 : (PetscInt)PetscFloorReal(x1)); i1 <= (a == 1 ? 0 : (PetscInt)PetscFloorReal(x1) + 1); i1++) {
          PetscReal v[3], l;
          for (int c = 0; c < 3; c++) v[c] = B[3 * a + c] - i0 * B[c] - i1 * B[3 + c];
          l = Dot3(v, v);
          if (l < best * (1 - 1e-12)) best = l, k0 = i0, k1 = i1;
        }
      if (k0 || k1) {
        for (int c = 0; c < 3; c++) {
          B[3 * a + c] -= k0 * B[c] + k1 * B[3 + c];
          M[3 * a + c] -= k0 * M[c] + k1 * M[3 + c];
        }
        len[a]  = best;
        changed = PETSC_TRUE;
      }
    }
    if (!changed) break;
  }
  PetscCheck(it < 1000, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Lattice reduction did not converge in 1000 sweeps");
  { /* signs: make the off-diagonal inner products all of one sign (Niggli type I: all > 0, else type II: all <= 0) */
    PetscReal g12 = Dot3(B + 3, B + 6), g02 = Dot3(B, B + 6), g01 = Dot3(B, B + 3);
    int       s[3] = {1, 1, 1};
    if (g12 * g02 * g01 > 0) { /* all positive possible: choose signs so that every product is positive */
      s[1] = g01 > 0 ? 1 : -1;
      s[2] = g02 > 0 ? 1 : -1;
    } else { /* all non-positive */
      s[1] = g01 > 0 ? -1 : 1;
      s[2] = g02 > 0 ? -1 : 1;
    }
    for (int a = 1; a < 3; a++)
      for (int c = 0; c < 3; c++) B[3 * a + c] *= s[a], M[3 * a + c] *= s[a];
  }
  if (SgmCSPDet3(B) < 0)
    for (int c = 0; c < 9; c++) B[c] = -B[c], M[c] = -M[c];
  PetscCall(PetscArraycpy(R, B, 9));
  if (T) PetscCall(PetscArraycpy(T, M, 9));
  PetscFunctionReturn(PETSC_SUCCESS);
}
