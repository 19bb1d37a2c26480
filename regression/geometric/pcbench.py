"""What the point-cloud benchmarks share (test-cloudnet.py --long, regression/perf/bench-geometric.py;
issue 9, doc/geometric.md "Benchmarks"): `sgm eval` metrics against a held-out MCMC set with their
calibration, and the NumPy references of the likelihood.

Calibration of energy_w2 / distance_w1 (the sizes matter: both are biased upwards by sampling noise):
  * floor: K disjoint subsets of N clouds of an MCMC set independent of the held-out set (different
    seed), each thinned across the chains (every `stride`-th sample of every chain, stride >> tau),
    scored against the held-out set exactly as the model's N samples are -- the values a perfect
    model's N samples would give;
  * wrong models: Gaussian clouds N(0, s^2 P) with the data's second moments, and the training data
    scaled by a factor (a subtle error of the size of the clouds).
Likelihood references on the zero-CoM subspace X (dimension D = (n-1) sd, orthonormal coordinates
y = Q^T x, the measure `sgm nll` uses):
  * a Gaussian N(0, C) fitted to the training clouds in y, its NLL on the held-out clouds in closed form;
  * (DW4) the exact Boltzmann NLL E(x) + log Z, log Z = log int_X exp(-E) dy by importance sampling
    from a widened fitted Gaussian; the mean of NLL_model - NLL_Boltzmann over the same held-out clouds
    estimates KL(p || model) >= 0.
"""
import json
import math
import os
import subprocess

import h5py
import numpy as np


def dw4_energy(x):
    x = np.asarray(x).reshape(len(x), 4, 2)
    e = np.zeros(len(x))
    for i in range(4):
        for j in range(i + 1, 4):
            u = np.linalg.norm(x[:, i] - x[:, j], axis=1) - 4.0
            e += 0.9 * u**4 - 4.0 * u**2
    return e


def subspace_basis(n, sd):
    """Q [n sd, (n-1) sd], orthonormal columns spanning X = {sum_i x_i = 0}, layout x[i*sd + c]."""
    P = np.kron(np.eye(n) - np.ones((n, n)) / n, np.eye(sd))
    w, V = np.linalg.eigh(P)
    return V[:, w > 0.5]


def gaussian_fit(train, Q):
    """mean and covariance of y = Q^T x of the training clouds (CoM removed first)"""
    y = train @ Q
    return y.mean(axis=0), np.cov(y, rowvar=False)


def gaussian_nll(x, Q, mu, C):
    """-log N(Q^T x; mu, C) per cloud (nats)"""
    y = x @ Q - mu
    L = np.linalg.cholesky(C)
    z = np.linalg.solve(L, y.T)
    D = len(mu)
    return 0.5 * (z * z).sum(axis=0) + np.log(np.diag(L)).sum() + 0.5 * D * math.log(2 * math.pi)


def log_partition(energy, Q, C, widen=1.5, m=4_000_000, seed=11, chunk=500_000):
    """log Z = log int_X exp(-E(Q y)) dy by importance sampling from N(0, widen C) in y.
    Returns (log Z, its standard error (delta method), effective sample size)."""
    rng = np.random.default_rng(seed)
    D = C.shape[0]
    L = np.linalg.cholesky(widen * C)
    logdet = np.log(np.diag(L)).sum()
    lw = []
    for k in range(0, m, chunk):
        z = rng.standard_normal((min(chunk, m - k), D))
        y = z @ L.T
        logq = -0.5 * (z * z).sum(axis=1) - logdet - 0.5 * D * math.log(2 * math.pi)
        lw.append(-energy(y @ Q.T) - logq)
    lw = np.concatenate(lw)
    a = lw.max()
    w = np.exp(lw - a)
    mean = w.mean()
    se = w.std(ddof=1) / math.sqrt(len(w)) / mean
    ess = w.sum()**2 / (w * w).sum()
    return a + math.log(mean), se, ess


def thinned_subsets(samples, chains, nsub, size):
    """nsub disjoint subsets of `size` rows of an MCMC set [chains*S, d] (row c*S + k): subset j takes
    samples k = j, j + nsub, j + 2 nsub, ... of every chain (stride nsub), the first `size` of them."""
    S = len(samples) // chains
    per = -(-size // chains)
    assert per * nsub <= S, (per, nsub, S)
    x = samples.reshape(chains, S, -1)
    return [x[:, j::nsub][:, :per].reshape(chains * per, -1)[:size] for j in range(nsub)]


class Evaluator:
    """`sgm eval` point-cloud metrics (energy_w2, energy_mean, distance_w1) of sample files against a
    reference file."""

    def __init__(self, sgm, workdir, env, energy):
        self.sgm, self.workdir, self.env, self.energy = sgm, workdir, env, energy

    def write(self, name, rows):
        p = os.path.join(self.workdir, name)
        with h5py.File(p, "w") as f:
            f["samples"] = rows
        return p

    def __call__(self, samples, reference):
        cmd = [self.sgm, "eval", "-samples", samples, "-reference", reference, "-eval_energy", self.energy,
               "-eval_pairwise", "0", "-eval_sw_projections", "4", "-quiet"]
        r = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(" ".join(cmd) + "\n" + r.stdout + r.stderr)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def calibrate(self, train, chains, reference, size, nsub=20, scales=(1.05,)):
        """metrics of the floor subsets and of the wrong models against the reference file:
        {'floor': [dict, ...], 'gauss': dict, 'scale1.05': dict, ...}"""
        out = {"floor": [self(self.write(f"floor{j}.h5", s), reference) for j, s in
                         enumerate(thinned_subsets(train, chains, nsub, size))]}
        rng = np.random.default_rng(5)
        d = train.shape[1]
        n = {"dw4": 4, "lj13": 13}[self.energy]
        s2 = train.var(axis=0).mean() * n / (n - 1)  # Var(x_ic) = s^2 (1 - 1/n) under N(0, s^2 P)
        z = rng.standard_normal((size, d)) * math.sqrt(s2)
        z = (z.reshape(size, n, -1) - z.reshape(size, n, -1).mean(axis=1, keepdims=True)).reshape(size, d)
        out["gauss"] = self(self.write("gauss.h5", z), reference)
        sub = thinned_subsets(train, chains, nsub, size)[0]
        for a in scales:
            out[f"scale{a}"] = self(self.write(f"scale{a}.h5", a * sub), reference)
        return out


def floor_summary(cal, key):
    v = np.array([c[key] for c in cal["floor"]])
    return v.mean(), v.std(ddof=1), v.max()
