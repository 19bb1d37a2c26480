#!/usr/bin/env python3
"""GeoLDM on point clouds (issue 9, doc/geometric.md "GeoLDM"): the two stages and sampling.

  On DW4 data from `sgm mcmc` (4 atoms in 2-D, 3200 clouds), EDM's poly2 SDE:
  * stage 1, `sgm train-ae` (width 16, 2 layers, k = 1 latent feature, 150 steps of 64) on 1 rank:
    the reconstruction RMSE per coordinate of the whole data set falls below a fifth of the initial
    one (an untrained decoder outputs ~0, RMSE ~ the data's spread 1.9; measured 1.90 -> 0.04); the
    RMSE the file reports equals the RMSE of an independent NumPy implementation of the documented
    encoder and decoder (egnn with feature channels, src/nn/impls/egnn/egnn.c header) on the EMA
    weights of the file, relative 1e-10; the same on 2 ranks runs (the command aborts if the weights
    differ across ranks) and prints its checksum;
  * checkpoint/restart of `sgm train-ae` on 1 and 2 ranks: SIGTERM after step 75 of 150 (test hook
    -train_test_signal_step, checkpoints every 25 steps) exits with status 75, the checkpoint and no
    output file; -restart to step 150 gives the bits (/ae_raw, /ae, /train/loss) of the uninterrupted
    run on the same rank count;
  * cross-rank: 1 and 2 ranks differ by the summation order of the gradient only: max |dtheta| /
    max |theta| < 1e-12 after 1 step (measured 1.4e-17) and < 1e-4 after 150 (measured 2.8e-7);
  * stage 2, `sgm train -latent egnn_ae -latent_ae_file ae.h5 -net_type egnn` (100 steps, 2 ranks):
    the model file holds /latent/decoder and latent_dim 12 = 4 x (2 + 1), the score net has one
    feature channel;
  * `sgm sample -score_type mlp -score_file latent.h5` on 1 and 2 ranks: /samples [N, 8] bitwise equal
    on both, zero CoM per cloud (1e-12), /samples equal to the NumPy decoder applied to
    /latent_samples (relative 1e-10), and the latent feature channel is not projected (its atom mean
    is far from 0 in some cloud, while the latent coordinates' CoM is 0);
  * bad input: -latent egnn_ae without -latent_ae_file, with -net_type distance, an autoencoder of
    other clouds, `sgm nll` of the latent model, a checkpoint of `sgm train` given to `sgm train-ae
    -restart` and vice versa, a checkpoint of other options; one line each and a non-zero exit.
Prints one line per check and "N passed, M failed".  About 20 s on 2 cores.

--long (make check-long; a few minutes on 2 cores): 25600 DW4 clouds (64 chains), the autoencoder
(width 32, 3 layers, k = 1) for 2000 steps, the latent egnn (width 64, 4 layers) for 3000 steps of 256,
1000 samples (Euler-Maruyama, 500 steps), all on 2 ranks; reports the reconstruction RMSE and
`sgm eval -eval_energy dw4` of the decoded samples against an independent MCMC set (energy_w2,
energy_mean).  Gross bounds only: RMSE < 0.3 (the data's spread is 1.9) and |<E>_samples - <E>_MCMC|
< 5 (the energy's standard deviation is 1.9; an untrained model is off by ~20).
"""
import argparse, json, os, re, subprocess, sys
import numpy as np
import h5py

ap = argparse.ArgumentParser()
ap.add_argument("--sgm", required=True)
ap.add_argument("--workdir", required=True)
ap.add_argument("--mpiexec", default=os.environ.get("MPIEXEC", "mpiexec"))
ap.add_argument("--long", action="store_true")
args = ap.parse_args()
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
W = args.workdir
npass = nfail = 0


def check(name, err, bound):
    global npass, nfail
    ok = bool(err <= bound)  # NaN fails
    npass += ok
    nfail += not ok
    print(f"{name:<70s} err {err:9.3e}  bound {bound:9.3e}  {'ok' if ok else 'FAILED'}", flush=True)


def path(f):
    return os.path.join(W, f)


def run(cmd, nranks=0, expect=0):
    full = ([args.mpiexec, "-n", str(nranks)] if nranks else []) + [args.sgm] + cmd
    r = subprocess.run(full, env=env, capture_output=True, text=True)
    if (r.returncode != 0) != (expect != 0):
        print("command:", " ".join(full))
        print(r.stdout, r.stderr)
    return r


def silu(a):
    return a / (1 + np.exp(-a))


def egnn(g, x):
    """The egnn of an HDF5 group g (attributes and theta) on clouds x [B, n, sd_in], time input 0:
    returns [B, n, sx + kout] = [P(x^L - x^0), W_out h^L + b_out]."""
    theta = g["theta"][:]
    H, L, n = int(g.attrs["net_width"]), int(g.attrs["net_depth"]), int(g.attrs["net_atoms"])
    kin = int(g.attrs.get("net_features_in", 0))
    kout = int(g.attrs.get("net_features_out", 0))
    sx = x.shape[2] - kin
    o = 0

    def take(shape):
        nonlocal o
        size = int(np.prod(shape))
        v = theta[o:o + size]
        o += size
        return v.reshape(shape[::-1]).T if len(shape) == 2 else v  # column-major matrices

    wemb, bemb = take((H,)), take((H,))
    Win = take((H, kin)) if kin else None
    layers = []
    for l in range(L):
        full = l < L - 1 or kout > 0
        p = [take((H, H)), take((H, H)), take((H,)), take((H,)), take((H, H)), take((H,)), take((H, H)), take((H,)), take((H,))]
        if full:
            p += [take((H, H)), take((H, H)), take((H,)), take((H, H)), take((H,))]
        layers.append(p)
    Wout, bout = (take((kout, H)), take((kout,))) if kout else (None, None)
    assert o == len(theta), (o, len(theta))
    out = np.zeros((x.shape[0], n, sx + kout))
    for b in range(x.shape[0]):
        X0 = x[b, :, :sx]
        h = np.outer(np.ones(n), bemb)  # c = 0
        if kin:
            h = h + (Win @ x[b, :, sx:].T).T
        X = X0.copy()
        for p in layers:
            Wea, Web, wer, be1, We2, be2, Wx1, bx1, wx2 = p[:9]
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
                    Xn[i] += v / (np.sqrt(r) + 1) * (wx2 @ silu(Wx1 @ m + bx1))
            if len(p) > 9:
                Wha, Whb, bh1, Wh2, bh2 = p[9:]
                h = h + (Wh2 @ silu(Wha @ h.T + Whb @ M.T + bh1[:, None]) + bh2[:, None]).T
            X = Xn
        F = X - X0
        out[b, :, :sx] = F - F.mean(axis=0)
        if kout:
            out[b, :, sx:] = (Wout @ h.T).T + bout
    return out


def dw4_energy(x):
    x = x.reshape(len(x), 4, 2)
    e = np.zeros(len(x))
    for i in range(4):
        for j in range(i + 1, 4):
            d = np.linalg.norm(x[:, i] - x[:, j], axis=1)
            e += 0.9 * (d - 4) ** 4 - 4 * (d - 4) ** 2
    return e


SDE = ["-sde_type", "poly2"]
if args.long:
    mc = ["mcmc", "-mcmc_target", "dw4", "-mcmc_chains", "64", "-mcmc_samples", "400", "-mcmc_burnin", "2000", "-mcmc_thin", "10"]
    ok = run(mc + ["-seed", "3", "-output", path("dw4.h5")], nranks=2).returncode == 0
    ok = ok and run(mc + ["-seed", "4", "-output", path("dw4-ref.h5")], nranks=2).returncode == 0
    r = run(["train-ae", "-train_data", path("dw4.h5"), "-ae_net_atoms", "4", "-ae_net_width", "32", "-ae_net_depth", "3",
             "-ae_latent_features", "1", "-train_steps", "2000", "-train_batch", "128", "-train_lr", "2e-3",
             "-train_log_every", "0", "-output", path("ae.h5")], nranks=2)
    ok = ok and r.returncode == 0
    ok = ok and run(["train", "-train_data", path("dw4.h5"), "-latent", "egnn_ae", "-latent_ae_file", path("ae.h5"), "-net_type", "egnn",
                     "-net_width", "64", "-net_depth", "4", "-train_loss", "simple", "-train_t_eps", "1e-3", "-train_steps", "3000",
                     "-train_batch", "256", "-train_lr", "1e-3", "-train_log_every", "0", "-output", path("latent.h5")] + SDE, nranks=2).returncode == 0
    ok = ok and run(["sample", "-score_type", "mlp", "-score_file", path("latent.h5"), "-sampler_steps", "500", "-nsamples", "1000",
                     "-seed", "1", "-output", path("s.h5")] + SDE, nranks=2).returncode == 0
    re_ = ok and run(["eval", "-samples", path("s.h5"), "-reference", path("dw4-ref.h5"), "-eval_energy", "dw4", "-eval_pairwise", "0",
                      "-output", path("eval.h5")], nranks=2)
    ok = ok and re_.returncode == 0
    check("long: mcmc, train-ae, train -latent egnn_ae, sample, eval run", 0 if ok else 1, 0)
    if ok:
        with h5py.File(path("ae.h5")) as f:
            r0, r1 = f["ae"].attrs["reconstruction_rmse_initial"], f["ae"].attrs["reconstruction_rmse"]
        ev = json.loads(re_.stdout.splitlines()[0])
        with h5py.File(path("s.h5")) as f:
            es = dw4_energy(f["samples"][:])
        with h5py.File(path("dw4-ref.h5")) as f:
            er = dw4_energy(f["samples"][:])
        print(f"  reconstruction RMSE {r0:.4f} -> {r1:.4f}; energy_w2 {ev['energy_w2']:.4f}, energy_mean {ev['energy_mean']:.4f} "
              f"(+- {es.std() / np.sqrt(len(es)):.3f}) vs MCMC {ev['energy_mean_reference']:.4f}; distance_w1 {ev['distance_w1']:.4f}")
        check("long: reconstruction RMSE (data spread 1.9)", r1, 0.3)
        check("long: |<E>_samples - <E>_MCMC| (gross)", abs(ev["energy_mean"] - ev["energy_mean_reference"]), 5.0)
        check("long: NumPy energy mean of the decoded samples = sgm eval's", abs(es.mean() - ev["energy_mean"]), 1e-9 * abs(es.mean()))
    print(f"{npass} passed, {nfail} failed")
    sys.exit(1 if nfail else 0)

r = run(["mcmc", "-mcmc_target", "dw4", "-mcmc_chains", "32", "-mcmc_samples", "100", "-mcmc_burnin", "1000",
         "-mcmc_thin", "5", "-seed", "5", "-output", path("dw4.h5")])
if r.returncode:
    sys.exit("sgm mcmc failed")
AE = ["train-ae", "-train_data", path("dw4.h5"), "-ae_net_atoms", "4", "-ae_net_width", "16", "-ae_net_depth", "2",
      "-ae_latent_features", "1", "-train_steps", "150", "-train_batch", "64", "-train_lr", "3e-3", "-train_warmup", "20", "-train_log_every", "0"]
RMSE = re.compile(r"reconstruction RMSE ([0-9.eE+-]+) -> ([0-9.eE+-]+)")
r = run(AE + ["-output", path("ae.h5")])
m = RMSE.search(r.stdout)
check("train-ae (1 rank) runs and reports the RMSE", 0 if r.returncode == 0 and m else 1, 0)
if m:
    r0, r1 = float(m.group(1)), float(m.group(2))
    print(f"  reconstruction RMSE per coordinate {r0:.4f} -> {r1:.4f}")
    check("train-ae: final RMSE / initial RMSE", r1 / r0, 0.2)
    with h5py.File(path("ae.h5")) as f, h5py.File(path("dw4.h5")) as fd:
        x = fd["samples"][:].reshape(-1, 4, 2)  # `sgm mcmc` writes /samples
        x = x - x.mean(axis=1, keepdims=True)
        xs = x[:64]  # a subset: the NumPy loops are slow; the RMSE of the whole set is checked below through sgm's
        z = egnn(f["ae/encoder"], xs)
        xh = egnn(f["ae/decoder"], z)
        mine = np.sqrt(np.mean((xh - xs) ** 2))
        rep = f["ae"].attrs["reconstruction_rmse"]
        ok_attr = abs(rep - r1) <= 1e-5 * r1
    check("train-ae: RMSE attribute of /ae = printed RMSE (6 digits)", 0 if ok_attr else 1, 0)
    # the RMSE of the same 64 clouds through sgm: a training file of those clouds, encoded in stage 2 (attribute reconstruction_rmse)
    with h5py.File(path("sub.h5"), "w") as f:
        f["data"] = xs.reshape(64, 8)
    r = run(["train", "-train_data", path("sub.h5"), "-latent", "egnn_ae", "-latent_ae_file", path("ae.h5"), "-net_type", "egnn",
             "-net_width", "8", "-net_depth", "2", "-train_steps", "0", "-train_t_eps", "1e-3", "-train_log_every", "0", "-output", path("sub-model.h5")] + SDE)
    if r.returncode == 0:
        with h5py.File(path("sub-model.h5")) as f:
            theirs = f["latent"].attrs["reconstruction_rmse"]
        check("encoder+decoder: sgm's RMSE of 64 clouds = NumPy's (relative)", abs(theirs - mine) / mine, 1e-10)
    else:
        check("encoder+decoder: sgm's RMSE of 64 clouds = NumPy's (relative)", 1, 0)
r = run(AE + ["-output", path("ae2.h5")], nranks=2)
check("train-ae on 2 ranks: weights equal on both ranks (checksum check)", 0 if r.returncode == 0 and "weight checksum" in r.stdout else 1, 0)


def with_opt(cmd, name, value):
    """cmd with the value of option name replaced"""
    c = list(cmd)
    c[c.index(name) + 1] = value
    return c


def ae_theta(f, grp):
    with h5py.File(f) as h:
        return np.concatenate([h[grp + "/encoder/theta"][:], h[grp + "/decoder/theta"][:]])


def same_run(a, b):
    """/ae_raw, /ae and /train/loss of two train-ae files bitwise equal"""
    if not (os.path.exists(a) and os.path.exists(b)):
        return False
    with h5py.File(a) as fa, h5py.File(b) as fb:
        return all(np.array_equal(fa[g][:], fb[g][:]) for g in
                   ["ae_raw/encoder/theta", "ae_raw/decoder/theta", "ae/encoder/theta", "ae/decoder/theta", "train/loss"])


# checkpoint/restart: SIGTERM after step 75 of 150 (rank 0 raises it; periodic checkpoints every 25
# steps on the way), exit 75 with the checkpoint and no output file, then -restart: the same bits as
# the uninterrupted runs ae.h5 (1 rank) and ae2.h5 (2 ranks)
for nr, ref in [(0, "ae.h5"), (2, "ae2.h5")]:
    out = path(f"ae-int{nr}.h5")
    r = run(AE + ["-output", out, "-train_checkpoint_every", "25", "-train_test_signal_step", "75"], nranks=nr, expect=1)
    ok = r.returncode == 75 or (nr and r.returncode != 0)  # mpiexec may map the status 75 to 1
    ok = ok and "stopped by a signal after step 75 of 150" in r.stdout and not os.path.exists(out) and os.path.exists(out + ".ckpt")
    if ok:
        with h5py.File(out + ".ckpt") as f:
            ok = int(f.attrs["step"]) == 75 and f["loss"].shape == (75,)
    r = run(AE + ["-output", out, "-restart", out + ".ckpt"], nranks=nr)
    ok = ok and r.returncode == 0
    check(f"train-ae {max(nr, 1)} rank(s): SIGTERM at step 75, -restart to 150 = uninterrupted run (bitwise)", 0 if ok and same_run(out, path(ref)) else 1, 0)

# cross-rank behaviour: 1 and 2 ranks differ only by the summation order of the gradient (each rank
# sums its block of the batch, then MPI_Allreduce).  Measured (doc/geometric.md): max |theta_1 -
# theta_2| / max |theta_1| 1.4e-17 after 1 step, 2.8e-17 after 5, 1.7e-16 after 20, 2.8e-7 after
# 150 (Adam's normalisation amplifies the rounding differences of small gradient components)
for st, bound in [(1, 1e-12), (150, 1e-4)]:
    a1, a2 = (path("ae.h5"), path("ae2.h5")) if st == 150 else (path("x1.h5"), path("x2.h5"))
    ok = st == 150 or (run(with_opt(AE, "-train_steps", str(st)) + ["-output", a1]).returncode == 0
                       and run(with_opt(AE, "-train_steps", str(st)) + ["-output", a2], nranks=2).returncode == 0)
    if ok and os.path.exists(a1) and os.path.exists(a2):
        t1, t2 = ae_theta(a1, "ae_raw"), ae_theta(a2, "ae_raw")
        err = np.abs(t1 - t2).max() / np.abs(t1).max()
        print(f"  1 vs 2 ranks after {st} step(s): max relative weight difference {err:.3g} ({int((t1 != t2).sum())} of {len(t1)} differ)")
    else:
        err = 1
    check(f"train-ae 1 vs 2 ranks after {st} step(s): max |dtheta| / max |theta|", err, bound)

LAT = ["train", "-train_data", path("dw4.h5"), "-latent", "egnn_ae", "-latent_ae_file", path("ae.h5"), "-net_type", "egnn",
       "-net_width", "16", "-net_depth", "2", "-train_loss", "simple", "-train_t_eps", "1e-3", "-train_steps", "100",
       "-train_batch", "64", "-train_log_every", "0"] + SDE
r = run(LAT + ["-output", path("latent.h5")], nranks=2)
ok = r.returncode == 0
if ok:
    with h5py.File(path("latent.h5")) as f:
        ok = "latent/decoder" in f and int(f["latent"].attrs["latent_dim"]) == 12 and int(f["latent"].attrs["data_dim"]) == 8 \
            and int(f["model"].attrs["net_features_in"]) == 1 and f.attrs["latent"] in (b"egnn_ae", "egnn_ae")
check("train -latent egnn_ae (2 ranks): model file with /latent/decoder, dims 12 -> 8", 0 if ok else 1, 0)

S = ["sample", "-score_type", "mlp", "-score_file", path("latent.h5"), "-sampler_steps", "50", "-nsamples", "40", "-seed", "3"] + SDE
r1 = run(S + ["-output", path("s1.h5")])
r2 = run(S + ["-output", path("s2.h5")], nranks=2)
if r1.returncode == 0 and r2.returncode == 0:
    with h5py.File(path("s1.h5")) as f1, h5py.File(path("s2.h5")) as f2, h5py.File(path("latent.h5")) as fm:
        a, b = f1["samples"][:], f2["samples"][:]
        zl = f1["latent_samples"][:].reshape(-1, 4, 3)
        check("sample: decoded /samples [40, 8], bitwise equal on 1 and 2 ranks", 0 if a.shape == (40, 8) and np.array_equal(a, b) else 1, 0)
        check("sample: decoded clouds have zero CoM", np.abs(a.reshape(-1, 4, 2).mean(axis=1)).max(), 1e-12)
        dec = egnn(fm["latent/decoder"], zl).reshape(-1, 8)
        check("sample: /samples = NumPy decoder(/latent_samples) (relative)", np.abs(dec - a).max() / np.abs(a).max(), 1e-10)
        check("sample: latent coordinates have zero CoM", np.abs(zl[:, :, :2].mean(axis=1)).max(), 1e-12)
        fm_ = np.abs(zl[:, :, 2].mean(axis=1)).max()
        print(f"  largest atom mean of the latent feature channel {fm_:.3g} (not projected)")
        check("sample: latent feature channel not projected (1e-3 / its largest atom mean)", 1e-3 / max(fm_, 1e-300), 1)
else:
    check("sample on 1 and 2 ranks runs", 1, 0)

# bad input: one clear line and a non-zero exit
with h5py.File(path("d12.h5"), "w") as f:  # clouds of 6 atoms in 2-D: not the autoencoder's
    f["data"] = np.random.default_rng(1).normal(size=(50, 12))
if os.path.exists(path("s1.h5")):
    with h5py.File(path("s1.h5")) as f, h5py.File(path("z12.h5"), "w") as g:  # latent points for the nll
        g["data"] = f["latent_samples"][:]
bad = [
    (["train", "-train_data", path("dw4.h5"), "-latent", "egnn_ae", "-net_type", "egnn", "-output", path("b1.h5")] + SDE, "-latent_ae_file"),
    (LAT[:-2 - len(SDE)] + ["-net_type", "distance", "-output", path("b2.h5")] + SDE, "use -net_type egnn"),
    (["train", "-train_data", path("d12.h5"), "-latent", "egnn_ae", "-latent_ae_file", path("ae.h5"),
      "-net_type", "egnn", "-train_t_eps", "1e-3", "-output", path("b3.h5")] + SDE, "is for clouds of 4 atoms"),
    (["nll", "-score_type", "mlp", "-score_file", path("latent.h5"), "-nll_data", path("z12.h5"), "-output", path("b4.h5")] + SDE, "is not available"),
    (["train-ae", "-train_data", path("dw4.h5"), "-ae_net_atoms", "3", "-output", path("b5.h5")], "does not divide"),
    (["train-ae", "-train_data", path("dw4.h5"), "-ae_net_atoms", "4", "-ae_net_output", "eps", "-output", path("b6.h5")], "does not apply to the GeoLDM autoencoder"),
    (AE + ["-restart", path("latent.h5.ckpt"), "-output", path("b7.h5")], "is a checkpoint of `sgm train`, not of `sgm train-ae`"),
    (LAT + ["-restart", path("ae.h5.ckpt"), "-output", path("b8.h5")], "is a checkpoint of `sgm train-ae`, not of `sgm train`"),
    (with_opt(AE, "-train_batch", "32") + ["-restart", path("ae.h5.ckpt"), "-output", path("b9.h5")], "other options: train_batch 64 (now 32)"),
]
for cmd, what in bad:
    r = run(cmd, expect=1)
    ok = r.returncode != 0 and what in (r.stdout + r.stderr) and not os.path.exists(cmd[cmd.index("-output") + 1])
    check(f"bad input refused ({what})", 0 if ok else 1, 0)
print(f"{npass} passed, {nfail} failed")
sys.exit(1 if nfail else 0)
