#!/bin/sh
# Cross-check of Philox-4x32-10: the C generator (test_random -philox_print) against the
# independent NumPy implementation regression/unit/philox_ref.py, block by block.  < 1 s.
srcdir=${srcdir:-.}
PYTHON=${PYTHON:-/usr/bin/python3}
ref=$($PYTHON "$srcdir/regression/unit/philox_ref.py") || { echo "philox_ref.py failed (known answers wrong?)"; echo "$ref"; exit 1; }
got=$(regression/unit/test_random -philox_print) || { echo "test_random -philox_print failed"; exit 1; }
if [ "$ref" = "$got" ]; then
  echo "$got"
  echo "C and NumPy Philox-4x32-10 agree on $(echo "$got" | wc -l) blocks"
  echo "1 passed, 0 failed"
  exit 0
fi
echo "C and NumPy Philox-4x32-10 disagree:"
echo "--- python"; echo "$ref"; echo "--- C"; echo "$got"
echo "0 passed, 1 failed"
exit 1
