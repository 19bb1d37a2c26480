#!/usr/bin/env python3
"""Training and sampling with the point-cloud networks egnn and distance (issue 9, doc/geometric.md).

  On DW4 data from `sgm mcmc` (4 atoms in 2-D), EDM's poly2 SDE:
  * `sgm train -net_type egnn|distance -net_atoms 4` (and distance with a radial basis and fixed atom
    types, -net_distance_rbf 8 -net_distance_rbf_max 6 -net_distance_types 0,1,1,0: "distance-typed",
    whose file must record the basis and the types), 100 steps on 1 rank: the minibatch loss
    decreases: the mean of the last 20 steps is below that of the first 20 by more than 5 standard
    errors of the difference (from the spread of the step losses; an untrained net's simple loss is
    about E|P eps|^2 = (n-1) sd = 6); the model file records the type and the atoms;
  * the same on 2 ranks: the trainer's own check that the weights are the same bits on both ranks
    passes (it aborts otherwise), and the weights agree with the 1-rank run up to rounding;
  * restart: 50 steps, then -restart to 100, bitwise equal to 100 steps in one go;
  * `sgm score -score_type mlp -score_file model.h5` at random clouds and times equals the network
    evaluated here by an independent NumPy implementation of the documented architecture
    (src/nn/impls/egnn/egnn.c, distance/distance.c headers), s = -F/sigma, relative 1e-12;
  * `sgm sample -score_type mlp -score_file model.h5` runs, on 1 and 2 ranks with bitwise equal samples;
  * bad input: no -net_atoms, -net_atoms not dividing d, a tangent loss, -latent, options of the mlp
    (-net_precision, -net_residual), one line each.
Prints one line per check and "N passed, M failed".  About 20 s on 2 cores.

--long (make check-long; about 8 minutes on 2 loaded cores): egnn (width 64, 4 layers) trained for
3000 steps of 256 on 25600 DW4 samples (64 MCMC chains, seed 3), 1000 samples drawn by
Euler-Maruyama (500 steps, poly2), on 2 ranks; evaluated against a HELD-OUT MCMC set (seed 4) with
the helpers of pcbench.py (rationale in doc/geometric.md, "DW4 with egnn"):
  * the NumPy references (pcbench.py) against closed forms: importance-sampling log Z of a Gaussian
    energy on X within 5 se, Gaussian NLL against SciPy, the basis of X;
  * mean energy, reported with standard errors; gross check |difference| <= 1;
  * `sgm eval -eval_energy dw4`: energy_w2, distance_w1 of the model next to the floor (20 disjoint
    thinned 1000-cloud subsets of the training set, what a perfect model's 1000 samples give) and
    wrong models (training clouds scaled by 1.02 and 1.05, the net after 1 step, Gaussian clouds).
    Checks: the floor's maximum is below the 1.02-scaled clouds' value (the metric resolves a 2 %
    error); the model is below the 1.05-scaled clouds (energy_w2) and the 1.02-scaled clouds
    (distance_w1); the model is within 12x (energy_w2) and 6x (distance_w1) the floor's mean
    (measured 6.2x and 3.0x);
  * `sgm nll` (exact divergence, rk, rtol = atol = 1e-5) of 200 held-out clouds on the zero-CoM
    subspace (D = 6), next to the E(n)-invariant Gaussian fitted to the training set and the exact
    Boltzmann NLL E(x) + log Z (log Z by importance sampling).  Checks: NLL - NLL_Boltzmann (an
    estimate of KL(p || q) >= 0) is not below -5 se for the model and the Gaussian; the model beats
    the Gaussian by more than 5 paired se; the model's KL is <= 0.6 nats (measured 0.25).
--reuse (development): skip the commands whose -output file exists in --workdir.
"""
import argparse, os, subprocess, sys
import numpy as np
import h5py

ap = argparse.ArgumentParser()
ap.add_argument("--sgm", required=True)
ap.add_argument("--workdir", required=True)
ap.add_argument("--mpiexec", default=os.environ.get("MPIEXEC", "mpiexec"))
ap.add_argument("--long", action="store_true")
ap.add_argument("--reuse", action="store_true", help="--long: reuse the data, models and samples in --workdir (development)")
args = ap.parse_args()
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
W = args.workdir
npass = nfail = 0


def check(name, err, bound):
    global npass, nfail
    ok = bool(err <= bound)  # NaN fails
    npass += ok
    nfail += not ok
    print(f"{name:<66s} err {err:9.3e}  bound {bound:9.3e}  {'ok' if ok else 'FAILED'}", flush=True)


def path(f):
    return os.path.join(W, f)


def run(cmd, nranks=0, expect=0):
    if args.reuse and "-output" in cmd and os.path.exists(cmd[cmd.index("-output") + 1]):
        return subprocess.CompletedProcess(cmd, 0, "", "")
    full = ([args.mpiexec, "-n", str(nranks)] if nranks else []) + [args.sgm] + cmd
    r = subprocess.run(full, env=env, capture_output=True, text=True)
    if (r.returncode != 0) != (expect != 0):
        print("command:", " ".join(full))
        print(r.stdout, r.stderr)
    return r


# ---- independent forward passes (column vectors per node / edge, as documented) ----
def silu(a):
    return a / (1 + np.exp(-a))


def egnn_F(theta, H, L, n, sd, x, c):
    """F = P(x^L - x^0) of one cloud x [n, sd] at time input c"""
    o = 0

    def take(shape):
        nonlocal o
        size = int(np.prod(shape))
        v = theta[o:o + size]
        o += size
        return v.reshape(shape[::-1]).T if len(shape) == 2 else v  # column-major matrices

    wemb, bemb = take((H,)), take((H,))
    h = np.outer(np.ones(n), wemb * c + bemb)  # [n, H]
    X = x.copy()
    for l in range(L):
        last = l == L - 1
        Wea, Web, wer, be1 = take((H, H)), take((H, H)), take((H,)), take((H,))
        We2, be2, Wx1, bx1, wx2 = take((H, H)), take((H,)), take((H, H)), take((H,)), take((H,))
        if not last:
            Wha, Whb, bh1, Wh2, bh2 = take((H, H)), take((H, H)), take((H,)), take((H, H)), take((H,))
        Xn = X.copy()
        M = np.zeros((n, H))
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                v = X[i] - X[j]
                r = v @ v
                m = silu(We2 @ silu(Wea @ h[i] + Web @ h[j] + wer * r + be1) + be2)
                M[i] += m
                phi = wx2 @ silu(Wx1 @ m + bx1)
                Xn[i] += v / (np.sqrt(r) + 1) * phi
        if not last:
            h = h + (Wh2 @ silu(Wha @ h.T + Whb @ M.T + bh1[:, None]) + bh2[:, None]).T
        X = Xn
    assert o == len(theta), (o, len(theta))
    F = X - x
    return F - F.mean(axis=0)


def distance_F(theta, H, L, n, sd, x, c, K=0, rmax=5.0, types=None):
    """The pair MLP on u = [d, c, rbf_1..K(d), onehot(z_i) + onehot(z_j)] (no basis, no types: [d, c])."""
    o = 0
    T = 0 if types is None else int(max(types)) + 1
    w = rmax / (K - 1) if K else 1.0

    def take(shape):
        nonlocal o
        size = int(np.prod(shape))
        v = theta[o:o + size]
        o += size
        return v.reshape(shape[::-1]).T if len(shape) == 2 else v

    layers = [(take((H, 2 + K + T)), take((H,)))]
    for l in range(1, L):
        layers.append((take((H, H)), take((H,))))
    wo, bo = take((H,)), take((1,))
    assert o == len(theta)
    F = np.zeros((n, sd))
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            v = x[i] - x[j]
            d = np.linalg.norm(v)
            z = [d, c] + [np.exp(-0.5 * ((d - k * w) / w) ** 2) for k in range(K)]
            if T:
                z += list(np.eye(T)[int(types[i])] + np.eye(T)[int(types[j])])
            z = np.array(z)
            for Wl, bl in layers:
                z = silu(Wl @ z + bl)
            F[i] += (wo @ z + bo[0]) * v / d
    return F


def poly2(t, s=1e-5):
    a2 = (1 - 2 * s) * (1 - t**2)**2 + s
    return np.sqrt(a2), np.sqrt(1 - a2)


if args.long:
    import time
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.dont_write_bytecode = True
    import pcbench as pcb
    from scipy import stats
    # the NumPy references themselves, against closed forms: log Z of E = |x|^2/(2 v) on X is
    # D/2 log(2 pi v); the Gaussian NLL against SciPy
    Q = pcb.subspace_basis(4, 2)
    v, rng = 0.49, np.random.default_rng(3)
    lz, lz_se, _ = pcb.log_partition(lambda x: (x * x).sum(axis=1) / (2 * v), Q, np.eye(6), widen=1.0, m=200000)
    check("long: reference: IS log Z of a Gaussian energy on X, in se", abs(lz - 3 * np.log(2 * np.pi * v)) / lz_se, 5.0)
    A = rng.normal(size=(6, 6))
    C = A @ A.T + np.eye(6)
    x = rng.normal(size=(50, 6)) @ Q.T
    ref = -stats.multivariate_normal(np.full(6, 0.1), C).logpdf(x @ Q)
    check("long: reference: Gaussian NLL on X vs SciPy (relative)", np.abs(pcb.gaussian_nll(x, Q, np.full(6, 0.1), C) - ref).max() / np.abs(ref).max(), 1e-12)
    check("long: reference: basis of X orthonormal, orthogonal to translations",
          max(np.abs(Q.T @ Q - np.eye(6)).max(), np.abs(np.tile(np.eye(2), 4) @ Q).max()), 1e-14)
    mc = ["mcmc", "-mcmc_target", "dw4", "-mcmc_chains", "64", "-mcmc_samples", "400", "-mcmc_burnin", "2000", "-mcmc_thin", "10"]
    ok = run(mc + ["-seed", "3", "-output", path("dw4.h5")], nranks=2).returncode == 0
    ok = ok and run(mc + ["-seed", "4", "-output", path("dw4-ref.h5")], nranks=2).returncode == 0
    train = ["train", "-net_type", "egnn", "-net_atoms", "4", "-net_width", "64", "-net_depth", "4", "-train_data", path("dw4.h5"),
             "-train_loss", "simple", "-sde_type", "poly2", "-train_t_eps", "1e-3", "-train_batch", "256", "-train_lr", "1e-3",
             "-train_log_every", "0"]
    t0 = time.time()
    ok = ok and run(train + ["-train_steps", "3000", "-output", path("egnn.h5")], nranks=2).returncode == 0
    t1 = time.time()
    ok = ok and run(["sample", "-score_type", "mlp", "-score_file", path("egnn.h5"), "-sde_type", "poly2", "-sampler_steps", "500",
                     "-nsamples", "1000", "-seed", "1", "-output", path("s.h5")], nranks=2).returncode == 0
    t2 = time.time()
    # the wrong model of the pipeline itself: egnn after one training step (its output is ~0: EDM's
    # small initial phi_x), sampled the same way with 100 steps
    ok = ok and run(train + ["-train_steps", "1", "-output", path("egnn1.h5")], nranks=2).returncode == 0
    ok = ok and run(["sample", "-score_type", "mlp", "-score_file", path("egnn1.h5"), "-sde_type", "poly2", "-sampler_steps", "100",
                     "-nsamples", "1000", "-seed", "1", "-output", path("s1.h5")], nranks=2).returncode == 0
    check("long: mcmc, train (3000 steps), sample (1000 x 500 steps) run", 0 if ok else 1, 0)
    if not ok:
        print(f"{npass} passed, {nfail} failed")
        sys.exit(1)
    with h5py.File(path("egnn.h5")) as f:
        loss = f["train/loss"][:]
    with h5py.File(path("s.h5")) as f:
        xs = f["samples"][:]
    es = pcb.dw4_energy(xs)
    print(f"  train {t1 - t0:.0f} s, sample {t2 - t1:.0f} s; simple loss: mean of the first 100 steps {loss[:100].mean():.4f}, of the last 100 {loss[-100:].mean():.4f}")
    with h5py.File(path("dw4.h5")) as f:
        xtr = f["samples"][:]
    with h5py.File(path("dw4-ref.h5")) as f:
        xho = f["samples"][:]
        ed, se_d = pcb.dw4_energy(xho), float(f.attrs["energy_se"])
    se = np.sqrt(es.var(ddof=1) / len(es) + se_d**2)
    print(f"  DW4 <E>: egnn samples {es.mean():.4f} +- {es.std(ddof=1) / np.sqrt(len(es)):.4f} (sd {es.std():.3f}), "
          f"held-out MCMC {ed.mean():.4f} +- {se_d:.4f} (sd {ed.std():.3f}): difference {(es.mean() - ed.mean()) / se:+.2f} se")
    check("long: |<E>_samples - <E>_MCMC (held-out)| (gross check)", abs(es.mean() - ed.mean()), 1.0)

    # ---- metrics against the held-out MCMC set, calibrated ----
    os.makedirs(path("cal"), exist_ok=True)
    ev = pcb.Evaluator(args.sgm, path("cal"), env, "dw4")
    t3 = time.time()
    m = ev(path("s.h5"), path("dw4-ref.h5"))
    m1 = ev(path("s1.h5"), path("dw4-ref.h5"))
    cal = ev.calibrate(xtr, 64, path("dw4-ref.h5"), len(xs), nsub=20, scales=(1.02, 1.05))
    print(f"  metrics against the held-out MCMC set (25600 clouds, seed 4), {len(xs)} clouds each ({time.time() - t3:.0f} s):")
    print(f"  {'':34s} {'energy_w2':>10s} {'distance_w1':>11s} {'energy_mean':>11s}")
    fl = {k: pcb.floor_summary(cal, k) for k in ("energy_w2", "distance_w1", "energy_mean")}
    print(f"  {'floor: 20 MCMC subsets, mean':34s} {fl['energy_w2'][0]:10.4f} {fl['distance_w1'][0]:11.5f} {fl['energy_mean'][0]:11.4f}")
    print(f"  {'floor: sd / max':34s} {fl['energy_w2'][1]:5.3f}/{fl['energy_w2'][2]:5.3f} {fl['distance_w1'][1]:5.4f}/{fl['distance_w1'][2]:6.4f}")
    rows = [("egnn, 3000 steps", m), ("MCMC clouds scaled by 1.02", cal["scale1.02"]), ("MCMC clouds scaled by 1.05", cal["scale1.05"]),
            ("egnn after 1 step", m1), ("Gaussian clouds, same 2nd moments", cal["gauss"])]
    for name, v in rows:
        print(f"  {name:34s} {v['energy_w2']:10.4g} {v['distance_w1']:11.5g} {v['energy_mean']:11.4f}")
    rw, rd = m["energy_w2"] / fl["energy_w2"][0], m["distance_w1"] / fl["distance_w1"][0]
    print(f"  egnn / floor mean: energy_w2 x{rw:.1f}, distance_w1 x{rd:.1f}")
    # the metrics resolve a 2 % error of the cloud size from the data's own noise
    check("long: calibration: floor max / (MCMC x 1.02), energy_w2", fl["energy_w2"][2] / cal["scale1.02"]["energy_w2"], 1.0)
    check("long: calibration: floor max / (MCMC x 1.02), distance_w1", fl["distance_w1"][2] / cal["scale1.02"]["distance_w1"], 1.0)
    # the model beats small, known errors (a broken pipeline -- the 1-step net, Gaussian clouds -- is far above)
    check("long: egnn energy_w2 / that of MCMC x 1.05 (measured 0.27)", m["energy_w2"] / cal["scale1.05"]["energy_w2"], 1.0)
    check("long: egnn distance_w1 / that of MCMC x 1.02 (measured 0.28)", m["distance_w1"] / cal["scale1.02"]["distance_w1"], 1.0)
    # ... which the wrong models fail (the checks can fail)
    worst = min(min(v["energy_w2"] / cal["scale1.05"]["energy_w2"], v["distance_w1"] / cal["scale1.02"]["distance_w1"]) for v in (m1, cal["gauss"]))
    check("long: wrong models (1-step net, Gaussian) fail both: -(smallest ratio)", -worst, -1.0)
    # and stays within a factor of the floor (about 2x the measured ratio: a regression guard)
    check("long: egnn energy_w2 / floor mean (measured 6.2)", rw, 12.0)
    check("long: egnn distance_w1 / floor mean (measured 3.0)", rd, 6.0)

    # ---- NLL through the PF-ODE on the zero-CoM subspace, held-out clouds ----
    sub = pcb.thinned_subsets(xho, 64, 20, 200)[0]
    with h5py.File(path("nll-data.h5"), "w") as f:
        f["data"] = sub
    t4 = time.time()
    r = run(["nll", "-score_type", "mlp", "-score_file", path("egnn.h5"), "-sde_type", "poly2", "-nll_data", path("nll-data.h5"),
             "-nll_divergence", "exact", "-ts_rtol", "1e-5", "-ts_atol", "1e-5", "-output", path("nll.h5")], nranks=2)
    t5 = time.time()
    check("long: sgm nll (exact divergence) runs", r.returncode, 0)
    if r.returncode == 0:
        print("  " + r.stdout.strip().replace("\n", "\n  "))
        with h5py.File(path("nll.h5")) as f:
            nll = f["nll"][:]
        Q = pcb.subspace_basis(4, 2)
        D = Q.shape[1]
        mu, C = pcb.gaussian_fit(xtr, Q)
        s2 = np.trace(C) / D  # the E(n)-invariant Gaussian N(0, s2 P): ML fit
        ng = pcb.gaussian_nll(sub, Q, np.zeros(D), s2 * np.eye(D))
        lz, lz_se, ess = pcb.log_partition(pcb.dw4_energy, Q, s2 * np.eye(D))
        nb = pcb.dw4_energy(sub) + lz
        print(f"  {len(sub)} held-out clouds, D = {D}: log Z = {lz:.4f} +- {lz_se:.4f} (importance sampling, ESS {ess:.0f}); nll {t5 - t4:.0f} s")
        kl = {}
        for name, v in (("egnn (sgm nll)", nll), ("Gaussian N(0, s^2 P), fitted", ng), ("Boltzmann exp(-E)/Z", nb)):
            dv = v - nb
            kl[name] = (dv.mean(), np.sqrt(dv.var(ddof=1) / len(dv) + lz_se**2))
            print(f"  NLL {name:30s} {v.mean():8.4f} +- {v.std(ddof=1) / np.sqrt(len(v)):.4f} nats/cloud, "
                  f"{v.mean() / D / np.log(2):7.4f} bits/dim; minus Boltzmann: {kl[name][0]:+.4f} +- {kl[name][1]:.4f}")
        # KL(p || q) = E_p[NLL_q - NLL_p] >= 0 for every density q on X: the model's NLL may not beat
        # the exact one (a wrong divergence, prior or subspace dimension shifts the NLL by O(1) nats)
        for name in ("egnn (sgm nll)", "Gaussian N(0, s^2 P), fitted"):
            check(f"long: -(NLL - NLL_Boltzmann) in se, {name.split(' (')[0].split(' N(')[0]}", -kl[name][0] / kl[name][1], 5.0)
        dg = nll - ng  # paired over the clouds; log Z cancels
        check("long: NLL(egnn) - NLL(Gaussian) in se (the model beats the Gaussian)",
              dg.mean() / (dg.std(ddof=1) / np.sqrt(len(dg))), -5.0)
        check("long: KL(p || egnn) = NLL(egnn) - NLL_Boltzmann, nats (measured 0.25)", kl["egnn (sgm nll)"][0], 0.6)
    print(f"{npass} passed, {nfail} failed")
    sys.exit(nfail != 0)

# ---- data ----
r = run(["mcmc", "-mcmc_target", "dw4", "-mcmc_chains", "32", "-mcmc_samples", "100", "-mcmc_burnin", "1000",
         "-mcmc_thin", "5", "-seed", "5", "-output", path("dw4.h5")])
if r.returncode:
    sys.exit("sgm mcmc failed")

# the third: distance with a radial basis and fixed atom types (-net_distance_rbf, -net_distance_types)
NETS = {"egnn": ["-net_width", "16", "-net_depth", "3"], "distance": ["-net_width", "16", "-net_depth", "2"],
        "distance-typed": ["-net_width", "16", "-net_depth", "2", "-net_distance_rbf", "8", "-net_distance_rbf_max", "6",
                           "-net_distance_types", "0,1,1,0"]}
SDE = ["-sde_type", "poly2", "-train_t_eps", "1e-3"]
for typ, arch in NETS.items():
    ntype = typ.split("-")[0]
    common = ["train", "-net_type", ntype, "-net_atoms", "4", *arch, "-train_data", path("dw4.h5"), "-train_loss", "simple",
              "-train_batch", "64", "-train_lr", "2e-3", "-train_warmup", "10", "-train_log_every", "0", *SDE, "-overwrite"]
    m1, m2, mh, mr = (path(f"{typ}-{k}.h5") for k in ("1", "2", "half", "restart"))
    ok1 = run(common + ["-train_steps", "100", "-output", m1]).returncode == 0
    ok2 = run(common + ["-train_steps", "100", "-output", m2], nranks=2).returncode == 0
    okh = run(common + ["-train_steps", "50", "-output", mh]).returncode == 0
    okr = run(common + ["-train_steps", "100", "-restart", mh + ".ckpt", "-output", mr]).returncode == 0
    check(f"{typ}: sgm train runs on 1 rank, 2 ranks (weights equal across ranks), restart", 0 if ok1 and ok2 and okh and okr else 1, 0)
    if not (ok1 and ok2 and okh and okr):
        continue
    with h5py.File(m1) as f:
        loss = f["train/loss"][:]
        th1 = f["model/theta"][:]
        g = f["model"]
        H, L, n = int(g.attrs["net_width"]), int(g.attrs["net_depth"]), int(g.attrs["net_atoms"])
        check(f"{typ}: model file: net_type {g.attrs['net_type'].decode()}, net_atoms {n}",
              0 if g.attrs["net_type"].decode() == ntype and n == 4 else 1, 0)
        extra = {}
        if typ == "distance-typed":
            extra = dict(K=int(g.attrs["net_distance_rbf"]), rmax=float(g.attrs["net_distance_rbf_max"]), types=g["distance_types"][:])
            check(f"{typ}: model file: net_distance_rbf {extra['K']}, rbf_max {extra['rmax']}, types {extra['types']}",
                  0 if extra["K"] == 8 and extra["rmax"] == 6 and list(extra["types"]) == [0, 1, 1, 0] else 1, 0)
    a, b = loss[:20].mean(), loss[-20:].mean()
    se = np.sqrt(loss[:20].var(ddof=1) / 20 + loss[-20:].var(ddof=1) / 20)
    print(f"  {typ}: simple loss, mean of steps 1-20 {a:.4f}, of steps {len(loss) - 19}-{len(loss)} {b:.4f} (se of the difference {se:.4f})")
    check(f"{typ}: loss decreases: -(mean(last 20) - mean(first 20)) in se", -(a - b) / se, -5)
    with h5py.File(m2) as f:
        th2 = f["model/theta"][:]
    check(f"{typ}: weights 2 ranks vs 1 rank (relative, rounding only)", np.abs(th2 - th1).max() / np.abs(th1).max(), 1e-8)
    with h5py.File(mr) as f:
        thr, lr_ = f["model/theta"][:], f["train/loss"][:]
    check(f"{typ}: restart at 50 of 100: weights and loss history bitwise (entries differing)",
          float(np.sum(thr != th1) + np.sum(lr_ != loss)), 0)

    # the score of the model file against the NumPy network
    rng = np.random.default_rng(7)
    N = 12
    x = rng.normal(size=(N, 8)) * 2
    t = rng.uniform(0.01, 0.99, size=N)
    with h5py.File(path("pts.h5"), "w") as f:
        f["x"], f["t"] = x, t
    r = run(["score", "-score_type", "mlp", "-score_file", m1, "-sde_type", "poly2", "-input", path("pts.h5"),
             "-output", path("score.h5"), "-overwrite", "-quiet"])
    if r.returncode:
        check(f"{typ}: sgm score runs", 1, 0)
        continue
    with h5py.File(path("score.h5")) as f:
        s = f["score"][:]
    fwd = egnn_F if typ == "egnn" else distance_F
    ref = np.zeros_like(s)
    for k in range(N):
        al, sg = poly2(t[k])
        c = 0.25 * np.log(sg / al)
        ref[k] = -fwd(th1, H, L, n, 2, x[k].reshape(4, 2), c, **extra).ravel() / sg
    check(f"{typ}: sgm score (score_type mlp) vs NumPy network (relative)", np.abs(s - ref).max() / np.abs(ref).max(), 1e-12)
    cm = np.abs(s.reshape(N, 4, 2).sum(axis=1)).max() / np.abs(s).max()
    check(f"{typ}: sgm score: zero centre of mass", cm, 1e-13)

    # sampling with the model: runs, same bits on 1 and 2 ranks
    smp = ["sample", "-score_type", "mlp", "-score_file", m1, "-sde_type", "poly2", "-sampler_steps", "20", "-nsamples", "37",
           "-seed", "3", "-overwrite"]
    r1 = run(smp + ["-output", path("s1.h5")])
    r2 = run(smp + ["-output", path("s2.h5")], nranks=2)
    if r1.returncode or r2.returncode:
        check(f"{typ}: sgm sample runs on 1 and 2 ranks", 1, 0)
        continue
    with h5py.File(path("s1.h5")) as f1, h5py.File(path("s2.h5")) as f2:
        a1, a2 = f1["samples"][:], f2["samples"][:]
        check(f"{typ}: sgm sample: 37 samples of dimension 8, finite", 0 if a1.shape == (37, 8) and np.isfinite(a1).all() else 1, 0)
        check(f"{typ}: sgm sample: 1 vs 2 ranks bitwise (entries differing)", float(np.sum(a1 != a2)), 0)

# ---- atom types as diffused invariant channels (EDM: one-hot h next to x, -net_egnn_features) ----
# Two atoms of type A and two of type B per cloud, in random order: per atom [x (2), one-hot (2)].
# The trainer must centre and project only the coordinates; a trainer that centred the features too
# (the bug this guards against) learns feature means 0 instead of the data's 0.5 per channel.
# The composition (two A, two B by argmax) is right in 37.5% of clouds by chance.
with h5py.File(path("dw4.h5")) as f:
    xd = f["samples"][:].reshape(-1, 4, 2)
rng = np.random.default_rng(11)
hd = np.zeros((len(xd), 4, 2))
for i in range(len(xd)):
    p = rng.permutation(4)
    hd[i, p[:2], 0] = 1
    hd[i, p[2:], 1] = 1
with h5py.File(path("dw4t.h5"), "w") as f:
    f["data"] = np.concatenate([xd, hd], axis=2).reshape(len(xd), -1)
r = run(["train", "-net_type", "egnn", "-net_atoms", "4", "-net_width", "32", "-net_depth", "3", "-net_egnn_features", "2",
         "-train_data", path("dw4t.h5"), "-train_loss", "simple", *SDE, "-train_steps", "300", "-train_batch", "128",
         "-train_seed", "2", "-output", path("typed.h5")])
r2 = r.returncode or run(["sample", "-score_type", "mlp", "-score_file", path("typed.h5"), "-sde_type", "poly2", "-sampler_steps", "100",
                          "-nsamples", "400", "-seed", "4", "-output", path("typed_s.h5")]).returncode
if r2:
    check("egnn with type channels: train and sample run", 1, 0)
else:
    with h5py.File(path("typed_s.h5")) as f:
        st = f["samples"][:].reshape(-1, 4, 4)
    ht = st[:, :, 2:]
    check("egnn with type channels: coordinates zero CoM", np.abs(st[:, :, :2].mean(axis=1)).max(), 1e-13)
    check("egnn with type channels: feature mean per channel vs data 0.5", np.abs(ht.mean(axis=(0, 1)) - 0.5).max(), 0.1)
    comp = np.mean((ht.argmax(axis=2) == 0).sum(axis=1) == 2)
    check("egnn with type channels: composition 2A+2B wrong (fraction)", 1 - comp, 0.2)

# ---- bad input: one line "sgm: error: ...", no output file ----
base = ["train", "-train_data", path("dw4.h5"), "-train_steps", "2", "-output", path("bad.h5")]
BAD = [
    ("egnn without -net_atoms", ["-net_type", "egnn"]),
    ("-net_atoms 3 with d = 8", ["-net_type", "egnn", "-net_atoms", "3"]),
    ("egnn with -train_loss ssm", ["-net_type", "egnn", "-net_atoms", "4", "-train_loss", "ssm"]),
    ("distance with -train_loss esm", ["-net_type", "distance", "-net_atoms", "4", "-train_loss", "esm",
                                       "-target_score_type", "gaussian"]),
    ("egnn with -latent pca", ["-net_type", "egnn", "-net_atoms", "4", "-latent", "pca", "-latent_dim", "4"]),
    ("unknown -net_type", ["-net_type", "transformer"]),
    ("egnn with -net_precision single (an mlp option)", ["-net_type", "egnn", "-net_atoms", "4", "-net_precision", "single"]),
    ("distance with -net_residual (an mlp option)", ["-net_type", "distance", "-net_atoms", "4", "-net_residual"]),
]
BAD.append(("-restart of an egnn checkpoint with distance", ["-net_type", "distance", "-net_atoms", "4", "-net_width", "16",
                                                              "-net_depth", "3", "-sde_type", "poly2", "-train_t_eps", "1e-3",
                                                              "-train_steps", "200", "-restart", path("egnn-half.h5.ckpt")]))
for name, opts in BAD:
    r = run(base + opts, expect=1)
    lines = [ln for ln in (r.stdout + r.stderr).strip().splitlines() if ln.strip()]
    good = r.returncode != 0 and len(lines) == 1 and lines[0].startswith("sgm: error:") and not os.path.exists(path("bad.h5"))
    print(f"  {name}: {lines[0] if lines else '(no message)'}")
    check(f"error: {name}", 0 if good else 1, 0)

print(f"{npass} passed, {nfail} failed")
sys.exit(nfail != 0)
