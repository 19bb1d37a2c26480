#!/usr/bin/python3
"""Write the HDF5 target densities that the input decks use (run from input/; deterministic).

gmm8.h5     8 equal-weight Gaussians, std 0.5, centres on the circle of radius 4 (angles 2 pi k/8).
gauss64.h5  a 64-D anisotropic Gaussian: covariance Q diag(lam) Q^T with lam log-spaced from 0.01
            to 4 (condition number 400) and Q a random rotation; mean with entries in [-1, 1].
"""
import h5py
import numpy as np


def gmm8(path="gmm8.h5"):
    k = np.arange(8)
    means = 4.0 * np.stack([np.cos(2 * np.pi * k / 8), np.sin(2 * np.pi * k / 8)], axis=1)
    covs = np.repeat((0.5 ** 2 * np.eye(2))[None], 8, axis=0)
    with h5py.File(path, "w") as f:
        f["weights"] = np.full(8, 1.0 / 8)
        f["means"] = means
        f["covariances"] = covs
        f.attrs["description"] = "8 equal-weight Gaussians of std 0.5 on the circle of radius 4"


def gauss64(path="gauss64.h5", d=64, seed=20261126):
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    q *= np.sign(np.diag(r))
    lam = np.logspace(np.log10(0.01), np.log10(4.0), d)
    cov = (q * lam) @ q.T
    cov = 0.5 * (cov + cov.T)
    with h5py.File(path, "w") as f:
        f["mean"] = rng.uniform(-1.0, 1.0, d)
        f["covariance"] = cov
        f.attrs["description"] = "64-D Gaussian, eigenvalues log-spaced 0.01..4, random rotation"


if __name__ == "__main__":
    gmm8()
    gauss64()
