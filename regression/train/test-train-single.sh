#!/usr/bin/env bash
# Verification of `sgm train -net_precision single`: the same loss as double precision on 8gaussians,
# the learned score against the exact one, 1/2/3-rank agreement to float rounding, bitwise restart,
# refusal of the tangent losses.  Details in test-train-single.py.  About 50 s on 2 shared cores.
set -u
srcdir=${srcdir:-$(dirname "$0")/../..}
PYTHON=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d "$PWD/sgm-train-single.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
"$PYTHON" "$srcdir/regression/train/test-train-single.py" --sgm src/sgm --srcdir "$srcdir" --workdir "$work" "$@"
