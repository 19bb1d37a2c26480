"""gmmvp.py -- the exact law of the training tests (test-train.py, test-train-single.py): the Gaussian
mixture of input/gmm8.h5 diffused by the VP SDE (beta 0.1 .. 20, T = 1), its closed-form score at
every t, and draws of x_t.  Written from the mixture's formulas, not from sgm's code."""
import h5py
import numpy as np


class GmmVP:
    def __init__(self, gmmfile, bmin=0.1, bmax=20.0):
        with h5py.File(gmmfile, "r") as f:
            self.wk, self.mu, self.cov = f["weights"][()], f["means"][()], f["covariances"][()]
        self.K, self.d = self.mu.shape
        self.bmin, self.bmax = bmin, bmax

    def marginal(self, t):
        B = self.bmin * t + 0.5 * (self.bmax - self.bmin) * t * t
        return np.exp(-0.5 * B), np.sqrt(-np.expm1(-B))

    def exact_score(self, x, t, comps=None):
        """Score of sum_k w_k N(alpha mu_k, alpha^2 C_k + sigma^2 I) at x [n,d], per-row t [n]."""
        comps = np.arange(self.K) if comps is None else comps
        a, s = self.marginal(t)
        logp, grads = [], []
        for k in comps:
            C = a[:, None, None] ** 2 * self.cov[k][None] + (s ** 2)[:, None, None] * np.eye(self.d)[None]
            r = x - a[:, None] * self.mu[k][None]
            g = -np.einsum("nij,nj->ni", np.linalg.inv(C), r)
            _, logdet = np.linalg.slogdet(C)
            logp.append(np.log(self.wk[k]) - 0.5 * logdet + 0.5 * np.einsum("ni,ni->n", r, g))
            grads.append(g)
        logp = np.array(logp)
        resp = np.exp(logp - logp.max(axis=0))
        resp /= resp.sum(axis=0)
        return np.einsum("kn,kni->ni", resp, np.array(grads))

    def draw_xt(self, ts, M, rng):
        """M points of p_t for each t of ts: x [len(ts) M, d], t."""
        comp = rng.choice(self.K, size=(len(ts), M), p=self.wk)
        x0 = np.array([[rng.multivariate_normal(self.mu[c], self.cov[c]) for c in row] for row in comp]).reshape(-1, self.d)
        t = np.repeat(ts, M)
        a, s = self.marginal(t)
        return a[:, None] * x0 + s[:, None] * rng.standard_normal(x0.shape), t
