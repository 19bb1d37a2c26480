"""cspref.py -- reference pieces shared by the crystal tests (test-csp.py, test-distnet.py), written
from the papers and sgm's documented conventions, not from its C code: the Philox draws of
src/sys/philox.c (through regression/unit/philox_ref.py), DiffCSP's schedules (diff_utils.py: the
wrapped-normal sigma_t and E[score^2] by quadrature, the cosine DDPM schedule of the lattice) and the
crystal-file reader."""
import math
import os
import sys

import h5py
import numpy as np
from scipy.integrate import quad

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit"))
from philox_ref import philox4x32_10  # noqa: E402

STREAM_INIT, STREAM_DRAW, STREAM_NOISE, STREAM_SAMPLE = 20, 21, 22, 23


# ---- Philox (src/sys/philox.c) ----
def _block(seed, stream, step, index, j):
    c = np.array([j, step, index & 0xFFFFFFFF, (index >> 32) ^ (stream << 24)], dtype=np.uint32)
    k = np.array([seed & 0xFFFFFFFF, seed >> 32], dtype=np.uint32)
    o = [int(v) for v in philox4x32_10(c, k)]
    return (((o[0] << 32) | o[1]) >> 12) * 2.0**-52 + 2.0**-53, (((o[2] << 32) | o[3]) >> 12) * 2.0**-52 + 2.0**-53


def uniform(seed, stream, step, index, n):
    u = []
    for j in range((n + 1) // 2):
        u += list(_block(seed, stream, step, index, j))
    return np.array(u[:n])


def normal(seed, stream, step, index, n):
    z = []
    for j in range((n + 1) // 2):
        u1, u2 = _block(seed, stream, step, index, j)
        r = math.sqrt(-2 * math.log(u1))
        z += [r * math.cos(2 * math.pi * u2), r * math.sin(2 * math.pi * u2)]
    return np.array(z[:n])


# ---- schedules (DiffCSP diff_utils.py) ----
def wn_logp_score(x, sigma, K=20):
    k = np.arange(-K, K + 1)
    e = -((x + k) ** 2) / (2 * sigma**2)
    mx = e.max()
    w = np.exp(e - mx)
    return mx + np.log(w.sum()) - 0.5 * np.log(2 * np.pi * sigma**2), -(w * (x + k)).sum() / (w.sum() * sigma**2)


def schedule(T, s0, s1):
    sigma = np.concatenate([[0], s0 * (s1 / s0) ** (np.arange(T) / (T - 1))])
    sn = [1.0]
    for s in sigma[1:]:
        f = lambda x: math.exp(wn_logp_score(x, s)[0]) * wn_logp_score(x, s)[1] ** 2  # noqa: E731
        sn.append(quad(f, -0.5, 0.5, points=[0], limit=400, epsabs=0, epsrel=1e-13)[0])
    x = np.linspace(0, T, T + 1)
    ac = np.cos(((x / T) + 0.008) / 1.008 * np.pi * 0.5) ** 2
    ac = ac / ac[0]
    beta = np.concatenate([[0], np.clip(1 - ac[1:] / ac[:-1], 1e-4, 0.9999)])
    alpha = 1 - beta
    abar = np.cumprod(alpha)
    post = np.zeros(T + 1)
    post[1:] = np.sqrt(beta[1:] * (1 - abar[:-1]) / (1 - abar[1:]))
    return dict(sigma=sigma, sn=np.array(sn), alpha=alpha, abar=abar, post=post)


# ---- crystal files (postprocess/sgm-crystals layout) ----
def load(path):
    with h5py.File(path, "r") as h:
        return [(h["types"][b, :n].astype(int), h["frac"][b, :n].copy(), h["lattice"][b].copy()) for b, n in enumerate(h["natoms"][:].astype(int))]

