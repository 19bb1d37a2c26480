#!/bin/sh
# gaussian_dense against the replicated gaussian type on input/gauss64.h5 (d = 64, eigenvalues
# 0.01 .. 4): test_gaussian_dense on 1 rank and on 2 ranks (grid 1x2, blocks of 8); then `sgm sample`
# (em, 200 steps, 1000 samples, seed 3) with either type on 2 ranks: /samples agree to 1e-10
# (not bitwise: the products sum in another order).  About 5 s.
MPIEXEC=${MPIEXEC:-mpiexec}
PYTHON=${PYTHON:-python3}
srcdir=${top_srcdir:-.}
run() { env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 $MPIEXEC "$@"; }
g=$srcdir/input/gauss64.h5
out=gd64.$$
trap 'rm -f $out.*.h5' EXIT
status=0
regression/dense/test_gaussian_dense -gaussian_file $g || status=1
run -n 2 regression/dense/test_gaussian_dense -gaussian_file $g -dense_grid 1x2 -dense_block 8 || status=1
for t in gaussian gaussian_dense; do
  run -n 2 src/sgm sample -score_type $t -gaussian_file $g -sde_type vp -sampler_type em -sampler_steps 200 \
    -nsamples 1000 -seed 3 -output $out.$t.h5 -overwrite > /dev/null || status=1
done
$PYTHON - $out.gaussian.h5 $out.gaussian_dense.h5 <<'PY' || status=1
import sys, h5py, numpy as np
a = h5py.File(sys.argv[1], "r")["samples"][:]
b = h5py.File(sys.argv[2], "r")["samples"][:]
err = np.abs(a - b).max() / np.abs(a).max()
ok = err <= 1e-10
print(f"sgm sample em d=64: gaussian_dense vs gaussian /samples (rel)   err {err:9.3e}  bound 1.000e-10  {'ok' if ok else 'FAILED'}")
sys.exit(0 if ok else 1)
PY
exit $status
