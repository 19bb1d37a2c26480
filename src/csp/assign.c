/*
  Minimum-cost perfect assignment of an n x n cost matrix (the Hungarian algorithm with potentials,
  Kuhn 1955 / Jonker-Volgenant style shortest augmenting paths, O(n^3)).  The structure matcher
  uses it to pair the atoms of two crystals (pymatgen's LinearAssignment does the same job).
*/
#include <sgmcsp.h>

/* perm[i] = column assigned to row i; cost[i*n + j] finite.  *total = sum of the assigned costs. */
PetscErrorCode SgmCSPAssign(PetscInt n, const PetscReal cost[], PetscInt perm[], PetscReal *total)
{
  PetscReal *u, *v, *minv;
  PetscInt  *p, *way;
  PetscBool *used;

  PetscFunctionBegin;
  PetscCall(PetscCalloc6(n + 1, &u, n + 1, &v, n + 1, &minv, n + 1, &p, n + 1, &way, n + 1, &used));
  for (PetscInt i = 1; i <= n; i++) { /* add row i: shortest augmenting path from the free column 0 */
    PetscInt j0 = 0;
    p[0] = i;
    for (PetscInt j = 0; j <= n; j++) minv[j] = PETSC_MAX_REAL, used[j] = PETSC_FALSE;
    do {
      PetscInt  i0 = p[j0], j1 = 0;
      PetscReal delta = PETSC_MAX_REAL;
      used[j0] = PETSC_TRUE;
      for (PetscInt j = 1; j <= n; j++)
        if (!used[j]) {
          PetscReal cur = cost[(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
          if (cur < minv[j]) minv[j] = cur, way[j] = j0;
          if (minv[j] < delta) delta = minv[j], j1 = j;
        }
      for (PetscInt j = 0; j <= n; j++)
        if (used[j]) u[p[j]] += delta, v[j] -= delta;
        else minv[j] -= delta;
      j0 = j1;
    } while (p[j0] != 0);
    do { /* flip the path */
      PetscInt j1 = way[j0];
      p[j0]       = p[j1];
      j0          = j1;
    } while (j0);
  }
  *total = 0;
  for (PetscInt j = 1; j <= n; j++) perm[p[j] - 1] = j - 1;
  for (PetscInt i = 0; i < n; i++) *total += cost[i * n + perm[i]];
  PetscCall(PetscFree6(u, v, minv, p, way, used));
  PetscFunctionReturn(PETSC_SUCCESS);
}
