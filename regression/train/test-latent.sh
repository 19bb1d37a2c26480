#!/usr/bin/env bash
# Latent diffusion on a PCA autoencoder (issue 7): the stored eigenvalues against NumPy, the
# reconstruction error against the discarded eigenvalue mass, decoding of the samples, bad input.
# Details in test-latent.py.  Run from the build directory (make check); about 10 s on 2 cores.
set -u
srcdir=${srcdir:-$(dirname "$0")/../..}
PYTHON=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d "$PWD/sgm-latent.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
"$PYTHON" "$srcdir/regression/train/test-latent.py" --sgm src/sgm --workdir "$work" "$@"
