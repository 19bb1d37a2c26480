/*
  Field layout (doc/fields.md): a DMDA on the run's communicator, and batches of B fields on it.
  Each rank holds its DMDA block of every field of the batch, one block after the other, so a field
  is a DMDA global Vec placed on a slice of the batch array, and elementwise sampler updates work on
  the batch unchanged.
*/
#include <sgmfield.h>
#include <sgmio.h>

/* -field_grid nx,ny[,nz] -field_periodic -field_h -field_dof */
PetscErrorCode SgmFieldOptionsSetFromOptions(PetscOptionItems *PetscOptionsObject, MPI_Comm comm, SgmFieldOptions *fo)
{
  PetscInt n = 4, M[4] = {0, 0, 0, 0}; /* room for a fourth size, to refuse it */

  PetscFunctionBegin;
  if (!fo->h) { /* defaults */
    fo->h        = 1;
    fo->periodic = PETSC_TRUE;
    fo->dof      = 1;
  }
  PetscOptionsHeadBegin(PetscOptionsObject, "Field layout options");
  PetscCall(PetscOptionsIntArray("-field_grid", "Grid points of one field: nx,ny (2-D) or nx,ny,nz (3-D)", "SgmFieldCreate", M, &n, &fo->gridset));
  PetscCall(PetscOptionsBool("-field_periodic", "Periodic boundaries in every direction (false: homogeneous Dirichlet)", "SgmFieldCreate", fo->periodic, &fo->periodic, NULL));
  PetscCall(PetscOptionsReal("-field_h", "Grid spacing h (the same in every direction)", "SgmFieldCreate", fo->h, &fo->h, NULL));
  PetscCall(PetscOptionsInt("-field_dof", "Components per grid point", "SgmFieldCreate", fo->dof, &fo->dof, NULL));
  PetscOptionsHeadEnd();
  if (fo->gridset) {
    PetscCheck(n == 2 || n == 3, comm, PETSC_ERR_USER_INPUT, "-field_grid takes 2 or 3 sizes (nx,ny or nx,ny,nz); got %" PetscInt_FMT, n);
    for (PetscInt i = 0; i < n; i++) PetscCheck(M[i] >= 2, comm, PETSC_ERR_USER_INPUT, "-field_grid sizes must be integers >= 2; got %" PetscInt_FMT " in direction %" PetscInt_FMT, M[i], i);
    fo->dim = n;
    for (PetscInt i = 0; i < 3; i++) fo->M[i] = i < n ? M[i] : 1;
  }
  PetscCheck(fo->h > 0, comm, PETSC_ERR_USER_INPUT, "-field_h must be positive; got %g", (double)fo->h);
  PetscCheck(fo->dof >= 1, comm, PETSC_ERR_USER_INPUT, "-field_dof must be a positive integer; got %" PetscInt_FMT, fo->dof);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The DMDA (star stencil of width sw) and the natural index of every local point.  The process
   grid is PETSc's choice unless -da_processors_x/_y/_z set it. */
PetscErrorCode SgmFieldCreate(MPI_Comm comm, const SgmFieldOptions *fo, PetscInt sw, SgmField *field)
{
  SgmField       f;
  DMBoundaryType bt;

  PetscFunctionBegin;
  PetscCheck(fo->gridset, comm, PETSC_ERR_USER_INPUT, "A field score needs its grid: give -field_grid nx,ny or nx,ny,nz");
  PetscCall(PetscNew(&f));
  f->comm     = comm;
  f->dim      = fo->dim;
  f->dof      = fo->dof;
  f->periodic = fo->periodic;
  f->h        = fo->h;
  for (PetscInt i = 0; i < 3; i++) f->M[i] = fo->M[i];
  f->ngrid = f->M[0] * f->M[1] * f->M[2];
  bt       = f->periodic ? DM_BOUNDARY_PERIODIC : DM_BOUNDARY_NONE;
  if (f->dim == 2) PetscCall(DMDACreate2d(comm, bt, bt, DMDA_STENCIL_STAR, f->M[0], f->M[1], PETSC_DECIDE, PETSC_DECIDE, f->dof, sw, NULL, NULL, &f->da));
  else PetscCall(DMDACreate3d(comm, bt, bt, bt, DMDA_STENCIL_STAR, f->M[0], f->M[1], f->M[2], PETSC_DECIDE, PETSC_DECIDE, PETSC_DECIDE, f->dof, sw, NULL, NULL, NULL, &f->da));
  PetscCall(DMSetFromOptions(f->da));
  PetscCall(DMSetUp(f->da));
  PetscCall(DMDAGetCorners(f->da, &f->xs[0], &f->xs[1], &f->xs[2], &f->xm[0], &f->xm[1], &f->xm[2]));
  f->nloc = f->xm[0] * f->xm[1] * f->xm[2];
  PetscCall(PetscMalloc1(f->nloc + 1, &f->nat));
  for (PetscInt k = 0, p = 0; k < f->xm[2]; k++)
    for (PetscInt j = 0; j < f->xm[1]; j++)
      for (PetscInt i = 0; i < f->xm[0]; i++, p++) f->nat[p] = (PetscInt64)(f->xs[0] + i) + (PetscInt64)f->M[0] * ((f->xs[1] + j) + (PetscInt64)f->M[1] * (f->xs[2] + k));
  *field = f;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmFieldDestroy(SgmField *field)
{
  PetscFunctionBegin;
  if (!*field) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(DMDestroy(&(*field)->da));
  PetscCall(PetscFree((*field)->nat));
  PetscCall(PetscFree(*field));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmFieldView(SgmField f, PetscViewer viewer)
{
  PetscInt m, n, p;

  PetscFunctionBegin;
  PetscCall(DMDAGetInfo(f->da, NULL, NULL, NULL, NULL, &m, &n, &p, NULL, NULL, NULL, NULL, NULL, NULL));
  if (f->dim == 2) PetscCall(PetscViewerASCIIPrintf(viewer, "field grid %" PetscInt_FMT " x %" PetscInt_FMT ", %" PetscInt_FMT " component(s), h = %g, %s, process grid %" PetscInt_FMT " x %" PetscInt_FMT "\n", f->M[0], f->M[1], f->dof, (double)f->h, f->periodic ? "periodic" : "Dirichlet boundary", m, n));
  else PetscCall(PetscViewerASCIIPrintf(viewer, "field grid %" PetscInt_FMT " x %" PetscInt_FMT " x %" PetscInt_FMT ", %" PetscInt_FMT " component(s), h = %g, %s, process grid %" PetscInt_FMT " x %" PetscInt_FMT " x %" PetscInt_FMT "\n", f->M[0], f->M[1], f->M[2], f->dof, (double)f->h, f->periodic ? "periodic" : "Dirichlet boundary", m, n, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Root attributes of a file holding fields: field_grid "nx,ny[,nz]", field_spacing, field_boundary. */
PetscErrorCode SgmFieldWriteAttributes(SgmField f, hid_t file)
{
  char grid[64];

  PetscFunctionBegin;
  if (f->dim == 2) PetscCall(PetscSNPrintf(grid, sizeof(grid), "%" PetscInt_FMT ",%" PetscInt_FMT, f->M[0], f->M[1]));
  else PetscCall(PetscSNPrintf(grid, sizeof(grid), "%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT, f->M[0], f->M[1], f->M[2]));
  PetscCall(SgmH5AttrString(file, "field_grid", grid));
  PetscCall(SgmH5AttrReal(file, "field_spacing", f->h));
  PetscCall(SgmH5AttrString(file, "field_boundary", f->periodic ? "periodic" : "dirichlet"));
  PetscCall(SgmH5AttrInt(file, "field_dof", f->dof));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A file (checkpoint, ...) written for another grid is refused in one sentence. */
PetscErrorCode SgmFieldCheckAttributes(SgmField f, hid_t file, const char path[])
{
  char grid[64], mine[64], bnd[32];

  PetscFunctionBegin;
  PetscCheck(H5Aexists(file, "field_grid") > 0, f->comm, PETSC_ERR_USER_INPUT, "'%s' holds no fields (no field_grid attribute) but -field_grid is given", path);
  PetscCall(SgmH5AttrGetString(f->comm, file, "field_grid", grid, sizeof(grid)));
  if (f->dim == 2) PetscCall(PetscSNPrintf(mine, sizeof(mine), "%" PetscInt_FMT ",%" PetscInt_FMT, f->M[0], f->M[1]));
  else PetscCall(PetscSNPrintf(mine, sizeof(mine), "%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT, f->M[0], f->M[1], f->M[2]));
  PetscCall(SgmH5AttrGetString(f->comm, file, "field_boundary", bnd, sizeof(bnd)));
  PetscCheck(!strcmp(grid, mine), f->comm, PETSC_ERR_USER_INPUT, "'%s' holds fields on the grid %s but -field_grid is %s: use the grid of the file", path, grid, mine);
  PetscCheck(!strcmp(bnd, f->periodic ? "periodic" : "dirichlet"), f->comm, PETSC_ERR_USER_INPUT, "'%s' holds fields with %s boundaries but -field_periodic says %s", path, bnd, f->periodic ? "periodic" : "dirichlet");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* B fields on the grid of f: every rank holds its block of each. */
PetscErrorCode SgmBatchCreateField(MPI_Comm comm, PetscInt B, SgmField f, SgmBatch *b)
{
  PetscFunctionBegin;
  PetscCheck(B > 0, comm, PETSC_ERR_USER_INPUT, "The number of samples must be a positive integer; got %" PetscInt_FMT, B);
  b->comm   = comm;
  b->N      = B;
  b->n      = B;
  b->rstart = 0;
  b->d      = f->nloc * f->dof;
  b->field  = f;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscInt SgmBatchSampleDimension(const SgmBatch *b)
{
  return b->field ? b->field->ngrid * b->field->dof : b->d;
}

/* sum[i*m + j] = sum over the whole field i of v[(i*nloc + p)*m + j]: per-field sums, bitwise the same
   on any process grid (SgmReproducibleSum). */
PetscErrorCode SgmFieldReduceSum(const SgmBatch *b, PetscInt m, const PetscReal v[], PetscReal sum[])
{
  const PetscInt nl = b->field->nloc;
  PetscReal     *w;

  PetscFunctionBegin;
  /* one reproducible sum over the points, with the B*m per-field quantities as columns */
  PetscCall(PetscMalloc1(nl * b->n * m + 1, &w));
  for (PetscInt p = 0; p < nl; p++)
    for (PetscInt i = 0; i < b->n; i++)
      for (PetscInt j = 0; j < m; j++) w[(p * b->n + i) * m + j] = v[(i * nl + p) * m + j];
  PetscCall(SgmReproducibleSum(b->comm, nl, b->n * m, w, sum));
  PetscCall(PetscFree(w));
  PetscFunctionReturn(PETSC_SUCCESS);
}
