#!/bin/sh
# test_score on 2 MPI ranks: the batch of points is split between the ranks and every check is
# reduced over them, so the output must read as on 1 rank.  < 2 s.
MPIEXEC=${MPIEXEC:-mpiexec}
exec env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
  $MPIEXEC -n 2 regression/unit/test_score
