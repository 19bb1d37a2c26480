#!/usr/bin/env bash
# Verification of `sgm eval` (issue 7): every metric against NumPy/SciPy on the same data, the
# Frechet distance against the closed form, the NLL under gmm8, 1/2/3-rank and BLACS-grid
# independence, bad input.  Details in test-eval.py.  Run from the build directory (make check);
# about 20 s on 2 cores.
set -u
srcdir=${srcdir:-$(dirname "$0")/../..}
PYTHON=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d "$PWD/sgm-eval.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
"$PYTHON" "$srcdir/regression/eval/test-eval.py" --sgm src/sgm --srcdir "$srcdir" --workdir "$work" "$@"
