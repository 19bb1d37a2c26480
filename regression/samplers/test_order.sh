#!/usr/bin/env bash
# Order of convergence (issue 3, verification 2): probability-flow ODE on gmm8 from one x_T against
# rk5dp(1e-12) for ode/euler, ode/rk4, ddim, heun, dpmpp2m (fitted slopes within 0.3 of the order),
# and the weak order of em on 1-D Gaussian data.  Run from the build directory (make check);
# about 35 s on 2 cores.
set -u
srcdir=${srcdir:-$(dirname "$0")/../..}
PYTHON=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d "$PWD/sgm-order.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
"$PYTHON" "$srcdir/regression/samplers/order.py" --sgm src/sgm --gmm "$srcdir/input/gmm8.h5" --workdir "$work" "$@"
