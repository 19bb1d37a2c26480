"""
bench-gemm.py -- GFlop/s of sgm's dense products (src/nn/gemm.c, -net_gemm avx512 and blas) against
NumPy and PyTorch on the products of a training step, on one core, in the same run.

The shapes are those of one residual block of the MLP with width W and a batch of n = 1024 columns
(src/nn/mlp.c): forward  W x n  = W x W  . W x n   (N N: a_l = W_l h),
                backward W x n  = (W x W)^T . W x n (T N: adjoint of h),
                         W x W  = W x n . (W x n)^T (N T: gradient of W_l).
sgm: regression/perf/bench_gemm (SgmGemm/SgmGemmFloat with beta = 1, column-major); NumPy: np.matmul
into a preallocated array (beta = 0) with the transposes as views; PyTorch: addmm_ (beta = 1) with
the transposes as views.  NumPy and PyTorch call the system BLAS (python3-torch: BLAS_INFO=generic,
the same libblas.so.3 as NumPy and sgm's blas kernel); all run with OPENBLAS_NUM_THREADS=1 and
torch.set_num_threads(1).  Each figure is the best of 5 rounds of about --time seconds.  Prints the
rates and the ratios sgm avx512 / NumPy and / PyTorch.  `make bench-gemm`; about 40 s.

Usage: bench-gemm.py --bench regression/perf/bench_gemm [--widths 128,256,512] [--n 1024] [--time 0.3]
"""
import argparse
import os
import subprocess
import time

os.environ["OPENBLAS_NUM_THREADS"] = "1"
import numpy as np  # noqa: E402
import torch  # noqa: E402


def sgm_rate(a, M, N, K, ta, tb, prec, kernel):
    out = subprocess.run([a.bench, "-M", str(M), "-N", str(N), "-K", str(K), "-ta", ta, "-tb", tb, "-precision", prec,
                          "-net_gemm", kernel, "-time", str(a.time)], check=True, capture_output=True, text=True).stdout
    return float(out.split()[1])


def best_rate(f, flops, tmin):
    best = 0.0
    for _ in range(5):
        n, t0 = 0, time.perf_counter()
        while True:
            f()
            n += 1
            t = time.perf_counter() - t0
            if t >= tmin:
                break
        best = max(best, flops * n / t * 1e-9)
    return best


def operands(M, N, K, ta, tb, lib, dtype):
    """op(A) (M x K) and op(B) (K x N) as the product sees them, transposes as views"""
    rng = np.random.default_rng(1)
    A = rng.standard_normal((M, K) if ta == "N" else (K, M)).astype(dtype)
    B = rng.standard_normal((K, N) if tb == "N" else (N, K)).astype(dtype)
    if lib == "torch":
        A, B = torch.from_numpy(A), torch.from_numpy(B)
    return (A if ta == "N" else A.T), (B if tb == "N" else B.T)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True, help="the bench_gemm program")
    ap.add_argument("--widths", default="128,256,512")
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--time", type=float, default=0.3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    with open("/proc/cpuinfo") as f:
        avx512 = " avx512f" in f.read()
    print(f"GFlop/s on one core, best of 5 rounds of {a.time} s; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}; "
          f"NumPy {np.__version__}, PyTorch {torch.__version__}; load average {os.getloadavg()[0]:.1f}")
    if not avx512:
        print("this CPU has no AVX-512F: only -net_gemm blas is measured")
    print(f"{'prec':>6s} {'W':>4s} {'op':>3s} {'M':>5s} {'N':>5s} {'K':>5s} {'sgm avx512':>10s} {'sgm blas':>8s} {'numpy':>7s} "
          f"{'torch':>7s} {'avx512/numpy':>12s} {'avx512/torch':>12s}")
    for prec, dtype, tdtype in (("double", np.float64, torch.float64), ("single", np.float32, torch.float32)):
        for W in [int(w) for w in a.widths.split(",")]:
            for op, (M, N, K) in (("NN", (W, a.n, W)), ("TN", (W, a.n, W)), ("NT", (W, W, a.n))):
                ta, tb = op[0], op[1]
                flops = 2.0 * M * N * K
                X, Y = operands(M, N, K, ta, tb, "numpy", dtype)
                Z = np.empty((M, N), dtype)
                rn = best_rate(lambda: np.matmul(X, Y, out=Z), flops, a.time)
                Xt, Yt = operands(M, N, K, ta, tb, "torch", dtype)
                Zt = torch.zeros((M, N), dtype=tdtype)
                rt = best_rate(lambda: Zt.addmm_(Xt, Yt), flops, a.time)
                rb = sgm_rate(a, M, N, K, ta, tb, prec, "blas")
                ra = sgm_rate(a, M, N, K, ta, tb, prec, "avx512") if avx512 else float("nan")
                print(f"{prec:>6s} {W:4d} {op:>3s} {M:5d} {N:5d} {K:5d} {ra:10.1f} {rb:8.1f} {rn:7.1f} {rt:7.1f} {ra / rn:12.2f} {ra / rt:12.2f}",
                      flush=True)


if __name__ == "__main__":
    main()
