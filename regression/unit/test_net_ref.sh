#!/bin/sh
# Cross-check of the MLP score network: the C forward pass, JVP and trace (test_net -ref_print)
# against the independent NumPy implementation regression/unit/net_ref.py.  < 1 s.
srcdir=${srcdir:-.}
PYTHON=${PYTHON:-/usr/bin/python3}
out=$(mktemp) || exit 1
regression/unit/test_net -ref_print > "$out" || { echo "test_net -ref_print failed"; rm -f "$out"; exit 1; }
$PYTHON "$srcdir/regression/unit/net_ref.py" < "$out"
status=$?
rm -f "$out"
exit $status
