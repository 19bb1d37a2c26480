#include <sgmconf.h>
#include "commands.h"

/* `sgm version`: what a bug report needs. */
PetscErrorCode SgmCommandVersion(MPI_Comm comm)
{
  char     buf[1024];
  unsigned maj, min, rel;
  int      len;

  PetscFunctionBegin;
  PetscCall(SgmGetVersionInfo(buf, sizeof(buf)));
  PetscCall(PetscPrintf(comm, "%s\n", buf));
  PetscCall(PetscGetVersion(buf, sizeof(buf)));
  PetscCall(PetscPrintf(comm, "PETSc: %s\n", buf));
  H5get_libversion(&maj, &min, &rel);
  PetscCall(PetscPrintf(comm, "HDF5: %u.%u.%u (parallel)\n", maj, min, rel));
  PetscCallMPI(MPI_Get_library_version(buf, &len));
  for (char *c = buf; *c; c++)
    if (*c == '\n') *c = 0;
  PetscCall(PetscPrintf(comm, "MPI: %s\n", buf));
  PetscCall(PetscPrintf(comm, "configure: %s\n", SGM_CONFIGURE_ARGS));
  PetscFunctionReturn(PETSC_SUCCESS);
}
