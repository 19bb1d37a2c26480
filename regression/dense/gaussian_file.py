#!/usr/bin/env python3
"""Write a Gaussian for -gaussian_file: /mean [d] and /covariance [d,d] = U diag(lambda) U^T with U a
random orthogonal matrix (QR of a Gaussian matrix, signs fixed) and lambda log-uniform in [0.01, 4].
Usage: gaussian_file.py OUT.h5 d [seed]"""
import sys
import h5py
import numpy as np

out, d = sys.argv[1], int(sys.argv[2])
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
rng = np.random.default_rng(seed)
q, r = np.linalg.qr(rng.standard_normal((d, d)))
q *= np.sign(np.diag(r))
lam = np.exp(rng.uniform(np.log(0.01), np.log(4.0), d))
cov = (q * lam) @ q.T
cov = (cov + cov.T) / 2
with h5py.File(out, "w") as f:
    f["mean"] = rng.standard_normal(d)
    f["covariance"] = cov
    f["covariance"].attrs["eigenvalues"] = "log-uniform in [0.01, 4], random orthogonal eigenvectors, seed %d" % seed
