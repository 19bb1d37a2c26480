#!/usr/bin/env bash
# `sgm data` verification (issue 6): the six toy datasets against an independent NumPy
# reimplementation (regression/data/toys.py; means, covariances, label frequencies and per-label
# moments within 5 SE, KS p >= 1e-4 per coordinate, N = 10^5), toys.py against sklearn's recipes,
# wrong definitions rejected, 8gaussians = input/gmm8.h5, bitwise on 1, 2, 3 ranks, attributes,
# bad inputs.  See the docstring of test-data.py.  Run from the build directory; about 25 s.
set -u
here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
exec "$PYTHON" "$here/test-data.py" --sgm src/sgm --workdir "$PWD" --srcdir "$here/../.." "$@"
