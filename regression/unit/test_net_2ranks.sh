#!/bin/sh
# test_net on 2 MPI ranks: every rank builds the same networks, checks are reduced over the ranks,
# and the MPI-IO save/load is collective.  < 2 s.
MPIEXEC=${MPIEXEC:-mpiexec}
exec env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
  $MPIEXEC -n 2 regression/unit/test_net
