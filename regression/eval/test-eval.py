"""
Verification of `sgm eval` (issue 7).  Every reference value is computed here with NumPy/SciPy
from the definitions (doc/eval.md), never from sgm output; sgm prints %.17g.

  metrics   X [3000,8] (a skewed, correlated cloud) against Y [2000,8] (Gaussian), and an
            equal-size pair [2000,8] vs [2000,8]: mean error, covariance error (numpy.cov), Frechet
            distance (scipy.linalg.sqrtm), sliced W2 (the directions written to the output with
            -eval_sw_write_directions, and also regenerated from philox_ref.py's Philox + Box-Muller
            for a few of them), unbiased MMD^2 with the median-heuristic bandwidth on the same
            deterministic subsample (scipy.spatial.distance), energy distance: 1e-8 relative
  closed    Frechet distance between N(m1, S1) and N(m2, S2) with S1, S2 = Q diag(a) Q^T, Q diag(b) Q^T
            (commuting, so FD = |m1 - m2|^2 + sum (sqrt a - sqrt b)^2), on data whose empirical
            mean and covariance are exactly m, S (whitened and recoloured): 1e-8 relative
  nll       gmm8 samples drawn here: mean NLL under -reference_score_type gmm (t = 0, the exact
            mixture density) against scipy.stats.multivariate_normal + logsumexp, 1e-10 relative;
            also without a reference set (NLL only)
  ranks     1, 2, 3 ranks: every metric bitwise equal except the Frechet distance (ScaLAPACK on
            another grid: 1e-12 relative); -dense_grid 1x2 vs 2x1 agree to 1e-12
  errors    bad input gives one sentence, exit status 1 and no output file

Usage: test-eval.py --sgm PATH --srcdir DIR --workdir DIR        (about 20 s on 2 cores)
"""
import argparse
import json
import os
import subprocess
import sys

import h5py
import numpy as np
from scipy import linalg, stats
from scipy.spatial.distance import cdist, pdist
from scipy.special import logsumexp

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
sys.path.insert(0, os.path.join(HERE, "..", "unit"))
from testkit import check, mpienv, summary  # noqa: E402
from philox_ref import philox4x32_10  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
ap.add_argument("--sgm", required=True)
ap.add_argument("--srcdir", required=True)
ap.add_argument("--workdir", required=True)
args = ap.parse_args()
W = args.workdir
GMM = os.path.join(args.srcdir, "input", "gmm8.h5")
ENV = mpienv()
TOL = 1e-8


def path(name):
    return os.path.join(W, name)


def run(cmd, ranks=1, ok=True):
    full = ([os.environ.get("MPIEXEC", "mpiexec"), "--oversubscribe", "-n", str(ranks)] if ranks > 1 else []) + [args.sgm, "eval"] + cmd
    r = subprocess.run(full, capture_output=True, text=True, env=ENV)
    if ok and r.returncode != 0:
        print(" ".join(full))
        print(r.stdout + r.stderr)
        raise SystemExit(1)
    return r


def metrics(cmd, ranks=1):
    r = run(cmd + ["-quiet"], ranks)
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    assert len(lines) == 1, r.stdout
    return json.loads(lines[0])


def write(name, dset, x):
    with h5py.File(path(name), "w") as f:
        f[dset] = x


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


# ---------------------------------------------------------------------------------------------
# Reference implementations
def ref_moments(x, y):
    mx, my, Sx, Sy = x.mean(0), y.mean(0), np.cov(x.T), np.cov(y.T)
    s1 = linalg.sqrtm(Sx)
    cm = linalg.sqrtm(s1 @ Sy @ s1).real
    fd = np.sum((mx - my) ** 2) + np.trace(Sx + Sy - 2 * cm)
    return {"mean_error": np.linalg.norm(mx - my), "cov_rel_error": np.linalg.norm(Sx - Sy) / np.linalg.norm(Sy), "frechet_distance": fd}


def w2_1d(a, b):
    """W2^2 of two 1-D empirical measures by the quantile functions, breakpoints merged."""
    a, b = np.sort(a), np.sort(b)
    n1, n2 = len(a), len(b)
    u = np.union1d(np.arange(1, n1 + 1) * n2, np.arange(1, n2 + 1) * n1)  # right ends, units 1/(n1 n2)
    width = np.diff(np.concatenate([[0], u]))
    ia, jb = (u - 1) // n2, (u - 1) // n1
    return np.sum(width * (a[ia] - b[jb]) ** 2) / (n1 * n2)


def ref_sliced(x, y, dirs):
    w = np.array([w2_1d(x @ t, y @ t) for t in dirs])
    return np.sqrt(w.mean()), w


def philox_direction(seed, p, d, stream=9):
    """theta_p of doc/eval.md from the independent Philox: Box-Muller pairs as src/sys/philox.c."""
    z = []
    for j in range((d + 1) // 2):
        c = np.array([j, 0, p & 0xFFFFFFFF, (p >> 32) ^ (stream << 24)], dtype=np.uint32)
        k = np.array([seed & 0xFFFFFFFF, seed >> 32], dtype=np.uint32)
        o = [int(v) for v in philox4x32_10(c, k)]
        u1 = (((o[0] << 32) | o[1]) >> 12) * 2.0**-52 + 2.0**-53
        u2 = (((o[2] << 32) | o[3]) >> 12) * 2.0**-52 + 2.0**-53
        r = np.sqrt(-2 * np.log(u1))
        z += [r * np.cos(2 * np.pi * u2), r * np.sin(2 * np.pi * u2)]
    z = np.array(z[:d])
    return z / np.linalg.norm(z)


def ref_pairs(x, y, M=1000):
    z = np.vstack([x, y])
    Nz = len(z)
    M = min(M, Nz)
    idx = (np.arange(M, dtype=np.int64) * Nz) // M
    h = np.median(pdist(z[idx]))
    g = 1 / (2 * h * h)
    n1, n2 = len(x), len(y)
    dxx, dyy, dxy = cdist(x, x), cdist(y, y), cdist(x, y)
    kxx, kyy, kxy = np.exp(-g * dxx**2), np.exp(-g * dyy**2), np.exp(-g * dxy**2)
    mmd = (kxx.sum() - np.trace(kxx)) / (n1 * (n1 - 1)) + (kyy.sum() - np.trace(kyy)) / (n2 * (n2 - 1)) - 2 * kxy.mean()
    en = 2 * dxy.mean() - dxx.sum() / (n1 * (n1 - 1)) - dyy.sum() / (n2 * (n2 - 1))
    return {"mmd2": mmd, "mmd_bandwidth": h, "energy_distance": en}


# ---------------------------------------------------------------------------------------------
rng = np.random.default_rng(20240607)
d = 8
A = rng.normal(size=(d, d)) / np.sqrt(d)
X = rng.gamma(2.0, 1.0, size=(3000, d)) @ A + 0.3  # skewed, correlated
Y = rng.normal(size=(2000, d)) * 1.2 + 1.5
Y2 = rng.normal(size=(2000, d)) @ A.T + 1.0
write("x.h5", "samples", X)
write("y.h5", "data", Y)
write("y2.h5", "samples", Y2)
with h5py.File(path("x2.h5"), "w") as f:
    f["pts"] = X[:2000]

for label, xf, yf, x, y, extra in [("3000 vs 2000", "x.h5", "y.h5", X, Y, []),
                                     ("2000 vs 2000", "x2.h5", "y2.h5", X[:2000], Y2, ["-samples_dataset", "pts"])]:
    out = path("e-" + xf)
    m = metrics(["-samples", path(xf), "-reference", path(yf), "-output", out, "-eval_sw_write_directions", "-eval_sw_projections", "200"] + extra)
    ref = ref_moments(x, y)
    ref.update(ref_pairs(x, y))
    with h5py.File(out, "r") as f:
        g = f["eval"]
        dirs, w2 = g["sw_directions"][()], g["sw_w2sq"][()]
        ok_attr = all(abs(g.attrs[k] - m[k]) == 0 for k in ref)
        formula = g.attrs["sw_formula"]
        formula = formula.decode() if isinstance(formula, bytes) else formula
        ok_mom = np.allclose(g["cov_samples"][()], np.cov(x.T), rtol=1e-12, atol=1e-14) and np.allclose(g["mean_reference"][()], y.mean(0), rtol=1e-12, atol=1e-14)
        prov = "options" in f.attrs and "git_revision" in f.attrs
    sw, w2ref = ref_sliced(x, y, dirs)
    ref["sliced_w2"] = sw
    for k, v in ref.items():
        check(f"metrics {label} {k}", rel(m[k], v) <= TOL, f"sgm {m[k]:.15g} vs NumPy/SciPy {v:.15g} (rel {rel(m[k], v):.1e} <= {TOL:g})")
    check(f"metrics {label} sw per direction", np.max(np.abs(w2 - w2ref) / w2ref) <= TOL, f"max rel {np.max(np.abs(w2 - w2ref) / w2ref):.1e}; formula '{formula}'")
    pd = np.array([philox_direction(0, p, d) for p in (0, 1, 77, 199)])
    check(f"metrics {label} directions", np.max(np.abs(pd - dirs[[0, 1, 77, 199]])) <= 1e-13, f"theta_p from philox_ref.py vs written: max diff {np.max(np.abs(pd - dirs[[0, 1, 77, 199]])):.1e}")
    check(f"metrics {label} file", ok_attr and ok_mom and prov, "/eval attributes = JSON values, /eval moments = numpy, provenance attributes present")

# ---------------------------------------------------------------------------------------------
# closed form: exact empirical moments by whitening and recolouring
Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
a, b = rng.uniform(0.2, 3, d), rng.uniform(0.2, 3, d)
m1, m2 = rng.normal(size=d), rng.normal(size=d)


def exact_moments(n, m, S):
    z = rng.normal(size=(n, d))
    z -= z.mean(0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T))).T  # cov(z) = I
    return m + z @ np.linalg.cholesky(S).T


S1, S2 = Q @ np.diag(a) @ Q.T, Q @ np.diag(b) @ Q.T
write("g1.h5", "samples", exact_moments(1500, m1, S1))
write("g2.h5", "data", exact_moments(1200, m2, S2))
fd_closed = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
m = metrics(["-samples", path("g1.h5"), "-reference", path("g2.h5"), "-eval_pairwise", "false", "-eval_sw_projections", "10"])
check("closed Frechet", rel(m["frechet_distance"], fd_closed) <= TOL, f"sgm {m['frechet_distance']:.15g} vs closed form {fd_closed:.15g} (rel {rel(m['frechet_distance'], fd_closed):.1e})")
check("closed no pair metrics", "mmd2" not in m and "energy_distance" not in m, "-eval_pairwise false skips MMD and energy")

# ---------------------------------------------------------------------------------------------
# NLL under the gmm8 mixture at t = 0
with h5py.File(GMM, "r") as f:
    wk, mu, cov = f["weights"][()], f["means"][()], f["covariances"][()]
comp = rng.choice(len(wk), size=2500, p=wk)
G = mu[comp] + np.einsum("nij,nj->ni", np.linalg.cholesky(cov)[comp], rng.normal(size=(2500, 2)))
G2 = mu[rng.choice(len(wk), size=1800, p=wk)] + 0.6 * rng.normal(size=(1800, 2))  # too wide
write("gmm.h5", "samples", G2)
write("gref.h5", "data", G)


def nll_ref(x):
    lp = logsumexp(np.stack([np.log(w) + stats.multivariate_normal(mu[k], cov[k]).logpdf(x) for k, w in enumerate(wk)]), axis=0)
    return -lp.mean(), lp.std(ddof=1) / np.sqrt(len(x))


dens = ["-reference_score_type", "gmm", "-reference_gmm_file", GMM]
m = metrics(["-samples", path("gmm.h5"), "-reference", path("gref.h5")] + dens, ranks=2)
for key, x in [("nll", G2), ("nll_reference", G)]:
    v, se = nll_ref(x)
    check(f"nll {key}", rel(m[key], v) <= 1e-10 and rel(m[key + "_se"], se) <= 1e-8, f"sgm {m[key]:.15g} +- {m[key + '_se']:.3g} vs SciPy {v:.15g} +- {se:.3g}")
ref = ref_moments(G2, G)
ref.update(ref_pairs(G2, G))
check("nll gmm8 metrics", all(rel(m[k], v) <= TOL for k, v in ref.items()), ", ".join(f"{k} rel {rel(m[k], v):.1e}" for k, v in ref.items()))
m = metrics(["-samples", path("gmm.h5")] + dens)
check("nll density only", set(k for k in m if k in ("nll", "frechet_distance", "sliced_w2")) == {"nll"} and rel(m["nll"], nll_ref(G2)[0]) <= 1e-10, f"without -reference: nll {m['nll']:.10g}, no set metrics")

# ---------------------------------------------------------------------------------------------
# rank and grid independence
base = ["-samples", path("x.h5"), "-reference", path("y.h5"), "-eval_sw_projections", "300"]
one = metrics(base)
keys = [k for k in one if isinstance(one[k], float) and k not in ("wall_time_seconds", "frechet_distance")]
for p in (2, 3):
    mp = metrics(base, ranks=p)
    same = all(mp[k] == one[k] for k in keys)
    check(f"ranks {p} vs 1", same and rel(mp["frechet_distance"], one["frechet_distance"]) <= 1e-12,
          f"bitwise equal: {', '.join(keys)}; Frechet rel {rel(mp['frechet_distance'], one['frechet_distance']):.1e} <= 1e-12")
g12 = metrics(base + ["-eval_pairwise", "false", "-dense_grid", "1x2", "-dense_block", "2"], ranks=2)
g21 = metrics(base + ["-eval_pairwise", "false", "-dense_grid", "2x1", "-dense_block", "2"], ranks=2)
check("grid 1x2 vs 2x1", rel(g12["frechet_distance"], g21["frechet_distance"]) <= 1e-12 and rel(g12["frechet_distance"], one["frechet_distance"]) <= 1e-12,
      f"{g12['frechet_distance']:.17g} vs {g21['frechet_distance']:.17g} (block 2, so both grids hold off-diagonal blocks)")

# ---------------------------------------------------------------------------------------------
# bad input: one sentence, exit 1, no output file
write("nan.h5", "samples", np.where(np.arange(3000)[:, None] == 17, np.nan, X))
write("one.h5", "samples", X[:1])
write("d3.h5", "data", Y[:, :3])
out = path("bad.h5")
cases = [
    ("missing file", ["-samples", path("nope.h5"), "-reference", path("y.h5")], "does not exist"),
    ("missing dataset", ["-samples", path("x.h5"), "-samples_dataset", "zz", "-reference", path("y.h5")], "no dataset 'zz'"),
    ("no default dataset", ["-samples", path("y.h5"), "-reference", path("y.h5")], "no dataset /samples"),
    ("dimension", ["-samples", path("x.h5"), "-reference", path("d3.h5")], "dimension 8 but the reference set has dimension 3"),
    ("one point", ["-samples", path("one.h5"), "-reference", path("y.h5")], "at least 2"),
    ("NaN", ["-samples", path("nan.h5"), "-reference", path("y.h5")], "row 17"),
    ("no reference", ["-samples", path("x.h5")], "Give a reference set"),
    ("no samples", ["-reference", path("y.h5")], "-samples FILE.h5"),
    ("density dimension", ["-samples", path("x.h5")] + dens, "reference density has dimension 2"),
    ("unknown density", ["-samples", path("gmm.h5"), "-reference_score_type", "gmn"], "Unknown score type 'gmn'"),
    ("misspelt", ["-samples", path("x.h5"), "-reference", path("y.h5"), "-eval_sw_projection", "5"], "unknown option"),
    ("projections", ["-samples", path("x.h5"), "-reference", path("y.h5"), "-eval_sw_projections", "0"], "at least 1"),
]
for i, (name, cmd, want) in enumerate(cases):
    r = run(cmd + ["-output", out], ranks=2 if i % 3 == 0 else 1, ok=False)  # a third on 2 ranks
    errs = [l for l in r.stderr.splitlines() if l.startswith("sgm: error:")]  # not mpiexec's notes
    msg = errs[0] if errs else r.stderr.strip()
    one_line = len(errs) == 1
    check(f"errors {name}", r.returncode == 1 and one_line and want in msg and not os.path.exists(out) and not os.path.exists(out + ".partial"),
          f"exit {r.returncode}: {msg[:160]}")
write("exists.h5", "x", np.zeros(1))
r = run(["-samples", path("x.h5"), "-reference", path("y.h5"), "-output", path("exists.h5")], ok=False)
check("errors existing output", r.returncode == 1 and "exists" in r.stderr, r.stderr.strip()[:160])

sys.exit(summary())
