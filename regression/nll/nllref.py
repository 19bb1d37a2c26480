"""Independent NumPy reference for `sgm nll` (issue 5): the VP-diffused Gaussian mixture in closed form.

Data p_0 = sum_k w_k N(mu_k, Sigma_k) diffused by the VP SDE dx = -1/2 beta(t) x dt + sqrt(beta(t)) dw,
beta(t) = beta_min + t (beta_max - beta_min), is
    p_t = sum_k w_k N(a mu_k, a^2 Sigma_k + s2 I),   a = exp(-B/2), s2 = 1 - a^2,  B = int_0^t beta,
so log p_t, the score s = grad log p_t, its Jacobian-vector product and its divergence are closed
forms.  With Sigma_k = U_k diag(lam_k) U_k^T, the diffused covariance is U_k diag(v_k) U_k^T with
v_k = a^2 lam_k + s2.  The 64-D Gaussian is the one-component case.  Nothing here calls sgm.
"""
import h5py
import numpy as np
from scipy.integrate import solve_ivp
from scipy.special import logsumexp


class Mixture:
    def __init__(self, weights, means, covs, beta_min=0.1, beta_max=20.0):
        self.w = np.asarray(weights, float)
        self.mu = np.asarray(means, float)
        self.lam, self.U = np.linalg.eigh(np.asarray(covs, float))  # [K,d], [K,d,d]
        self.beta_min, self.beta_max = beta_min, beta_max
        self.d = self.mu.shape[1]

    @classmethod
    def from_file(cls, path, **kw):
        """input/gmm8.h5 (/weights, /means, /covariances) or input/gauss64.h5 (/mean, /covariance)."""
        with h5py.File(path, "r") as f:
            if "weights" in f:
                return cls(f["weights"][:], f["means"][:], f["covariances"][:], **kw)
            return cls([1.0], f["mean"][:][None], f["covariance"][:][None], **kw)

    def beta(self, t):
        return self.beta_min + t * (self.beta_max - self.beta_min)

    def marginal(self, t):
        B = self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t * t
        return np.exp(-0.5 * B), -np.expm1(-B)  # a, s2

    def _parts(self, t, x):
        """log(w_k N_k(x)) [N,K]; whitened residuals z_k = U_k^T (x - a mu_k) [K,N,d]; variances v [K,d]."""
        a, s2 = self.marginal(t)
        v = a * a * self.lam + s2
        z = x[None] @ self.U - a * (self.mu[:, None, :] @ self.U)  # [K,N,d]: BLAS, not einsum
        lk = -0.5 * (self.d * np.log(2 * np.pi) + np.log(v).sum(1)[None, :] + np.einsum("kni,ki->nk", z * z, 1 / v))
        return lk + np.log(self.w)[None, :], z, v

    def logp(self, t, x):
        lk, _, _ = self._parts(t, x)
        return logsumexp(lk, axis=1)

    def sample(self, t, n, rng):
        """n independent draws from p_t."""
        a, s2 = self.marginal(t)
        k = rng.choice(len(self.w), size=n, p=self.w / self.w.sum())
        v = a * a * self.lam[k] + s2  # [n,d]
        return a * self.mu[k] + np.einsum("nij,nj->ni", self.U[k], np.sqrt(v) * rng.standard_normal((n, self.d)))

    def score_jvp(self, t, x, e=None):
        """Score s [N,d]; J e [N,d] if e is given, else the divergence tr J [N]."""
        lk, z, v = self._parts(t, x)
        r = np.exp(lk - logsumexp(lk, axis=1, keepdims=True))  # responsibilities [N,K]
        Ut = self.U.transpose(0, 2, 1)
        sk = -(z / v[:, None, :]) @ Ut  # component scores [K,N,d]
        s = np.einsum("nk,kni->ni", r, sk)
        if e is None:  # tr J = sum_k r_k (tr J_k + |s_k|^2) - |s|^2
            div = r @ -(1 / v).sum(1) + np.einsum("nk,kn->n", r, (sk * sk).sum(2)) - (s * s).sum(1)
            return s, div
        Jke = -((e[None] @ self.U) / v[:, None, :]) @ Ut
        c = np.einsum("kni,ni->kn", sk - s[None], e)  # (s_k - s) . e
        return s, np.einsum("nk,kni->ni", r, Jke + sk * c[:, :, None])


def std_normal_logp(x):
    return -0.5 * (x.shape[1] * np.log(2 * np.pi) + (x * x).sum(1))


def kl_to_std_normal(mix, t, n=200000, seed=0):
    """KL(p_t || N(0, I)) and its Monte Carlo standard error (exact for one component)."""
    if len(mix.w) == 1:
        a, s2 = mix.marginal(t)
        v = a * a * mix.lam[0] + s2
        m = a * mix.mu[0]
        return 0.5 * (v.sum() + m @ m - mix.d - np.log(v).sum()), 0.0
    x = mix.sample(t, n, np.random.default_rng(seed))
    q = mix.logp(t, x) - std_normal_logp(x)
    return q.mean(), q.std(ddof=1) / np.sqrt(n)


def flow(mix, x, t0, t1, rtol=1e-11, matrix=False):
    """The probability-flow ODE dx/dt = f~ = -1/2 beta (x + s) from t0 to t1: x(t1) [N,d], and with
    matrix=True also A = int_t0^t1 (d f~/dx)(x(t), t) dt [N,d,d] (by d JVPs per step: small d only).
    One Gaussian component: closed form (the flow is affine and maps quantiles to quantiles:
    in the eigenbasis of Sigma, x_t - a_t mu = sqrt(v_t / v_t0) (x_t0 - a_t0 mu))."""
    n, d = x.shape
    if len(mix.w) == 1 and not matrix:
        (a0, s0), (a1, s1) = mix.marginal(t0), mix.marginal(t1)
        U, lam, mu = mix.U[0], mix.lam[0], mix.mu[0]
        z = (x - a0 * mu) @ U * np.sqrt((a1 * a1 * lam + s1) / (a0 * a0 * lam + s0))
        return a1 * mu + z @ U.T
    m = d * d if matrix else 0
    E = np.eye(d)

    def fun(t, y):
        z = y[: n * d].reshape(n, d)
        b = mix.beta(t)
        s, _ = mix.score_jvp(t, z)
        out = [(-0.5 * b * (z + s)).ravel()]
        if matrix:  # column j of J_s from the JVP with e_j
            J = np.stack([mix.score_jvp(t, z, np.broadcast_to(E[j], (n, d)))[1] for j in range(d)], axis=2)
            out.append((-0.5 * b * (E[None] + J)).ravel())
        return np.concatenate(out)

    y0 = np.concatenate([x.ravel(), np.zeros(n * m)])
    sol = solve_ivp(fun, (t0, t1), y0, method="DOP853", rtol=rtol, atol=rtol)
    y = sol.y[:, -1]
    xT = y[: n * d].reshape(n, d)
    return (xT, y[n * d:].reshape(n, d, d)) if matrix else xT
