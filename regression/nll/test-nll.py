"""
Verification of `sgm nll` (issue 5) against closed forms computed independently in NumPy (nllref.py).

Points are drawn in NumPy from p_eps, the data diffused to t = eps (VP, beta 0.1..20, eps = 1e-3),
written to a temporary /data file: N1 = 2000 for gmm8 (input/gmm8.h5), N2 = 1000 for the 64-D
Gaussian (input/gauss64.h5).  sgm computes log p_eps, so the reference is the diffused mixture
p_eps = sum_k w_k N(a mu_k, a^2 Sigma_k + (1 - a^2) I) in closed form.
 1. Exact trace, rtol = atol = 1e-10, -nll_model_prior: |NLL - (-log p_eps)| <= 1e-3 nats for every point.
 2. Default prior N(0, I): NLL_default - NLL_model = log p_T(x_T) - log N(x_T; 0, I) exactly (same ODE).
    x_T comes from NumPy (nllref.flow: closed form for the Gaussian, whose flow is affine; DOP853 at
    1e-11 for gmm8): per point within 1e-6.  And x_T ~ p_T, so the mean gap estimates KL(p_T || N(0, I))
    (closed form for the Gaussian, Monte Carlo with 2x10^5 draws for gmm8): within 4 combined SE.
 3. Hutchinson, P = 8, Rademacher and Gaussian probes (default tolerance for gauss64, 1e-8 for gmm8),
    -nll_model_prior as in 1: z = (NLL_H - NLL_exact)/SE.
    (a) mean over points within 3 nll_estimator_se;
    (b) SE calibrated: sum (NLL_H - NLL_exact)^2 / sum SE^2 = 1 within 4 delta-method standard errors
        (E[SE^2] = E[err^2] = Var/P for any probe law);
    (c) coverage P(|z| <= 3) >= 97% where the theory allows it, and within 4 binomial SE of its
        expectation:
      gauss64: d f~/dx = U diag(1/2 d log v_j/dt) U^T does not depend on x, so A = int (d f~/dx) dt
        = U diag(1/2 log(v_j(T)/v_j(eps))) U^T for every point, and the expectation is simulated from
        e^T A e - tr A: 97.7% (Gaussian), 97.9% (Rademacher) (t_7 would give 98.0%); floor
        min(97%, expectation - 3 binomial SE).  And mean SE^2 = Var(e^T A e)/P within 4 SE, with
        Var = 2 |A|_F^2 (Gaussian), 2 (|A|_F^2 - sum A_jj^2) (Rademacher).
      gmm8: the path does not depend on the probes, so with A = int_eps^T (d f~/dx) dt along it (from
        NumPy, nllref.flow) the per-probe error is exactly e^T A e - tr A:
        Rademacher: e1 e2 (A12 + A21), two-point: |z| = inf (SE 0 or round-off) if all 8 signs agree,
          3 exactly if 7 of 8 agree, <= 1.53 otherwise: P(|z| <= 3) = 1 - 2/2^8 = 99.22% (counted
          with 3.2, since the ODE error moves the "3 exactly" either way and no value lies between 3
          and inf).  Per point, sqrt(err^2 + 7 SE^2) = |A12 + A21| (within 1e-5).
        Gaussian: l1 (chi2_1 - 1) + l2 (chi2_1 - 1) (l = eigenvalues of A_sym), skewed, so z is NOT
          t_7: P(|z| <= 3) is 89% .. 99% depending on l2/l1; the expectation is the mean over
          points of that (simulated) probability, about 93%: the 97% floor does not apply.  And
          sum SE^2 = sum 2 |A_sym|_F^2 / P within 4 SE.
 4. 1 and 2 ranks: exact NLL equal to 1e-12 (gmm8 2000 points, gauss64 1000 points), Hutchinson
    (gmm8 2000, gauss64 200 points) equal to 1e-12 (probes are counter-based per point).
 5. Dequantization: data on 256 levels in [0, 1]: attributes nll_dequantization, nll_levels,
    nll_range_lo/hi; bits/dim = (NLL - d log w)/(d ln 2), w = (hi - lo)/levels = 1/256; mean in
    bits_per_dim_mean; with none, bits/dim = NLL/(d ln 2).  Cells: 16 levels in [-6, 6] (w = 0.75), model
    prior, tight tolerance: each point's NLL lies within [min, max] of -log p_eps over its cell
    [lo + k w, lo + (k+1) w]^2 (41x41 grid, +-0.01), and differs from -log p_eps at the level itself.
 6. Bad input (1 rank): no -nll_data; /data of dimension 3 for a 2-D model; a value outside -nll_range
    with uniform dequantization: exit status != 0, one line "sgm: error: ...", no output file.
    Also run on 2 ranks with the bad value on rank 1 only (20 s time-out; a hang is reported, not counted).
 7. input/nll_gmm8.opts and input/nll_gauss64.opts, run from the source directory on 2 ranks on the
    points of 1-3: mean NLL within 4 nll_estimator_se + 1e-3 of the exact one (the 1e-3 covers the prior gap).
 8. postprocess/sgm-nllhist (configured in the build tree) writes a non-blank PNG.
Usage: test-nll.py --sgm src/sgm --srcdir TOP --workdir DIR.  Prints one line per check and
"N passed, M failed"; exit status 1 on failure.  About 60 s on 2 cores.
"""
import argparse
import os
import signal
import subprocess
import sys

import h5py
import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (read-only under distcheck)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nllref import Mixture, flow, kl_to_std_normal, std_normal_logp  # noqa: E402

EPS, T = 1e-3, 1.0
TIGHT = ["-ts_rtol", "1e-10", "-ts_atol", "1e-10", "-ts_max_steps", "1000000"]
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_rmaps_base_oversubscribe": "1"}
results = []


def check(name, ok, detail):
    results.append(bool(ok))
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)


def launch(a, args, nranks=1, timeout=600, cwd=None):
    cmd = ([a.mpiexec, "-n", str(nranks)] if nranks > 1 else []) + [os.path.abspath(a.sgm), "nll"] + args
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **MPI_ENV},
                         start_new_session=True, cwd=cwd)
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out
    except subprocess.TimeoutExpired:  # SIGTERM first: mpiexec then takes its ranks down with it
        os.killpg(p.pid, signal.SIGTERM)
        try:
            out, _ = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
        return None, out


def nll(a, tag, score, data, extra=(), nranks=1, cwd=None):
    out = os.path.join(a.workdir, tag + ".h5")
    rc, log = launch(a, score + ["-nll_data", data, "-output", out, "-overwrite", "-quiet"] + list(extra), nranks, cwd=cwd)
    if rc != 0:
        sys.exit(f"test-nll: sgm nll failed ({tag}):\n{log}")
    with h5py.File(out, "r") as f:
        r = {k: f[k][:] for k in ("nll", "nll_se", "bits_per_dim")}
        r.update({k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()})
    r["file"] = out
    return r


def write_data(a, name, x):
    path = os.path.join(a.workdir, name)
    with h5py.File(path, "w") as f:
        f["data"] = x
    return path


def hutchinson(a, name, score, data, e, tol, probe, expect, floor, zmax=3.0):
    h = nll(a, f"{name}_h_{probe}", score, data, ["-nll_divergence", "hutchinson", "-nll_probes", "8", "-nll_probe", probe,
                                                  "-seed", "5", "-ts_rtol", tol, "-ts_atol", tol, "-nll_model_prior"])
    err, se = h["nll"] - e, h["nll_se"]
    n = len(err)
    dmean, mse = err.mean(), float(h["nll_estimator_se"])
    check(f"{name} hutchinson {probe} P=8 mean", abs(dmean) <= 3 * mse,
          f"mean NLL_H - NLL_exact = {dmean:+.2e}, nll_estimator_se {mse:.2e} ({abs(dmean) / mse:.2f} SE, tol 3)")
    u, v = err**2, se**2
    R = u.sum() / v.sum()
    sR = np.sqrt(np.var(u - R * v, ddof=1) / n) / v.mean()
    check(f"{name} hutchinson {probe} SE calibration", abs(R - 1) <= 4 * sR,
          f"sum err^2 / sum SE^2 = {R:.3f} +- {sR:.3f} (tol 4 SE)")
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(err) / se
    cov = np.mean(z <= zmax)
    lo_e, hi_e = (expect, expect) if np.isscalar(expect) else expect
    sb = 4 * np.sqrt(max(lo_e * (1 - lo_e), hi_e * (1 - hi_e), 1e-4) / n)
    floor = min(floor, lo_e - 0.75 * sb)  # 97% unless the expectation is within 3 binomial SE of it
    ok = lo_e - sb <= cov <= hi_e + sb and cov >= floor
    exp_s = f"{lo_e:.4f}" if lo_e == hi_e else f"{lo_e:.3f}..{hi_e:.3f}"
    check(f"{name} hutchinson {probe} coverage", ok,
          f"{cov:.4f} of {n} points within {zmax:g} SE (expected {exp_s}, +-4 binomial SE {sb:.4f}; floor {floor:.4f}); "
          f"{np.sum(z > 1e6)} points with SE 0 or round-off")
    return h


def gauss_probe_2d_coverage(r, P=8, M=50000, seed=0):
    """P(|t| <= 3) of the studentised mean of P draws of l1 (chi2_1 - 1) + l2 (chi2_1 - 1), l2/l1 = r
    (Monte Carlo on a grid of r in [-1, 1], interpolated)."""
    rng = np.random.default_rng(seed)
    grid, c = np.linspace(-1, 1, 41), []
    for g in grid:
        q = rng.standard_normal((M, P, 2)) ** 2 - 1
        e = q[..., 0] + g * q[..., 1]
        t = e.mean(1) / (e.std(1, ddof=1) / np.sqrt(P))
        c.append(np.mean(np.abs(t) <= 3))
    return np.interp(r, grid, c)


def quadform_coverage(A, probe, P=8, M=40000, seed=1):
    """P(|t| <= 3) of the studentised mean of P draws of e^T A e - tr A (Monte Carlo)."""
    e = np.random.default_rng(seed).standard_normal((M, P, A.shape[0]))
    if probe == "rademacher":
        e = np.sign(e)
    q = ((e @ A) * e).sum(2) - np.trace(A)
    t = q.mean(1) / (q.std(1, ddof=1) / np.sqrt(P))
    return np.mean(np.abs(t) <= 3)


def verify(a, name, mix, score, N, htol, probes):
    rng = np.random.default_rng({"gmm8": 11, "gauss64": 12}[name])
    x = mix.sample(EPS, N, rng)
    data = write_data(a, f"{name}_data.h5", x)
    ref = -mix.logp(EPS, x)
    ex = nll(a, f"{name}_exact_model", score, data, ["-nll_model_prior"] + TIGHT)
    err = np.abs(ex["nll"] - ref)
    check(f"{name} exact trace, model prior, rtol=atol=1e-10", err.max() <= 1e-3,
          f"max |NLL - (-log p_eps)| = {err.max():.2e} nats over {N} points (mean {err.mean():.1e}; tol 1e-3), NFE {ex['nfe']}")
    # x_T by the flow in NumPy (closed form for the Gaussian), and A = int d f~/dx dt along it (2-D)
    A = None
    if mix.d == 2:
        xT, A = flow(mix, x, EPS, T, matrix=True)
    else:
        xT = flow(mix, x, EPS, T)
    prior_gap = mix.logp(T, xT) - std_normal_logp(xT)  # log p_T(x_T) - log N(x_T; 0, I)
    de = nll(a, f"{name}_exact_sde", score, data, TIGHT)
    diff = de["nll"] - ex["nll"]
    e = np.abs(diff - prior_gap).max()
    check(f"{name} default prior N(0,I) - model prior", e <= 1e-6,
          f"max |diff - (log p_T(x_T) - log N(x_T;0,I))| = {e:.1e} (tol 1e-6, x_T from NumPy); the gap itself: "
          f"max {np.abs(diff).max():.2e} nats, mean {diff.mean():.2e}")
    kl, skl = kl_to_std_normal(mix, T)
    s = np.sqrt(diff.var(ddof=1) / N + skl**2)
    check(f"{name} mean prior gap = KL(p_T || N(0,I))", abs(diff.mean() - kl) <= 4 * max(s, 1e-12),
          f"mean {diff.mean():.3e} vs KL {kl:.3e} (+- {s:.1e}, tol 4 SE)")
    if A is not None:  # 2-D: the per-point law of the Hutchinson error is known from A
        As = 0.5 * (A + A.transpose(0, 2, 1))
        lam = np.linalg.eigvalsh(As)
        big = np.where(np.abs(lam[:, 0]) > np.abs(lam[:, 1]), lam[:, 0], lam[:, 1])
        small = lam.sum(1) - big
        probes["gaussian"] = (gauss_probe_2d_coverage(small / big).mean(), 0.0)
    else:  # one Gaussian: d f~/dx = U diag(1/2 d log v_j/dt) U^T for every x, so A = U diag(1/2 log(v_j(T)/v_j(eps))) U^T
        (a0, s0), (a1, s1) = mix.marginal(EPS), mix.marginal(T)
        lam, U = mix.lam[0], mix.U[0]
        Ag = (U * (0.5 * np.log((a1 * a1 * lam + s1) / (a0 * a0 * lam + s0)))) @ U.T
        var = {"gaussian": 2 * (Ag**2).sum(), "rademacher": 2 * ((Ag**2).sum() - (np.diag(Ag) ** 2).sum())}
        for p in probes:
            probes[p] = (quadform_coverage(Ag, p), 0.97)
    hs = {p: hutchinson(a, name, score, data, ex["nll"], htol, p, *probes[p]) for p in probes}
    if A is None:  # E[SE^2] = Var(e^T A e)/P, the same for every point
        for p in probes:
            u = hs[p]["nll_se"] ** 2
            R, sR = u.mean() / (var[p] / 8), u.std(ddof=1) / np.sqrt(N) / (var[p] / 8)
            check(f"{name} hutchinson {p} SE vs Var(e^T A e)/P", abs(R - 1) <= 4 * sR,
                  f"mean SE^2 / ({var[p]:.1f}/8) = {R:.3f} +- {sR:.3f} (tol 4 SE)")
    if A is not None:
        h = hs["rademacher"]  # error_p = e1 e2 c with c = A12 + A21: |c| = sqrt(err^2 + (P - 1) SE^2)
        c = np.sqrt((h["nll"] - ex["nll"]) ** 2 + 7 * h["nll_se"] ** 2)
        e = np.abs(c - np.abs(A[:, 0, 1] + A[:, 1, 0])).max()
        check(f"{name} hutchinson rademacher per point", e <= 1e-5,
              f"max | |two-point error| - |A12 + A21| | = {e:.1e} (tol 1e-5; |A12 + A21| up to "
              f"{np.abs(A[:, 0, 1] + A[:, 1, 0]).max():.2f})")
        h = hs["gaussian"]  # E[SE^2] = Var(e^T A e)/P = 2 |A_sym|_F^2 / P
        u, q = h["nll_se"] ** 2, 2 * (As**2).sum((1, 2)) / 8
        R = u.sum() / q.sum()
        sR = np.sqrt(np.var(u - R * q, ddof=1) / N) / q.mean()
        check(f"{name} hutchinson gaussian SE vs 2|A|_F^2/P", abs(R - 1) <= 4 * sR,
              f"sum SE^2 / sum 2|A_sym|_F^2/P = {R:.3f} +- {sR:.3f} (tol 4 SE)")
    return x, data, ex, hs


def ranks(a, name, score, data, extra, tol=1e-12):
    r1 = nll(a, f"{name}_r1", score, data, extra, 1)
    r2 = nll(a, f"{name}_r2", score, data, extra, 2)
    d = np.abs(r1["nll"] - r2["nll"]).max()
    dse = np.abs(r1["nll_se"] - r2["nll_se"]).max()
    check(f"{name} 1 vs 2 ranks", d <= tol and dse <= tol and r1["nfe"] == r2["nfe"],
          f"max |NLL_1 - NLL_2| = {d:.1e}, |SE_1 - SE_2| = {dse:.1e} (tol {tol:g}), NFE {r1['nfe']} / {r2['nfe']}")


def dequantization(a, mix, score):
    rng = np.random.default_rng(21)
    d, L = mix.d, 256
    x = rng.integers(0, L, size=(200, d)) / (L - 1)
    data = write_data(a, "levels256.h5", x)
    u = nll(a, "deq_uniform", score, data, ["-nll_dequantization", "uniform", "-nll_levels", str(L), "-nll_range", "0,1"])
    w = (u["nll_range_hi"] - u["nll_range_lo"]) / u["nll_levels"]
    bpd = (u["nll"] - d * np.log(w)) / (d * np.log(2))
    e = np.abs(u["bits_per_dim"] - bpd).max()
    check("uniform dequantization attributes", u["nll_dequantization"] == "uniform" and u["nll_levels"] == L
          and u["nll_range_lo"] == 0 and u["nll_range_hi"] == 1 and w == 1 / 256,
          f"nll_dequantization={u['nll_dequantization']}, nll_levels={u['nll_levels']}, range [{u['nll_range_lo']}, "
          f"{u['nll_range_hi']}], w = {w}")
    check("uniform dequantization bits/dim", e <= 1e-12 * np.abs(bpd).max()
          and abs(u["bits_per_dim_mean"] - bpd.mean()) <= 1e-12 * abs(bpd.mean()),
          f"max |bpd - (NLL - d log w)/(d ln 2)| = {e:.1e}; bits_per_dim_mean {u['bits_per_dim_mean']:.6f} "
          f"(d log w / (d ln 2) = {np.log2(w):.0f} bits offset)")
    n = nll(a, "deq_none", score, data, [])
    e = np.abs(n["bits_per_dim"] - n["nll"] / (d * np.log(2))).max()
    check("no dequantization bits/dim", n["nll_dequantization"] == "none" and "nll_levels" not in n and e <= 1e-12 * n["bits_per_dim"].max(),
          f"nll_dequantization={n['nll_dequantization']}, max |bpd - NLL/(d ln 2)| = {e:.1e}")
    # the cells: level k -> [lo + k w, lo + (k + 1) w]
    L, lo, hi = 16, -6.0, 6.0
    w = (hi - lo) / L
    k = rng.integers(0, L, size=(300, d))
    data = write_data(a, "levels16.h5", lo + k * (hi - lo) / (L - 1))
    c = nll(a, "deq_cells", score, data, ["-nll_dequantization", "uniform", "-nll_levels", str(L), "-nll_range", f"{lo},{hi}",
                                           "-nll_model_prior"] + TIGHT)
    g = np.linspace(0, 1, 41)
    G = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    bad = 0
    for i in range(len(k)):
        v = -mix.logp(EPS, lo + (k[i] + G) * w)
        bad += not (v.min() - 0.01 <= c["nll"][i] <= v.max() + 0.01)
    moved = np.mean(np.abs(c["nll"] + mix.logp(EPS, lo + k * (hi - lo) / (L - 1))) > 1e-6)
    check("uniform dequantization cells", bad == 0 and moved > 0.9,
          f"{bad} of {len(k)} NLLs outside the range of -log p_eps over their cell (16 levels, w = {w}); "
          f"{moved:.0%} differ from -log p_eps at the level")


def bad_input(a, score, data2):
    x = np.random.default_rng(3).uniform(0, 1, (20, 3))
    d3 = write_data(a, "dim3.h5", x)
    x = np.random.default_rng(4).uniform(0, 1, (20, 2))
    x[15, 1] = 1.5  # on rank 1 of 2
    out = write_data(a, "outside.h5", x)
    cases = [("no -nll_data", [], 1), ("dimension 3 for a 2-D model", ["-nll_data", d3], 1),
             ("value outside -nll_range", ["-nll_data", out, "-nll_dequantization", "uniform"], 1),
             ("value outside -nll_range, 2 ranks", ["-nll_data", out, "-nll_dequantization", "uniform"], 2)]
    for i, (what, args, nr) in enumerate(cases):
        o = os.path.join(a.workdir, f"bad{i}.h5")
        rc, log = launch(a, score + args + ["-output", o], nr, timeout=20)
        # sgm's own lines; on several ranks mpiexec adds its banner about the non-zero exit status
        lines = [s for s in log.splitlines() if s.strip() and (nr == 1 or s.startswith("sgm"))]
        ok = rc not in (0, None) and len(lines) == 1 and lines[0].startswith("sgm: error:") and not os.path.exists(o)
        detail = (f"exit {rc}, {len(lines)} line(s): {lines[0] if lines else ''!r}, output file "
                  f"{'written' if os.path.exists(o) else 'absent'}")
        if rc is None:
            detail = f"hangs (killed after 20 s); {len(lines)} line(s) printed"
        check(f"bad input: {what}", ok, detail)


def decks(a, runs):
    """input/nll_*.opts, run from the source directory on 2 ranks: mean NLL within 4 SE of the exact one."""
    for deck, data, exact in runs:
        r = nll(a, deck, ["-options_file", os.path.join("input", deck + ".opts")], os.path.abspath(data), [], 2, cwd=a.srcdir)
        dm = abs(r["nll"].mean() - exact["nll"].mean())
        tol = 4 * float(r["nll_estimator_se"]) + 1e-3
        check(f"input/{deck}.opts", dm <= tol,
              f"{r['nll_divergence']}, mean NLL {r['nll_mean']:.5f} vs exact {exact['nll'].mean():.5f} (tol 4 nll_estimator_se + 1e-3 "
              f"= {tol:.1e}; includes the prior gap), NFE {r['nfe']}")


def histogram(a, h5):
    png = os.path.join(a.workdir, "nllhist.png")
    r = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(a.sgm)), "..", "postprocess", "sgm-nllhist"), h5, "-o", png],
                       capture_output=True, text=True)
    ok = r.returncode == 0 and os.path.exists(png)
    if ok:
        import matplotlib.image as mpimg
        img = mpimg.imread(png)[..., :3]
        frac = np.mean(np.any(img < 0.9, axis=-1))
        ok = 0.01 < frac < 0.9
    check("postprocess/sgm-nllhist", ok, f"{png}: {frac:.1%} non-white pixels" if r.returncode == 0 else r.stderr.strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sgm", required=True)
    ap.add_argument("--srcdir", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--mpiexec", default="mpiexec")
    a = ap.parse_args()
    gmm = Mixture.from_file(os.path.join(a.srcdir, "input", "gmm8.h5"))
    gau = Mixture.from_file(os.path.join(a.srcdir, "input", "gauss64.h5"))
    sg = ["-score_type", "gmm", "-gmm_file", os.path.join(a.srcdir, "input", "gmm8.h5")]
    sq = ["-score_type", "gaussian", "-gaussian_file", os.path.join(a.srcdir, "input", "gauss64.h5")]
    _, dg, eg, hg = verify(a, "gmm8", gmm, sg, 2000, "1e-8",
                          {"rademacher": (1 - 2 / 2**8, 0.97, 3.2), "gaussian": None})
    x64, dq, eq, _ = verify(a, "gauss64", gau, sq, 1000, "1e-5", {"rademacher": None, "gaussian": None})
    ranks(a, "gmm8 exact", sg, dg, TIGHT)
    ranks(a, "gmm8 hutchinson", sg, dg, ["-nll_divergence", "hutchinson", "-nll_probes", "8"])
    ranks(a, "gauss64 exact", sg[:0] + sq, dq, [])
    dq200 = write_data(a, "gauss64_200.h5", x64[:200])
    ranks(a, "gauss64 hutchinson", sq, dq200, ["-nll_divergence", "hutchinson", "-nll_probes", "8", "-nll_probe", "gaussian"])
    dequantization(a, gmm, sg)
    bad_input(a, sg, dg)
    decks(a, [("nll_gmm8", dg, eg), ("nll_gauss64", dq, eq)])
    histogram(a, hg["rademacher"]["file"])
    nf = results.count(False)
    print(f"{len(results) - nf} passed, {nf} failed")
    sys.exit(1 if nf else 0)


if __name__ == "__main__":
    main()
