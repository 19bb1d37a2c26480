#!/bin/sh
# test-match.sh -- make check test of the structure matcher (regression/csp/test-match.py).
# Run from the top of the build tree; PYTHON, top_srcdir and MPIEXEC come from the test environment.
PYTHON=${PYTHON:-/usr/bin/python3}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
for f in src/sgm postprocess/sgm-crystals; do [ -f "$f" ] || { echo "$f not built"; exit 99; }; done
exec "$PYTHON" "$top_srcdir/regression/csp/test-match.py" src/sgm postprocess/sgm-crystals
