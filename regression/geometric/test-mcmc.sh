#!/usr/bin/env bash
# Verification of `sgm mcmc` (issue 9): DW4 and LJ13 chains on 1 and 2 ranks against the published
# mean energies, energies recomputed with NumPy, bitwise rank independence, bad input.  Details in
# test-mcmc.py.  Run from the build directory (make check); about 15 s on 2 cores.
set -u
srcdir=${srcdir:-$(dirname "$0")/../..}
PYTHON=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d "$PWD/sgm-mcmc.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
"$PYTHON" "$srcdir/regression/geometric/test-mcmc.py" --sgm src/sgm --workdir "$work" "$@"
