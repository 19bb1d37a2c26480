"""
Verification of `sgm train` and the `mlp` score type (issue 6).  Reference values are NumPy
computations written here from the definitions, never sgm output:

  harness   `sgm score` with the exact gmm score on points x_t drawn here agrees with the NumPy
            mixture score (so the error measure below measures the network, not the harness)
  learn     8gaussians (= the mixture of input/gmm8.h5, drawn by `sgm data`) trained with esm against
            the exact score and with dsm: the relative L2 error of the learned score against the exact
            score at 200 points of p_t per t, averaged over t ~ U(eps, T) (midpoint rule, 20 times),
            below a stated bound (smoke: 10% esm, 25% dsm; --long: 5%); the loss falls
  sample    samples of the trained model (probability-flow ODE, 2 ranks): per-mode weights and stds
            against the exact mixture (smoke: loose bounds stated below; --long: 5 standard errors)
  ranks     a fixed seed and global batch give the same training on 1, 2 and 3 ranks up to
            floating-point summation order: max |theta_p - theta_1| <= 1e-9 max |theta_1| after 60
            steps, and the weights are identical on every rank (the trainer checks a checksum)
  gemm      the same 60 steps with -net_gemm blas on 2 ranks agree with the default kernel (avx512
            where the CPU has AVX-512F) on 1 rank to 1e-9 of max |theta| (rounding of the products)
  restart   60 steps + restart to 120 == 120 steps, bitwise (theta, EMA, loss history), on 2 ranks;
            also after a SIGTERM at step 40 (exit 75, no output file, checkpoint kept)
  cfg       class-conditional training with label dropout, then classifier-free guidance at gamma = 1
            towards one class: most samples land in that class's modes
  errors    bad input gives one sentence, a non-zero exit and no output file

Usage: test-train.py --sgm PATH --srcdir DIR --workdir DIR [--long]
"""
import argparse
import os
import subprocess
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
from testkit import check, mpienv, summary  # noqa: E402

sys.path.insert(0, HERE)
from gmmvp import GmmVP  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
ap.add_argument("--sgm", required=True)
ap.add_argument("--srcdir", required=True)
ap.add_argument("--workdir", required=True)
ap.add_argument("--long", action="store_true", help="the long cases of make check-long")
args = ap.parse_args()
W = args.workdir
GMM = os.path.join(args.srcdir, "input", "gmm8.h5")
ENV = mpienv()


def run(cmd, ranks=1, ok=True):
    full = ([os.environ.get("MPIEXEC", "mpiexec"), "--oversubscribe", "-n", str(ranks)] if ranks > 1 else []) + [args.sgm] + cmd
    r = subprocess.run(full, capture_output=True, text=True, env=ENV)
    if ok and r.returncode != 0:
        print(" ".join(full))
        print(r.stdout + r.stderr)
        raise SystemExit(1)
    return r


def path(name):
    return os.path.join(W, name)


# ---------------------------------------------------------------------------------------------
# The exact law: mixture of input/gmm8.h5 diffused by the VP SDE (beta 0.1 .. 20, T = 1): gmmvp.py
law = GmmVP(GMM)
wk, mu, cov, K, d = law.wk, law.mu, law.cov, law.K, law.d
marginal, exact_score, draw_xt = law.marginal, law.exact_score, law.draw_xt


# "averaged over t": t ~ U(eps, T), the training distribution, by the midpoint rule on 20 intervals
TS = 1e-3 + (np.arange(20) + 0.5) * (1 - 1e-3) / 20
rng = np.random.default_rng(2024)
xs, tsv = draw_xt(TS, 200, rng)
with h5py.File(path("points.h5"), "w") as f:
    f["x"], f["t"] = xs, tsv
sref = exact_score(xs, tsv)


def score_of(model_opts, ranks=2):
    out = path("score.h5")
    run(["score", "-input", path("points.h5"), "-output", out, "-overwrite", "-quiet"] + model_opts, ranks)
    with h5py.File(out, "r") as f:
        return f["score"][()]


def rel_error(s):
    """Relative L2 error per t, then averaged over t."""
    e = []
    for t in TS:
        m = tsv == t
        e.append(np.sqrt(((s[m] - sref[m]) ** 2).sum() / (sref[m] ** 2).sum()))
    return np.array(e)


s = score_of(["-score_type", "gmm", "-gmm_file", GMM])
err = np.max(np.abs(s - sref)) / np.max(np.abs(sref))
check("harness", err < 1e-10, f"sgm score (exact gmm) vs the NumPy mixture score at {len(xs)} points: max rel. difference {err:.2e} (< 1e-10)")

# ---------------------------------------------------------------------------------------------
# Training data and the smoke/long settings
run(["data", "-dataset", "8gaussians", "-n", "20000", "-seed", "7", "-output", path("d8.h5"), "-overwrite"], 2)
if args.long:  # issue 6: below 5% for both
    NET = ["-net_width", "128", "-net_depth", "3"]
    STEPS, BOUNDS, LR, BATCH = 20000, {"esm": 0.05, "dsm": 0.05}, "2e-3", "512"
else:  # smoke: measured 4.6% (esm) and 13% (dsm) for these settings; a wrong gradient gives > 50%
    NET = ["-net_width", "64", "-net_depth", "2"]
    STEPS, BOUNDS, LR, BATCH = 3000, {"esm": 0.10, "dsm": 0.25}, "3e-3", "256"
COMMON = ["-train_data", path("d8.h5"), "-train_batch", BATCH, "-train_lr", LR, "-train_log_every", "0"] + NET

models = {}
for loss, extra in (("esm", ["-target_score_type", "gmm", "-target_gmm_file", GMM]), ("dsm", [])):
    out = path(f"m_{loss}.h5")
    run(["train", "-train_loss", loss, "-train_steps", str(STEPS), "-output", out, "-overwrite", "-quiet"] + COMMON + extra, 2)
    models[loss] = out
    with h5py.File(out, "r") as f:
        L = f["train/loss"][()]
    n = max(10, STEPS // 20)
    # dsm's loss has the irreducible part E||sigma grad log q(x_t|x_0) - sigma s||^2 >= d - E tr(...), so
    # it falls by less; the learned score's error is the real measure
    fall = L[-n:].mean() / L[:n].mean()
    check(f"{loss} loss falls", fall < (0.2 if loss == "esm" else 0.9), f"mean loss of the last {n} steps / first {n} = {fall:.3f} (< {0.2 if loss == 'esm' else 0.9})")
    e = rel_error(score_of(["-score_type", "mlp", "-score_file", out]))
    check(f"{loss} learned score", e.mean() < BOUNDS[loss],
          f"relative L2 error against the exact score, mean over t = {e.mean():.4f} (< {BOUNDS[loss]}); per t: "
          + " ".join(f"{t:g}:{v:.3f}" for t, v in zip(TS, e)))

# The EMA weights are what sampling uses; /model_raw is the optimiser's
e_raw = rel_error(score_of(["-score_type", "mlp", "-score_file", models["esm"], "-mlp_weights", "raw"]))
check("raw weights load", np.isfinite(e_raw).all() and e_raw.mean() < 2 * BOUNDS["esm"], f"-mlp_weights raw: mean relative error {e_raw.mean():.4f} (< {2 * BOUNDS['esm']})")

# ---------------------------------------------------------------------------------------------
# Samples of the trained model (esm) through the probability-flow ODE
NS = 20000 if args.long else 4000
run(["sample", "-score_type", "mlp", "-score_file", models["esm"], "-sampler_type", "ode", "-ts_type", "rk", "-ts_rk_type", "5dp",
     "-ts_adapt_type", "basic", "-ts_rtol", "1e-4", "-ts_atol", "1e-4", "-nsamples", str(NS), "-seed", "3",
     "-output", path("s.h5"), "-overwrite", "-quiet"], 2)
with h5py.File(path("s.h5"), "r") as f:
    xsmp = f["samples"][()]
region = np.argmin(((xsmp[:, None, :] - mu[None]) ** 2).sum(axis=2), axis=1)
wt = np.bincount(region, minlength=K) / NS
se_w = np.sqrt(wk * (1 - wk) / NS)
stds = np.array([xsmp[region == k].std(axis=0, ddof=1) for k in range(K)])
sd_ref = np.sqrt(np.array([np.diag(c) for c in cov]))  # the modes are well separated (radius 4, std 0.5)
if args.long:
    zw = np.abs(wt - wk) / se_w
    zs = np.abs(stds / sd_ref - 1) / np.sqrt(1 / (2 * (wt[:, None] * NS - 1)))
    check("samples", zw.max() < 5 and zs.max() < 5, f"per-mode weights max {zw.max():.2f} SE, stds max {zs.max():.2f} SE (< 5)")
else:
    dw, ds = np.abs(wt - wk).max(), np.abs(stds / sd_ref - 1).max()
    check("samples", dw < 0.03 and ds < 0.25, f"per-mode weight error max {dw:.4f} (< 0.03), relative std error max {ds:.3f} (< 0.25), {NS} samples")

# The likelihood of held-out points under the trained model (sgm nll, exact divergence by the
# network's forward-mode trace) against the exact mixture's (--long only: the smoke net is too rough)
if args.long:
    xh = np.array([rng.multivariate_normal(mu[c], cov[c]) for c in rng.choice(K, size=1000, p=wk)])
    with h5py.File(path("held.h5"), "w") as f:
        f["data"] = xh
    nll = {}
    for name, opts in (("model", ["-score_type", "mlp", "-score_file", models["dsm"]]), ("exact", ["-score_type", "gmm", "-gmm_file", GMM])):
        run(["nll", "-nll_data", path("held.h5"), "-nll_divergence", "exact", "-ts_type", "rk", "-ts_rk_type", "5dp", "-ts_rtol", "1e-5",
             "-ts_atol", "1e-5", "-output", path(f"nll_{name}.h5"), "-overwrite", "-quiet"] + opts, 2)
        with h5py.File(path(f"nll_{name}.h5"), "r") as f:
            nll[name] = float(np.mean(f["nll"][()]))
    check("nll", abs(nll["model"] - nll["exact"]) < 0.05, f"mean NLL of 1000 held-out points: trained dsm model {nll['model']:.4f}, exact mixture {nll['exact']:.4f} nats (|difference| < 0.05)")

# ---------------------------------------------------------------------------------------------
# Rank invariance and restarts (dsm, a small net, 120 steps)
SMALL = ["-train_data", path("d8.h5"), "-train_loss", "dsm", "-train_batch", "96", "-net_width", "32", "-net_depth", "2",
         "-train_log_every", "0", "-quiet"]


def theta(fname, group="model_raw"):
    with h5py.File(fname, "r") as f:
        return f[group + "/theta"][()], f["model/theta"][()], f["train/loss"][()]


ref = None
for p in (1, 2, 3):
    out = path(f"r{p}.h5")
    run(["train", "-train_steps", "60", "-output", out, "-overwrite"] + SMALL, p)
    th, _, L = theta(out)
    if ref is None:
        ref = (th, L)
        continue
    dev = np.max(np.abs(th - ref[0])) / np.max(np.abs(ref[0]))
    devl = np.max(np.abs(L - ref[1]) / np.abs(ref[1]))
    check(f"ranks {p}", dev <= 1e-9 and devl <= 1e-9, f"60 steps on {p} ranks vs 1: max weight deviation {dev:.1e} of max |theta|, loss history {devl:.1e} (<= 1e-9; summation order only)")

# the two kernels of the products (-net_gemm, src/nn/gemm.c): the same training up to rounding
with open("/proc/cpuinfo") as f:
    AVX512 = " avx512f" in f.read()
outb = path("rblas.h5")
run(["train", "-train_steps", "60", "-net_gemm", "blas", "-output", outb, "-overwrite"] + SMALL, 2)
th, _, L = theta(outb)
dev = np.max(np.abs(th - ref[0])) / np.max(np.abs(ref[0]))
devl = np.max(np.abs(L - ref[1]) / np.abs(ref[1]))
check("gemm kernels", dev <= 1e-9 and devl <= 1e-9,
      f"60 steps on 2 ranks with -net_gemm blas vs the default ({'avx512' if AVX512 else 'blas: no AVX-512F here'}) on 1 rank: "
      f"max weight deviation {dev:.1e} of max |theta|, loss history {devl:.1e} (<= 1e-9; rounding of the products)")

full = path("full.h5")
run(["train", "-train_steps", "120", "-output", full, "-overwrite"] + SMALL, 2)
half = path("half.h5")
run(["train", "-train_steps", "60", "-output", half, "-overwrite"] + SMALL, 2)
cont = path("cont.h5")
run(["train", "-train_steps", "120", "-restart", half + ".ckpt", "-output", cont, "-overwrite"] + SMALL, 2)
a, b = theta(full), theta(cont)
check("restart", all(np.array_equal(u, v) for u, v in zip(a, b)), "60 steps + restart to 120 == 120 steps: raw weights, EMA weights and loss history bitwise equal")

# a restart with the other kernel of the products: a note, and the same training to rounding
contb = path("contb.h5")
other = "blas" if AVX512 else "auto"
r = run(["train", "-train_steps", "120", "-restart", half + ".ckpt", "-net_gemm", other, "-output", contb, "-overwrite"] + SMALL, 2)
c = theta(contb)
dev = max(np.max(np.abs(u - v)) / np.max(np.abs(u)) for u, v in zip(a, c))
noted = ("-net_gemm avx512 and this run uses blas" in r.stdout) if AVX512 else ("note:" not in r.stdout)
check("restart other kernel", noted and dev <= 1e-9,
      f"restart with -net_gemm {other}: {'note printed' if AVX512 else 'same kernel (no AVX-512F here), no note'} ({noted}); "
      f"deviation from 120 uninterrupted steps {dev:.1e} (<= 1e-9)")

sig = path("sig.h5")
r = run(["train", "-train_steps", "120", "-train_test_signal_step", "40", "-output", sig, "-overwrite"] + SMALL, 2, ok=False)
check("sigterm", r.returncode == 75 and not os.path.exists(sig) and not os.path.exists(sig + ".partial") and os.path.exists(sig + ".ckpt"),
      f"SIGTERM at step 40: exit {r.returncode} (75), no output file, checkpoint kept; message: {r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ''}")
run(["train", "-train_steps", "120", "-restart", sig + ".ckpt", "-output", sig, "-overwrite"] + SMALL, 2)
c = theta(sig)
check("sigterm restart", all(np.array_equal(u, v) for u, v in zip(a, c)), "restart after the SIGTERM == uninterrupted 120 steps, bitwise")

# ---------------------------------------------------------------------------------------------
# Class-conditional training and classifier-free guidance at gamma = 1 towards class y
y = 2
cond = path("m_cond.h5")
run(["train", "-train_loss", "dsm", "-train_conditional", "-train_uncond_prob", "0.2", "-train_steps", str(STEPS), "-output", cond, "-overwrite", "-quiet"] + COMMON, 2)
run(["sample", "-score_type", "mlp", "-score_file", cond, "-guidance", "cfg", "-guidance_scale", "1", "-class", str(y), "-sampler_type", "em",
     "-sampler_steps", "300", "-nsamples", "2000", "-seed", "5", "-output", path("cfg.h5"), "-overwrite", "-quiet"], 2)
with h5py.File(path("cfg.h5"), "r") as f:
    xc = f["samples"][()]
with h5py.File(path("d8.h5"), "r") as f:  # the modes of class y: those of the data points labelled y
    xd, ld = f["data"][()], f["labels"][()]
dreg = np.argmin(((xd[:, None, :] - mu[None]) ** 2).sum(axis=2), axis=1)
cnt = np.bincount(dreg[ld == y], minlength=K)
modes_y = np.where(cnt > 0.1 * cnt.sum())[0]
reg = np.argmin(((xc[:, None, :] - mu[None]) ** 2).sum(axis=2), axis=1)
frac = np.isin(reg, modes_y).mean()
check("cfg", frac > 0.9, f"class-conditional net, cfg gamma = 1 towards class {y} (modes {list(modes_y)}): {100 * frac:.1f}% of 2000 samples there (> 90%; unguided mass {100 * wk[modes_y].sum():.1f}%)")

# ---------------------------------------------------------------------------------------------
# Bad input
with h5py.File(path("nan.h5"), "w") as f:
    z = np.zeros((10, 2))
    z[3, 1] = np.nan
    f["data"] = z
with h5py.File(path("oned.h5"), "w") as f:
    f["data"] = np.zeros(10)
BAD = [
    ("no data", ["train", "-output", path("bad.h5")]),
    ("missing file", ["train", "-train_data", path("nope.h5"), "-output", path("bad.h5")]),
    ("1-D data", ["train", "-train_data", path("oned.h5"), "-output", path("bad.h5")]),
    ("NaN in data", ["train", "-train_data", path("nan.h5"), "-output", path("bad.h5")]),
    ("esm without target", ["train", "-train_data", path("d8.h5"), "-train_loss", "esm", "-output", path("bad.h5")]),
    ("zero batch", ["train", "-train_data", path("d8.h5"), "-train_batch", "0", "-output", path("bad.h5")]),
    ("unknown loss", ["train", "-train_data", path("d8.h5"), "-train_loss", "foo", "-output", path("bad.h5")]),
    ("restart other width", ["train", "-train_data", path("d8.h5"), "-train_loss", "dsm", "-train_batch", "96", "-net_width", "16",
                             "-net_depth", "2", "-train_steps", "120", "-restart", half + ".ckpt", "-output", path("bad.h5")]),
    ("lr exploding", ["train", "-train_data", path("d8.h5"), "-train_lr", "1e300", "-train_clip", "0", "-train_warmup", "0",
                      "-train_steps", "50", "-output", path("bad.h5")]),
    ("sampling SDE differs", ["sample", "-score_type", "mlp", "-score_file", models["dsm"], "-sde_beta_max", "10", "-output", path("bad.h5")]),
    ("not a model file", ["sample", "-score_type", "mlp", "-score_file", path("d8.h5"), "-output", path("bad.h5")]),
    ("class of unconditional net", ["sample", "-score_type", "mlp", "-score_file", models["dsm"], "-guidance", "cfg", "-class", "1",
                                    "-output", path("bad.h5")]),
]
for name, cmd in BAD:
    r = run(cmd, 1, ok=False)
    lines = [ln for ln in (r.stdout + r.stderr).strip().splitlines() if ln.strip()]
    left = [fn for fn in os.listdir(W) if fn.startswith("bad.h5")]
    good = r.returncode != 0 and len(lines) == 1 and lines[0].startswith("sgm: error:") and not left
    check(f"error: {name}", good, f"exit {r.returncode}; {lines[0] if lines else '(no message)'}{'' if len(lines) <= 1 else ' (+%d lines)' % (len(lines) - 1)}{'; left ' + str(left) if left else ''}")

sys.exit(summary())
