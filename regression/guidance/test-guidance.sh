#!/usr/bin/env bash
# Guidance verification (issue 5): classifier and classifier-free guidance sample the exact
# class-conditional mixture at gamma = 1 (em, ode), the guided PF-ODE of Gaussian classes matches
# the linear moment ODE at gamma = 3 (and is not the tilted density), same seed gives the same x_T
# and gamma = 0 the unguided samples bitwise, the guided likelihood, and bad inputs.  See the
# docstring of test-guidance.py.  Run from the build directory (make check); about 20 s on 2 cores.
set -u
here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
exec "$PYTHON" "$here/test-guidance.py" --sgm src/sgm --workdir "$PWD" "$@"
