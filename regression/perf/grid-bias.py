#!/usr/bin/env python3
"""
Covariance bias of dpmpp2m and heun on the 64-D Gaussian (input/gauss64.h5) for many time grids, from
the exact moment recursion of regression/samplers/moments.py applied to each eigen-direction (no
sampling noise).  Backs the discussion of issue 3's "within 20 NFE" targets in doc/sampler-quality.md:
prints ||C_out - C||_F / ||C||_F (the table's measure, without the noise floor) and the largest
relative variance error over the eigenvalues, per grid, and finishes with a numerically optimised
grid for 10 heun steps (Nelder-Mead over the free log-sigma points, three starts).
Usage: grid-bias.py [--srcdir DIR] [--no-optimise]     (about 1 minute; the optimisation most of it)
"""
import argparse
import math
import os
import sys

import h5py
import numpy as np
from scipy.optimize import minimize

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "samplers"))
import moments as M  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
ap.add_argument("--srcdir", default=os.path.normpath(os.path.join(HERE, "..", "..")))
ap.add_argument("--no-optimise", action="store_true")
args = ap.parse_args()

lam = np.linalg.eigvalsh(h5py.File(os.path.join(args.srcdir, "input", "gauss64.h5"), "r")["covariance"][...])
sde = M.VP(0.1, 20.0, 1.0, 1e-3)  # the deck's SDE (score_sde defaults)


def bias(sampler, t):
    n = len(t) - 1
    out, tgt = [], []
    for L in lam:
        S = math.sqrt(L)
        z = M.Noise(n + 2)
        x = sde.prior_std * z()
        if sampler == "dpmpp2m":
            x = M.run_dpmpp2m(sde, 0.0, S, x, t)
        else:
            for k in range(n):
                x = M.heun_step(sde, 0.0, S, x, t[k], t[k + 1], k == n - 1, False)
        out.append(x.var())
        tgt.append(M.target(sde, 0.0, S, t[-1])[1])
    out, tgt = np.array(out), np.array(tgt)
    return np.linalg.norm(out - tgt) / np.linalg.norm(tgt), np.max(np.abs(out / tgt - 1))


def tpow(n, p):
    return (sde.T ** (1 / p) + np.arange(n + 1) / n * (sde.eps ** (1 / p) - sde.T ** (1 / p))) ** p


def karras(n, rho, smax, final_zero=True):
    smin = M.ratio(sde, sde.eps)
    m = n if final_zero else n + 1
    s = (smax ** (1 / rho) + np.arange(m) / (m - 1) * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
    t = [sde.T if sk >= M.ratio(sde, sde.T) else M.time_of_ratio(sde, sk) for sk in s]
    return np.array(t + ([0.0] if final_zero else []))


smaxT = M.ratio(sde, sde.T)
print("# covariance bias (relative Frobenius, max relative variance error) on gauss64, exact recursion")
print("dpmpp2m, 20 steps (20 NFE):")
print("  logsnr      %.4f %.4f" % bias("dpmpp2m", M.grid(sde, "logsnr", 20)))
for p in (1, 1.25, 1.5, 2, 3):
    print("  t^(1/%-4g) uniform %.4f %.4f%s" % (p, *bias("dpmpp2m", tpow(20, p)), "   <- quadratic" if p == 2 else ""))
for rho in (2, 3, 5, 7):
    for smax in (smaxT, 80.0, 20.0):
        print("  karras rho %g sigma_max %.0f  %.4f %.4f" % (rho, smax, *bias("dpmpp2m", karras(20, rho, smax, False))))
print("heun, 10 steps (19 NFE, Euler to sigma = 0 on the last):")
for rho in (2, 3, 5, 7):
    for smax in (smaxT, 80.0, 20.0):
        print("  karras rho %g sigma_max %.0f  %.4f %.4f" % (rho, smax, *bias("heun", karras(10, rho, smax))))
for p in (1, 1.5, 2, 3):
    print("  t^(1/%g) uniform + final step to 0 (9 + 1 steps)  %.4f %.4f" % (p, *bias("heun", np.append(tpow(9, p), 0.0))))
if not args.no_optimise:
    smin = M.ratio(sde, sde.eps)

    def grid_from(u):  # increments of log sigma from log smax to log smin, as a softmax of u
        w = np.exp(np.concatenate([[0.0], u]))
        w /= w.sum()
        ls = math.log(smaxT) + np.concatenate([[0.0], np.cumsum(w)]) * (math.log(smin) - math.log(smaxT))
        return np.array([sde.T] + [M.time_of_ratio(sde, s) for s in np.exp(ls[1:-1])] + [sde.eps, 0.0])

    best = None
    for trial in range(3):
        r = minimize(lambda u: bias("heun", grid_from(u))[0], np.random.default_rng(trial).normal(size=8) * 0.3,
                     method="Nelder-Mead", options={"maxiter": 3000, "xatol": 1e-4, "fatol": 1e-6})
        best = r if best is None or r.fun < best.fun else best
    t = grid_from(best.x)
    print("  optimised grid, %d steps (%d NFE): %.4f %.4f; sigma_hat = %s" % (len(t) - 1, 2 * (len(t) - 1) - 1, *bias("heun", t),
          " ".join("%.3g" % M.ratio(sde, x) for x in t[:-1])))
