#!/usr/bin/env python3
"""Reference Frechet distance for test_dense (regression/dense/test_dense_scipy.sh).

Writes OUT as raw little-endian binary: int64 d, then float64 mu1[d], S1[d*d] (row-major), mu2[d],
S2[d*d], fd, where fd = |mu1-mu2|^2 + Tr(S1 + S2 - 2 sqrtm(sqrtm(S1) S2 sqrtm(S1))) by SciPy, for two
random non-commuting SPD covariances (Wishart-like, eigenvalues spread over ~3 decades).
Usage: fd_ref.py OUT [d] [seed]
"""
import sys
import time
import numpy as np
import scipy.linalg


def random_spd(rng, d):
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    lam = np.exp(rng.uniform(np.log(1e-3), np.log(4.0), d))
    return (q * lam) @ q.T


def frechet(mu1, s1, mu2, s2):
    r1 = scipy.linalg.sqrtm(s1)
    m = scipy.linalg.sqrtm(r1 @ s2 @ r1)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(m.real))


def main():
    out = sys.argv[1]
    d = int(sys.argv[2]) if len(sys.argv) > 2 else 120
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    rng = np.random.default_rng(seed)
    s1, s2 = random_spd(rng, d), random_spd(rng, d)
    s1, s2 = (s1 + s1.T) / 2, (s2 + s2.T) / 2
    mu1, mu2 = rng.standard_normal(d), 0.1 * rng.standard_normal(d)
    t0 = time.perf_counter()
    fd = frechet(mu1, s1, mu2, s2)
    elapsed = time.perf_counter() - t0
    with open(out, "wb") as f:
        np.array([d], dtype="<i8").tofile(f)
        for a in (mu1, s1, mu2, s2, np.array([fd])):
            np.ascontiguousarray(a, dtype="<f8").tofile(f)
    print(f"fd_ref.py: d = {d}, seed = {seed}, FD (scipy.linalg.sqrtm) = {fd:.15e}, time {elapsed:.3f} s")


if __name__ == "__main__":
    main()
