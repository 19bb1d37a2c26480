"""The target density a deck asks for, read from the deck's options and input files, and the exact
law of x_eps that a perfect sampler returns: each component N(mu, S) becomes
N(alpha mu, alpha^2 S + sigma^2 I) with (alpha, sigma) the SDE marginal at t = eps."""
import os

import h5py
import numpy as np


def load_target(opts, srcdir):
    """(weights [K], means [K,d], covariances [K,d,d]) of p_0."""
    kind = opts.get("score_type")
    if kind == "gmm":
        with h5py.File(_path(opts["gmm_file"], srcdir), "r") as f:
            return f["weights"][()], f["means"][()], f["covariances"][()]
    if kind == "gaussian":
        if "gaussian_file" in opts:
            with h5py.File(_path(opts["gaussian_file"], srcdir), "r") as f:
                m, c = f["mean"][()], f["covariance"][()]
        else:
            m = np.array([float(v) for v in opts["gaussian_mean"].split(",")])
            s = np.array([float(v) for v in (opts.get("gaussian_std") or "1").split(",")])
            c = np.diag(np.broadcast_to(s, m.shape) ** 2)
        return np.ones(1), m[None], c[None]
    raise ValueError(f"reference: unsupported score_type {kind}")


def diffuse(target, alpha, sigma):
    w, m, c = target
    d = m.shape[1]
    return w, alpha * m, alpha**2 * c + sigma**2 * np.eye(d)[None]


def _path(p, srcdir):
    return p if os.path.isabs(p) else os.path.join(srcdir, p)
