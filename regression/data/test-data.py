#!/usr/bin/env python3
"""
Verification of `sgm data`, the built-in 2-D toy datasets (issue 6, doc/data.md).

1. Law.  For each dataset, N = 10^5 points of `sgm data` (2 ranks) against N = 10^5 points of the
   independent NumPy reimplementation regression/data/toys.py (NumPy's generator, FFJORD's
   formulation).  Two-sample statistics, each a z-score whose standard error comes from the two
   samples (SE^2 = var_a/N_a + var_b/N_b):
     - the means of both coordinates and the covariance entries c00, c01, c11 (as means of the
       products of centred coordinates),
     - for labelled datasets the frequency of every label (binomial SE), and per label the means
       and covariance entries (which also checks what a label means),
   all within ZMAX = 5; and a two-sample Kolmogorov-Smirnov test on each coordinate with p >= P_MIN
   = 1e-4 (asymptotic Kolmogorov distribution with the Stephens/Numerical Recipes correction).
   With about 180 z-scores and 12 KS tests, a correct implementation fails with probability
   below 2e-3; the seeds are fixed, so the outcome is reproducible.
2. The reimplementation against the literature's own recipe: for swissroll, moons and circles,
   toys.py against sklearn's make_swiss_roll / make_moons / make_circles as FFJORD calls them
   (same statistics).  Skipped with a note if sklearn is missing.
3. Sensitivity: the same comparison against a deliberately wrong definition must fail (moons noise
   0.1 -> 0.13, 8gaussians std 0.5 -> 0.53, pinwheel rate 0.25 -> 0.27, checkerboard shifted by
   0.05): the test shows the statistic that rejects it.  At N = 10^5 the resolution is about a 20%
   change of the moons noise and a 4% change of the 8gaussians std (per-label covariances, z ~ 5).
4. 8gaussians is the mixture of input/gmm8.h5: per component (= /labels) the mean within 5 SE of
   the file's mean (SE = sigma/sqrt(n_k)), the standard deviations within 5 SE of the file's
   (SE = sigma/sqrt(2 n_k)), the correlation within 5/sqrt(n_k) of 0, the weight within 5 binomial
   SE of the file's weight.
5. /data and /labels are bitwise identical on 1, 2 and 3 ranks (N = 1001, every dataset), and with
   a rank that owns no point (N = 2 on 3 ranks).
6. Attributes: dataset, seed, n, nclasses, sgm_version, the param_* of the definition.
7. Bad inputs (-n -5, -n 0, unknown dataset, no -dataset, output directory missing, a misspelt
   option): non-zero exit status, exactly one line "sgm: error: ..." on stderr, no file left behind.

Usage: test-data.py --sgm PATH/src/sgm [--workdir DIR] [--srcdir DIR]
Prints one line per check and "N passed, M failed"; exit status 1 on failure.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "reference"))
import toys  # noqa: E402
from testkit import check, mpienv, summary  # noqa: E402

ZMAX = 5.0
P_MIN = 1e-4
N = 100000
SEED_SGM, SEED_REF = 7, 20240607
DATASETS = ["swissroll", "moons", "checkerboard", "8gaussians", "pinwheel", "circles"]


def run_sgm(args, nranks=1):
    pre = ["mpiexec", "--oversubscribe", "-n", str(nranks)] if nranks > 1 else []
    return subprocess.run(pre + [ARGS.sgm, "data"] + args, capture_output=True, text=True, env=mpienv(), cwd=ARGS.workdir,
                          timeout=300)


def sgm_data(name, n, seed, out, nranks=1):
    r = run_sgm(["-dataset", name, "-n", str(n), "-seed", str(seed), "-output", out, "-overwrite", "-quiet"], nranks)
    if r.returncode:
        sys.stderr.write(r.stdout + r.stderr)
        raise SystemExit(f"sgm data -dataset {name} failed")
    with h5py.File(out, "r") as f:
        x = f["data"][:]
        lab = f["labels"][:] if "labels" in f else None
        attrs = dict(f.attrs)
    return x, lab, attrs


def ks_pvalue(a, b):
    """Two-sample Kolmogorov-Smirnov statistic D and its asymptotic p-value."""
    a, b = np.sort(a), np.sort(b)
    allv = np.concatenate([a, b])
    d = np.max(np.abs(np.searchsorted(a, allv, side="right") / len(a) - np.searchsorted(b, allv, side="right") / len(b)))
    ne = len(a) * len(b) / (len(a) + len(b))
    lam = (np.sqrt(ne) + 0.12 + 0.11 / np.sqrt(ne)) * d
    k = np.arange(1, 101)
    p = 2 * np.sum((-1.0) ** (k - 1) * np.exp(-2 * k * k * lam * lam))
    return d, float(min(max(p, 0.0), 1.0))


def zdiff(va, vb):
    """z-score of mean(va) - mean(vb) for two independent samples of values."""
    se = np.sqrt(va.var() / len(va) + vb.var() / len(vb))
    return (va.mean() - vb.mean()) / se if se > 0 else (0.0 if va.mean() == vb.mean() else np.inf)


def compare(a, la, b, lb, nclasses):
    """([(statistic, z)], [(coordinate, D, p)]) of two samples a, b [n,2] with labels."""
    zs = []
    for j in range(2):
        zs.append((f"mean{j}", zdiff(a[:, j], b[:, j])))
    ca, cb = a - a.mean(0), b - b.mean(0)
    for i, j in [(0, 0), (0, 1), (1, 1)]:
        zs.append((f"cov{i}{j}", zdiff(ca[:, i] * ca[:, j], cb[:, i] * cb[:, j])))
    for k in range(nclasses):
        ia, ib = la == k, lb == k
        zs.append((f"freq{k}", zdiff(ia.astype(float), ib.astype(float))))
        if ia.sum() > 1 and ib.sum() > 1:
            ak, bk = a[ia], b[ib]
            for j in range(2):
                zs.append((f"class{k}.mean{j}", zdiff(ak[:, j], bk[:, j])))
            ak, bk = ak - ak.mean(0), bk - bk.mean(0)
            for i, j in [(0, 0), (0, 1), (1, 1)]:
                zs.append((f"class{k}.cov{i}{j}", zdiff(ak[:, i] * ak[:, j], bk[:, i] * bk[:, j])))
        else:
            zs.append((f"class{k}.empty", np.inf))
    ks = [(j,) + ks_pvalue(a[:, j], b[:, j]) for j in range(2)]
    return zs, ks


def verdict(zs, ks):
    """(passes, one-line summary): all |z| <= ZMAX and all KS p >= P_MIN."""
    name, zmax = max(zs, key=lambda t: abs(t[1]))
    pmin = min(p for _, _, p in ks)
    dmax = max(d for _, d, _ in ks)
    ok = abs(zmax) <= ZMAX and pmin >= P_MIN
    return ok, f"max |z| = {abs(zmax):.2f} ({name}, {len(zs)} statistics, limit {ZMAX:g}); KS D = {dmax:.4f}, min p = {pmin:.3g} (limit {P_MIN:g})"


def check_law(tmp):
    sgmx = {}
    for name in DATASETS:
        x, lab, _ = sgm_data(name, N, SEED_SGM, os.path.join(tmp, f"{name}.h5"), nranks=2)
        sgmx[name] = (x, lab)
        y, ly = toys.draw(name, N, SEED_REF)
        ok, msg = verdict(*compare(x, lab, y, ly, toys.NCLASSES[name]))
        check(f"law {name}", ok, f"sgm data vs toys.py, N = {N} each: {msg}")
    return sgmx


def check_literature():
    for name in ["swissroll", "moons", "circles"]:
        ref = toys.sklearn_reference(name, N, 5)
        if ref is None:
            print(f"NOTE literature {name}: sklearn is not installed, comparison skipped")
            continue
        y, ly = toys.draw(name, N, SEED_REF + 1)
        ok, msg = verdict(*compare(y, ly, ref[0], ref[1], toys.NCLASSES[name]))
        check(f"literature {name}", ok, f"toys.py vs sklearn's recipe (FFJORD), N = {N} each: {msg}")


def check_sensitivity(sgmx):
    wrong = [("moons", {"noise": 0.13}, "noise 0.1 -> 0.13"),
             ("8gaussians", {"std": 0.53}, "std 0.5 -> 0.53"),
             ("pinwheel", {"rate": 0.27}, "rate 0.25 -> 0.27")]
    for name, override, what in wrong:
        x, lab = sgmx[name]
        y, ly = toys.draw(name, N, SEED_REF, **override)
        ok, msg = verdict(*compare(x, lab, y, ly, toys.NCLASSES[name]))
        check(f"sensitivity {name}", not ok, f"against a wrong definition ({what}) the comparison must fail: {msg}")
    x, lab = sgmx["checkerboard"]
    y, ly = toys.draw("checkerboard", N, SEED_REF)
    ok, msg = verdict(*compare(x, lab, y + np.array([0.05, 0.0]), ly, 8))
    check("sensitivity checkerboard", not ok, f"against the board shifted by 0.05 the comparison must fail: {msg}")


def check_gmm8(x, lab):
    with h5py.File(os.path.join(ARGS.srcdir, "input", "gmm8.h5"), "r") as f:
        means, covs, weights = f["means"][:], f["covariances"][:], f["weights"][:]
    worst, where = 0.0, ""
    for k in range(len(weights)):
        xk = x[lab == k]
        nk = len(xk)
        sd = np.sqrt(np.diag(covs[k]))
        z = [(wz, f"component {k} mean{j}") for j, wz in enumerate((xk.mean(0) - means[k]) / (sd / np.sqrt(nk)))]
        z += [(wz, f"component {k} std{j}") for j, wz in enumerate((xk.std(0, ddof=1) - sd) / (sd / np.sqrt(2 * nk)))]
        z.append((np.corrcoef(xk.T)[0, 1] * np.sqrt(nk), f"component {k} correlation"))
        z.append(((nk / len(x) - weights[k]) / np.sqrt(weights[k] * (1 - weights[k]) / len(x)), f"component {k} weight"))
        for wz, w in z:
            if abs(wz) > abs(worst):
                worst, where = wz, w
    offdiag = max(abs(c[0, 1]) for c in covs)
    check("8gaussians = input/gmm8.h5", abs(worst) <= ZMAX and offdiag == 0,
          f"8 components x (2 means, 2 stds, correlation, weight) against the file, N = {len(x)}: max |z| = {abs(worst):.2f} ({where}), limit {ZMAX:g}")


def check_bitwise(tmp):
    for name in DATASETS:
        runs = [sgm_data(name, 1001, 3, os.path.join(tmp, f"bit{p}.h5"), nranks=p) for p in (1, 2, 3)]
        same = all(np.array_equal(r[0].view(np.uint64), runs[0][0].view(np.uint64)) for r in runs)
        if runs[0][1] is not None:
            same = same and all(np.array_equal(r[1], runs[0][1]) for r in runs)
        check(f"bitwise {name}", same, "/data" + (" and /labels" if runs[0][1] is not None else "") + " identical on 1, 2 and 3 ranks (N = 1001)")
    for name in ("moons", "swissroll"):  # a rank with no rows still enters every collective write
        one, three = (sgm_data(name, 2, 3, os.path.join(tmp, f"few{p}.h5"), nranks=p) for p in (1, 3))
        same = np.array_equal(one[0], three[0]) and (one[1] is None or np.array_equal(one[1], three[1]))
        check(f"empty rank {name}", same, "N = 2 on 3 ranks (one rank without points) equals 1 rank")


def check_attributes(tmp):
    out = os.path.join(tmp, "attrs.h5")
    _, lab, a = sgm_data("pinwheel", 10, 11, out)
    want = {"dataset": "pinwheel", "seed": 11, "n": 10, "nclasses": 5, "param_arms": 5, "param_radial_std": 0.3,
            "param_tangential_std": 0.1, "param_rate": 0.25, "param_scale": 2.0}
    bad = [k for k, v in want.items() if k not in a or (a[k].decode() if isinstance(a[k], bytes) else a[k]) != v]
    bad += [k for k in ("sgm_version", "definition", "description") if k not in a]
    ok = not bad and lab is not None and lab.dtype.kind == "i" and lab.shape == (10,)
    check("attributes", ok, "dataset, seed, n, nclasses, param_*, sgm_version, definition; integer /labels [N]" + (f"; wrong or missing: {bad}" if bad else ""))
    _, lab, a = sgm_data("swissroll", 10, 0, out)
    check("swissroll has no labels", lab is None and a["nclasses"] == 0, "no /labels dataset, nclasses = 0")


def check_bad_inputs(tmp):
    cases = [("n negative", ["-dataset", "moons", "-n", "-5"], "positive"),
             ("n zero", ["-dataset", "moons", "-n", "0"], "positive"),
             ("unknown dataset", ["-dataset", "spirals", "-n", "10"], "Unknown dataset 'spirals'"),
             ("no dataset", ["-n", "10"], "No dataset given"),
             ("output directory missing", ["-dataset", "moons", "-n", "10", "-output", os.path.join(tmp, "nodir", "x.h5")], "directory"),
             ("misspelt option", ["-dataset", "moons", "-n", "10", "-seeed", "3"], "-seeed")]
    for what, args, expect in cases:
        out = os.path.join(tmp, "bad.h5")
        if "-output" not in args:
            args = args + ["-output", out]
        target = args[args.index("-output") + 1]
        for nranks in (1, 2):
            r = run_sgm(args, nranks)
            lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
            if nranks > 1 and "-" * 20 in "\n".join(lines):  # mpiexec's own report of the exit status follows
                lines = lines[:next(i for i, ln in enumerate(lines) if ln.startswith("-" * 20))]
            left = [p for p in (target, target + ".partial") if os.path.exists(p)]
            ok = r.returncode != 0 and len(lines) == 1 and lines[0].startswith("sgm: error:") and expect in lines[0] and not left
            check(f"bad input: {what} ({nranks} rank{'s' if nranks > 1 else ''})", ok,
                  f"exit {r.returncode}, stderr {lines!r}" + (f", left behind {left}" if left else ", no file"))


def main():
    with tempfile.TemporaryDirectory(prefix="sgm-data-") as tmp:
        sgmx = check_law(tmp)
        check_literature()
        check_sensitivity(sgmx)
        check_gmm8(*sgmx["8gaussians"])
        check_bitwise(tmp)
        check_attributes(tmp)
        check_bad_inputs(tmp)
    return summary()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sgm", required=True)
    ap.add_argument("--workdir", default=os.getcwd())
    ap.add_argument("--srcdir", default=os.path.join(HERE, "..", ".."))
    ARGS = ap.parse_args()
    ARGS.sgm = os.path.abspath(ARGS.sgm)
    sys.exit(main())
