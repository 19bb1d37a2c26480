#!/usr/bin/env bash
# Verification of the point-cloud metrics of `sgm eval` (issue 9): energy-histogram W2 and
# interatomic-distance W1 against NumPy/SciPy, 1/2/3-rank independence, two DW4 chains against a
# chain-permutation null and a wrong distribution, bad input.  Details in test-pointcloud.py.  Run
# from the build directory (make check); about 12 s on 2 cores.
set -u
srcdir=${srcdir:-$(dirname "$0")/../..}
PYTHON=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d "$PWD/sgm-pointcloud.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
"$PYTHON" "$srcdir/regression/eval/test-pointcloud.py" --sgm src/sgm --workdir "$work" "$@"
