"""
Order of convergence of the deterministic samplers, and weak order of em (issue 3, verification 2).

1. Probability-flow ODE on gmm8 (8 Gaussians of std 0.5 on a circle of radius 4), VP and VE SDEs,
   NSAMP samples from the same prior draw x_T (same seed: the prior stream does not depend on the
   sampler).  Reference at the end of the grid: -sampler_type ode with Dormand-Prince 5(4),
   rtol = atol = 1e-12.  For n = 8, 16, ..., 512 steps the error is max_i |x_i - x_i^ref| over
   samples and components; the slope of log(error) against log(n) is fitted by least squares on
   the asymptotic range n = 64..512 (n = 8..32 are pre-asymptotic: the local slopes, printed,
   still wander there, most for the multistep dpmpp2m whose first and last steps are first order)
   and must equal -order within 0.3:
       ode + -ts_type euler         1     ode + -ts_type rk -ts_rk_type 4   4
       ddim, eta = 0                1     (DDIM is the first-order exponential integrator)
       heun, uniform grid           2     heun, karras grid (ends at t = 0)  2
       dpmpp2m, logsnr grid         2     dpmpp2m, uniform grid              2
   The karras grid ends at t = 0, not at eps, so heun/karras runs and its reference use -sde_eps 0.
   The round-off floor: a second reference with rtol = atol = 1e-11 bounds the error of the first
   (its distance to it); points within 100 times that bound are dropped from the fit.
2. Weak order of em on 1-D Gaussian data N(1.5, 0.5^2): the exact discretised recursion of moments.py
   (which the samples of sgm match within 5 SE, checked by moments.py) against the exact moments of
   the reverse SDE started from the same prior (the linear moment ODEs, solved to 1e-12): the
   fitted slope of log|error of mean and variance| against log(n), n = 160..2560, is -1 within 0.3,
   except for the VE variance: there the O(h) term has the tiny coefficient
   D(eps)^2 [D'/(2 D^2)]_eps^T ~ 6e-4 (D = S^2 + sigma(t)^2, D' = g^2: the local errors telescope),
   so the error falls as h^2 until n ~ 10^5 and is fitted on n = 40960..327680 (O(n) scalar
   recursion, itself checked against moments.py's at n = 40).
   And measured from sgm's samples directly: VP, n = 20..160 with 10^6 samples, where the variance
   bias is 70..6.6 SE: slope -1 within 0.3 (the recursion's slope on the same n is printed beside).

Usage: order.py --sgm PATH/src/sgm --gmm PATH/input/gmm8.h5 --workdir DIR
Prints one line per check and "N passed, M failed"; exit status 1 on failure.  About 40 s on 2 cores.
"""
import argparse
import concurrent.futures
import math
import os
import subprocess
import sys

import numpy as np
from scipy.integrate import solve_ivp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import moments as M  # noqa: E402

NSAMP, SEED = 200, 7
STEPS = [8, 16, 32, 64, 128, 256, 512]
FIT_MIN = 64
TOL = 0.3
REF = ["-sampler_type", "ode", "-ts_type", "rk", "-ts_rk_type", "5dp", "-ts_adapt_type", "basic", "-ts_max_steps", "1000000"]

METHODS = [  # name, options, order, uses a grid ending at t = 0
    ("ode/euler", ["-sampler_type", "ode", "-ts_type", "euler", "-ts_adapt_type", "none"], 1, False),
    ("ode/rk4", ["-sampler_type", "ode", "-ts_type", "rk", "-ts_rk_type", "4", "-ts_adapt_type", "none"], 4, False),
    ("ddim(eta=0)", ["-sampler_type", "ddim", "-ddim_eta", "0"], 1, False),
    ("heun[uniform]", ["-sampler_type", "heun", "-sampler_schedule", "uniform"], 2, False),
    ("heun[karras]", ["-sampler_type", "heun", "-sampler_schedule", "karras"], 2, True),
    ("dpmpp2m[logsnr]", ["-sampler_type", "dpmpp2m", "-sampler_schedule", "logsnr"], 2, False),
    ("dpmpp2m[uniform]", ["-sampler_type", "dpmpp2m", "-sampler_schedule", "uniform"], 2, False),
]


def run(sgm, workdir, tag, opts):
    import h5py

    out = os.path.join(workdir, "order_%s.h5" % tag)
    cmd = [sgm, "sample", "-nsamples", str(NSAMP), "-seed", str(SEED), "-trajectory_frames", "0",
           "-output", out, "-overwrite", "-quiet"] + opts
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s failed:\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))
    with h5py.File(out, "r") as f:
        x = f["samples"][:].astype(np.float64)
    os.remove(out)
    return x


def slope(ns, errs):
    return np.polyfit(np.log(ns), np.log(errs), 1)[0]


def local_slopes(ns, errs):
    return np.diff(np.log(errs)) / np.diff(np.log(ns))


def ode_order(args, chk, ex):
    jobs = {}
    for kind in ("vp", "ve"):
        data = ["-score_type", "gmm", "-gmm_file", args.gmm, "-sde_type", kind]
        for eps0 in (False, True):
            e = ["-sde_eps", "0"] if eps0 else []
            for tol in ("1e-12", "1e-11"):
                jobs[(kind, eps0, "ref", tol)] = ex.submit(run, args.sgm, args.workdir, "%s_%d_ref%s" % (kind, eps0, tol),
                                                           data + e + REF + ["-ts_rtol", tol, "-ts_atol", tol])
        for name, opts, _, eps0 in METHODS:
            e = ["-sde_eps", "0"] if eps0 else []
            for n in STEPS:
                tag = "%s_%s_%d" % (kind, name.replace("/", "_").replace("(", "").replace(")", "").replace("[", "_").replace("]", "").replace("=", ""), n)
                jobs[(kind, name, n)] = ex.submit(run, args.sgm, args.workdir, tag, data + e + opts + ["-sampler_steps", str(n)])
    res = {k: f.result() for k, f in jobs.items()}
    print("# probability-flow ODE on gmm8, %d samples from one x_T; max error at the end of the grid against rk5dp(1e-12)" % NSAMP)
    for kind in ("vp", "ve"):
        for name, _, order, eps0 in METHODS:
            ref = res[(kind, eps0, "ref", "1e-12")]
            floor = np.abs(ref - res[(kind, eps0, "ref", "1e-11")]).max()
            errs = np.array([np.abs(res[(kind, name, n)] - ref).max() for n in STEPS])
            ns = np.array(STEPS, dtype=float)
            use = (ns >= FIT_MIN) & (errs > 100 * floor)
            p = slope(ns[use], errs[use]) if use.sum() >= 3 else float("nan")
            ok = use.sum() >= 3 and abs(-p - order) <= TOL
            chk(ok, "%-3s %-17s order %d: fitted slope %+.2f on n=%s (|slope + %d| <= %.1f)   errors %s   local slopes %s   ref floor %.1e"
                % (kind, name, order, p, ",".join(str(int(v)) for v in ns[use]), order, TOL,
                   " ".join("%.2e" % v for v in errs), " ".join("%+.2f" % v for v in local_slopes(ns, errs)), floor))


def reverse_sde_moments(sde, m, S, tend):
    """Exact mean and variance at tend of the reverse SDE started from N(0, prior_std^2) at T:
    in tau = T - t, dx = -[(f - g^2 A) x - g^2 B] dtau + g dW with s = A x + B."""

    def rhs(tau, y):
        t = sde.T - tau
        al, si = sde.alpha(t), sde.sigma(t)
        D = al * al * S * S + si * si
        A, B = -1.0 / D, al * m / D
        f, g2 = sde.f(t), sde.g2(t)
        return [-(f - g2 * A) * y[0] + g2 * B, -2 * (f - g2 * A) * y[1] + g2]

    sol = solve_ivp(rhs, (0.0, sde.T - tend), [0.0, sde.prior_std ** 2], method="DOP853", rtol=1e-12, atol=1e-14)
    return sol.y[0, -1], sol.y[1, -1]


_em_cache = {}


def em_moments(sde, m, S, n):
    key = (id(sde), m, S, n)
    if key not in _em_cache:
        _em_cache[key] = _em_moments(sde, m, S, n)
    return _em_cache[key]


def _em_moments(sde, m, S, n):
    """Scalar recursion of em's mean and variance (O(n), for large n): x' = c x + h g^2 B + g sqrt(h) z."""
    t = M.grid(sde, "uniform", n)
    mu, v = 0.0, sde.prior_std ** 2
    for k in range(n):
        t0, h = t[k], t[k] - t[k + 1]
        al, si = sde.alpha(t0), sde.sigma(t0)
        D = al * al * S * S + si * si
        f, g2 = sde.f(t0), sde.g2(t0)
        c = 1 - h * (f + g2 / D)
        mu, v = c * mu + h * g2 * al * m / D, c * c * v + g2 * h
    return mu, v


def em_weak_order(args, chk):
    m, S = 1.5, 0.5
    print("# weak order of em, 1-D data N(%g, %g^2): exact recursion against the exact reverse-SDE moments" % (m, S))
    for kind in ("vp", "ve"):
        sde = M.default_sde(kind)
        a, b = em_moments(sde, m, S, 40), M.recursion(sde, m, S, {"sampler": "em"}, 40)
        chk(abs(a[0] - b[0]) <= 1e-13 and abs(a[1] - b[1]) <= 1e-13,
            "%-3s em scalar recursion = affine-form recursion of moments.py at n=40: %.3e, %.3e" % (kind, abs(a[0] - b[0]), abs(a[1] - b[1])))
        mu, var = reverse_sde_moments(sde, m, S, sde.eps)
        for what, ns in (("mean", [160, 320, 640, 1280, 2560]),
                         ("variance", [160, 320, 640, 1280, 2560] if kind == "vp" else [40960, 81920, 163840, 327680])):
            e = np.array([abs(em_moments(sde, m, S, n)[0 if what == "mean" else 1] - (mu if what == "mean" else var)) for n in ns])
            p = slope(ns, e)
            chk(abs(p + 1) <= TOL, "%-3s em weak error of the %-8s (recursion): fitted slope %+.2f on n=%d..%d (|slope + 1| <= %.1f)   errors %s"
                % (kind, what, p, ns[0], ns[-1], TOL, " ".join("%.2e" % v for v in e)))
        if kind == "ve":
            e = np.array([abs(em_moments(sde, m, S, n)[1] - var) for n in (160, 320, 640, 1280, 2560)])
            print("#   ve em variance on n=160..2560: errors %s, slope %+.2f: the O(h) term is D(eps)^2 [D'/(2 D^2)]_eps^T h ~ 6e-4 h"
                  % (" ".join("%.2e" % v for v in e), slope([160, 320, 640, 1280, 2560], e)))
            print("#   (D = S^2 + sigma^2, D' = g^2: the h^2 local errors telescope), so O(h^2) dominates until n ~ 10^5")

    # measured on sgm's samples (VP): bias of the variance, >= 6.6 standard errors
    sde = M.default_sde("vp")
    mu, var = reverse_sde_moments(sde, m, S, sde.eps)
    nsm, N = [20, 40, 80, 160], 1000000
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        futs = [ex.submit(M.run_sgm, args.sgm, args.workdir, "vp", {"sampler": "em"}, n, N, 100 + n) for n in nsm]
        xs = [f.result()[0] for f in futs]
    bias = np.array([x.var(ddof=1) - var for x in xs])
    se = var * math.sqrt(2.0 / (N - 1))
    rec = np.array([em_moments(sde, m, S, n)[1] - var for n in nsm])
    p, prec = slope(nsm, np.abs(bias)), slope(nsm, np.abs(rec))
    chk(abs(p + 1) <= TOL and np.all(np.abs(bias) > 5 * se),
        "vp  em weak error of the variance (sgm samples, N=%d): fitted slope %+.2f on n=%d..%d (|slope + 1| <= %.1f; recursion %+.2f)   bias %s (SE %.1e)"
        % (N, p, nsm[0], nsm[-1], TOL, prec, " ".join("%.2e" % v for v in bias), se))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--sgm", required=True)
    ap.add_argument("--gmm", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    chk = M.Checks()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        ode_order(args, chk, ex)
    em_weak_order(args, chk)
    print("%d passed, %d failed" % (chk.npass, chk.nfail))
    return 1 if chk.nfail else 0


if __name__ == "__main__":
    sys.exit(main())
