"""
bench-nll.py -- wall time and NFE of `sgm nll` against score_sde's likelihood method in NumPy/SciPy.

score_sde (Song et al. 2021, likelihood.py) integrates the probability-flow ODE and the divergence on
the flattened batch with scipy.integrate.solve_ivp(method="RK45", rtol=1e-5, atol=1e-5) and
Hutchinson's estimator with one Rademacher probe per point.  Here the same, with the exact score of
the diffused mixture and its Jacobian-vector product in NumPy (regression/nll/nllref.py), against
  sgm nll -nll_divergence hutchinson -nll_probes 1 (Rademacher)  and  -nll_divergence exact,
both with -ts_type rk -ts_rk_type 5dp -ts_rtol 1e-5 -ts_atol 1e-5, on the same N points (drawn from
p_eps in NumPy) for gmm8 (d = 2) and the 64-D Gaussian (d = 64), in the same run.  Prints per method
the mean NLL, NFE, wall time of the solve (sgm: the file's wall_time_seconds; NumPy: solve_ivp) and
the ratio NumPy time / sgm time.  `make bench-nll`; about 1-2 minutes for N = 10^4 on 2 cores.

Usage: bench-nll.py --sgm src/sgm --srcdir TOP [--n 10000] [--nranks 1] [--repeat 1] [--workdir DIR]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
from scipy.integrate import solve_ivp

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (read-only under distcheck)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "nll"))
from nllref import Mixture, std_normal_logp  # noqa: E402

EPS, T, TOL = 1e-3, 1.0, 1e-5
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_rmaps_base_oversubscribe": "1"}


def numpy_nll(mix, x, rng):
    """score_sde's likelihood: RK45 on [x, delta_logp] flattened, one Rademacher probe per point."""
    n, d = x.shape
    e = rng.choice([-1.0, 1.0], size=(n, d))

    def fun(t, y):
        z = y[: n * d].reshape(n, d)
        b = mix.beta(t)
        s, Je = mix.score_jvp(t, z, e)
        drift = -0.5 * b * (z + s)  # f~ = f x - g^2 s / 2, VP: f = -beta/2, g^2 = beta
        div = (e * (-0.5 * b * (e + Je))).sum(1)  # e^T (d f~/dx) e
        return np.concatenate([drift.ravel(), div])

    t0 = time.perf_counter()
    sol = solve_ivp(fun, (EPS, T), np.concatenate([x.ravel(), np.zeros(n)]), method="RK45", rtol=TOL, atol=TOL)
    wall = time.perf_counter() - t0
    y = sol.y[:, -1]
    logp = std_normal_logp(y[: n * d].reshape(n, d)) + y[n * d:]
    return -logp, sol.nfev, wall


def sgm_nll(a, score, data, extra, tag):
    out = os.path.join(a.workdir, f"bench_{tag}.h5")
    cmd = ([a.mpiexec, "-n", str(a.nranks)] if a.nranks > 1 else []) + [a.sgm, "nll"] + score + [
        "-nll_data", data, "-output", out, "-overwrite", "-quiet", "-ts_type", "rk", "-ts_rk_type", "5dp",
        "-ts_rtol", str(TOL), "-ts_atol", str(TOL)] + extra
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env={**os.environ, **MPI_ENV})
    total = time.perf_counter() - t0
    with h5py.File(out, "r") as f:
        return f["nll"][:], int(f.attrs["nfe"]), float(f.attrs["wall_time_seconds"]), total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sgm", required=True)
    ap.add_argument("--srcdir", required=True)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--nranks", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1, help="best of REPEAT timings")
    ap.add_argument("--mpiexec", default="mpiexec")
    ap.add_argument("--workdir")
    a = ap.parse_args()
    tmp = None
    if not a.workdir:
        tmp = tempfile.TemporaryDirectory(prefix="sgm-bench-nll.")
        a.workdir = tmp.name
    problems = [("gmm8", ["-score_type", "gmm", "-gmm_file"], "gmm8.h5"),
                ("gauss64", ["-score_type", "gaussian", "-gaussian_file"], "gauss64.h5")]
    print(f"sgm nll vs score_sde's method (NumPy/SciPy solve_ivp RK45), rtol = atol = {TOL:g}, N = {a.n}, "
          f"sgm on {a.nranks} rank(s), best of {a.repeat}")
    print(f"{'problem':8s} {'method':34s} {'NLL mean':>10s} {'NFE':>5s} {'solve [s]':>10s} {'process [s]':>11s} {'NumPy/sgm':>10s}")
    for name, score, fn in problems:
        path = os.path.join(a.srcdir, "input", fn)
        mix = Mixture.from_file(path)
        x = mix.sample(EPS, a.n, np.random.default_rng(2024))
        data = os.path.join(a.workdir, f"bench_{name}_data.h5")
        with h5py.File(data, "w") as f:
            f["data"] = x
        rows = []
        best = None
        for r in range(a.repeat):
            v, nfe, wall = numpy_nll(mix, x, np.random.default_rng(7))
            best = (v, nfe, wall) if best is None or wall < best[2] else best
        rows.append(("NumPy solve_ivp RK45, Hutchinson 1", best[0].mean(), best[1], best[2], best[2]))
        ref = best[2]
        for tag, extra in (("sgm rk5dp, Hutchinson 1 Rademacher", ["-nll_divergence", "hutchinson", "-nll_probes", "1"]),
                           ("sgm rk5dp, exact trace", ["-nll_divergence", "exact"])):
            best = None
            for r in range(a.repeat):
                res = sgm_nll(a, score + [path], data, extra, f"{name}_{len(rows)}")
                best = res if best is None or res[2] < best[2] else best
            rows.append((tag, best[0].mean(), best[1], best[2], best[3]))
        for tag, m, nfe, wall, total in rows:
            ratio = f"{ref / wall:10.1f}" if tag.startswith("sgm") else f"{'1':>10s}"
            print(f"{name:8s} {tag:34s} {m:10.4f} {nfe:5d} {wall:10.3f} {total:11.3f} {ratio}", flush=True)
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
