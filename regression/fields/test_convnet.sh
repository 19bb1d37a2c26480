#!/bin/sh
# The convolutional score network of fields (issue 8 part C, doc/fields.md).  About 20 s on 2 cores.
#  1. test_convnet (DSM gradient vs central differences, < 1e-6) on 1, 2 ranks and 4 ranks with the
#     DMDA process grids 1x4, 4x1, 2x2, periodic and Dirichlet (zero padding), 3x3 and 5x5 stencils,
#     and 3-D on 1 and 2 ranks: the printed forward hash must be identical on every process grid.
#  2. A short `sgm train-field` on 16 grf_fft fields of 24x24 (2 ranks): the mean loss of the last
#     10 of 60 steps must lie below 0.6 times that of the first 10 (it falls from ~1.4 to ~0.3).
#  3. `sgm sample -score_type convnet` with that model (em, 10 steps, a 24x20 grid, which the
#     translation-invariant net accepts): /samples bitwise identical on 1 rank, 2 ranks and a 2x2 grid.
MPIEXEC=${MPIEXEC:-mpiexec}
PYTHON=${PYTHON:-python3}
RUN="env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 $MPIEXEC"
dir=convnet.$$
mkdir -p $dir
status=0
T="regression/fields/test_convnet -convnet_channels 3 -convnet_layers 3 -convnet_features 4"
hashes() { grep "forward hash" $dir/out.* | awk '{print $3}' | sort -u | wc -l; }
for case in "12,10 true 1" "12,10 true 2" "12,10 false 1" "12,10 false 2" "8,6,5 false 1"; do
  set -- $case
  opts="-field_grid $1 -field_periodic $2 -convnet_radius $3"
  rm -f $dir/out.*
  $T $opts > $dir/out.1 || status=1
  $RUN -n 2 $T $opts > $dir/out.2 || status=1
  if [ $1 = 12,10 ]; then
    for g in 1x4 4x1 2x2; do
      $RUN -n 4 $T $opts -da_processors_x ${g%x*} -da_processors_y ${g#*x} > $dir/out.$g || status=1
    done
  fi
  grep -h "DSM gradient" $dir/out.1
  n=$(ls $dir/out.* | wc -l)
  if [ "$(hashes)" = 1 ] && ! grep -q FAILED $dir/out.*; then
    echo "convnet $opts: gradients ok, forward bitwise identical on $n process grids"
  else
    echo "convnet $opts: FAILED"; cat $dir/out.*; status=1
  fi
done
src/sgm sample -score_type grf_fft -field_grid 24,24 -grf_kappa 0.5 -grf_alpha 1 -nsamples 16 -sampler_type ode -seed 3 -quiet -output $dir/data.h5 || status=1
$RUN -n 2 src/sgm train-field -train_field_data $dir/data.h5 -convnet_channels 4 -convnet_layers 3 -train_steps 60 -train_warmup 10 -quiet -output $dir/model.h5 || status=1
$PYTHON - $dir/model.h5 <<'PY' || status=1
import sys, h5py, numpy as np
l = h5py.File(sys.argv[1], "r")["train/loss"][...]
a, b = l[:10].mean(), l[-10:].mean()
ok = b < 0.6 * a
print(f"train-field smoke run: mean loss of steps 1-10 {a:.4f}, of steps 51-60 {b:.4f}: {'falls' if ok else 'FAILED to fall'}")
sys.exit(0 if ok else 1)
PY
S="src/sgm sample -score_type convnet -score_file $dir/model.h5 -field_grid 24,20 -nsamples 2 -sampler_type em -sampler_steps 10 -seed 5 -quiet"
$S -output $dir/s.1.h5 || status=1
$RUN -n 2 $S -output $dir/s.2.h5 || status=1
$RUN -n 4 $S -da_processors_x 2 -da_processors_y 2 -output $dir/s.2x2.h5 || status=1
$PYTHON - $dir <<'PY' || status=1
import sys, h5py, numpy as np
d = sys.argv[1]
ref = h5py.File(f"{d}/s.1.h5", "r")["samples"][...]
bad = [k for k in ("2", "2x2") if not np.array_equal(ref, h5py.File(f"{d}/s.{k}.h5", "r")["samples"][...])]
print(f"sample -score_type convnet {ref.shape}: 1 rank vs 2 ranks, 2x2: " + ("identical" if not bad else "DIFFER on " + ", ".join(bad)))
sys.exit(1 if bad else 0)
PY
rm -rf $dir
exit $status
