#!/bin/sh
# Fields spread over ranks (issue 8, doc/fields.md).  < 30 s on 2 cores.
#  1. test_field_scores (gmrf against grf_fft) on 2 and 4 ranks.
#  2. Bitwise: /samples of a batch of 3 white-noise fields on a 24 x 20 periodic grid (and a 3-D
#     Dirichlet grid for em) must be identical on 1 rank, 2 ranks, and 4 ranks (oversubscribed) with
#     the DMDA process grids 1x4, 4x1 and 2x2, for every sampler: the noise is keyed by the global grid
#     index and per-field norms (pc, adaptive) are reproducible sums.
MPIEXEC=${MPIEXEC:-mpiexec}
PYTHON=${PYTHON:-python3}
RUN="env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 $MPIEXEC"
dir=fields-ranks.$$
mkdir -p $dir
status=0
for n in 2 4; do
  echo "== test_field_scores on $n ranks"
  $RUN -n $n regression/fields/test_field_scores || status=1
done
common="-score_type white -nsamples 3 -sampler_steps 12 -seed 11 -quiet"
for s in em ancestral ddim heun edm dpmpp2m ode pc ald adaptive em3d; do
  case $s in
    ode) opts="-sampler_type ode -ts_type rk -ts_rk_type 4 -ts_adapt_type none -field_grid 24,20" ;;
    em3d) opts="-sampler_type em -field_grid 10,8,6 -field_periodic false" ;;
    *) opts="-sampler_type $s -field_grid 24,20" ;;
  esac
  src/sgm sample $common $opts -output $dir/$s.1.h5 || status=1
  $RUN -n 2 src/sgm sample $common $opts -output $dir/$s.2.h5 || status=1
  for g in 1x4 4x1 2x2; do
    px=${g%x*}; py=${g#*x}
    pz=""; [ $s = em3d ] && pz="-da_processors_z 1"
    $RUN -n 4 src/sgm sample $common $opts -da_processors_x $px -da_processors_y $py $pz -output $dir/$s.$g.h5 || status=1
  done
  $PYTHON - $dir $s <<'PY' || status=1
import sys, h5py, numpy as np
d, s = sys.argv[1], sys.argv[2]
ref = h5py.File(f"{d}/{s}.1.h5", "r")["samples"][...]
bad = [k for k in ("2", "1x4", "4x1", "2x2") if not np.array_equal(ref, h5py.File(f"{d}/{s}.{k}.h5", "r")["samples"][...])]
print(f"bitwise {s:10s} shape {ref.shape}: 1 rank vs 2 ranks, 4 ranks 1x4, 4x1, 2x2: " + ("identical" if not bad else "DIFFER on " + ", ".join(bad)))
sys.exit(1 if bad else 0)
PY
done
rm -rf $dir
exit $status
