#!/usr/bin/python3
"""Exact law of sgm's fixed-step samplers on a Gaussian target, to size the regression cases.

For the ode sampler the exact probability flow of a Gaussian is the affine map that takes
N(alpha_T mu, V_T) to N(alpha_eps mu, V_eps); started from the prior instead of N(alpha_T mu, V_T) it
returns a shifted law (prior mismatch), which is what this script reports for ode.
For p_0 = N(mu, lam) in one coordinate (or one eigen-direction of a d-D Gaussian) the exact score
s(x,t) = -(x - alpha mu)/(alpha^2 lam + sigma^2) is linear, so every Euler-Maruyama or ancestral
step maps N(m, V) to a Gaussian, and the mean and variance of the samples after n steps from the
prior N(0, prior_std^2) follow in closed form.  The difference from the exact law of x_eps is the
sampler's bias (time discretisation plus prior mismatch); this script prints it in units of the
regression tolerance so each case's step count can be justified.  It documents, it does not test.

usage: discretisation.py CASE.test    (a gaussian_moments or gaussian_error case)
"""
import configparser
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from options import get_int, read_options  # noqa: E402
from reference import wishart_frobenius  # noqa: E402
from sde import SDE  # noqa: E402
from targets import load_target  # noqa: E402


def chain_law(sde, sampler, n, mu, lam, variance="beta"):
    """(mean, var) of the samples of the em or ancestral chain, per coordinate (arrays)."""
    tg = sde.T + (sde.eps - sde.T) * np.arange(n + 1) / n
    tg[n] = sde.eps
    m, V = np.zeros_like(mu), np.full_like(lam, sde.prior_std**2)
    for k in range(n):
        t0, t1 = tg[k], tg[k + 1]
        a0, s0 = sde.marginal(t0)
        v0 = a0**2 * lam + s0**2
        if sampler == "em":
            h = t0 - t1
            f, g = sde.coefficients(t0)
            cx, cs, cz2 = 1 - f * h, g * g * h, g * g * h
            A, b = cx - cs / v0, cs * a0 * mu / v0
        else:  # ancestral: x' = (x + v s)/r + sqrt(var) z
            a1, s1 = sde.marginal(t1)
            r = a0 / a1
            v = s0**2 - r**2 * s1**2
            cz2 = v if variance == "beta" else v * s1**2 / s0**2
            if t1 <= 0:
                cz2 = 0.0
            A, b = (1 - v / v0) / r, v * a0 * mu / v0 / r
        m, V = A * m + b, A * A * V + cz2
    return m, V


def main(case):
    srcdir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    cfg = configparser.ConfigParser()
    cfg.read(case)
    opts = read_options(os.path.join(os.path.dirname(case), cfg["case"]["options"]), srcdir)
    sde = SDE(opts)
    sampler = opts.get("sampler_type") or "em"
    n, N = get_int(opts, "sampler_steps", 1000), get_int(opts, "nsamples", 1000)
    _, means, covs = load_target(opts, srcdir)
    lam, Q = np.linalg.eigh(covs[0])
    mu = Q.T @ means[0]
    a, s = sde.marginal(sde.eps)
    m_ex, V_ex = a * mu, a * a * lam + s * s
    if sampler == "ode":  # the exact flow of the prior; solver error (rtol 1e-5) neglected
        aT, sT = sde.marginal(sde.T)
        VT = aT * aT * lam + sT * sT
        m = m_ex + np.sqrt(V_ex / VT) * (0 - aT * mu)
        V = V_ex * sde.prior_std**2 / VT
    else:
        m, V = chain_law(sde, sampler, n, mu, lam, opts.get("ancestral_variance") or "beta")
    d = len(mu)
    steps = "exact flow" if sampler == "ode" else f"{n} steps"
    print(f"{os.path.basename(case)}: {sampler}, {steps}, N = {N}, d = {d}, sde {sde.kind}")
    if d == 1:
        print(f"  mean     {m[0]:.6g} vs exact {m_ex[0]:.6g}: bias {(m[0] - m_ex[0]) / np.sqrt(V_ex[0] / N):+.3f} se")
        se = V_ex[0] * np.sqrt(2 / (N - 1))
        print(f"  variance {V[0]:.6g} vs exact {V_ex[0]:.6g}: bias {(V[0] - V_ex[0]) / se:+.3f} se")
    else:
        # expected statistics with the bias: E mean_chi2 = d + N sum dm^2/V_ex (to first order);
        # cov_frob gains sum (V/V_ex - 1)^2 in the eigenbasis
        chi_bias = N * np.sum((m - m_ex) ** 2 / V_ex)
        frob_bias = np.sum((V / V_ex - 1) ** 2)
        E, sd = wishart_frobenius(d, N)
        print(f"  mean_chi2 shift {chi_bias:.4g} = {chi_bias / np.sqrt(2 * d):.3f} std of chi^2_{d}")
        print(f"  cov_frob shift {frob_bias:.4g} = {frob_bias / sd:.3f} std (E {E:.4g}, std {sd:.3g}); "
              f"largest relative variance error {np.max(np.abs(V / V_ex - 1)):.3g}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(os.path.abspath(sys.argv[1]))
