"""
bench-train.py -- training throughput (samples/s) of `sgm train` against the same MLP, loss and
optimiser in PyTorch, in the same run (issue 6).

The model (src/nn/mlp.c): Fourier time features e = [sin(f c), cos(f c)] on c = log(sigma/alpha)/4
(64 features, frequencies N(0, 16^2) 2 pi), temb = SiLU(Wt e + bt), h0 = Win x_t + bin, depth 3 residual
blocks h_l = SiLU(W_l h_{l-1} + b_l + P_l temb) + h_{l-1}, output F = Wout h_L + bout predicting eps;
the DDPM `simple` loss mean_i ||eps_i - F_i||^2 on x_t = alpha x_0 + sigma eps with x_0 drawn with
replacement and t ~ U(1e-3, 1) on the VP SDE (beta 0.1..20); Adam (lr 1e-3, betas 0.9/0.999,
eps 1e-8) with 100 steps of linear warm-up, clipping of the global gradient norm to 1 and an EMA
(0.999) of the weights; global batch 1024.  PyTorch runs the same model written with nn.Linear on
one thread (torch.set_num_threads(1), OPENBLAS_NUM_THREADS=1), in float64 (like for like: sgm
computes in double) and float32 (what a PyTorch user would run).  sgm also runs with -net_precision
single (float activations and sgemm in the passes, double weights/Adam/EMA: doc/training.md) on 1
rank, the like-for-like partner of PyTorch float32: a second table gives its samples/s and the
ratios sgm single / PyTorch f32 by wall and by CPU time, and sgm single / sgm double.

Timing: sgm's wall_time_seconds (root attribute of the model file: the training loop only,
SgmTrainerTrain); PyTorch: perf_counter around the same number of steps, after 2 untimed warm-up
steps.  sgm runs on 1 rank and on 2 ranks (mpiexec, same global batch); the runs alternate
sgm / PyTorch and are repeated, and the best of REPEAT is kept for each (the machine may be shared).
OPENBLAS_CORETYPE, if set, applies to both (PyTorch calls the same libblas.so.3).  sgm's products use
its default kernel (-net_gemm auto: sgm's AVX-512 kernel where the CPU has AVX-512F, src/nn/gemm.c);
a third table gives sgm with -net_gemm blas (1 rank, double), the same system dgemm PyTorch calls.
Prints samples/s, the ratios sgm / PyTorch, and the 1 -> 2 rank parallel efficiency
(samples/s on 2 ranks / (2 x samples/s on 1 rank)).  The ratios are also given by CPU time (PyTorch:
process_time around the loop; sgm: the CPU time of the run minus that of a 0-step run), which a
shared machine's time slicing does not distort; the efficiency has no such variant.  `make bench-train`; about 4 minutes on 2 cores
with the defaults, a few seconds with --quick.

Usage: bench-train.py --sgm src/sgm [--mpiexec mpiexec] [--widths 128,256,512] [--dims 2,64]
                      [--repeat 3] [--time 2.5] [--quick] [--workdir DIR]
"""
import argparse
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy/torch load their BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as Fn  # noqa: E402

sys.dont_write_bytecode = True
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_rmaps_base_oversubscribe": "1",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
BATCH, DEPTH, EMBED, FSCALE, NDATA = 1024, 3, 64, 16.0, 20000
EPS_T, BMIN, BMAX = 1e-3, 0.1, 20.0
LR, BETAS, ADAM_EPS, WARMUP, CLIP, EMA = 1e-3, (0.9, 0.999), 1e-8, 100, 1.0, 0.999


class Net(nn.Module):
    """sgm's SgmNet (src/nn/mlp.c) in PyTorch: the same layers, eps output, residual blocks."""

    def __init__(self, d, width, depth=DEPTH, E=EMBED, scale=FSCALE):
        super().__init__()
        self.register_buffer("freq", torch.randn(E // 2) * 2 * math.pi * scale)
        self.time = nn.Linear(E, width)
        self.inp = nn.Linear(d, width)
        self.W = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.P = nn.ModuleList(nn.Linear(width, width, bias=False) for _ in range(depth))
        self.out = nn.Linear(width, d)

    def forward(self, u, c):
        a = c[:, None] * self.freq[None, :]
        temb = Fn.silu(self.time(torch.cat([torch.sin(a), torch.cos(a)], 1)))
        h = self.inp(u)
        for Wl, Pl in zip(self.W, self.P):
            h = Fn.silu(Wl(h) + Pl(temb)) + h
        return self.out(h)


def torch_train(data, width, dtype, steps):
    """samples/s of `steps` training steps (after 2 warm-up steps) of the PyTorch twin."""
    torch.manual_seed(0)
    x0 = torch.as_tensor(data, dtype=dtype)
    net = Net(x0.shape[1], width).to(dtype)
    params = list(net.parameters())
    ema = [p.detach().clone() for p in params]
    opt = torch.optim.Adam(params, lr=LR, betas=BETAS, eps=ADAM_EPS)

    def step(k):
        idx = torch.randint(0, x0.shape[0], (BATCH,))  # with replacement
        t = EPS_T + (1 - EPS_T) * torch.rand(BATCH, dtype=dtype)
        B = BMIN * t + 0.5 * (BMAX - BMIN) * t * t  # int_0^t beta
        alpha, sigma = torch.exp(-0.5 * B), torch.sqrt(-torch.expm1(-B))
        eps = torch.randn(BATCH, x0.shape[1], dtype=dtype)
        xt = alpha[:, None] * x0[idx] + sigma[:, None] * eps
        loss = ((eps - net(xt, 0.25 * torch.log(sigma / alpha))) ** 2).sum(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, CLIP)
        for g in opt.param_groups:
            g["lr"] = LR * min(1.0, (k + 1) / WARMUP)
        opt.step()
        with torch.no_grad():
            torch._foreach_mul_(ema, EMA)
            torch._foreach_add_(ema, params, alpha=1 - EMA)
        return loss

    for k in range(2):
        step(k)
    t0, c0 = time.perf_counter(), time.process_time()
    for k in range(2, steps + 2):
        loss = step(k)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert math.isfinite(loss.item())
    return steps * BATCH / wall, steps * BATCH / cpu


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def sgm_train(a, datafile, width, steps, nranks, precision="double", gemm="auto"):
    """samples/s of `sgm train` from the wall_time_seconds of its model file, and the CPU seconds of
    the whole process (the caller subtracts a 0-step run's)."""
    out = os.path.join(a.workdir, f"bench_train_{nranks}.h5")
    cmd = ([a.mpiexec, "-n", str(nranks)] if nranks > 1 else []) + [
        a.sgm, "train", "-train_data", datafile, "-train_loss", "simple", "-net_output", "eps",
        "-net_width", str(width), "-net_depth", str(DEPTH), "-train_batch", str(BATCH), "-train_steps", str(steps),
        "-train_log_every", "0", "-net_precision", precision, "-net_gemm", gemm, "-output", out, "-overwrite", "-quiet"]
    c0 = children_cpu()
    subprocess.run(cmd, check=True, env={**os.environ, **MPI_ENV})
    cpu = children_cpu() - c0
    with h5py.File(out, "r") as f:
        wall = float(f.attrs["wall_time_seconds"])
    return steps * BATCH / max(wall, 1e-9), cpu


def make_data(d, path):
    """d = 2: eight Gaussians on a circle of radius 2 (std 0.1); d > 2: a correlated Gaussian."""
    rng = np.random.default_rng(6)
    if d == 2:
        k = rng.integers(0, 8, NDATA)
        x = 2 * np.stack([np.cos(k * np.pi / 4), np.sin(k * np.pi / 4)], 1) + 0.1 * rng.standard_normal((NDATA, 2))
    else:
        A = rng.standard_normal((d, d)) / np.sqrt(d)
        x = rng.standard_normal((NDATA, d)) @ A.T + 0.5
    with h5py.File(path, "w") as f:
        f["data"] = x
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sgm", required=True)
    ap.add_argument("--srcdir", default=".")
    ap.add_argument("--mpiexec", default="mpiexec")
    ap.add_argument("--widths", default="128,256,512")
    ap.add_argument("--dims", default="2,64")
    ap.add_argument("--repeat", type=int, default=3, help="best of REPEAT timings")
    ap.add_argument("--time", type=float, default=2.5, help="seconds per timed run (sets the step counts)")
    ap.add_argument("--quick", action="store_true", help="smoke run: width 128, d 2, 10 steps, one repeat")
    ap.add_argument("--workdir")
    a = ap.parse_args()
    widths, dims = [int(w) for w in a.widths.split(",")], [int(d) for d in a.dims.split(",")]
    if a.quick:
        widths, dims, a.repeat = [128], [2], 1
    torch.set_num_threads(1)
    with open("/proc/cpuinfo") as f:
        kernel = "avx512" if " avx512f" in f.read() else "blas"
    tmp = None
    if not a.workdir:
        tmp = tempfile.TemporaryDirectory(prefix="sgm-bench-train.")
        a.workdir = tmp.name
    print(f"sgm train (-net_gemm auto = {kernel}) vs PyTorch {torch.__version__} (1 thread; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}), simple loss, eps output, depth {DEPTH}, batch {BATCH}, "
          f"Adam + clip + EMA; best of {a.repeat}; {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    rows = []
    for d in dims:
        datafile = os.path.join(a.workdir, f"bench_train_d{d}.h5")
        data = make_data(d, datafile)
        for w in widths:
            # about a.time seconds per sgm run on an idle core of the machine of doc/performance.md
            steps = 10 if a.quick else max(10, round(120 * (128 / w) ** 2 * a.time / 2.5))
            best = {k: 0.0 for k in ("sgm1", "sgm2", "f64", "f32", "sgm1c", "f64c", "f32c", "s32", "s32c", "blas", "blasc")}
            setup = math.inf  # CPU seconds of a 0-step sgm run: start-up, data, output
            for r in range(a.repeat):  # alternate the implementations
                setup = min(setup, sgm_train(a, datafile, w, 0, 1)[1])
                sps, cpu = sgm_train(a, datafile, w, steps, 1)
                best["sgm1"], best["sgm1c"] = max(best["sgm1"], sps), max(best["sgm1c"], steps * BATCH / max(cpu - setup, 1e-9))
                sps, spc = torch_train(data, w, torch.float64, steps)
                best["f64"], best["f64c"] = max(best["f64"], sps), max(best["f64c"], spc)
                best["sgm2"] = max(best["sgm2"], sgm_train(a, datafile, w, steps, 2)[0])
                sps, spc = torch_train(data, w, torch.float32, steps)
                best["f32"], best["f32c"] = max(best["f32"], sps), max(best["f32c"], spc)
                sps, cpu = sgm_train(a, datafile, w, steps, 1, "single")
                best["s32"], best["s32c"] = max(best["s32"], sps), max(best["s32c"], steps * BATCH / max(cpu - setup, 1e-9))
                sps, cpu = sgm_train(a, datafile, w, steps, 1, "double", "blas")
                best["blas"], best["blasc"] = max(best["blas"], sps), max(best["blasc"], steps * BATCH / max(cpu - setup, 1e-9))
            rows.append((d, w, steps, best))
            print(f"  d {d:3d} width {w:4d}: {steps} steps, load average {os.getloadavg()[0]:.1f}", flush=True)
    print("\nsamples/s of wall time (best of the repeats); ratios sgm/PyTorch by wall time and by CPU time"
          "\n(samples per CPU second of the loop: insensitive to time slicing when the machine is shared)")
    print(f"{'d':>3s} {'width':>5s} {'steps':>5s} {'sgm 1 rank':>10s} {'torch f64':>9s} {'torch f32':>9s} "
          f"{'sgm/f64':>7s} {'sgm/f32':>7s} {'cpu:sgm/f64':>11s} {'sgm/f32':>7s} {'sgm 2 ranks':>11s} {'eff 1->2':>8s}")
    for d, w, steps, b in rows:
        print(f"{d:3d} {w:5d} {steps:5d} {b['sgm1']:10.0f} {b['f64']:9.0f} {b['f32']:9.0f} "
              f"{b['sgm1'] / b['f64']:7.2f} {b['sgm1'] / b['f32']:7.2f} {b['sgm1c'] / b['f64c']:11.2f} {b['sgm1c'] / b['f32c']:7.2f} "
              f"{b['sgm2']:11.0f} {b['sgm2'] / (2 * b['sgm1']):8.2f}")
    print("\nsgm -net_precision single (1 rank) against PyTorch float32: samples/s of wall time, ratios by wall and by CPU time,"
          "\nand the speed-up of single over double precision in sgm (wall)")
    print(f"{'d':>3s} {'width':>5s} {'sgm single':>10s} {'torch f32':>9s} {'single/f32':>10s} {'cpu:single/f32':>14s} {'single/double':>13s}")
    for d, w, steps, b in rows:
        print(f"{d:3d} {w:5d} {b['s32']:10.0f} {b['f32']:9.0f} {b['s32'] / b['f32']:10.2f} {b['s32c'] / b['f32c']:14.2f} {b['s32'] / b['sgm1']:13.2f}")
    print(f"\nsgm with -net_gemm blas (the system BLAS for its products; 1 rank, double) against the default kernel ({kernel})"
          f"\nand PyTorch float64: samples/s of wall time, ratios by CPU time")
    print(f"{'d':>3s} {'width':>5s} {'sgm blas':>9s} {'cpu:blas/f64':>12s} {'cpu:default/blas':>16s}")
    for d, w, steps, b in rows:
        print(f"{d:3d} {w:5d} {b['blas']:9.0f} {b['blasc'] / b['f64c']:12.2f} {b['sgm1c'] / b['blasc']:16.2f}")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
