#!/usr/bin/python3
"""Reference values of the statistical regression cases, computed in NumPy from the target density
alone (never from sgm output).

A perfect sampler stopped at t = eps returns x_eps ~ p_eps, the target diffused by the forward SDE to
t = eps (targets.diffuse; sde.SDE gives alpha(eps), sigma(eps)).  For each analysis this script
writes the expected value of every quantity and its standard error for the deck's sample size N:

gaussian_moments   1-D target N(m, v):  mean (SE sqrt(v/N)), variance (SE v sqrt(2/(N-1))).
gmm_modes          2-D mixture: every sample is assigned to the nearest target mean mu_k (for gmm8
                   the regions are 45-degree wedges).  weight_k = P(x in region k), SE sqrt(w(1-w)/N);
                   std_x_k, std_y_k = std of x restricted to region k, SE std/sqrt(2 N w_k).  The
                   truncated moments of the 8-component p_eps over each region are computed by
                   quadrature on a grid of spacing 0.01 std (error < 1e-6, far below the SE).
gaussian_error     d-D target N(m, C), sample mean mh and covariance Ch (divisor N-1):
                   mean_chi2 = N (mh-m)^T C^-1 (mh-m) ~ chi^2_d: mean d, std sqrt(2 d).
                   cov_frob  = ||C^-1/2 Ch C^-1/2 - I||_F^2.  With n = N-1, n C^-1/2 Ch C^-1/2 =
                   sum_{k<=n} A_k + n I, A_k = z_k z_k^T - I, z_k ~ N(0, I_d) iid (Wishart), so
                     E   = d (d+1) / n,
                     Var = [n Var(q^2 - 2q) + 4 n (n-1) d (d+1)] / n^4,   q = z^T z ~ chi^2_d,
                   because tr(A^2) = q^2 - 2q + d, E tr(A_k A_l)^2 = 2 d (d+1) for k != l, and all
                   cross covariances vanish.  (Checked by Monte Carlo for d = 3, 8, 16.)
                   The statistics are measured against the law of the deck at run time, so the
                   reference also records that law's |m| and tr C (law_mean_norm, law_cov_trace):
                   a deck whose target changed without --update fails there.
The "se" written for the two gaussian_error statistics is their standard deviation.

Usage: reference.py CASE.test   (prints the reference file; regression/run --update writes it)
"""
import configparser
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from options import get_bool, get_int, read_options  # noqa: E402
from sde import SDE  # noqa: E402
from targets import diffuse, load_target  # noqa: E402


def gaussian_moments(law, N):
    w, m, c = law
    assert len(w) == 1 and m.shape[1] == 1, "gaussian_moments needs a 1-D Gaussian target"
    mean, var = m[0, 0], c[0, 0, 0]
    return {"mean": (mean, np.sqrt(var / N)), "variance": (var, var * np.sqrt(2.0 / (N - 1)))}


def gmm_modes(law, centres, N, h_rel=0.01):
    w, m, c = law
    K, d = m.shape
    assert d == 2, "gmm_modes is written for 2-D mixtures"
    smax = np.sqrt(max(np.linalg.eigvalsh(ck).max() for ck in c))
    lo, hi = m.min(axis=0) - 9 * smax, m.max(axis=0) + 9 * smax
    h = h_rel * np.sqrt(min(np.linalg.eigvalsh(ck).min() for ck in c))
    xs, ys = (np.arange(lo[i], hi[i] + h, h) for i in range(2))
    out = {}
    acc = np.zeros((K, 5))  # per region: mass, E x, E y, E x^2, E y^2 (unnormalised)
    for row in range(0, len(ys), 256):  # bands of rows keep memory small
        X, Y = np.meshgrid(xs, ys[row:row + 256])
        P = np.stack([X.ravel(), Y.ravel()], axis=1)
        dens = np.zeros(len(P))
        for k in range(K):
            L = np.linalg.cholesky(c[k])
            u = np.linalg.solve(L, (P - m[k]).T)
            dens += w[k] * np.exp(-0.5 * np.sum(u * u, axis=0)) / (2 * np.pi * np.prod(np.diag(L)))
        region = np.argmin(((P[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
        dA = dens * h * h
        for k in range(K):
            s = region == k
            p, x, y = dA[s], P[s, 0], P[s, 1]
            acc[k] += [p.sum(), (p * x).sum(), (p * y).sum(), (p * x * x).sum(), (p * y * y).sum()]
    for k in range(K):
        wk = acc[k, 0]
        mx, my = acc[k, 1] / wk, acc[k, 2] / wk
        sx, sy = np.sqrt(acc[k, 3] / wk - mx * mx), np.sqrt(acc[k, 4] / wk - my * my)
        out[f"weight_{k}"] = (wk, np.sqrt(wk * (1 - wk) / N))
        out[f"std_x_{k}"] = (sx, sx / np.sqrt(2 * N * wk))
        out[f"std_y_{k}"] = (sy, sy / np.sqrt(2 * N * wk))
    return out


def wishart_frobenius(d, N):
    """Mean and std of ||C^-1/2 Ch C^-1/2 - I||_F^2 for N Gaussian samples (see the docstring)."""
    n = N - 1
    Eq = lambda k: np.prod([float(d + 2 * j) for j in range(k)])  # E q^k, q ~ chi^2_d
    v1 = Eq(4) - 4 * Eq(3) + 4 * Eq(2) - (Eq(2) - 2 * Eq(1)) ** 2
    return d * (d + 1) / n, np.sqrt((n * v1 + 4.0 * n * (n - 1) * d * (d + 1)) / float(n) ** 4)


def gaussian_error(law, N):
    w, m, c = law
    assert len(w) == 1, "gaussian_error needs a Gaussian target"
    d = m.shape[1]
    return {"mean_chi2": (float(d), np.sqrt(2.0 * d)), "cov_frob": wishart_frobenius(d, N),
            "law_mean_norm": (np.linalg.norm(m[0]), 0.0), "law_cov_trace": (np.trace(c[0]), 0.0)}


def compute(case, srcdir):
    """{quantity: (value, se)} for the case config file `case`."""
    cfg = configparser.ConfigParser()
    cfg.read(case)
    opts = read_options(os.path.join(os.path.dirname(case), cfg["case"]["options"]), srcdir)
    if get_bool(opts, "sampler_denoise"):
        raise ValueError("reference: a denoised output is not distributed as the law at eps; run the case without -sampler_denoise")
    sde = SDE(opts)
    alpha, sigma = sde.marginal(sde.eps)
    target = load_target(opts, srcdir)
    law = diffuse(target, alpha, sigma)
    N = get_int(opts, "nsamples", 1000)
    analysis = cfg["case"]["analysis"]
    if analysis == "gaussian_moments":
        return gaussian_moments(law, N)
    if analysis == "gmm_modes":
        return gmm_modes(law, target[1], N)
    if analysis == "gaussian_error":
        return gaussian_error(law, N)
    raise ValueError(f"reference: no reference computation for analysis {analysis}")


def write(case, srcdir, out=sys.stdout):
    ref = compute(case, srcdir)
    name = os.path.basename(case).rsplit(".", 1)[0]
    out.write(f"# Reference of regression case {name}: exact values for the target diffused to t = eps,\n"
              f"# from regression/reference/reference.py (NumPy, independent of sgm).  Regenerate with\n"
              f"#   regression/run --update {name}\n"
              f"# se = standard error for the deck's sample size (std of the statistic for gaussian_error).\n")
    for q, (v, se) in ref.items():
        out.write(f"\n[{q}]\nvalue = {v:.12g}\nse = {se:.12g}\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    here = os.path.dirname(os.path.abspath(__file__))
    write(os.path.abspath(sys.argv[1]), os.path.dirname(os.path.dirname(here)))
