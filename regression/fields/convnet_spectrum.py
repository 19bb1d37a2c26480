"""Radially averaged power spectrum of fields sampled with a trained convolutional score network
(-score_type convnet) against the exact spectrum of p_eps (doc/fields.md, "A learned local score").

  convnet_spectrum.py SAMPLES.h5 DATA.h5 [TOL]

SAMPLES.h5: `sgm sample -score_type convnet ...`; DATA.h5: the training fields (`sgm sample
-score_type gmrf|grf_fft`), whose attributes give tau, kappa, alpha and the grid.  Exact spectrum
a^2 S(k) + s^2 at the sampler's final time (S = 1/q(k), field_stats.symbol).  Per radial bin |k|
(rounded): ratio = mean over fields of the shell-averaged |X_k|^2 / (N S_eps(k)) and its standard
error over the B fields.  Passes when every bin's |ratio - 1| <= TOL + 5 SE (default TOL 0.1).
"""
import sys
import h5py
import numpy as np
from field_stats import attrs, marginal, symbol

s_path, d_path = sys.argv[1], sys.argv[2]
tol = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
fs, fd = h5py.File(s_path, "r"), h5py.File(d_path, "r")
ats, atd = attrs(fs), attrs(fd)
x = fs["samples"][...]
B, shape = x.shape[0], x.shape[1:]
N = np.prod(shape)
a, s = marginal(ats)
St = a * a / symbol(atd, shape) + s * s
X = np.fft.fftn(x, axes=tuple(range(1, x.ndim)))
ratio = np.abs(X) ** 2 / (N * St)
kk = np.meshgrid(*[np.fft.fftfreq(n) * n for n in shape], indexing="ij")
kr = np.rint(np.sqrt(sum(k * k for k in kk))).astype(int)
worst, ok = 0.0, True
print(f"{B} fields of {'x'.join(map(str, shape[::-1]))}; |k| bins: ratio = sampled / exact power, +- 1 SE")
for r in range(kr.max() + 1):
    sel = kr == r
    if not sel.any():
        continue
    pb = ratio[:, sel].mean(axis=1)
    m, se = pb.mean(), pb.std(ddof=1) / np.sqrt(B)
    worst = max(worst, abs(m - 1))
    bad = abs(m - 1) > tol + 5 * se
    ok &= not bad
    if r % 4 == 0 or bad:
        print(f"  |k| = {r:3d}  modes {sel.sum():5d}  ratio {m:.4f} +- {se:.4f}{'  OUT' if bad else ''}")
v = (x**2).mean()
print(f"site variance {v:.5f}, exact {St.mean():.5f} (ratio {v / St.mean():.4f})")
print(f"max |ratio - 1| over {kr.max() + 1} bins: {worst:.4f}; tolerance {tol} + 5 SE per bin: {'ok' if ok else 'FAILED'}")
sys.exit(0 if ok else 1)
