#!/usr/bin/env python3
"""
Verification of the point-cloud metrics of `sgm eval` (issue 9, doc/geometric.md): energy_w2
(-eval_energy dw4|lj13: W2 between the energy distributions), energy_mean, energy_mean_reference
and distance_w1 (W1 between the distributions of all interatomic distances).  Every reference value
is computed here with NumPy/SciPy from the definitions, never from sgm output; sgm prints %.17g.

  values    fixed sets written here: DW4-like clouds (a square of side 4, perturbed) X [301, 8]
            against Y [200, 8] and an equal-size pair [200, 8] vs [200, 8]; LJ13-like clouds (a
            perturbed icosahedron with its centre) X [101, 39] against Y [60, 39].  Energies from the
            formulas of src/mcmc/impls/{dw4,lj13}.c written again in NumPy (LJ13: ordered pairs, c = 2,
            plus the oscillator); W2 of the energies by the quantile functions on the merged grid of
            breakpoints i/N1, j/N2 (w_p below; itself checked against scipy.stats.wasserstein_distance
            for p = 1); distance_w1 against scipy.stats.wasserstein_distance of the pooled pair
            distances (scipy.spatial.distance.pdist).  Relative tolerance 1e-10.
  ranks     the DW4 and LJ13 sets on 1, 2 and 3 ranks: the JSON values bitwise equal.
  floor     two DW4 `sgm mcmc` runs with different seeds (128 chains x 50 samples each, thin 10,
            burn-in 1000): the metrics of one against the other must look like the same distribution.
            Their null distribution is computed here by permuting whole chains between the two sets
            (256 chains; chains are exchangeable under the null and block permutation keeps the
            autocorrelation within chains): 400 random splits.  Pass if sgm's value is below the
            99.5% point of that null.  A wrong distribution, Gaussian clouds N(0, s^2 P) with s^2 the
            reference's variance per coordinate times n/(n-1) (the same second moments), must give a
            value above the null's largest value (a permutation p-value below 1/401); the ratio is
            printed (energy_w2 about 2400, distance_w1 about 5: the pair distances of matched
            Gaussian clouds are closer to DW4's than their energies).
  errors    -eval_energy lj13 on DW4 data, -eval_atoms 3 for d = 8, point-cloud metrics without a
            reference set: exit status 1, one "sgm: error:" line.
Usage: test-pointcloud.py --sgm PATH --workdir DIR        (about 10 s on 2 cores)
"""
import argparse
import json
import math
import os
import subprocess
import sys

import h5py
import numpy as np
from scipy import stats
from scipy.spatial.distance import pdist

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
from testkit import check, mpienv, summary  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
ap.add_argument("--sgm", required=True)
ap.add_argument("--workdir", required=True)
ap.add_argument("--mpiexec", default=os.environ.get("MPIEXEC", "mpiexec"))
args = ap.parse_args()
ENV = dict(mpienv(), OMPI_MCA_rmaps_base_oversubscribe="1")
RTOL = 1e-10


def path(name):
    return os.path.join(args.workdir, name)


def run(cmd, opts, ranks=1, ok=True):
    full = ([args.mpiexec, "-n", str(ranks)] if ranks > 1 else []) + [args.sgm, cmd] + opts
    r = subprocess.run(full, capture_output=True, text=True, env=ENV)
    if ok and r.returncode != 0:
        print(" ".join(full) + "\n" + r.stdout + r.stderr)
        raise SystemExit(1)
    return r


def evaluate(x, y, opts, ranks=1):
    r = run("eval", ["-samples", x, "-reference", y, "-eval_pairwise", "0", "-eval_sw_projections", "4", "-quiet"] + opts, ranks)
    return json.loads(r.stdout.strip().splitlines()[-1])


def write(name, rows, dset="samples"):
    with h5py.File(path(name), "w") as f:
        f[dset] = rows
    return path(name)


# ---- independent definitions ------------------------------------------------------------------
def e_dw4(x):
    x = x.reshape(len(x), 4, 2)
    e = np.zeros(len(x))
    for i in range(4):
        for j in range(i + 1, 4):
            u = np.linalg.norm(x[:, i] - x[:, j], axis=1) - 4.0
            e += 0.9 * u**4 - 4.0 * u**2
    return e


def e_lj13(x):
    x = x.reshape(len(x), 13, 3)
    e = np.zeros(len(x))
    for i in range(13):
        for j in range(i + 1, 13):
            r = np.linalg.norm(x[:, i] - x[:, j], axis=1)
            e += 2.0 * (r**-12 - 2.0 * r**-6)  # ordered pairs i != j
    return e + 0.5 * ((x - x.mean(axis=1, keepdims=True)) ** 2).sum(axis=(1, 2))


def w_p(a, b, p):
    """(int_0^1 |F^-1(u) - G^-1(u)|^p du)^(1/p) of two empirical measures: the quantile functions
    are constant between the merged breakpoints k/N1, l/N2, held as integers in units 1/(N1 N2)."""
    a, b = np.sort(a), np.sort(b)
    n1, n2 = len(a), len(b)
    ends = np.union1d(np.arange(1, n1 + 1) * n2, np.arange(1, n2 + 1) * n1)  # right ends U of the pieces
    width = np.diff(np.concatenate(([0], ends))) / (n1 * n2)
    ia, ib = -(-ends // n2) - 1, -(-ends // n1) - 1  # F^-1 = a[ceil(U/n2) - 1] on (U_prev, U]
    return float((width * np.abs(a[ia] - b[ib]) ** p).sum() ** (1.0 / p))


def pair_distances(x, n):
    sd = x.shape[1] // n
    return np.concatenate([pdist(c.reshape(n, sd)) for c in x])


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


rng = np.random.default_rng(9)
# DW4-like: a square of side 4 (every pair near the wells), perturbed, rotated, translated
sq = np.array([[0, 0], [4, 0], [4, 4], [0, 4]], float)


def dw4_like(m):
    th = rng.uniform(0, 2 * np.pi, m)
    R = np.stack([np.stack([np.cos(th), -np.sin(th)], 1), np.stack([np.sin(th), np.cos(th)], 1)], 1)
    c = np.einsum("mij,kj->mki", R, sq) + rng.normal(0, 0.4, (m, 4, 2)) + rng.normal(0, 1, (m, 1, 2))
    return c.reshape(m, 8)


phi = (1 + 5**0.5) / 2
ico = np.array([[0, s1, s2 * phi] for s1 in (-1, 1) for s2 in (-1, 1)] + [[s1, s2 * phi, 0] for s1 in (-1, 1) for s2 in (-1, 1)]
               + [[s2 * phi, 0, s1] for s1 in (-1, 1) for s2 in (-1, 1)], float)
ico = np.vstack([[0, 0, 0], ico / np.linalg.norm(ico[0]) * 1.1])


def lj_like(m):
    return (ico[None] + rng.normal(0, 0.06, (m, 13, 3))).reshape(m, 39)


# w_p itself against SciPy (p = 1)
ta, tb = rng.normal(size=37), rng.gamma(2.0, size=23)
check("w_p(p=1) against scipy.stats.wasserstein_distance", rel(w_p(ta, tb, 1), stats.wasserstein_distance(ta, tb)) <= 1e-12,
      f"{w_p(ta, tb, 1):.15g} vs {stats.wasserstein_distance(ta, tb):.15g}")

SETS = [("dw4 301 vs 200", "dw4", 4, dw4_like(301), dw4_like(200), e_dw4),
        ("dw4 200 vs 200", "dw4", 4, dw4_like(200), dw4_like(200), e_dw4),
        ("lj13 101 vs 60", "lj13", 13, lj_like(101), lj_like(60), e_lj13)]
for k, (name, energy, n, X, Y, efun) in enumerate(SETS):
    fx, fy = write(f"x{k}.h5", X), write(f"y{k}.h5", Y, "data")
    js = evaluate(fx, fy, ["-eval_energy", energy])
    ex, ey = efun(X), efun(Y)
    refs = {"energy_w2": w_p(ex, ey, 2), "energy_mean": ex.mean(), "energy_mean_reference": ey.mean(),
            "distance_w1": stats.wasserstein_distance(pair_distances(X, n), pair_distances(Y, n))}
    for key, ref in refs.items():
        check(f"{name}: {key}", rel(js[key], ref) <= RTOL, f"sgm {js[key]:.15g}, NumPy/SciPy {ref:.15g}, rel {rel(js[key], ref):.1e}")
    if k != 1:
        vals = [evaluate(fx, fy, ["-eval_energy", energy], ranks=r) for r in (2, 3)]
        same = all(v[key] == js[key] for v in vals for key in refs)
        check(f"{name}: 1, 2, 3 ranks bitwise", same, " ".join(f"{key} " + "/".join(repr(v[key]) for v in [js] + vals) for key in ("energy_w2", "distance_w1")))
js = evaluate(path("x0.h5"), path("y0.h5"), ["-eval_atoms", "4"])
check("dw4: -eval_atoms alone gives distance_w1 only", "distance_w1" in js and "energy_w2" not in js, f"keys {sorted(k for k in js if 'energy' in k or 'distance' in k)}")

# ---- floor: two DW4 chains against each other, and a wrong distribution --------------------------
C, SMP = 128, 50
for seed in (1, 2):
    run("mcmc", ["-mcmc_target", "dw4", "-mcmc_chains", str(C), "-mcmc_samples", str(SMP), "-mcmc_burnin", "1000", "-mcmc_thin", "10",
                 "-seed", str(seed), "-output", path(f"mc{seed}.h5"), "-overwrite", "-quiet"])
with h5py.File(path("mc1.h5"), "r") as f:
    A = f["samples"][:]
with h5py.File(path("mc2.h5"), "r") as f:
    B = f["samples"][:]
chains = np.concatenate([A.reshape(C, SMP, 8), B.reshape(C, SMP, 8)])
echain = np.array([e_dw4(c) for c in chains])
dchain = np.array([pair_distances(c, 4) for c in chains])
null_e, null_d = [], []
prng = np.random.default_rng(77)
for _ in range(400):
    perm = prng.permutation(2 * C)
    s1, s2 = perm[:C], perm[C:]
    null_e.append(w_p(echain[s1].ravel(), echain[s2].ravel(), 2))
    null_d.append(w_p(dchain[s1].ravel(), dchain[s2].ravel(), 1))
null_e, null_d = np.array(null_e), np.array(null_d)
same = evaluate(path("mc1.h5"), path("mc2.h5"), ["-eval_energy", "dw4"])
s2 = A.reshape(-1, 4, 2).var(axis=0).mean() * 4 / 3
G = rng.normal(0, math.sqrt(s2), (len(A), 4, 2))
G = (G - G.mean(axis=1, keepdims=True)).reshape(len(A), 8)
wrong = evaluate(write("gauss.h5", G), path("mc2.h5"), ["-eval_energy", "dw4"])
for key, null in (("energy_w2", null_e), ("distance_w1", null_d)):
    q = np.quantile(null, 0.995)
    check(f"floor {key}: two DW4 chains", same[key] <= q, f"{same[key]:.4g} <= 99.5% of the chain-permutation null {q:.4g} (null median {np.median(null):.4g})")
    check(f"floor {key}: Gaussian clouds rejected", wrong[key] > null.max(), f"{wrong[key]:.4g} > null maximum {null.max():.4g} (p < 1/401; ratio {wrong[key] / null.max():.1f})")

# ---- bad input ---------------------------------------------------------------------------------
BAD = [(["-samples", path("x0.h5"), "-reference", path("y0.h5"), "-eval_energy", "lj13"], "-eval_energy lj13"),
       (["-samples", path("x0.h5"), "-reference", path("y0.h5"), "-eval_atoms", "3"], "-eval_atoms 3"),
       (["-samples", path("x0.h5"), "-eval_atoms", "4", "-reference_score_type", "gaussian", "-reference_gaussian_mean", "0,0,0,0,0,0,0,0"], "-reference"),
       (["-samples", path("x0.h5"), "-reference", path("y0.h5"), "-eval_energy", "dw5"], "dw5")]
for opts, word in BAD:
    r = run("eval", opts + ["-quiet"], ok=False)
    lines = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
    good = r.returncode != 0 and len(lines) == 1 and lines[0].startswith("sgm: error:") and word in lines[0]
    check(f"bad input {word}", good, lines[0] if lines else "(no message)")
sys.exit(summary())
