#!/usr/bin/env bash
# The digits converter postprocess/sgm-digits (issue 6): files, shapes (1500,64)/(297,64), values in
# [-1,1], labels 0..9, attributes, reproducible split, the image grid (headless), and its one-line
# errors.  See the docstring of test-digits.py.  Run from the build directory; about 10 s.
set -u
here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
exec "$PYTHON" "$here/test-digits.py" --script postprocess/sgm-digits "$@"
