"""
Verification of `sgm train -net_precision single` (float training passes of the mlp net, src/nn/mlp.c;
the loss and gradient themselves are checked against double by regression/unit/test_netsingle).
Reference values are NumPy computations written here (the exact 8-Gaussian score), or the same
training in double precision:

  learn     8gaussians, dsm, width 64, depth 2, 3000 steps of batch 256 on 2 ranks, in double and in
            single precision from the same seed: the mean training loss of the last 500 steps agrees
            within 2 standard errors of the difference of the two means (SE from the steps' spread,
            as if independent: conservative, the runs see the same batches); the learned score of the
            single model (sampled in double, the weights being double) is within 25% relative L2 of
            the exact score averaged over t (test-train.py's dsm smoke bound), and the model file
            records net_precision single
  ranks     60 steps in single on 1, 2 and 3 ranks: max |theta_p - theta_1| <= 1e-6 max |theta_1| and
            the loss history within 1e-6 relative (float rounding of the per-rank gradient sums:
            u = 6e-8 per operation, damped by the learning rate; measured about 2e-9 and 1e-8)
  restart   60 steps + restart to 120 == 120 steps in single on 2 ranks, bitwise; a restart of
            that checkpoint in double precision is refused (the checkpoint records train_precision)
  errors    single precision with the tangent losses ssm, ism: one sentence, exit != 0, no output

Usage: test-train-single.py --sgm PATH --srcdir DIR --workdir DIR
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


# The exact law: mixture of input/gmm8.h5 diffused by the VP SDE (beta 0.1 .. 20, T = 1): gmmvp.py
law = GmmVP(GMM)
wk, mu, cov, K, d = law.wk, law.mu, law.cov, law.K, law.d
marginal, exact_score, draw_xt = law.marginal, law.exact_score, law.draw_xt


TS = 1e-3 + (np.arange(20) + 0.5) * (1 - 1e-3) / 20
rng = np.random.default_rng(2025)
xs, tsv = draw_xt(TS, 200, rng)
with h5py.File(path("points.h5"), "w") as f:
    f["x"], f["t"] = xs, tsv
sref = exact_score(xs, tsv)


def rel_error(model):
    run(["score", "-input", path("points.h5"), "-output", path("score.h5"), "-overwrite", "-quiet", "-score_type", "mlp", "-score_file", model], 2)
    with h5py.File(path("score.h5"), "r") as f:
        s = f["score"][()]
    return np.mean([np.sqrt(((s[tsv == t] - sref[tsv == t]) ** 2).sum() / (sref[tsv == t] ** 2).sum()) for t in TS])


run(["data", "-dataset", "8gaussians", "-n", "20000", "-seed", "7", "-output", path("d8.h5"), "-overwrite"], 2)
COMMON = ["-train_data", path("d8.h5"), "-train_loss", "dsm", "-train_batch", "256", "-train_lr", "3e-3", "-train_log_every", "0",
          "-net_width", "64", "-net_depth", "2", "-train_steps", "3000", "-quiet"]
stats = {}
for prec in ("double", "single"):
    out = path(f"m_{prec}.h5")
    run(["train", "-net_precision", prec, "-output", out, "-overwrite"] + COMMON, 2)
    with h5py.File(out, "r") as f:
        L = f["train/loss"][()][-500:]
        attrs = [f[g].attrs["net_precision"] for g in ("model", "model_raw")]
    stats[prec] = (L.mean(), L.std(ddof=1) / np.sqrt(len(L)))
    if prec == "single":
        check("attribute", all(a in (b"single", "single") for a in attrs), f"/model and /model_raw net_precision = {attrs}")
(md, sd), (ms, ss) = stats["double"], stats["single"]
se = np.hypot(sd, ss)
check("same loss", abs(ms - md) < 2 * se, f"mean loss of the last 500 of 3000 steps: single {ms:.6f}, double {md:.6f}, difference {abs(ms - md):.2e} (< 2 SE = {2 * se:.2e})")
es, ed = rel_error(path("m_single.h5")), rel_error(path("m_double.h5"))
check("learned score", es < 0.25, f"single-precision model, relative L2 error against the exact score averaged over t = {es:.4f} (< 0.25; double model {ed:.4f})")

SMALL = ["-train_data", path("d8.h5"), "-train_loss", "dsm", "-train_batch", "96", "-net_width", "32", "-net_depth", "2",
         "-train_log_every", "0", "-quiet", "-net_precision", "single"]


def theta(fname):
    with h5py.File(fname, "r") as f:
        return f["model_raw/theta"][()], f["model/theta"][()], f["train/loss"][()]


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
    check(f"ranks {p}", dev <= 1e-6 and devl <= 1e-6, f"single, 60 steps on {p} ranks vs 1: max weight deviation {dev:.1e} of max |theta|, loss history {devl:.1e} (<= 1e-6; float rounding)")

run(["train", "-train_steps", "120", "-output", path("full.h5"), "-overwrite"] + SMALL, 2)
run(["train", "-train_steps", "60", "-output", path("half.h5"), "-overwrite"] + SMALL, 2)
run(["train", "-train_steps", "120", "-restart", path("half.h5") + ".ckpt", "-output", path("cont.h5"), "-overwrite"] + SMALL, 2)
a, b = theta(path("full.h5")), theta(path("cont.h5"))
check("restart", all(np.array_equal(u, v) for u, v in zip(a, b)), "single, 60 steps + restart to 120 == 120 steps on 2 ranks: raw weights, EMA weights and loss history bitwise equal")

# the checkpoint records the precision: a restart in double is refused in one sentence, nothing written
r = run(["train", "-train_steps", "120", "-restart", path("half.h5") + ".ckpt", "-output", path("bad.h5")] + [a for a in SMALL if a not in ("-net_precision", "single")], 1, ok=False)
lines = [ln for ln in (r.stdout + r.stderr).strip().splitlines() if ln.strip()]
left = [fn for fn in os.listdir(W) if fn.startswith("bad.h5")]
check("error: restart in double", r.returncode != 0 and len(lines) == 1 and "net_precision single (now double)" in lines[0] and not left,
      f"exit {r.returncode}; {lines[0] if lines else '(no message)'}{'; left ' + str(left) if left else ''}")

for loss, extra in (("ssm", []), ("ism", [])):
    r = run(["train", "-train_data", path("d8.h5"), "-train_loss", loss, "-net_precision", "single", "-train_steps", "5", "-output", path("bad.h5")] + extra, 1, ok=False)
    lines = [ln for ln in (r.stdout + r.stderr).strip().splitlines() if ln.strip()]
    left = [fn for fn in os.listdir(W) if fn.startswith("bad.h5")]
    good = r.returncode != 0 and len(lines) == 1 and lines[0].startswith("sgm: error:") and not left
    check(f"error: single {loss}", good, f"exit {r.returncode}; {lines[0] if lines else '(no message)'}{'' if len(lines) <= 1 else ' (+%d lines)' % (len(lines) - 1)}{'; left ' + str(left) if left else ''}")

sys.exit(summary())
