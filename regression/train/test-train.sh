#!/usr/bin/env bash
# Verification of `sgm train` and the mlp score type (issue 6): learned score against the exact
# 8-Gaussian score, samples, 1/2/3-rank agreement, bitwise restart (also after SIGTERM),
# classifier-free guidance of a class-conditional net, bad input.  Details in test-train.py.
# Run from the build directory (make check); about 1 minute on 2 cores.  `make check-long` runs
# the long variant (--long: bigger net, 20000 steps, 5% and 5-SE bounds).
set -u
srcdir=${srcdir:-$(dirname "$0")/../..}
PYTHON=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d "$PWD/sgm-train.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
"$PYTHON" "$srcdir/regression/train/test-train.py" --sgm src/sgm --srcdir "$srcdir" --workdir "$work" "$@"
