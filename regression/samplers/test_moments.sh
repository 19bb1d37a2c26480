#!/usr/bin/env bash
# Exact discretised moments (issue 3, verification 1): sample mean and variance of em, ancestral
# (beta, beta_tilde), ddim (eta 0, 1), heun (uniform, karras) and dpmpp2m (logsnr) on 1-D Gaussian
# data, VP and VE, n = 10 and 1000 steps, against the exact recursion of moments.py (5 SE).
# Run from the build directory (make check); about 25 s on 2 cores.
set -u
srcdir=${srcdir:-$(dirname "$0")/../..}
PYTHON=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d "$PWD/sgm-moments.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
"$PYTHON" "$srcdir/regression/samplers/moments.py" --sgm src/sgm --workdir "$work" "$@"
