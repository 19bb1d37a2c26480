#!/usr/bin/env python3
"""
Verification of classifier and classifier-free guidance (issue 5, doc/guidance.md).

1. gamma = 1 on a labelled 8-Gaussian ring (two classes of 4 modes): the guided samples (em, and the
   probability-flow ODE with rk 5dp) follow the exact class-conditional mixture.  Each sample is
   assigned to its nearest mode; the fraction per mode (all 8: the 4 modes of the other class hold
   only the tails of the class's own modes) and the std of each coordinate per mode of the class are
   compared with the same statistics of 2*10^6 exact draws from the conditional mixture at t = eps,
   within 5 standard errors (SE of a fraction sqrt(p(1-p)/N); SE of a std sqrt((m4 - s^4)/n)/(2s);
   the reference's own SE added in quadrature).  Both -guidance cfg and -guidance classifier.
2. gamma = 3 with Gaussian data N(m, C) and a Gaussian class N(m_y, C_y) (d = 3, full covariances,
   conditional model given by -cond_score_type gaussian): the guided score is linear in x, so the
   guided PF-ODE maps the prior N(0, I) to a Gaussian whose mean mu and covariance S follow
       mu' = M mu + c,  S' = M S + S M^T,  M = -beta/2 (I - A),  c = -beta/2 b,
   with s_g(x,t) = -A x + b.  That ODE is integrated here with solve_ivp (rtol 1e-10) and the sample
   mean and covariance of the ODE sampler (rk 5dp, rtol 1e-9) are compared with it within 5 SE.  The
   tilted density p(x) p(y|x)^gamma (a Gaussian too) must be rejected by the same samples (> 20 SE).
3. Same seed: the guided and unguided runs draw the same x_T (first trajectory frame bitwise equal),
   and gamma = 0 reproduces the unguided /samples bitwise (em on 1 and 2 ranks, ode).
4. The likelihood of the guided score (sgm nll: divergence (1-gamma) div s_u + gamma div s_c, and
   Hutchinson with the guided JVPs) at gamma = 1 equals that of the conditional mixture alone.
5. Bad inputs: one "sgm: error:" line, non-zero exit status, no output file.

Usage: test-guidance.py --sgm PATH/src/sgm [--workdir DIR] [--write-inputs DIR]
Prints one line per check and "N passed, M failed"; exit status 1 on failure.  About 30 s on 2 cores.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
from scipy.integrate import solve_ivp

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "reference"))
sys.dont_write_bytecode = True
from testkit import check, mpienv, summary  # noqa: E402

ZMAX = 5.0


def sgm(args, cmd="sample", nranks=1):
    pre = ["mpiexec", "--oversubscribe", "-n", str(nranks)] if nranks > 1 else []
    return subprocess.run(pre + [ARGS.sgm, cmd] + args, capture_output=True, text=True, env=mpienv())


def sample(out, args, nranks=1):
    r = sgm(args + ["-output", out], nranks=nranks)
    if r.returncode:
        sys.stderr.write(r.stdout + r.stderr)
        raise SystemExit(f"sgm sample failed: {' '.join(args)}")
    return h5py.File(out, "r")


# ---------------------------------------------------------------- inputs
RING_W = np.array([1, 2, 1, 2, 3, 1, 2, 1], float)


def write_ring(path):
    """gmm8-like ring (radius 4, std 0.5) with unequal weights; class = k mod 2."""
    K = 8
    a = 2 * np.pi * np.arange(K) / K
    with h5py.File(path, "w") as f:
        f["weights"] = RING_W / RING_W.sum()
        f["means"] = 4 * np.stack([np.cos(a), np.sin(a)], 1)
        f["covariances"] = np.tile(0.25 * np.eye(2), (K, 1, 1))
        f["labels"] = np.arange(K) % 2  # integers; float labels are accepted too


GAUSS_M = np.array([0.0, 0.0, 0.0])
GAUSS_C = np.array([[2.0, 0.6, 0.2], [0.6, 1.5, -0.3], [0.2, -0.3, 1.0]])
GAUSS_MY = np.array([1.0, -0.5, 0.5])
GAUSS_CY = np.array([[0.5, 0.1, 0.0], [0.1, 0.4, 0.05], [0.0, 0.05, 0.3]])


def write_gauss(pu, pc):
    for p, m, c in ((pu, GAUSS_M, GAUSS_C), (pc, GAUSS_MY, GAUSS_CY)):
        with h5py.File(p, "w") as f:
            f["mean"] = m
            f["covariance"] = c


def vp_marginal(at, t):
    """alpha(t), sigma(t) of the VP SDE with the linear beta schedule, from the file's attributes."""
    assert at["sde_type"] in (b"vp", "vp") and at["sde_vp_schedule"] in (b"linear", "linear")
    b0, b1 = at["sde_beta_min"], at["sde_beta_max"]
    alpha = np.exp(-0.5 * (b0 * t + 0.5 * (b1 - b0) * t * t))
    return alpha, np.sqrt(1 - alpha * alpha), b0 + (b1 - b0) * t


# ---------------------------------------------------------------- 1. gamma = 1 on the ring
def nearest(x, means):
    return np.argmin(((x[:, None, :] - means[None]) ** 2).sum(-1), axis=1)


def mode_stats(x, means):
    k = nearest(x, means)
    K, d = means.shape
    frac = np.bincount(k, minlength=K) / len(x)
    std, sse = np.zeros((K, d)), np.full((K, d), np.inf)
    for j in range(K):
        xs = x[k == j]
        if len(xs) > 10:
            c = xs - xs.mean(0)
            s2, m4 = (c**2).mean(0), (c**4).mean(0)
            std[j] = np.sqrt(s2)
            sse[j] = np.sqrt(np.maximum(m4 - s2 * s2, 0) / len(xs)) / (2 * std[j])
    return frac, std, sse


def test_class_conditional(work, ring):
    y = 1
    with h5py.File(ring) as f:
        w, mu, cov, lab = f["weights"][:], f["means"][:], f["covariances"][:], f["labels"][:]
    N = 20000
    runs = [
        ("em cfg", ["-sampler_type", "em", "-sampler_steps", "1000", "-guidance", "cfg"]),
        ("em classifier", ["-sampler_type", "em", "-sampler_steps", "1000", "-guidance", "classifier"]),
        ("ode rk5dp cfg", ["-sampler_type", "ode", "-ts_type", "rk", "-ts_rk_type", "5dp", "-ts_rtol", "1e-6",
                           "-ts_atol", "1e-6", "-sampler_denoise", "-guidance", "cfg"]),
    ]
    ref = None
    for name, extra in runs:
        f = sample(f"{work}/ring_{name.replace(' ', '_')}.h5",
                   ["-score_type", "gmm", "-gmm_file", ring, "-sde_type", "vp", "-nsamples", str(N), "-seed", "3",
                    "-class", str(y), "-guidance_scale", "1"] + extra)
        x = f["samples"][:]
        tl = f["target/labels"][:]
        check(f"{name} labels", np.array_equal(tl, lab) and f.attrs["class"] == y and f["conditional/target/weights"].shape == (4,),
              f"/target/labels {tl.astype(int).tolist()}, class {f.attrs['class']}, /conditional/target has 4 components")
        if ref is None:  # exact class-conditional mixture at t = eps (the denoised ODE differs by O(sigma(eps)^2) = 1e-4 relative)
            a, s, _ = vp_marginal(f.attrs, f.attrs["sde_eps"])
            sel = lab == y
            wy = w[sel] / w[sel].sum()
            rng = np.random.default_rng(12345)
            M = 2_000_000
            k = rng.choice(sel.sum(), size=M, p=wy)
            L = np.linalg.cholesky(a * a * cov[sel] + s * s * np.eye(2))
            z = rng.standard_normal((M, 2))
            xr = a * mu[sel][k] + np.einsum("kij,kj->ki", L[k], z)
            amu = a * mu
            ref = mode_stats(xr, amu) + (M,)
            print(f"  exact class-{y} mode weights (nearest-mode): {np.round(ref[0], 4).tolist()}")
        fr, sd, sse = mode_stats(x, amu)
        p = ref[0]
        se = np.sqrt(np.maximum(p * (1 - p), 1.0 / N) / N + p * (1 - p) / ref[3])
        zw = (fr - p) / se
        check(f"{name} weights", np.abs(zw).max() < ZMAX,
              f"per-mode fractions {np.round(fr, 4).tolist()}, max |dev| {np.abs(zw).max():.2f} SE (N={N})")
        cls = np.where(lab == y)[0]
        zs = (sd[cls] - ref[1][cls]) / np.sqrt(sse[cls] ** 2 + ref[2][cls] ** 2)
        check(f"{name} stds", np.abs(zs).max() < ZMAX,
              f"stds of the class modes {np.round(sd[cls].ravel(), 4).tolist()} (exact {ref[1][cls].mean():.4f}), max |dev| {np.abs(zs).max():.2f} SE")
        if name == "em cfg":
            # sensitivity: the unconditional mixture's weights are rejected
            pu = w.copy()  # nearest-mode fractions of the unconditional mixture, to O(tails)
            zu = (fr - pu) / np.sqrt(pu * (1 - pu) / N)
            check(f"{name} sensitivity", np.abs(zu).max() > 20,
                  f"the unconditional weights are {np.abs(zu).max():.0f} SE away")


# ---------------------------------------------------------------- 2. gamma > 1, Gaussian classes
def guided_linear(at, t, gamma, m, C, my, Cy):
    """s_g(x,t) = -A x + b for N(m,C) and N(my,Cy) diffused by the VP SDE."""
    a, s, beta = vp_marginal(at, t)
    d = len(m)
    Pu = np.linalg.inv(a * a * C + s * s * np.eye(d))
    Pc = np.linalg.inv(a * a * Cy + s * s * np.eye(d))
    A = (1 - gamma) * Pu + gamma * Pc
    b = (1 - gamma) * Pu @ (a * m) + gamma * Pc @ (a * my)
    return A, b, beta


def pf_moments(at, gamma, m, C, my, Cy):
    d = len(m)
    T, eps, pstd = at["sde_T"], at["sde_eps"], at["sde_prior_std"]

    def rhs(t, u):
        mu, S = u[:d], u[d:].reshape(d, d)
        A, b, beta = guided_linear(at, t, gamma, m, C, my, Cy)
        Mt = -0.5 * beta * (np.eye(d) - A)
        c = -0.5 * beta * b
        return np.concatenate([Mt @ mu + c, (Mt @ S + S @ Mt.T).ravel()])

    u0 = np.concatenate([np.zeros(d), (pstd * pstd * np.eye(d)).ravel()])
    sol = solve_ivp(rhs, (T, eps), u0, method="DOP853", rtol=1e-10, atol=1e-12)
    assert sol.success
    u = sol.y[:, -1]
    S = u[d:].reshape(d, d)
    return u[:d], 0.5 * (S + S.T)


def tilted_moments(at, gamma, m, C, my, Cy):
    """p(x) p(y|x)^gamma ∝ p(x)^(1-gamma) p(x|y)^gamma at t = eps: a Gaussian when the precision is PD."""
    A, b, _ = guided_linear(at, at["sde_eps"], gamma, m, C, my, Cy)
    S = np.linalg.inv(A)
    return S @ b, S


def zmoments(x, mu, S):
    N, d = x.shape
    xm = x.mean(0)
    Sh = np.cov(x.T)
    zm = (xm - mu) / np.sqrt(np.diag(S) / N)
    se = np.sqrt((np.outer(np.diag(S), np.diag(S)) + S * S) / N)
    zS = (Sh - S) / se
    iu = np.triu_indices(d)
    return np.abs(zm).max(), np.abs(zS[iu]).max()


def test_gaussian_classes(work, pu, pc):
    gamma, N = 3.0, 20000
    f = sample(f"{work}/gauss_g3.h5",
               ["-score_type", "gaussian", "-gaussian_file", pu, "-sde_type", "vp", "-guidance", "cfg",
                "-guidance_scale", str(gamma), "-cond_score_type", "gaussian", "-cond_gaussian_file", pc,
                "-sampler_type", "ode", "-ts_type", "rk", "-ts_rk_type", "5dp", "-ts_rtol", "1e-9", "-ts_atol", "1e-9",
                "-nsamples", str(N), "-seed", "5"])
    x = f["samples"][:]
    at = dict(f.attrs)
    check("gauss cfg attributes", at["guidance"] == b"cfg" and at["guidance_scale"] == gamma and at["class"] == -1
          and f["conditional"].attrs["score_type"] == b"gaussian",
          f"guidance {at['guidance'].decode()}, scale {at['guidance_scale']}, /conditional score_type gaussian")
    mu, S = pf_moments(at, gamma, GAUSS_M, GAUSS_C, GAUSS_MY, GAUSS_CY)
    zm, zS = zmoments(x, mu, S)
    print(f"  guided PF-ODE Gaussian (solve_ivp): mean {np.round(mu, 4).tolist()}, cov diag {np.round(np.diag(S), 4).tolist()}")
    check("gauss gamma=3 PF-ODE moments", max(zm, zS) < ZMAX, f"mean max |dev| {zm:.2f} SE, covariance max |dev| {zS:.2f} SE (N={N}, d=3)")
    mt, St = tilted_moments(at, gamma, GAUSS_M, GAUSS_C, GAUSS_MY, GAUSS_CY)
    print(f"  tilted p(x)p(y|x)^gamma:            mean {np.round(mt, 4).tolist()}, cov diag {np.round(np.diag(St), 4).tolist()}")
    zmt, zSt = zmoments(x, mt, St)
    check("gauss gamma=3 is not the tilted density", max(zmt, zSt) > 20, f"tilted density off by {zmt:.0f} SE (mean), {zSt:.0f} SE (covariance)")
    mc, Sc = pf_moments(at, 1.0, GAUSS_M, GAUSS_C, GAUSS_MY, GAUSS_CY)
    zmc, zSc = zmoments(x, mc, Sc)
    check("gauss gamma=3 differs from gamma=1", max(zmc, zSc) > 20, f"the class-conditional N(m_y, C_y) off by {zmc:.0f} SE (mean), {zSc:.0f} SE (covariance)")


# ---------------------------------------------------------------- 3. same seed
def test_same_seed(work, ring):
    base = ["-score_type", "gmm", "-gmm_file", ring, "-sde_type", "vp", "-nsamples", "1000", "-seed", "11", "-trajectory_frames", "3"]
    em = ["-sampler_type", "em", "-sampler_steps", "200"]
    ode = ["-sampler_type", "ode", "-ts_type", "rk", "-ts_rk_type", "5dp", "-ts_rtol", "1e-5", "-ts_atol", "1e-5", "-sampler_denoise"]
    u = sample(f"{work}/s_u.h5", base + em)
    g = sample(f"{work}/s_g3.h5", base + em + ["-guidance", "cfg", "-class", "0", "-guidance_scale", "3"], nranks=2)
    tu, tg = u["trajectory/x"][0], g["trajectory/x"][0]
    check("same seed, same x_T", np.array_equal(tu, tg) and not np.array_equal(u["samples"][:], g["samples"][:]),
          "first trajectory frame bitwise equal (gamma=3 on 2 ranks vs unguided on 1), final samples differ")
    for kind, nr in (("cfg", 2), ("classifier", 1)):
        g0 = sample(f"{work}/s_{kind}0.h5", base + em + ["-guidance", kind, "-class", "1", "-guidance_scale", "0"], nranks=nr)
        check(f"em {kind} gamma=0 bitwise", np.array_equal(u["samples"][:], g0["samples"][:]) and g0.attrs["nfe"] == u.attrs["nfe"],
              f"/samples bitwise equal to the unguided run ({nr} rank(s)), NFE {g0.attrs['nfe']} = {u.attrs['nfe']}")
    uo = sample(f"{work}/o_u.h5", base + ode)
    go = sample(f"{work}/o_cfg0.h5", base + ode + ["-guidance", "cfg", "-class", "1", "-guidance_scale", "0"])
    check("ode cfg gamma=0 bitwise", np.array_equal(uo["samples"][:], go["samples"][:]) and go.attrs["nfe"] == uo.attrs["nfe"],
          f"/samples bitwise equal, same adaptive steps (NFE {go.attrs['nfe']})")


# ---------------------------------------------------------------- 4. likelihood of a guided score
def test_nll(work, ring):
    with h5py.File(ring) as f:
        w, mu, cov, lab = f["weights"][:], f["means"][:], f["covariances"][:], f["labels"][:]
    c1 = f"{work}/ring_class1.h5"
    with h5py.File(c1, "w") as f:
        f["weights"], f["means"], f["covariances"] = w[lab == 1], mu[lab == 1], cov[lab == 1]
    data = f"{work}/nll_data.h5"
    with h5py.File(data, "w") as f:
        f["data"] = np.random.default_rng(1).normal(size=(200, 2)) * 3
    ts = ["-nll_data", data, "-ts_type", "rk", "-ts_rk_type", "5dp", "-ts_rtol", "1e-8", "-ts_atol", "1e-8"]
    for div in (["-nll_divergence", "exact"], ["-nll_divergence", "hutchinson", "-nll_probes", "2"]):
        out = {}
        for name, extra in (("guided", ["-gmm_file", ring, "-guidance", "cfg", "-class", "1"]), ("class1", ["-gmm_file", c1])):
            r = sgm(["-score_type", "gmm"] + extra + ts + div + ["-output", f"{work}/nll_{name}_{div[1]}.h5"], cmd="nll")
            if r.returncode:
                sys.stderr.write(r.stdout + r.stderr)
                check(f"nll {name} {div[1]}", False, "sgm nll failed")
                return
            with h5py.File(f"{work}/nll_{name}_{div[1]}.h5") as f:
                out[name] = f["nll"][:]
        dev = np.abs(out["guided"] - out["class1"]).max()
        what = "divergence" if div[1] == "exact" else "Jacobian-vector products"
        check(f"nll of the gamma=1 guided score ({div[1]})", dev < 1e-6,
              f"equals the class-1 mixture's NLL within {dev:.1e} nats per point (200 points; guided {what})")


# ---------------------------------------------------------------- 5. bad inputs
def test_bad_inputs(work, ring, pu):
    plain = f"{work}/nolabels.h5"
    with h5py.File(ring) as f, h5py.File(plain, "w") as g:
        for k in ("weights", "means", "covariances"):
            g[k] = f[k][:]
    common = ["-sde_type", "vp", "-nsamples", "10", "-sampler_steps", "5"]
    cases = [
        ("-class without labels", ["-gmm_file", plain, "-guidance", "cfg", "-class", "0"]),
        ("unknown class", ["-gmm_file", ring, "-guidance", "cfg", "-class", "7"]),
        ("gamma < 0", ["-gmm_file", ring, "-guidance", "classifier", "-class", "0", "-guidance_scale", "-1"]),
        ("-class without -guidance", ["-gmm_file", ring, "-class", "0"]),
        ("guidance without -class", ["-gmm_file", ring, "-guidance", "cfg"]),
        ("unknown guidance", ["-gmm_file", ring, "-guidance", "cfgg", "-class", "0"]),
        ("no conditional model", ["-score_type", "gaussian", "-gaussian_file", pu, "-guidance", "cfg"]),
        ("conditional dimension", ["-score_type", "gaussian", "-gaussian_file", pu, "-guidance", "cfg",
                                   "-cond_score_type", "gmm", "-cond_gmm_file", ring]),
    ]
    for name, args in cases:
        out = f"{work}/bad.h5"
        before = set(os.listdir(work))
        r = sgm(args + common + ["-output", out])
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        new = set(os.listdir(work)) - before
        ok = r.returncode != 0 and len(lines) == 1 and lines[0].startswith("sgm: error:") and not new
        check(f"bad input: {name}", ok, lines[0] if lines else f"exit {r.returncode}, no message")


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--sgm", default="src/sgm")
    ap.add_argument("--workdir")
    ap.add_argument("--write-inputs", metavar="DIR", help="write guidance_gmm8.h5, guidance_gauss*.h5 to DIR and exit")
    ARGS = ap.parse_args()
    if ARGS.write_inputs:
        write_ring(f"{ARGS.write_inputs}/guidance_gmm8.h5")
        write_gauss(f"{ARGS.write_inputs}/guidance_gauss.h5", f"{ARGS.write_inputs}/guidance_gauss_class.h5")
        return 0
    ARGS.sgm = os.path.abspath(ARGS.sgm)
    with tempfile.TemporaryDirectory(dir=ARGS.workdir) as work:
        ring, pu, pc = f"{work}/ring.h5", f"{work}/gauss.h5", f"{work}/gauss_class.h5"
        write_ring(ring)
        write_gauss(pu, pc)
        test_class_conditional(work, ring)
        test_gaussian_classes(work, pu, pc)
        test_same_seed(work, ring)
        test_nll(work, ring)
        test_bad_inputs(work, ring, pu)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
