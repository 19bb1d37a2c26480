"""
Sample quality of trained score networks (issue 6), run by `make check-long`.  The reference
numbers are NumPy/SciPy computations written here from the definitions, never sgm output:

  checkerboard  `sgm train -options_file input/train_checkerboard.opts` on 10^5 points of `sgm data
                -dataset checkerboard` (seed 1); 10^4 samples (Euler-Maruyama, 1000 steps, 2 ranks).
                The sliced Wasserstein-2 distance
                    SW2(X, Y) = ( mean_k W2^2(<X, th_k>, <Y, th_k>) )^(1/2),
                1000 fixed random directions th_k, exact 1-D W2 between equal-size empirical sets
                (sorted projections), between the samples and 10^4 FRESH data points (seed 11) must be
                within 2x the data-vs-data floor: the mean SW2 over the 10 pairs of 5 independent
                fresh sets of 10^4 (seeds 11..15), spread reported.  Also reported, not checked: the
                probability-flow ODE (rk 5dp) samples, and the mean over the 5 fresh sets.
  digits        `sgm train -options_file input/train_digits.opts` (class-conditional, label dropout
                0.1) on the 1500 training images of postprocess/sgm-digits; 1797 samples with
                classifier-free guidance at gamma = 1 and 3, as many per class as the 1797 UCI images
                have.  Frechet distance in pixel space (64-D, pixels in [-1, 1])
                    FD = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1^(1/2) S2 S1^(1/2))^(1/2))
                (the trace of sqrtm(S1 S2), computed from symmetric eigendecompositions because a
                few corner pixels are constant and make S1 S2 singular) between the samples and the
                297 test images, next to the floor FD(1500 train, 297 test) and, for the sample-size
                bias of the FD, FD between two random disjoint halves of the 1797 images.
                Checks: at gamma = 1 (the class-conditional law) FD(samples, test) < 3 x floor and below
                the FD of the unguided samples of the trained network; at both scales below the FD of
                the samples of the untrained network (step 0), and the guided samples recognised as
                the class asked for by an SVM trained on the training images (> 80%; it gets 99.7%
                of the test images).  Stronger guidance trades diversity for class fidelity, so the
                FD at gamma = 3 is reported, not bounded.  Also reported: the median distance of a
                sample to its nearest training image against that of a test image (memorisation).
                Draws doc/training-digits.png (10 samples per class, one row per class).
  8gaussians    nothing here: test-train.py --long checks the learned score against the exact one
                (5% relative L2) and the samples per mode (5 standard errors).

Usage: quality.py --sgm src/sgm --srcdir DIR --digits postprocess/sgm-digits [--workdir DIR]
                  [--figures DIR] [--only checkerboard|digits] [--mpiexec mpiexec]
About 12 minutes on 2 cores; each phase prints its wall time.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
from testkit import check, mpienv, summary  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
ap.add_argument("--sgm", required=True)
ap.add_argument("--srcdir", required=True)
ap.add_argument("--digits", required=True, help="the configured postprocess/sgm-digits")
ap.add_argument("--workdir", help="keep the files here (default: a temporary directory, removed at the end)")
ap.add_argument("--figures", help="write training-checkerboard.png and training-digits.png here (default: the work directory)")
ap.add_argument("--only", choices=("checkerboard", "digits"))
ap.add_argument("--mpiexec", default=os.environ.get("MPIEXEC", "mpiexec"))
args = ap.parse_args()
W = args.workdir or tempfile.mkdtemp(prefix="sgm-quality.", dir=os.getcwd())
os.makedirs(W, exist_ok=True)
FIG = args.figures or W
INPUT = os.path.join(args.srcdir, "input")
ENV = mpienv()
T0 = time.time()


def path(name):
    return os.path.join(W, name)


def run(cmd, ranks=2):
    full = ([args.mpiexec, "--oversubscribe", "-n", str(ranks)] if ranks > 1 else []) + cmd
    t = time.time()
    r = subprocess.run(full, capture_output=True, text=True, env=ENV)
    if r.returncode != 0:
        print(" ".join(full))
        print(r.stdout + r.stderr)
        raise SystemExit(1)
    return time.time() - t


def sgm(cmd, ranks=2):
    return run([args.sgm] + cmd, ranks)


def read(fname, name):
    with h5py.File(fname, "r") as f:
        return f[name][()]


def info(msg):
    print(f"     {msg}", flush=True)


def checkerboard():
    # Directions for every SW2 below: the same 1000, so the floor and the samples see the same projections
    rng = np.random.default_rng(20240601)
    th = rng.standard_normal((2, 1000))
    th /= np.linalg.norm(th, axis=0)

    def sw2(x, y):
        px, py = np.sort(x @ th, axis=0), np.sort(y @ th, axis=0)
        return np.sqrt(np.mean((px - py) ** 2))

    t = sgm(["data", "-dataset", "checkerboard", "-n", "100000", "-seed", "1", "-output", path("cb-train.h5"), "-overwrite", "-quiet"])
    fresh = []
    for s in range(11, 16):
        t += sgm(["data", "-dataset", "checkerboard", "-n", "10000", "-seed", str(s), "-output", path(f"cb-fresh{s}.h5"), "-overwrite", "-quiet"])
        fresh.append(read(path(f"cb-fresh{s}.h5"), "data"))
    info(f"checkerboard data: 10^5 training points (seed 1), 5 fresh sets of 10^4 (seeds 11..15), {t:.0f} s")
    model = path("cb-model.h5")
    t = sgm(["train", "-options_file", os.path.join(INPUT, "train_checkerboard.opts"), "-train_data", path("cb-train.h5"),
             "-output", model, "-overwrite", "-quiet"])
    L = read(model, "train/loss")
    info(f"checkerboard training: {len(L)} steps, 2 ranks, {t:.0f} s; loss first/last 100 steps {L[:100].mean():.3f} / {L[-100:].mean():.3f}")

    floor = np.array([sw2(fresh[i], fresh[j]) for i in range(5) for j in range(i + 1, 5)])
    SAMPLERS = {"em": ["-sampler_type", "em", "-sampler_steps", "1000"],
                "ode": ["-sampler_type", "ode", "-ts_type", "rk", "-ts_rk_type", "5dp", "-ts_adapt_type", "basic", "-ts_rtol", "1e-4", "-ts_atol", "1e-4"]}
    res = {}
    for name, opt in SAMPLERS.items():
        out = path(f"cb-samples-{name}.h5")
        t = sgm(["sample", "-score_type", "mlp", "-score_file", model, "-nsamples", "10000", "-seed", "3", "-output", out, "-overwrite", "-quiet"] + opt)
        x = read(out, "samples")
        res[name] = (x, np.array([sw2(x, y) for y in fresh]), t)
    fl = floor.mean()
    info(f"data-vs-data floor: SW2 of 2 independent sets of 10^4, 10 pairs: mean {fl:.4f}, std {floor.std(ddof=1):.4f}, "
         f"min {floor.min():.4f}, max {floor.max():.4f}")
    x, sw, t = res["ode"]
    info(f"probability-flow ODE (rk 5dp, rtol = atol = 1e-4): SW2 to the fresh set (seed 11) {sw[0]:.4f} = {sw[0] / fl:.2f} x floor; "
         f"mean over the 5 fresh sets {sw.mean():.4f}; sampling {t:.0f} s (not checked)")
    x, sw, t = res["em"]
    check("checkerboard SW2", sw[0] <= 2 * fl,
          f"10^4 samples (em, 1000 steps, seed 3) vs 10^4 fresh points (seed 11): SW2 {sw[0]:.4f} = {sw[0] / fl:.2f} x floor {fl:.4f} "
          f"(<= 2); mean over the 5 fresh sets {sw.mean():.4f}; sampling {t:.0f} s")
    plot_checkerboard(fresh[0], x, res["ode"][0])


def plot_checkerboard(data, em, ode):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.7))
    for ax, x, title in zip(axes, (data, em, ode), ("data (fresh, seed 11)", "samples: em, 1000 steps", "samples: ODE rk 5dp")):
        ax.scatter(x[:, 0], x[:, 1], s=0.2, alpha=0.4, color="k", linewidths=0, rasterized=True)
        ax.set(xlim=(-4.6, 4.6), ylim=(-4.6, 4.6), aspect="equal", xticks=[-4, 0, 4], yticks=[-4, 0, 4])
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(FIG, "training-checkerboard.png"), dpi=80)


def frechet(a, b):
    """FD between the Gaussians fitted to the rows of a and b."""
    m1, m2 = a.mean(axis=0), b.mean(axis=0)
    S1, S2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, V = np.linalg.eigh(S1)
    r1 = (V * np.sqrt(np.clip(w, 0, None))) @ V.T  # S1^(1/2)
    e = np.linalg.eigvalsh(r1 @ S2 @ r1)  # Tr sqrtm(S1 S2) = Tr (S1^(1/2) S2 S1^(1/2))^(1/2)
    return float(((m1 - m2) ** 2).sum() + np.trace(S1) + np.trace(S2) - 2 * np.sqrt(np.clip(e, 0, None)).sum())


def digits():
    import scipy.linalg
    from sklearn.svm import SVC

    t = run([args.digits, "--outdir", W, "--overwrite"], 1)
    xtr, ytr = read(path("digits-train.h5"), "data"), read(path("digits-train.h5"), "labels")
    xte, yte = read(path("digits-test.h5"), "data"), read(path("digits-test.h5"), "labels")
    counts = np.bincount(np.concatenate([ytr, yte]), minlength=10)  # per class as in the 1797 images
    info(f"digits data: {len(xtr)} training and {len(xte)} test images, {t:.0f} s")

    # The harness: this FD agrees with the textbook formula through scipy.linalg.sqrtm where that works
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((400, 8)) @ rng.standard_normal((8, 8)), rng.standard_normal((300, 8)) + 0.3
    S1, S2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ref = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(S1 + S2 - 2 * scipy.linalg.sqrtm(S1 @ S2).real)
    check("FD harness", abs(frechet(a, b) - ref) < 1e-9 * abs(ref), f"eigendecomposition FD {frechet(a, b):.12f} vs scipy.linalg.sqrtm {ref:.12f}")

    floor = frechet(xtr, xte)
    xall = np.vstack([xtr, xte])
    halves = []
    for _ in range(10):
        p = rng.permutation(len(xall))
        halves.append(frechet(xall[p[:898]], xall[p[898:1796]]))
    same = []
    for _ in range(10):
        p = rng.permutation(len(xall))
        same.append(frechet(xall[p[:1500]], xall[p[1500:]]))
    info(f"floor FD(1500 train, 297 test) = {floor:.3f}; random 1500/297 splits of the 1797: {np.mean(same):.3f} +- {np.std(same, ddof=1):.3f}; "
         f"random halves 898/898: {np.mean(halves):.3f} +- {np.std(halves, ddof=1):.3f} (10 each; FD's sample-size bias; "
         f"total pixel variance {np.trace(np.cov(xte, rowvar=False)):.1f})")

    def nearest(x, ref):
        """Euclidean distance of each row of x to its nearest row of ref (memorisation would give ~0)."""
        d2 = (x ** 2).sum(1)[:, None] + (ref ** 2).sum(1)[None] - 2 * x @ ref.T
        return np.sqrt(np.clip(d2.min(axis=1), 0, None))

    nn_test = np.median(nearest(xte, xtr))
    svm = SVC().fit(xtr, ytr)
    info(f"SVM (sklearn SVC, RBF) trained on the 1500 training images: {100 * svm.score(xte, yte):.1f}% of the test images right")

    model = path("digits-model.h5")
    t = sgm(["train", "-options_file", os.path.join(INPUT, "train_digits.opts"), "-train_data", path("digits-train.h5"),
             "-output", model, "-overwrite", "-quiet"])
    L = read(model, "train/loss")
    info(f"digits training: {len(L)} steps, 2 ranks, {t:.0f} s; loss first/last 100 steps {L[:100].mean():.3f} / {L[-100:].mean():.3f}")
    untrained = path("digits-model0.h5")
    sgm(["train", "-options_file", os.path.join(INPUT, "train_digits.opts"), "-train_data", path("digits-train.h5"),
         "-train_steps", "0", "-output", untrained, "-overwrite", "-quiet"])

    SAMPLER = ["-sampler_type", "em", "-sampler_steps", "500"]

    def draw(score_file, guide, tag):
        """1797 samples, counts[y] of class y (guide: cfg options without -class, or None: unguided)."""
        t, xs = time.time(), []
        if guide is None:
            out = path(f"digits-{tag}.h5")
            sgm(["sample", "-score_type", "mlp", "-score_file", score_file, "-nsamples", str(counts.sum()), "-seed", "7",
                 "-output", out, "-overwrite", "-quiet"] + SAMPLER)
            return read(out, "samples"), None, time.time() - t
        for y in range(10):
            out = path(f"digits-{tag}-{y}.h5")
            sgm(["sample", "-score_type", "mlp", "-score_file", score_file, "-class", str(y), "-nsamples", str(counts[y]),
                 "-seed", str(100 + y), "-output", out, "-overwrite", "-quiet"] + guide + SAMPLER)
            xs.append(read(out, "samples"))
        return np.vstack(xs), np.repeat(np.arange(10), counts), time.time() - t

    x0, _, t = draw(untrained, None, "untrained")
    fd0 = frechet(x0, xte)
    info(f"untrained network (0 steps), unguided: FD to test {fd0:.3f} ({t:.0f} s)")
    xu, _, t = draw(model, None, "unguided")
    fdu = frechet(xu, xte)
    info(f"trained network, unguided (null label): FD to test {fdu:.3f}, to train {frechet(xu, xtr):.3f}, "
         f"SVM classes {np.bincount(svm.predict(xu), minlength=10).tolist()} ({t:.0f} s)")
    grid = None
    for gamma in ("1", "3"):
        x, y, t = draw(model, ["-guidance", "cfg", "-guidance_scale", gamma], f"cfg{gamma}")
        fd = frechet(x, xte)
        acc = (svm.predict(x) == y).mean()
        nn = np.median(nearest(x, xtr))
        if gamma == "1":  # the class-conditional law itself: close to the data
            ok, bound = fd < 3 * floor and fd < fd0 and fd < fdu and acc > 0.8, f"< 3 x floor {floor:.3f}, < unguided {fdu:.3f}, "
        else:  # stronger guidance trades diversity for class fidelity: the FD rises, only sanity is checked
            ok, bound = fd < fd0 and acc > 0.8, ""
        check(f"digits cfg gamma {gamma}", ok,
              f"{len(x)} samples (em, 500 steps): FD to test {fd:.3f} = {fd / floor:.2f} x floor ({bound}< untrained {fd0:.3f}); "
              f"FD to train {frechet(x, xtr):.3f}; SVM recognises {100 * acc:.1f}% as the class asked for (> 80%); "
              f"median distance to the nearest training image {nn:.2f} (test images: {nn_test:.2f}); sampling {t:.0f} s")
        if gamma == "1":
            grid = np.vstack([x[y == k][:10] for k in range(10)])
    gfile = path("digits-cfg1-10-per-class.h5")
    with h5py.File(gfile, "w") as f:
        f["samples"] = grid
        f["labels"] = np.repeat(np.arange(10), 10)
    run([args.digits, "--grid", os.path.join(FIG, "training-digits.png"), gfile, "--count", "100", "--columns", "10"], 1)


if args.only in (None, "checkerboard"):
    t = time.time()
    checkerboard()
    info(f"checkerboard: {time.time() - t:.0f} s")
if args.only in (None, "digits"):
    t = time.time()
    digits()
    info(f"digits: {time.time() - t:.0f} s")
info(f"total {time.time() - T0:.0f} s")
if not args.workdir:
    shutil.rmtree(W, ignore_errors=True)
sys.exit(summary())
