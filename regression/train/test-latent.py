"""
Latent diffusion on a linear (PCA) autoencoder (issue 7): `sgm train -latent pca -latent_dim k`.
Reference values from NumPy on the same data, never from sgm:
  pca       the eigenvalues the trainer stores (/latent/eigenvalues, pdsyevd) against
            numpy.linalg.eigvalsh of the data covariance (divisor N) to 1e-10 relative; the basis
            orthonormal; the stored reconstruction error equal to the discarded eigenvalue mass
            (closed form) and to NumPy's mean ||x - D(E(x))||^2 with the stored mu, U_k
  decode    `sgm sample` with the latent model writes /latent_samples [N,k] and /samples [N,d] =
            U_k z + mu (checked against NumPy), on 2 ranks
  errors    -latent_dim 0 and > d: one sentence, no output file
Usage: test-latent.py --sgm PATH --workdir DIR
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

ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
ap.add_argument("--sgm", required=True)
ap.add_argument("--workdir", required=True)
args = ap.parse_args()
W = args.workdir
ENV = mpienv()


def run(cmd, ranks=1, ok=True):
    full = (["mpiexec", "--oversubscribe", "-n", str(ranks)] if ranks > 1 else []) + [args.sgm] + cmd
    r = subprocess.run(full, capture_output=True, text=True, env=ENV)
    if ok and r.returncode != 0:
        print(" ".join(full) + "\n" + r.stdout + r.stderr)
        raise SystemExit(1)
    return r


# 20-D Gaussian data with a decaying spectrum, 3000 points
rng = np.random.default_rng(5)
d, k, N = 20, 6, 3000
Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
lam = 2.0 ** -np.arange(d)
x = rng.standard_normal((N, d)) * np.sqrt(lam) @ Q.T + rng.standard_normal(d)
data = os.path.join(W, "g20.h5")
with h5py.File(data, "w") as f:
    f["data"] = x
model = os.path.join(W, "lat.h5")
run(["train", "-train_data", data, "-latent", "pca", "-latent_dim", str(k), "-net_width", "32", "-net_depth", "2",
     "-train_steps", "200", "-train_batch", "128", "-train_log_every", "0", "-output", model, "-overwrite", "-quiet"], 2)

with h5py.File(model, "r") as f:
    mu, U, ev = f["latent/mean"][()], f["latent/basis"][()], f["latent/eigenvalues"][()]
    rec_attr, disc_attr = float(f["latent"].attrs["reconstruction_error"]), float(f["latent"].attrs["discarded_eigenvalue_mass"])
    net_d = int(f["model"].attrs["net_dimension"])
C = np.cov(x.T, bias=True)
w = np.linalg.eigvalsh(C)[::-1]
err = np.max(np.abs(ev - w)) / w[0]
check("eigenvalues", err < 1e-10, f"stored eigenvalues vs numpy.linalg.eigvalsh: max difference {err:.1e} of the largest (< 1e-10)")
orth = np.max(np.abs(U.T @ U - np.eye(k)))
check("basis", U.shape == (d, k) and orth < 1e-12 and net_d == k, f"basis {U.shape}, max |U^T U - I| = {orth:.1e}, network dimension {net_d} (= k = {k})")
rec = np.mean(np.sum((x - ((x - mu) @ U @ U.T + mu)) ** 2, axis=1))
disc = w[k:].sum()
check("reconstruction", abs(rec_attr - disc) < 1e-10 * w.sum() and abs(rec - disc) < 1e-10 * w.sum(),
      f"reconstruction error: stored {rec_attr:.12g}, NumPy with the stored mu, U_k {rec:.12g}, discarded eigenvalue mass (closed form) {disc:.12g}")
check("mean", np.max(np.abs(mu - x.mean(axis=0))) < 1e-12, "stored mu = the data mean")

out = os.path.join(W, "s.h5")
run(["sample", "-score_type", "mlp", "-score_file", model, "-sampler_type", "em", "-sampler_steps", "100", "-nsamples", "501",
     "-output", out, "-overwrite", "-quiet"], 2)
with h5py.File(out, "r") as f:
    z, xs = f["latent_samples"][()], f["samples"][()]
dec = np.max(np.abs(xs - (z @ U.T + mu)))
check("decode", z.shape == (501, k) and xs.shape == (501, d) and dec < 1e-12,
      f"/latent_samples {z.shape}, /samples {xs.shape} = U_k z + mu to {dec:.1e}")

for name, kk in (("latent_dim 0", "0"), ("latent_dim > d", str(d + 1))):
    bad = os.path.join(W, "bad.h5")
    r = run(["train", "-train_data", data, "-latent", "pca", "-latent_dim", kk, "-output", bad], 1, ok=False)
    lines = [ln for ln in (r.stdout + r.stderr).splitlines() if ln.strip()]
    check(f"error: {name}", r.returncode != 0 and len(lines) == 1 and "-latent_dim must lie in 1 .. 20" in lines[0] and not os.path.exists(bad),
          f"exit {r.returncode}; {lines[0] if lines else ''}")
sys.exit(summary())
