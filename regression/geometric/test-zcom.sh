#!/usr/bin/env bash
# Verification of zero centre-of-mass point clouds (issue 9): the samplers' moments against the exact
# discretised law on the subspace, every sampler's clouds centred, sgm nll on the subspace against
# the closed-form density, bad input.  Details in test-zcom.py.  Run from the build directory
# (make check); about 15 s on 2 cores.
set -u
srcdir=${srcdir:-$(dirname "$0")/../..}
PYTHON=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d "$PWD/sgm-zcom.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
"$PYTHON" "$srcdir/regression/geometric/test-zcom.py" --sgm src/sgm --workdir "$work" "$@"
