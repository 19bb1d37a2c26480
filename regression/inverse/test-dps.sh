#!/usr/bin/env bash
# DPS guidance (-guidance dps) against the exact posterior: d = 64 Gaussian prior with half the
# coordinates observed (residual, mean and covariance bounds that the unguided run must fail),
# gamma = 0 bitwise equal to the unguided run, mask/file forms bitwise on 2/1 ranks, gmm8 mode
# weights, bad inputs.  See the docstring of test-dps.py.  Run from the build directory (make
# check); about 15 s on 2 cores.
set -u
here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
exec "$PYTHON" "$here/test-dps.py" --sgm src/sgm --workdir "$PWD" --srcdir "$here/../.." "$@"
