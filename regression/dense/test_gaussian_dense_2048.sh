#!/bin/sh
# gaussian_dense in d = 2048 on 2 ranks: a random covariance (regression/dense/gaussian_file.py,
# eigenvalues log-uniform in [0.01, 4]), 10^4 exact draws x = m + U diag(sqrt(lambda)) z from the
# distributed eigendecomposition, and their whitened covariance against the Wishart expectation
# (regression/dense/gaussian_stats.py, 5 standard errors).  About 20 s on 2 cores.
MPIEXEC=${MPIEXEC:-mpiexec}
PYTHON=${PYTHON:-python3}
srcdir=${top_srcdir:-.}
tmp=gd2048.$$
trap 'rm -f $tmp.gauss.h5 $tmp.draws.h5' EXIT
$PYTHON $srcdir/regression/dense/gaussian_file.py $tmp.gauss.h5 2048 5 || exit 1
env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
  $MPIEXEC -n 2 regression/dense/test_gaussian_dense -gaussian_file $tmp.gauss.h5 -draws 10000 -output $tmp.draws.h5 || exit 1
$PYTHON $srcdir/regression/dense/gaussian_stats.py $tmp.draws.h5 $tmp.gauss.h5 5
