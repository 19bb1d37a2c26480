#!/usr/bin/env bash
# Training and sampling with the point-cloud networks egnn and distance (issue 9): DW4 from `sgm mcmc`,
# loss decreases, 1/2-rank agreement, bitwise restart, `sgm score` against a NumPy implementation of
# the networks, `sgm sample` on 1 and 2 ranks, bad input.  Details in test-cloudnet.py.
# Run from the build directory (make check); about 20 s on 2 cores.
set -u
srcdir=${srcdir:-$(dirname "$0")/../..}
PYTHON=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d "$PWD/sgm-cloudnet.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
"$PYTHON" "$srcdir/regression/geometric/test-cloudnet.py" --sgm src/sgm --workdir "$work" "$@"
