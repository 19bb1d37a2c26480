#!/usr/bin/env python3
"""Whitened statistics of N samples x_i (SAMPLES.h5:/samples [N,d]) against the target N(m, C)
(GAUSS.h5: /mean, /covariance), independent of sgm's ScaLAPACK path (NumPy eigh of C).

w_i = C^{-1/2} (x_i - m) are N(0, I) draws when the samples are right; S = (1/N) sum_i w_i w_i^T
(known mean) is then Wishart W_d(N, I)/N, and with c = d/N:
  t = tr(S)/d:        N d t ~ chi^2(N d):  mean 1, SE sqrt(2/(N d))                       (exact)
  F = ||S - I||_F^2:  mean d(d+1)/N (exact); SE 2 sqrt(d(d+1))/N (1 + c): the leading-order
                      Wishart variance 4 d(d+1)/N^2 with the factor (1+c)^2, which Monte Carlo at
                      c = 0.1 .. 0.5 shows to be within 5 % and on the safe side (see doc/dense.md)
  M = N ||mean(w)||^2 ~ chi^2(d):         mean d, SE sqrt(2 d)                             (exact)
Each must lie within NSE (default 5) standard errors.  Usage: gaussian_stats.py SAMPLES.h5 GAUSS.h5 [NSE]
"""
import sys
import h5py
import numpy as np

x = h5py.File(sys.argv[1], "r")["samples"][:]
with h5py.File(sys.argv[2], "r") as g:
    m, C = g["mean"][:], g["covariance"][:]
nse = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
N, d = x.shape
lam, U = np.linalg.eigh(C)
w = (x - m) @ ((U / np.sqrt(lam)) @ U.T)
S = w.T @ w / N
c = d / N
stats = [
    ("tr(S)/d", np.trace(S) / d, 1.0, np.sqrt(2.0 / (N * d))),
    ("||S - I||_F^2", np.sum((S - np.eye(d)) ** 2), d * (d + 1) / N, 2 * np.sqrt(d * (d + 1)) / N * (1 + c)),
    ("N ||mean(w)||^2", N * np.sum(w.mean(axis=0) ** 2), d, np.sqrt(2.0 * d)),
]
fail = 0
print(f"N = {N} draws in d = {d}; whitened statistics against their Wishart/chi^2 expectations")
for name, v, e, se in stats:
    z = (v - e) / se
    ok = abs(z) <= nse
    fail += not ok
    print(f"  {name:18s} {v:14.8g}  expected {e:14.8g}  SE {se:10.4g}  z {z:+6.2f}  bound {nse:g}  {'ok' if ok else 'FAILED'}")
sys.exit(1 if fail else 0)
