"""Closed forms of sgm's forward SDEs in NumPy, written from the papers, not from src/.

Each SDE gives alpha(t), sigma(t) of q(x_t | x_0) = N(alpha x_0, sigma^2 I), the drift and
diffusion coefficients f(t), g(t) of dx = f x dt + g dw, the prior std at T and the default eps.
    vp, linear   beta(t) = bmin + t/T (bmax - bmin), B = int_0^t beta, alpha = e^{-B/2}, sigma^2 = 1 - e^{-B}
                 (Song et al. 2021, eq. 11; defaults bmin 0.1, bmax 20, eps 1e-3)
    vp, ddpm     DDPM's beta_i = bmin/N + (i-1)/(N-1) (bmax-bmin)/N, i = 1..N, as piecewise-constant
                 beta(t) with int over ((i-1)T/N, iT/N] = -log(1 - beta_i) (Ho et al. 2020; eps 0)
    subvp        alpha as vp, sigma = 1 - e^{-B}, g^2 = beta (1 - e^{-2B}) (Song et al. 2021, eq. 12)
    ve           sigma(t)^2 = smin^2 ((smax/smin)^{2t/T} - 1), alpha = 1, prior std smax
                 (Song et al. 2021, eq. 9 keeping -smin^2; defaults 0.01, 50, eps 1e-5)
    poly2        EDM's polynomial_2 (Hoogeboom et al. 2022, app. B): alpha^2 = (1-2s)(1-t^2)^2 + s,
                 sigma^2 = 1 - alpha^2, f = d log alpha/dt, g^2 = -2f (precision s = 1e-5, eps 0, T 1)
"""
import numpy as np

from options import get_int, get_real


class SDE:
    def __init__(self, opts):
        self.kind = opts.get("sde_type") or "vp"
        self.T = get_real(opts, "sde_T", 1.0)
        if self.kind in ("vp", "subvp"):
            self.bmin = get_real(opts, "sde_beta_min", 0.1)
            self.bmax = get_real(opts, "sde_beta_max", 20.0)
            self.schedule = opts.get("sde_vp_schedule") or "linear"
            if self.schedule == "ddpm":
                n = get_int(opts, "sde_num_scales", 1000)
                i = np.arange(1, n + 1)
                b = self.bmin / n + (i - 1) / (n - 1) * (self.bmax - self.bmin) / n
                self.cum = np.concatenate([[0.0], np.cumsum(-np.log1p(-b))])
                self.n = n
            default_eps = 0.0 if self.schedule == "ddpm" else 1e-3
            self.prior_std = 1.0
        elif self.kind == "ve":
            self.smin = get_real(opts, "sde_sigma_min", 0.01)
            self.smax = get_real(opts, "sde_sigma_max", 50.0)
            default_eps = 1e-5
            self.prior_std = self.smax
        elif self.kind == "poly2":
            self.s = get_real(opts, "sde_poly2_precision", 1e-5)
            default_eps = 0.0
            self.prior_std = 1.0
        else:
            raise ValueError(f"reference: unknown sde_type {self.kind}")
        self.eps = get_real(opts, "sde_eps", default_eps)

    def B(self, t):
        """int_0^t beta (vp, subvp)."""
        if self.schedule == "linear":
            return self.bmin * t + 0.5 * (self.bmax - self.bmin) * t * t / self.T
        u = t / self.T * self.n
        i = int(min(max(np.ceil(u), 1), self.n))
        return self.cum[i - 1] + (u - (i - 1)) * (self.cum[i] - self.cum[i - 1])

    def beta(self, t):
        if self.schedule == "linear":
            return self.bmin + t / self.T * (self.bmax - self.bmin)
        i = int(min(max(np.ceil(t / self.T * self.n), 1), self.n))
        return (self.cum[i] - self.cum[i - 1]) * self.n / self.T

    def coefficients(self, t):
        """(f, g) of dx = f x dt + g dw."""
        if self.kind == "poly2":
            a2 = (1 - 2 * self.s) * (1 - t * t) ** 2 + self.s
            f = -2 * t * (1 - 2 * self.s) * (1 - t * t) / a2
            return f, np.sqrt(max(0.0, -2 * f))
        if self.kind == "ve":
            r = np.log(self.smax / self.smin)
            return 0.0, self.smin * (self.smax / self.smin) ** (t / self.T) * np.sqrt(2 * r / self.T)
        b = self.beta(t)
        g2 = b if self.kind == "vp" else b * -np.expm1(-2 * self.B(t))
        return -0.5 * b, np.sqrt(g2)

    def marginal(self, t):
        """(alpha, sigma) of q(x_t | x_0)."""
        if self.kind == "poly2":
            a2 = (1 - 2 * self.s) * (1 - t * t) ** 2 + self.s
            return np.sqrt(a2), np.sqrt((1 - 2 * self.s) * t * t * (2 - t * t) + self.s)
        if self.kind == "ve":
            return 1.0, self.smin * np.sqrt(max(0.0, np.expm1(2 * t / self.T * np.log(self.smax / self.smin))))
        B = self.B(t)
        alpha = np.exp(-0.5 * B)
        return alpha, (np.sqrt(-np.expm1(-B)) if self.kind == "vp" else -np.expm1(-B))
