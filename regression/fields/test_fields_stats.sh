#!/bin/sh
# Exact Gaussian-random-field scores sampled on 2 ranks (issue 8, doc/fields.md); about 40 s on 2 cores.
#  1. grf_fft, 64 x 64 periodic, Matern alpha = 2 (tau 0.5, kappa 0.5), 256 fields by the probability-
#     flow ODE (rk5dp, rtol 1e-5): per-site variance against diag(C_eps), the radially averaged power
#     spectrum against a^2 S(k) + s^2, each within 5 standard errors (field_stats.py periodic).
#  2. gmrf (CG + BoomerAMG) and grf_fft on the same grid, 8 fields, fixed RK4 steps: samples agree to 1e-7.
#  3. gmrf, 24 x 24 Dirichlet, alpha = 2, 512 fields, direct solves (MUMPS): per-site variance against
#     the diagonal of NumPy's dense inverse of Q, within 5 standard errors.
MPIEXEC=${MPIEXEC:-mpiexec}
PYTHON=${PYTHON:-python3}
RUN="env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 $MPIEXEC -n 2 src/sgm sample -quiet"
STATS="$PYTHON $top_srcdir/regression/fields/field_stats.py"
dir=fields-stats.$$
mkdir -p $dir
status=0
mat="-field_grid 64,64 -grf_tau 0.5 -grf_kappa 0.5 -grf_alpha 2 -gmrf_tau 0.5 -gmrf_kappa 0.5 -gmrf_alpha 2"
$RUN -score_type grf_fft $mat -nsamples 256 -sampler_type ode -seed 5 -output $dir/fft.h5 -allow_unused_options && \
  $STATS periodic $dir/fft.h5 || status=1
rk4="-sampler_type ode -ts_type rk -ts_rk_type 4 -ts_adapt_type none -sampler_steps 20 -nsamples 8 -seed 6 -allow_unused_options"
$RUN -score_type grf_fft $mat $rk4 -output $dir/fft8.h5 && \
  $RUN -score_type gmrf $mat $rk4 -output $dir/gmrf8.h5 && \
  $STATS agree $dir/fft8.h5 $dir/gmrf8.h5 1e-7 || status=1
$RUN -score_type gmrf -field_grid 24,24 -field_periodic false -gmrf_tau 0.5 -gmrf_kappa 0.4 -gmrf_alpha 2 \
  -gmrf_ksp_type preonly -gmrf_pc_type lu -gmrf_pc_factor_mat_solver_type mumps \
  -nsamples 512 -sampler_type ode -seed 5 -output $dir/dir.h5 && \
  $STATS dirichlet $dir/dir.h5 || status=1
rm -rf $dir
exit $status
