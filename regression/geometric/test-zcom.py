#!/usr/bin/env python3
"""Verification of zero centre-of-mass point clouds in `sgm sample` and `sgm nll` (issue 9,
doc/geometric.md, EDM sec. 3.2).

Data: clouds of n = 4 atoms in sd = 3 dimensions (d = 12), x0 = P z, z ~ N(0, S^2 I), S = 0.7,
P the projection onto X = {sum_i x_i = 0}.  Score: -score_type gaussian with mean 0 and std S and
-score_zero_com_atoms 4, i.e. s(x, t) = -x / (alpha^2 S^2 + sigma^2), which on X is the exact
score of the diffused data N(0, (alpha^2 S^2 + sigma^2) P).  SDE: VP (beta 0.1..20, eps 1e-3).

  moments   em (20 steps), ancestral (beta, 20 steps), ode (RK45, 1e-5) and dpmpp2m (logsnr,
            10 steps), N = 20000 clouds each.  On X every sampler acts on each of the (n-1) sd
            orthonormal coordinates of X as on the 1-D problem with data N(0, S^2), so
            Cov(x) = v (P (x) I_sd): Var(x_ic) = v (1 - 1/n), Cov(x_ic, x_jc) = -v/n (i != j),
            Cov of different coordinates 0, with v the exact discretised variance of the 1-D
            problem (regression/samplers/moments.py's recursion, not sgm's code; for the ODE the
            exact marginal alpha^2 S^2 + sigma^2 at eps).  Checked: each of the 12 variances and
            18 same-coordinate covariances within 5 SE (SE(cov_ab) = sqrt((C_aa C_bb + C_ab^2)/(N-1))),
            and the means of the 12 variances and of the 18 covariances within 5 SE, their SE from
            Isserlis' theorem, Cov(s_ab, s_cd) = (C_ac C_bd + C_ad C_bc)/(N-1), with the exact C.
            The step counts are small enough that the exact undiscretised variance is rejected for
            em, ancestral and dpmpp2m (printed), and the unprojected law (Var = v, Cov = 0) is
            rejected for all four.
  com       all ten samplers: every cloud's centre of mass below 1e-13 in every coordinate, and
            the output attribute score_zero_com_atoms = 4.
  nll       sgm nll, exact divergence, -ts_rtol/-ts_atol 1e-10, on 200 clouds of N(0, v_eps P):
            against log N_X(x; 0, v_eps) = -|x|^2/(2 v_eps) - (n-1) sd/2 log(2 pi v_eps) computed here,
            plus the prior gap of the flow, exactly: x_T = x sqrt(v_T/v_eps) (the flow of an
            isotropic Gaussian is a scaling) and sgm uses the prior N_X(0, 1) at T, so the
            expected value is log N_X(x; v_eps) + log N_X(x_T; 1) - log N_X(x_T; v_T); per point
            within 1e-7 nats.  The same clouds translated by 2.5 in every coordinate: the same
            NLL (1e-9) and nll_data_com_max = 2.5.  Hutchinson (8 Gaussian probes): mean NLL
            within 4 combined SE of the exact one.  Exact NLL on 1 and 2 ranks equal to 1e-12 (as in
            test-nll.py: the adaptive step's error norm is a sum over all ranks).
  errors    -score_zero_com_atoms 5 for d = 12, -inverse_projection, -nll_model_prior and
            -nll_dequantization uniform with point clouds: exit status != 0, one "sgm: error:" line,
            no output file.
  restart   dpmpp2m (multistep history) and adaptive (Brownian path) interrupted by the test signal
            after step 37 on 1 rank and continued on 2: /samples bitwise equal to an uninterrupted run.
Rank invariance of the zero-CoM samplers: the regression cases bitwise_zcom_em, bitwise_zcom_adaptive.
Usage: test-zcom.py --sgm src/sgm --workdir DIR.  Prints one line per check and "N passed,
M failed".  About 15 s on 2 cores.
"""
import argparse
import math
import os
import subprocess
import sys

import h5py
import numpy as np

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
sys.path.insert(0, os.path.join(HERE, "..", "samplers"))
from testkit import check, mpienv, summary  # noqa: E402
from moments import recursion, sde_from_attrs, target  # noqa: E402

NA, SD, S = 4, 3, 0.7
D = NA * SD
N = 20000
ZMAX = 5.0
ap = argparse.ArgumentParser()
ap.add_argument("--sgm", required=True)
ap.add_argument("--workdir", required=True)
ap.add_argument("--mpiexec", default=os.environ.get("MPIEXEC", "mpiexec"))
args = ap.parse_args()
ENV = dict(mpienv(), OMPI_MCA_rmaps_base_oversubscribe="1")
SCORE = ["-score_type", "gaussian", "-gaussian_mean", ",".join(["0"] * D), "-gaussian_std", repr(S), "-score_zero_com_atoms", str(NA)]


def path(name):
    return os.path.join(args.workdir, name)


def sgm(cmd, opts, out, nranks=1, expect_ok=True):
    full = ([args.mpiexec, "-n", str(nranks)] if nranks > 1 else []) + [args.sgm, cmd] + opts + ["-output", out, "-overwrite", "-quiet"]
    r = subprocess.run(full, capture_output=True, text=True, env=ENV)
    if expect_ok and r.returncode != 0:
        print(" ".join(full) + "\n" + r.stdout + r.stderr)
        raise SystemExit(1)
    return r


def sample(opts, out, nranks=1):
    sgm("sample", SCORE + ["-trajectory_frames", "0"] + opts, out, nranks)
    with h5py.File(out, "r") as f:
        return f["samples"][:].astype(np.float64), dict(f.attrs)


# ---------------------------------------------------------------------------------------------
# moments against the exact discretised law
P = np.eye(NA) - np.ones((NA, NA)) / NA
PAIRS_VAR = [(a, a) for a in range(D)]
PAIRS_COV = [(i * SD + c, j * SD + c) for c in range(SD) for i in range(NA) for j in range(i + 1, NA)]


def isserlis(C, pairs, n):
    """Covariance matrix of the sample covariances s_ab over `pairs` (N - 1 divisor, Gaussian data)."""
    K = len(pairs)
    M = np.empty((K, K))
    for p, (a, b) in enumerate(pairs):
        for q, (c, d) in enumerate(pairs):
            M[p, q] = (C[a, c] * C[b, d] + C[a, d] * C[b, c]) / (n - 1)
    return M


def moment_z(X, v):
    """z-scores of the 12 variances, 18 covariances and their two means against Cov = v P (x) I."""
    C = v * np.kron(P, np.eye(SD))
    Sx = np.cov(X, rowvar=False)
    zs = {}
    for name, pairs in (("var", PAIRS_VAR), ("cov", PAIRS_COV)):
        est = np.array([Sx[a, b] for a, b in pairs])
        ref = np.array([C[a, b] for a, b in pairs])
        M = isserlis(C, pairs, len(X))
        zs[name] = (est - ref) / np.sqrt(np.diag(M))
        w = np.ones(len(pairs)) / len(pairs)
        zs[name + "_mean"] = (w @ est - w @ ref) / math.sqrt(w @ M @ w)
        zs[name + "_est"], zs[name + "_ref"] = w @ est, w @ ref
    return zs


MOMENT_CASES = [
    ("em", ["-sampler_type", "em", "-sampler_steps", "20"], {"sampler": "em"}, 20),
    ("ancestral", ["-sampler_type", "ancestral", "-sampler_steps", "20"], {"sampler": "ancestral", "variance": "beta"}, 20),
    ("dpmpp2m", ["-sampler_type", "dpmpp2m", "-sampler_steps", "10"], {"sampler": "dpmpp2m"}, 10),
    ("ode", ["-sampler_type", "ode"], None, 0),
]
print(f"# zero-CoM clouds of {NA} atoms in {SD}-D, data N(0, {S}^2 P), N = {N}; z in standard errors", flush=True)
for k, (name, opts, case, nsteps) in enumerate(MOMENT_CASES):
    X, attrs = sample(opts + ["-nsamples", str(N), "-seed", str(31 + k)], path(f"m_{name}.h5"))
    sde = sde_from_attrs(attrs)
    if case is not None:
        mu, v, tend = recursion(sde, 0.0, S, case, nsteps)
        _, vt = target(sde, 0.0, S, tend)
    else:  # adaptive RK45 at 1e-5: the exact marginal at eps
        _, v = target(sde, 0.0, S, sde.eps)
        vt = v
    com = np.abs(X.reshape(-1, NA, SD).mean(axis=1)).max()
    check(f"{name}: centre of mass", com <= 1e-13, f"max |CoM| = {com:.2e} (bound 1e-13)")
    z = moment_z(X, v)
    check(f"{name}: 12 variances v(1-1/n)", np.abs(z["var"]).max() <= ZMAX, f"v = {v:.6f}, max |z| = {np.abs(z['var']).max():.2f}")
    check(f"{name}: 18 covariances -v/n", np.abs(z["cov"]).max() <= ZMAX, f"max |z| = {np.abs(z['cov']).max():.2f}")
    check(f"{name}: mean variance", abs(z["var_mean"]) <= ZMAX, f"{z['var_est']:.6f} vs {z['var_ref']:.6f}, z = {z['var_mean']:+.2f}")
    check(f"{name}: mean covariance", abs(z["cov_mean"]) <= ZMAX, f"{z['cov_est']:.6f} vs {z['cov_ref']:.6f}, z = {z['cov_mean']:+.2f}")
    # sensitivity: the unprojected law and (for the discretised samplers) the undiscretised one
    C0 = v * np.eye(D)
    Sx = np.cov(X, rowvar=False)
    z0 = (np.mean([Sx[a, a] for a in range(D)]) - v) / math.sqrt(np.ones(D) @ isserlis(C0, PAIRS_VAR, N) @ np.ones(D) / D**2)
    check(f"{name}: unprojected law rejected", abs(z0) > ZMAX, f"mean variance against v: z = {z0:+.1f}")
    if case is not None:
        zt = moment_z(X, vt)["var_mean"]
        check(f"{name}: undiscretised variance rejected", abs(zt) > ZMAX, f"exact marginal {vt:.6f} instead of v: z = {zt:+.1f}")

# pc: no exact discretised law (the corrector's step size is random), but a Langevin step of size
# e = 2 snr^2 V inflates a Gaussian's variance by at most 1/(1 - snr^2), so the mean variance must be
# within 3 snr^2 (7.7%) of the exact marginal with the default -pc_norm batch; the per-sample step
# sizes of -pc_norm sample (heavy-tailed in 12-D) are far outside (about +50%).
_, vpc = target(sde_from_attrs(attrs), 0.0, S, sde_from_attrs(attrs).eps)
for norm, inside in (("batch", True), ("sample", False)):
    X, _ = sample(["-sampler_type", "pc", "-sampler_steps", "200", "-pc_norm", norm, "-nsamples", str(N), "-seed", "41"], path(f"m_pc_{norm}.h5"))
    r = moment_z(X, vpc)["var_est"] / moment_z(X, vpc)["var_ref"] - 1
    check(f"pc -pc_norm {norm}: mean variance {'within' if inside else 'outside'} 3 snr^2 of the marginal", (abs(r) <= 3 * 0.16**2) == inside, f"relative variance error {r:+.4f} (bound {3 * 0.16**2:.4f})")

# ---------------------------------------------------------------------------------------------
# every sampler stays in the subspace
ALL = {"em": ["-sampler_steps", "20"], "ancestral": ["-sampler_steps", "20"], "ode": [], "pc": ["-sampler_steps", "20"],
       "ald": ["-sampler_steps", "10", "-ald_steps_per_level", "5"], "ddim": ["-sampler_steps", "20", "-ddim_eta", "1"],
       "heun": ["-sampler_steps", "10"], "edm": ["-sampler_steps", "10"], "dpmpp2m": ["-sampler_steps", "10"], "adaptive": []}
for name, opts in ALL.items():
    X, attrs = sample(["-sampler_type", name, "-nsamples", "301", "-seed", "5"] + opts, path(f"c_{name}.h5"))
    com = np.abs(X.reshape(-1, NA, SD).mean(axis=1)).max()
    ok = com <= 1e-13 and int(attrs["score_zero_com_atoms"]) == NA and np.all(np.isfinite(X))
    check(f"{name}: every cloud in the zero-CoM subspace", ok, f"max |CoM| = {com:.2e}, score_zero_com_atoms = {int(attrs['score_zero_com_atoms'])}")

# checkpoint/restart: interrupted on 1 rank after step 37, continued on 2, bitwise
for name in ("dpmpp2m", "adaptive"):
    opts = SCORE + ["-sampler_type", name, "-sampler_steps", "100", "-nsamples", "501", "-seed", "8", "-trajectory_frames", "0"]
    Xref, _ = sample(opts[len(SCORE):], path(f"r_{name}_ref.h5"))
    out = path(f"r_{name}.h5")
    r = sgm("sample", opts + ["-checkpoint_every", "10", "-checkpoint_test_signal_step", "37"], out, expect_ok=False)
    sgm("sample", opts + ["-restart", out + ".ckpt"], out, nranks=2)
    with h5py.File(out, "r") as f:
        Xr = f["samples"][:]
    check(f"{name}: restart 1 -> 2 ranks bitwise", r.returncode != 0 and np.array_equal(Xr, Xref), f"interrupted with exit {r.returncode}, {np.count_nonzero(Xr != Xref)} values differ")

# ---------------------------------------------------------------------------------------------
# likelihood on the subspace
VP_BMIN, VP_BMAX, EPS, T = 0.1, 20.0, 1e-3, 1.0
alpha = lambda t: math.exp(-0.5 * (VP_BMIN * t + 0.5 * (VP_BMAX - VP_BMIN) * t * t / T))
var_t = lambda t: alpha(t) ** 2 * S * S + 1 - alpha(t) ** 2
DSUB = (NA - 1) * SD


def logn_sub(q, var):
    return -q / (2 * var) - 0.5 * DSUB * math.log(2 * math.pi * var)


rng = np.random.default_rng(2026)
z = rng.normal(0.0, math.sqrt(var_t(EPS)), (200, NA, SD))
xc = z - z.mean(axis=1, keepdims=True)
q = (xc**2).sum(axis=(1, 2))
qT = q * var_t(T) / var_t(EPS)
ref = logn_sub(q, var_t(EPS)) + logn_sub(qT, 1.0) - logn_sub(qT, var_t(T))
gap = np.abs(logn_sub(qT, 1.0) - logn_sub(qT, var_t(T))).max()
with h5py.File(path("pts.h5"), "w") as f:
    f["data"] = xc.reshape(-1, D)
with h5py.File(path("pts_shift.h5"), "w") as f:
    f["data"] = (xc + 2.5).reshape(-1, D)
TIGHT = ["-ts_rtol", "1e-10", "-ts_atol", "1e-10"]


def nll(data, out, opts=(), nranks=1):
    sgm("nll", SCORE + ["-nll_data", data] + list(opts), out, nranks)
    with h5py.File(out, "r") as f:
        return f["nll"][:], f["nll_se"][:], dict(f.attrs)


v1, _, a1 = nll(path("pts.h5"), path("n1.h5"), TIGHT)
err = np.abs(-v1 - ref).max()
check("nll exact: closed form on the subspace", err <= 1e-7, f"max |NLL + log p| = {err:.2e} over 200 clouds (bound 1e-7; prior gap included exactly, at most {gap:.1e})")
check("nll: density dimension (n-1) sd", int(a1["nll_density_dimension"]) == DSUB, f"nll_density_dimension = {int(a1['nll_density_dimension'])}")
v2, _, a2 = nll(path("pts_shift.h5"), path("n2.h5"), TIGHT)
dcm = abs(float(a2["nll_data_com_max"]) - 2.5)
check("nll: data CoM removed", np.abs(v2 - v1).max() <= 1e-9 and dcm <= 1e-12, f"max |NLL(x + 2.5) - NLL(x)| = {np.abs(v2 - v1).max():.1e}, nll_data_com_max - 2.5 = {dcm:.1e}")
v3, se3, a3 = nll(path("pts.h5"), path("n3.h5"), ["-nll_divergence", "hutchinson", "-nll_probes", "8", "-nll_probe", "gaussian"])
v4, _, _ = nll(path("pts.h5"), path("n4.h5"))
diff, cse = (v3 - v4).mean(), math.sqrt((se3**2).sum()) / len(v3)
check("nll hutchinson (projected probes): mean", abs(diff) <= 4 * cse, f"mean NLL_H - NLL_exact = {diff:+.4f}, 4 SE = {4 * cse:.4f}")
v5, _, _ = nll(path("pts.h5"), path("n5.h5"), TIGHT, nranks=2)
check("nll: 1 and 2 ranks", np.abs(v1 - v5).max() <= 1e-12, f"max difference {np.abs(v1 - v5).max():.1e} (bound 1e-12: the adaptive step's error norm is a global sum)")

# ---------------------------------------------------------------------------------------------
# bad input
BAD = [("sample", ["-score_type", "gaussian", "-gaussian_mean", ",".join(["0"] * D), "-score_zero_com_atoms", "5", "-nsamples", "10"], "-score_zero_com_atoms"),
       ("sample", SCORE + ["-nsamples", "10", "-inverse_projection", "-inverse_mask", "0", "-inverse_y", "0.5"], "-inverse_projection"),
       ("nll", SCORE + ["-nll_data", path("pts.h5"), "-nll_model_prior"], "-nll_model_prior"),
       ("nll", SCORE + ["-nll_data", path("pts.h5"), "-nll_dequantization", "uniform"], "dequantization")]
for cmd, opts, word in BAD:
    out = path("bad.h5")
    if os.path.exists(out):
        os.remove(out)
    r = sgm(cmd, opts, out, expect_ok=False)
    lines = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
    ok = r.returncode != 0 and len(lines) == 1 and lines[0].startswith("sgm: error:") and word in lines[0] and not os.path.exists(out)
    check(f"bad input {cmd} {word}", ok, lines[0] if lines else "(no message)")
sys.exit(summary())
