#!/usr/bin/env bash
# Verification of `sgm nll` (issue 5): exact-trace NLL of gmm8 and the 64-D Gaussian against the
# closed-form log-density of the diffused data, the prior mismatch, Hutchinson's estimator and its
# standard error, 1 vs 2 ranks, the dequantization convention, bad input and the NLL histogram.
# Details in test-nll.py.  Run from the build directory (make check); about 60 s on 2 cores.
set -u
srcdir=${srcdir:-$(dirname "$0")/../..}
PYTHON=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d "$PWD/sgm-nll.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
"$PYTHON" "$srcdir/regression/nll/test-nll.py" --sgm src/sgm --srcdir "$srcdir" --workdir "$work" "$@"
