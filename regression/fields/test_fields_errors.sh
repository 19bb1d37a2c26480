#!/bin/sh
# Bad input for fields (issue 8): each run must fail with one 'sgm: error:' sentence naming what to
# change, and leave no output file.  < 10 s.
MPIEXEC=${MPIEXEC:-mpiexec}
RUN="env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 $MPIEXEC"
dir=fields-errors.$$
mkdir -p $dir
status=0
base="-nsamples 2 -sampler_steps 10 -seed 1"
expect() { # expect "message" nranks args...
  msg=$1; n=$2; shift 2
  out=$($RUN -n $n src/sgm sample $base -output $dir/out.h5 "$@" 2>&1)
  rc=$?
  lines=$(printf '%s\n' "$out" | grep -c '^sgm: error:')
  if [ $rc -ne 0 ] && [ "$lines" -eq 1 ] && printf "%s\n" "$out" | grep -qF -e "$msg" && [ ! -e $dir/out.h5 ] && [ ! -e $dir/out.h5.partial ]; then
    echo "ok      $msg"
  else
    echo "FAILED  expected '$msg' (exit $rc):"; printf '%s\n' "$out" | grep -v '^---\|^ *$' | head -5; status=1
  fi
}
expect "-gmrf_kappa must be positive; got -1" 1 -score_type gmrf -field_grid 8,8 -gmrf_kappa -1
expect "-gmrf_tau must be positive; got 0" 2 -score_type gmrf -field_grid 8,8 -gmrf_tau 0
expect "-gmrf_alpha must be 1 or 2; got 3" 1 -score_type gmrf -field_grid 8,8 -gmrf_alpha 3
expect "-grf_kappa must be positive; got 0" 1 -score_type grf_fft -field_grid 8,8 -grf_kappa 0
expect "The grf_fft score needs a periodic grid" 2 -score_type grf_fft -field_grid 8,8 -field_periodic false
expect "The grf_fft score needs a 2-D grid on more than one rank" 2 -score_type grf_fft -field_grid 8,8,8
expect "A field score needs its grid: give -field_grid" 1 -score_type gmrf
expect "-field_grid takes 2 or 3 sizes" 1 -score_type white -field_grid 8,8,8,8
expect "-field_grid sizes must be integers >= 2" 1 -score_type white -field_grid 8,1
expect "Guidance (-guidance) is not available for field samples" 1 -score_type white -field_grid 8,8 -guidance cfg -class 0
# a checkpoint of one grid restarted with another
$RUN -n 2 src/sgm sample $base -score_type white -field_grid 8,6 -sampler_type em -output $dir/c.h5 \
  -checkpoint $dir/c.ckpt -checkpoint_every 2 -checkpoint_test_signal_step 4 >/dev/null 2>&1
expect "holds fields on the grid 8,6 but -field_grid is 8,7: use the grid of the file" 2 -score_type white -field_grid 8,7 -sampler_type em -restart $dir/c.ckpt
rm -rf $dir
exit $status
