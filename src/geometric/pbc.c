/*
  The periodic multi-graph of a crystal (SyMat, Luo et al. 2023, sec. 3.3): all directed edges
  (i, j, k) with |x_j + sum_a k_a L_a - x_i| < r, k in Z^3, (i, j, k) != (i, i, 0), between the atoms
  of one cell and every periodic image, and the atom scores of a distance-based score model.

  Which images.  With fractional coordinates wrapped into [0, 1) and df = f_j - f_i in (-1, 1)^3,
  the edge vector's component along the reciprocal direction a is (df_a + k_a) w_a, w_a the cell's
  perpendicular width V / |L_b x L_c|.  An edge shorter than r thus needs |df_a + k_a| < r / w_a,
  and the loop runs over exactly those k_a.  For r below every width this is at most the 27 nearest
  images; for larger r (small or strongly skewed cells) more images are included, never fewer, so
  no edge is missed at any r (tested against brute force over a large image range).
*/
#include <sgmgeometric.h>

static void Cross(const PetscReal a[], const PetscReal b[], PetscReal c[])
{
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}

/* w[a] = |det L| / |L_b x L_c|: the distance between the two faces of the cell spanned by L_b, L_c. */
PetscErrorCode SgmLatticeWidths(const PetscReal L[], PetscReal w[])
{
  PetscReal c[3], V;

  PetscFunctionBegin;
  Cross(L + 3, L + 6, c);
  V = PetscAbsReal(L[0] * c[0] + L[1] * c[1] + L[2] * c[2]);
  PetscCheck(V > 0, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "The lattice vectors are linearly dependent (cell volume %g): give three independent vectors", (double)V);
  for (int a = 0; a < 3; a++) {
    Cross(L + 3 * ((a + 1) % 3), L + 3 * ((a + 2) % 3), c);
    w[a] = V / PetscSqrtReal(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One pass over all candidate edges; counts them, and stores them when e is not NULL. */
static void EdgePass(PetscInt n, const PetscReal L[], const PetscReal f[], PetscReal r, const PetscReal w[], PetscInt *ne, SgmEdge *e)
{
  PetscInt m = 0;

  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < n; j++) {
      PetscReal df[3];
      PetscInt  lo[3], hi[3], k[3];
      for (int a = 0; a < 3; a++) {
        df[a] = (f[3 * j + a] - PetscFloorReal(f[3 * j + a])) - (f[3 * i + a] - PetscFloorReal(f[3 * i + a]));
        lo[a] = (PetscInt)PetscCeilReal(-r / w[a] - df[a]);
        hi[a] = (PetscInt)PetscFloorReal(r / w[a] - df[a]);
      }
      for (k[0] = lo[0]; k[0] <= hi[0]; k[0]++)
        for (k[1] = lo[1]; k[1] <= hi[1]; k[1]++)
          for (k[2] = lo[2]; k[2] <= hi[2]; k[2]++) {
            PetscReal v[3], d;
            if (i == j && !k[0] && !k[1] && !k[2]) continue;
            for (int c = 0; c < 3; c++) v[c] = (df[0] + k[0]) * L[c] + (df[1] + k[1]) * L[3 + c] + (df[2] + k[2]) * L[6 + c];
            d = PetscSqrtReal(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
            if (d >= r) continue;
            if (e) {
              SgmEdge *ed = &e[m];
              ed->i       = i;
              ed->j       = j;
              for (int a = 0; a < 3; a++) {
                ed->k[a] = k[a];
                ed->v[a] = v[a];
              }
              ed->d = d;
            }
            m++;
          }
    }
  *ne = m;
}

/*
  All directed edges of n atoms at fractional coordinates f[3*i + a] (wrapped into [0, 1) here; k
  refers to the wrapped positions) in the lattice L with cutoff r, ordered by i, j, then k.  Each
  undirected edge appears twice, as (i, j, k) and (j, i, -k).  *edges is allocated (PetscFree it).
*/
PetscErrorCode SgmPeriodicEdges(PetscInt n, const PetscReal L[], const PetscReal f[], PetscReal r, PetscInt *nedges, SgmEdge **edges)
{
  PetscReal w[3];
  PetscInt  m;

  PetscFunctionBegin;
  PetscCheck(n > 0, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "A crystal needs at least one atom; got n = %" PetscInt_FMT, n);
  PetscCheck(r > 0, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "The cutoff radius must be positive; got r = %g", (double)r);
  PetscCall(SgmLatticeWidths(L, w));
  /* images per axis and side ~ r / w: refuse a cutoff that would enumerate more than ~10^9 cells */
  PetscCheck((r / w[0] + 1) * (r / w[1] + 1) * (r / w[2] + 1) < 1e8, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "The cutoff r = %g spans too many images of a cell with perpendicular widths %g, %g, %g: lower r", (double)r, (double)w[0], (double)w[1], (double)w[2]);
  EdgePass(n, L, f, r, w, &m, NULL);
  PetscCall(PetscMalloc1(PetscMax(m, 1), edges));
  EdgePass(n, L, f, r, w, nedges, *edges);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Atom scores of a distance-based model (ConfGF eq. 6; SyMat eq. 3): given s_e = d log p / d d_e on
  every directed edge, s_i = sum_{edges e = (i, j, k)} s_e (x_i - x_j - k L) / d_e = -sum s_e v_e / d_e,
  the gradient of sum over undirected edges of phi(d) when s_e = phi'(d_e) is the same on (i, j, k)
  and (j, i, -k).  Equivariant by construction: rotating the lattice rotates the scores.
  s[3*i + c] is overwritten for all n atoms.
*/
PetscErrorCode SgmDistanceScoreToAtoms(PetscInt n, PetscInt ne, const SgmEdge e[], const PetscReal se[], PetscReal s[])
{
  PetscFunctionBegin;
  PetscCall(PetscArrayzero(s, 3 * n));
  for (PetscInt m = 0; m < ne; m++)
    for (int c = 0; c < 3; c++) s[3 * e[m].i + c] -= se[m] * e[m].v[c] / e[m].d;
  PetscFunctionReturn(PETSC_SUCCESS);
}
