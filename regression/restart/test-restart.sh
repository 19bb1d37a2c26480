#!/usr/bin/env bash
# Checkpoint and restart of `sgm sample` (issue 4): every sampler stopped by SIGTERM (the testing hook
# and an external kill -TERM) and by SIGKILL at random points, restarted on the same and on another
# rank count, must give /samples and /trajectory bitwise equal to an uninterrupted run; bad -restart
# inputs must fail with one sentence.  See regression/restart/README.md.  About 2-3 minutes on 2 cores.
# Run from the build directory (make check); extra arguments go to test-restart.py (--sampler em, --seed N).
set -u
here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
exec "$PYTHON" "$here/test-restart.py" --sgm src/sgm "$@"
