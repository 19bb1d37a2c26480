#!/bin/sh
# test-distnet.sh -- make check test of sgm csp -csp_net distance against a NumPy/PyTorch re-implementation
# (regression/csp/test-distnet.py).  Run from the top of the build tree.
PYTHON=${PYTHON:-/usr/bin/python3}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
for f in src/sgm postprocess/sgm-crystals; do [ -f "$f" ] || { echo "$f not built"; exit 99; }; done
exec "$PYTHON" "$top_srcdir/regression/csp/test-distnet.py" src/sgm postprocess/sgm-crystals
