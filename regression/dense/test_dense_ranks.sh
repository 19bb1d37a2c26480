#!/bin/sh
# test_dense (regression/unit/test_dense.c) on 2, 3 and 4 ranks (4 oversubscribed on 2 cores): every
# grid P x Q <= ranks (1x2, 2x1, 1x3, 3x1, 2x2, and 1x1 with the other ranks off the grid) and block
# sizes 2 and 64 must reproduce the 1 x 1 results to 1e-12.  The 1-rank run is its own test.  < 10 s.
MPIEXEC=${MPIEXEC:-mpiexec}
status=0
for n in 2 3 4; do
  echo "== $n ranks"
  env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
    $MPIEXEC -n $n regression/unit/test_dense || status=1
done
exit $status
