#!/bin/sh
# test-crystals.sh -- make check test of postprocess/sgm-crystals (regression/csp/test-crystals.py).
# Run from the top of the build tree; PYTHON and top_srcdir come from the test environment.
PYTHON=${PYTHON:-/usr/bin/python3}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
[ -f postprocess/sgm-crystals ] || { echo "postprocess/sgm-crystals not built"; exit 99; }
exec "$PYTHON" "$top_srcdir/regression/csp/test-crystals.py" postprocess/sgm-crystals
