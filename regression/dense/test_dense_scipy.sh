#!/bin/sh
# SgmFrechetDistance against scipy.linalg.sqrtm (regression/dense/fd_ref.py) on two random
# non-commuting 120 x 120 covariances, on 1 and 2 ranks; relative error <= 1e-8.  < 5 s.
MPIEXEC=${MPIEXEC:-mpiexec}
PYTHON=${PYTHON:-python3}
srcdir=${top_srcdir:-.}
ref=fd_ref.$$.bin
trap 'rm -f $ref' EXIT
$PYTHON $srcdir/regression/dense/fd_ref.py $ref 120 7 || exit 1
status=0
regression/unit/test_dense -fd_ref $ref || status=1
env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
  $MPIEXEC -n 2 regression/unit/test_dense -fd_ref $ref -dense_block 16 || status=1
exit $status
