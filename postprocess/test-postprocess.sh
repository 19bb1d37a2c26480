#!/bin/sh
# test-postprocess.sh -- make check test of postprocess/sgm-plot and postprocess/sgm-summary.
#
# Runs src/sgm on a small gmm8 case (2 ranks, with trajectories) and on small 1-D Gaussian cases
# (with and without trajectories) in a temporary directory, then checks that sgm-plot writes a
# valid, non-blank PNG of more than a few kB, that sgm-summary prints its key figures, and that bad
# inputs (missing file, no /samples, no /target, bad --dims) give the promised messages and exit
# codes.  Prints PASS/FAIL per check and ends with "N passed, M failed".  About 5 s.
#
# Run from the top of the build tree (automake does): src/sgm and postprocess/sgm-* are the built
# ones, the input decks are found next to this script.  SGM and MPIEXEC may be overridden.

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/.." && pwd)
top_builddir=$(pwd)
SGM=${SGM:-$top_builddir/src/sgm}
MPIEXEC=${MPIEXEC:-mpiexec}
PLOT=$top_builddir/postprocess/sgm-plot
SUMMARY=$top_builddir/postprocess/sgm-summary
GPLOT=$top_builddir/postprocess/sgm-guidance-plot
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

for f in "$SGM" "$PLOT" "$SUMMARY" "$GPLOT"; do
  if [ ! -f "$f" ]; then echo "test-postprocess: $f not built (run make first)"; exit 99; fi
done
# The scripts' interpreter is the Python configure chose: run them through it, executable or not.
PY=$(sed -n '1s/^#!//p' "$PLOT")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sgm-pp.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
npass=0
nfail=0

check() {  # check NAME COMMAND...: run COMMAND, count and report the outcome
  name=$1; shift
  if "$@"; then npass=$((npass + 1)); echo "PASS: $name"
  else nfail=$((nfail + 1)); echo "FAIL: $name"; fi
}

png_ok() {  # a PNG signature, more than 4 kB, and pixels that are not all one colour
  "$PY" - "$1" <<'PYEOF'
import os, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.image as mpimg
path = sys.argv[1]
with open(path, "rb") as fh:
    sig = fh.read(8)
size = os.path.getsize(path)
if sig != b"\x89PNG\r\n\x1a\n" or size < 4096:
    sys.exit(f"{path}: not a PNG of at least 4 kB (signature {sig!r}, {size} bytes)")
img = mpimg.imread(path)
var = float(img[..., :3].var())
if var < 1e-3:
    sys.exit(f"{path}: blank image (pixel variance {var:.2e})")
PYEOF
}

sample() {  # sample NRANKS OUT.h5 SGM-OPTIONS...
  n=$1; out=$2; shift 2
  $MPIEXEC -n "$n" "$SGM" sample "$@" -output "$out" > "$out.log" 2>&1 || { cat "$out.log"; return 1; }
}

runs() {  # runs STDOUT STDERR RC-WANTED COMMAND...: run COMMAND, keep its output, compare exit code
  so=$1; se=$2; want=$3; shift 3
  "$@" > "$so" 2> "$se"; rc=$?
  if [ "$want" = 0 ] && [ $rc -ne 0 ]; then cat "$se"; return 1; fi
  if [ "$want" != 0 ] && [ $rc -eq 0 ]; then echo "exit code 0, expected non-zero"; return 1; fi
  return 0
}

has() {  # has FILE PATTERN...: every pattern occurs in FILE
  f=$1; shift
  for p in "$@"; do grep -q -- "$p" "$f" || { echo "missing '$p' in $f:"; cat "$f"; return 1; }; done
}

one_line() { [ "$(wc -l < "$1")" -eq 1 ] || { echo "expected one line in $1:"; cat "$1"; return 1; }; }

# ---- the 2-D ring: 2 ranks, with trajectories
g=$tmp/gmm8.h5
check "sgm sample gmm8 (2 ranks)" sample 2 "$g" -options_file "$top_srcdir/input/gmm8.opts" \
  -gmm_file "$top_srcdir/input/gmm8.h5" -nsamples 2000 -sampler_steps 200 -trajectory_frames 11
check "sgm-plot gmm8 runs" runs "$tmp/p.out" "$tmp/p.err" 0 "$PY" "$PLOT" "$g" -o "$tmp/gmm8.png"
check "sgm-plot gmm8 PNG is valid and not blank" png_ok "$tmp/gmm8.png"
check "sgm-plot default output name" \
  runs "$tmp/p.out" "$tmp/p.err" 0 "$PY" "$PLOT" "$g" --dims 1,0 --trajectories 3
check "sgm-plot --dims 1,0 PNG" png_ok "$tmp/gmm8.png"
check "sgm-summary gmm8 runs" runs "$tmp/s.out" "$tmp/s.err" 0 "$PY" "$SUMMARY" "$g"
check "sgm-summary gmm8 prints provenance and key figures" has "$tmp/s.out" \
  "sgm_version" "git_revision" "petsc_version" "nranks  *2" "seed" "options" \
  "^  N  *2000" "^  d  *2" "NFE" "wall time" "per-coordinate moments" "per-mode figures, K = 8"
check "sgm-summary gmm8 lists 8 modes" \
  test "$(sed -n '/per-mode figures/,$p' "$tmp/s.out" | grep -c '^ *[0-7] ')" -eq 8

# ---- 1-D Gaussian, with and without trajectories
a=$tmp/gauss1d.h5
# guidance: the same labelled ring at gamma 0, 1 and 3, one panel each
for gm in 0 1 3; do
  check "sgm sample guided gamma $gm" sample 1 "$tmp/guid$gm.h5" -options_file "$top_srcdir/input/guidance_gmm8.opts" \
    -gmm_file "$top_srcdir/input/guidance_gmm8.h5" -nsamples 2000 -sampler_steps 200 -guidance_scale $gm
done
check "sgm-guidance-plot runs" runs "$tmp/g.out" "$tmp/g.err" 0 "$PY" "$GPLOT" "$tmp/guid3.h5" "$tmp/guid0.h5" "$tmp/guid1.h5" -o "$tmp/guidance.png"
check "sgm-guidance-plot PNG is valid and not blank" png_ok "$tmp/guidance.png"
check "sgm-guidance-plot orders the runs by gamma" has "$tmp/g.out" "3 run(s)"

check "sgm sample gauss1d (1 rank)" sample 1 "$a" -options_file "$top_srcdir/input/gauss1d.opts" \
  -nsamples 5000 -sampler_steps 200 -trajectory_frames 11
check "sgm-plot gauss1d runs" runs "$tmp/p.out" "$tmp/p.err" 0 "$PY" "$PLOT" "$a" -o "$tmp/gauss1d.png"
check "sgm-plot gauss1d PNG is valid and not blank" png_ok "$tmp/gauss1d.png"
b=$tmp/gauss1d-notraj.h5
check "sgm sample gauss1d without trajectory" sample 1 "$b" \
  -options_file "$top_srcdir/input/gauss1d.opts" -nsamples 5000 -sampler_steps 100 -trajectory_frames 0
check "sgm-plot without /trajectory runs" \
  runs "$tmp/p.out" "$tmp/p.err" 0 "$PY" "$PLOT" "$b" -o "$tmp/notraj.png"
check "sgm-plot without /trajectory notes it" has "$tmp/p.err" "no /trajectory"
check "sgm-plot without /trajectory PNG" png_ok "$tmp/notraj.png"
check "sgm-summary gauss1d" runs "$tmp/s.out" "$tmp/s.err" 0 "$PY" "$SUMMARY" "$b"
check "sgm-summary gauss1d key figures" has "$tmp/s.out" "^  N  *5000" "^  d  *1" "K = 1" "1.50000"

# ---- bad inputs
check "sgm-plot missing file fails" runs "$tmp/p.out" "$tmp/p.err" 1 "$PY" "$PLOT" "$tmp/nonexistent.h5"
check "sgm-plot missing file: one line" one_line "$tmp/p.err"
check "sgm-plot missing file: message" has "$tmp/p.err" "nonexistent.h5: no such file"
check "sgm-summary missing file fails" runs "$tmp/s.out" "$tmp/s.err" 1 "$PY" "$SUMMARY" "$tmp/nonexistent.h5"
check "sgm-summary missing file: message" has "$tmp/s.err" "no such file"
"$PY" - "$g" "$tmp/nosamples.h5" "$tmp/notarget.h5" <<'PYEOF'
import shutil, sys
import h5py
src, nosamples, notarget = sys.argv[1:]
with h5py.File(nosamples, "w") as f:
    f.attrs["sgm_version"] = "0"
shutil.copy(src, notarget)
with h5py.File(notarget, "a") as f:
    del f["target"]
PYEOF
check "sgm-plot without /samples fails" \
  runs "$tmp/p.out" "$tmp/p.err" 1 "$PY" "$PLOT" "$tmp/nosamples.h5" -o "$tmp/x.png"
check "sgm-plot without /samples: message" has "$tmp/p.err" "no /samples"
check "sgm-plot without /samples: no PNG" test ! -e "$tmp/x.png"
check "sgm-summary without /samples fails" \
  runs "$tmp/s.out" "$tmp/s.err" 1 "$PY" "$SUMMARY" "$tmp/nosamples.h5"
check "sgm-plot without /target plots samples only" \
  runs "$tmp/p.out" "$tmp/p.err" 0 "$PY" "$PLOT" "$tmp/notarget.h5" -o "$tmp/notarget.png"
check "sgm-plot without /target: note" has "$tmp/p.err" "no /target"
check "sgm-plot without /target: PNG" png_ok "$tmp/notarget.png"
check "sgm-summary without /target" runs "$tmp/s.out" "$tmp/s.err" 0 "$PY" "$SUMMARY" "$tmp/notarget.h5"
check "sgm-summary without /target: says so" has "$tmp/s.out" "target: none"
check "sgm-plot bad --dims fails" \
  runs "$tmp/p.out" "$tmp/p.err" 1 "$PY" "$PLOT" "$g" --dims 0,5 -o "$tmp/x.png"
check "sgm-plot bad --dims: message" has "$tmp/p.err" "two different coordinates in 0..1"

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
