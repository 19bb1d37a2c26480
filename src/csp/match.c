/*
  Structure matcher: are two crystals of the same composition the same structure, and how far apart
  are their atoms?  The algorithm of pymatgen's StructureMatcher (Ong et al. 2013) with
  primitive_cell = False, attempt_supercell = False, scale = True, as DiffCSP's compute_metrics.py
  uses it (stol 0.5, ltol 0.3, angle_tol 10), crystal 1 the candidate, crystal 2 the reference:

   1. Compositions: same number of atoms and the same multiset of atomic numbers, else no match.
   2. Both lattices are reduced (SgmCSPLatticeReduce; pymatgen Niggli-reduces) and the fractional
      coordinates re-expressed in the reduced cells; both cells are scaled to the same volume,
      L1 * r and L2 / r with r = (V2 / V1)^(1/6).
   3. Lattice mappings: every basis l = S L1 of lattice 1 (S integer, |det S| = 1) whose vector
      lengths are within the ratio 1 + ltol of the reference's (1/(1+ltol) < |l_a| / |L2_a| < 1 + ltol)
      and whose angles are within angle_tol degrees of the reference's.  The candidate vectors are
      all lattice points of lattice 1 up to the longest reference length times 1 + ltol.
   4. For each mapping: atoms of crystal 1 in fractional coordinates of l; the comparison lattice is
      the cell of the averaged parameters (lengths and angles of l and L2); normalisation
      nu = (n / V_avg)^(1/3).  Origin: the first atom of the least frequent species of crystal 2 is
      put on each atom of that species of crystal 1 in turn.  A cheap filter (pymatgen's
      is_coord_subset_pbc) asks every atom of crystal 2 to have an atom of its species in crystal 1
      within 2 stol / (nu w_a) in each fractional coordinate (w_a the widths of the comparison cell).
      Then the shortest Cartesian vectors between all pairs of one species (images -1..1 around the
      wrapped difference), a minimum-sum-of-squares assignment (SgmCSPAssign), the mean of the
      assigned vectors removed (the best origin), and
          rms = sqrt(mean_j |v_j - mean v|^2) * nu,
      the atomic displacement RMS in units of (V/n)^(1/3).
   5. rms = the minimum over mappings and origins; match iff rms < stol.

  Not done: reduction to primitive cells (pymatgen's default primitive_cell = True; two crystals that
  are the same structure in cells of different size do not match here), supercell matching,
  the lll_frac_tol cut-off pymatgen applies inside its distance computation (it only drops pairs
  farther than the filter tolerance, which cannot be part of a match), and the early exit at
  rms < 1e-5 (the minimum over all mappings is returned).
*/
#include <sgmcsp.h>

#define MAXN 64

static PetscReal Dot3(const PetscReal a[], const PetscReal b[])
{
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void RowTimes(const PetscReal x[], const PetscReal M[], PetscReal y[])
{
  for (int c = 0; c < 3; c++) y[c] = x[0] * M[c] + x[1] * M[3 + c] + x[2] * M[6 + c];
}

static PetscReal Wrap(PetscReal x)
{
  x -= PetscFloorReal(x);
  return x >= 1 ? 0 : x;
}

static PetscReal AngleDeg(const PetscReal a[], const PetscReal b[])
{
  PetscReal x = Dot3(a, b) / PetscSqrtReal(Dot3(a, a) * Dot3(b, b));
  return PetscAcosReal(PetscMax(-1.0, PetscMin(1.0, x))) * 180.0 / PETSC_PI;
}

void SgmCSPMatchParamsDefault(SgmCSPMatchParams *p)
{
  p->stol      = 0.5;
  p->ltol      = 0.3;
  p->angle_tol = 10;
}

/* Same number of atoms and the same multiset of atomic numbers. */
static PetscBool SameComposition(const SgmCrystal *a, const SgmCrystal *b)
{
  PetscInt za[MAXN], zb[MAXN];

  if (a->n != b->n) return PETSC_FALSE;
  for (PetscInt i = 0; i < a->n; i++) za[i] = a->z[i], zb[i] = b->z[i];
  if (PetscSortInt(a->n, za) || PetscSortInt(b->n, zb)) return PETSC_FALSE;
  for (PetscInt i = 0; i < a->n; i++)
    if (za[i] != zb[i]) return PETSC_FALSE;
  return PETSC_TRUE;
}

/* rms of one mapping (lattice l of crystal 1 with fractional coords f1l, reference f2 in L2), minimum over origins. */
static PetscErrorCode MatchMapping(const SgmCSPMatchParams *p, PetscInt n, const PetscInt z1[], const PetscReal f1l[], const PetscReal l[], const PetscInt z2[], const PetscReal f2[], const PetscReal p2[], PetscInt tind, PetscReal *best)
{
  PetscReal pl[6], pa[6], A[9], w[3], nu, tol[3], cost[MAXN * MAXN], vec[MAXN * MAXN * 3];
  PetscInt  perm[MAXN];

  PetscFunctionBegin;
  SgmCSPLatticeParameters(l, pl);
  for (int c = 0; c < 6; c++) pa[c] = 0.5 * (pl[c] + p2[c]);
  SgmCSPLatticeFromParameters(pa, A);
  PetscCall(SgmLatticeWidths(A, w));
  nu = PetscCbrtReal(n / PetscAbsReal(SgmCSPDet3(A)));
  for (int a = 0; a < 3; a++) tol[a] = 2 * p->stol / (nu * w[a]);
  for (PetscInt s = 0; s < n; s++) {
    PetscReal t[3], sum, mean[3] = {0, 0, 0}, ss = 0, rms;
    PetscBool ok = PETSC_TRUE;
    if (z1[s] != z2[tind]) continue;
    for (int a = 0; a < 3; a++) t[a] = f1l[3 * s + a] - f2[3 * tind + a];
    /* filter: every reference atom has a candidate atom of its species within tol in each coordinate */
    for (PetscInt j = 0; j < n && ok; j++) {
      PetscBool found = PETSC_FALSE;
      for (PetscInt i = 0; i < n && !found; i++) {
        if (z1[i] != z2[j]) continue;
        found = PETSC_TRUE;
        for (int a = 0; a < 3; a++) {
          PetscReal d = f1l[3 * i + a] - f2[3 * j + a] - t[a];
          if (PetscAbsReal(d - PetscFloorReal(d + 0.5)) >= tol[a]) found = PETSC_FALSE;
        }
      }
      ok = found;
    }
    if (!ok) continue;
    /* shortest vectors from reference atom j to candidate atom i (same species) in the averaged cell */
    for (PetscInt j = 0; j < n; j++)
      for (PetscInt i = 0; i < n; i++) {
        PetscReal d[3], dmin = PETSC_MAX_REAL, *v = vec + 3 * (j * n + i);
        if (z1[i] != z2[j]) {
          cost[j * n + i] = 1e10;
          continue;
        }
        for (int a = 0; a < 3; a++) {
          d[a] = f1l[3 * i + a] - f2[3 * j + a] - t[a];
          d[a] -= PetscFloorReal(d[a] + 0.5);
        }
        for (int k0 = -1; k0 <= 1; k0++)
          for (int k1 = -1; k1 <= 1; k1++)
            for (int k2 = -1; k2 <= 1; k2++) {
              PetscReal e[3] = {d[0] + k0, d[1] + k1, d[2] + k2}, x[3], dd;
              RowTimes(e, A, x);
              dd = Dot3(x, x);
              if (dd < dmin) dmin = dd, v[0] = x[0], v[1] = x[1], v[2] = x[2];
            }
        cost[j * n + i] = dmin;
      }
    PetscCall(SgmCSPAssign(n, cost, perm, &sum));
    for (PetscInt j = 0; j < n; j++)
      for (int c = 0; c < 3; c++) mean[c] += vec[3 * (j * n + perm[j]) + c] / n;
    for (PetscInt j = 0; j < n; j++)
      for (int c = 0; c < 3; c++) {
        PetscReal e = vec[3 * (j * n + perm[j]) + c] - mean[c];
        ss += e * e;
      }
    rms = PetscSqrtReal(ss / n) * nu;
    if (rms < *best) *best = rms;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCSPMatch(const SgmCSPMatchParams *p, const SgmCrystal *c1, const SgmCrystal *c2, PetscBool *match, PetscReal *rms)
{
  const PetscInt n = c1->n;
  PetscReal      R1[9], R2[9], R1i[9], R2i[9], cart1[3 * MAXN], f2[3 * MAXN], p2[6], w1[3], r, rmax, best = PETSC_MAX_REAL;
  PetscInt       tind = 0, cnt = MAXN + 1, nv[3] = {0, 0, 0}, cap[3];
  PetscInt      *cand[3] = {NULL, NULL, NULL};

  PetscFunctionBegin;
  *match = PETSC_FALSE;
  *rms   = PETSC_MAX_REAL;
  PetscCheck(n >= 1 && n <= MAXN && c2->n >= 1 && c2->n <= MAXN, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "The structure matcher takes 1 to %d atoms per crystal; got %" PetscInt_FMT " and %" PetscInt_FMT, MAXN, n, c2->n);
  PetscCheck(p->stol > 0 && p->ltol > 0 && p->angle_tol > 0, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "The matcher tolerances must be positive; got stol %g, ltol %g, angle_tol %g", (double)p->stol, (double)p->ltol, (double)p->angle_tol);
  if (!SameComposition(c1, c2)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SgmCSPLatticeReduce(c1->L, R1, NULL));
  PetscCall(SgmCSPLatticeReduce(c2->L, R2, NULL));
  r = PetscPowReal(PetscAbsReal(SgmCSPDet3(R2) / SgmCSPDet3(R1)), 1.0 / 6);
  for (int c = 0; c < 9; c++) R1[c] *= r, R2[c] /= r;
  PetscCall(SgmCSPInverse3(R1, R1i));
  PetscCall(SgmCSPInverse3(R2, R2i));
  for (PetscInt i = 0; i < n; i++) { /* candidate: Cartesian (scaled); reference: fractional in R2 */
    PetscReal f[3], x[3];
    for (int a = 0; a < 3; a++) f[a] = Wrap(c1->f[3 * i + a]);
    RowTimes(f, c1->L, x);
    for (int a = 0; a < 3; a++) x[a] *= r;
    for (int a = 0; a < 3; a++) cart1[3 * i + a] = x[a];
    for (int a = 0; a < 3; a++) f[a] = Wrap(c2->f[3 * i + a]);
    RowTimes(f, c2->L, x);
    for (int a = 0; a < 3; a++) x[a] /= r;
    RowTimes(x, R2i, f2 + 3 * i);
    for (int a = 0; a < 3; a++) f2[3 * i + a] = Wrap(f2[3 * i + a]);
  }
  for (PetscInt i = 0; i < n; i++) { /* origin atom: first atom of the least frequent species of crystal 2 */
    PetscInt m = 0;
    for (PetscInt j = 0; j < n; j++) m += c2->z[j] == c2->z[i];
    if (m < cnt) cnt = m, tind = i;
  }
  SgmCSPLatticeParameters(R2, p2);
  /* lattice points of R1 with lengths in the window of each reference length */
  rmax = PetscMax(p2[0], PetscMax(p2[1], p2[2])) * (1 + p->ltol);
  PetscCall(SgmLatticeWidths(R1, w1));
  {
    PetscInt K[3], tot;
    for (int a = 0; a < 3; a++) K[a] = (PetscInt)PetscCeilReal(rmax / w1[a]);
    tot = (2 * K[0] + 1) * (2 * K[1] + 1) * (2 * K[2] + 1);
    for (int a = 0; a < 3; a++) {
      cap[a] = tot;
      PetscCall(PetscMalloc1(3 * tot, &cand[a]));
    }
    for (PetscInt i = -K[0]; i <= K[0]; i++)
      for (PetscInt j = -K[1]; j <= K[1]; j++)
        for (PetscInt k = -K[2]; k <= K[2]; k++) {
          PetscReal e[3] = {(PetscReal)i, (PetscReal)j, (PetscReal)k}, x[3], len;
          RowTimes(e, R1, x);
          len = PetscSqrtReal(Dot3(x, x));
          for (int a = 0; a < 3; a++)
            if (len / p2[a] < 1 + p->ltol && len / p2[a] > 1 / (1 + p->ltol) && nv[a] < cap[a]) {
              cand[a][3 * nv[a]] = i, cand[a][3 * nv[a] + 1] = j, cand[a][3 * nv[a] + 2] = k;
              nv[a]++;
            }
        }
  }
  for (PetscInt ia = 0; ia < nv[0]; ia++)
    for (PetscInt ib = 0; ib < nv[1]; ib++) {
      PetscReal S[9], l[9];
      for (int c = 0; c < 3; c++) S[c] = cand[0][3 * ia + c], S[3 + c] = cand[1][3 * ib + c];
      RowTimes(S, R1, l);
      RowTimes(S + 3, R1, l + 3);
      if (PetscAbsReal(AngleDeg(l, l + 3) - p2[5]) >= p->angle_tol) continue;
      for (PetscInt ic = 0; ic < nv[2]; ic++) {
        PetscReal li[9], f1l[3 * MAXN];
        for (int c = 0; c < 3; c++) S[6 + c] = cand[2][3 * ic + c];
        if (PetscAbsReal(PetscAbsReal(SgmCSPDet3(S)) - 1) >= 0.5) continue;
        RowTimes(S + 6, R1, l + 6);
        if (PetscAbsReal(AngleDeg(l + 3, l + 6) - p2[3]) >= p->angle_tol || PetscAbsReal(AngleDeg(l, l + 6) - p2[4]) >= p->angle_tol) continue;
        PetscCall(SgmCSPInverse3(l, li));
        for (PetscInt i = 0; i < n; i++) {
          RowTimes(cart1 + 3 * i, li, f1l + 3 * i);
          for (int a = 0; a < 3; a++) f1l[3 * i + a] = Wrap(f1l[3 * i + a]);
        }
        PetscCall(MatchMapping(p, n, c1->z, f1l, l, c2->z, f2, p2, tind, &best));
      }
    }
  for (int a = 0; a < 3; a++) PetscCall(PetscFree(cand[a]));
  *rms   = best;
  *match = best < p->stol ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Row b of cand against row b of ref for all rows, the rows spread over the ranks of comm; every rank
   gets all results (match[b] 0/1, rms[b], PETSC_MAX_REAL when no match). */
PetscErrorCode SgmCSPMatchSets(MPI_Comm comm, const SgmCSPMatchParams *p, const SgmCrystalSet *ref, const SgmCrystalSet *cand, PetscReal match[], PetscReal rms[])
{
  PetscInt n = PETSC_DECIDE, N = ref->N, start;

  PetscFunctionBegin;
  PetscCheck(ref->N == cand->N, comm, PETSC_ERR_USER_INPUT, "The reference set has %" PetscInt_FMT " crystals and the candidate set %" PetscInt_FMT "; row b of one is compared with row b of the other, so they must be equal", ref->N, cand->N);
  PetscCall(PetscSplitOwnership(comm, &n, &N));
  PetscCallMPI(MPI_Scan(&n, &start, 1, MPIU_INT, MPI_SUM, comm));
  start -= n;
  PetscCall(PetscArrayzero(match, N));
  PetscCall(PetscArrayzero(rms, N));
  for (PetscInt b = start; b < start + n; b++) {
    SgmCrystal c1, c2;
    PetscBool  m;
    SgmCrystalSetGet(cand, b, &c1);
    SgmCrystalSetGet(ref, b, &c2);
    PetscCall(SgmCSPMatch(p, &c1, &c2, &m, &rms[b]));
    match[b] = m ? 1 : 0;
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, match, (PetscMPIInt)N, MPIU_REAL, MPI_SUM, comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, rms, (PetscMPIInt)N, MPIU_REAL, MPI_SUM, comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}
