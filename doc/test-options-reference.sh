#!/bin/sh
# doc/options.md must be what `sgm sample -help` prints now (regenerate: make options-reference).
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
exec "${PYTHON:-/usr/bin/python3}" "$top_srcdir/doc/options-reference.py" --check src/sgm "$top_srcdir/doc/options.md"
