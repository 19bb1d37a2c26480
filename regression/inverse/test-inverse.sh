#!/usr/bin/env bash
# Inverse-problem verification (issue 5): the exact posterior score of a Gaussian prior under a
# masked noisy measurement (d = 64, 32 even coordinates observed, sigma_y = 0.1) samples the
# closed-form posterior (em and the probability-flow ODE, 5 SD), /target is the posterior, the mask
# and file forms agree bitwise on 1 and 2 ranks, bad inputs are one-line errors.  See the docstring
# of test-inverse.py.  Run from the build directory (make check); about 20 s on 2 cores.
set -u
here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
exec "$PYTHON" "$here/test-inverse.py" --sgm src/sgm --workdir "$PWD" --srcdir "$here/../.." "$@"
