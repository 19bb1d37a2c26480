#!/usr/bin/env bash
# GeoLDM (issue 9): `sgm train-ae`, `sgm train -latent egnn_ae`, sampling through the decoder on 1 and
# 2 ranks, NumPy checks of encoder and decoder, bad input.  Details in test-geoldm.py.
# Run from the build directory (make check); about 15 s on 2 cores.
set -u
srcdir=${srcdir:-$(dirname "$0")/../..}
PYTHON=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d "$PWD/sgm-geoldm.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
"$PYTHON" "$srcdir/regression/geometric/test-geoldm.py" --sgm src/sgm --workdir "$work" "$@"
