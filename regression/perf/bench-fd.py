#!/usr/bin/env python3
"""Benchmark of the ScaLAPACK layer (`make bench-fd`, doc/dense.md).

1. Frechet distance of two random 2048 x 2048 covariances: SgmFrechetDistance (regression/unit/test_dense
   -fd_ref, 2 ranks: two pdsyevd + two pdgemm) against scipy.linalg.sqrtm as in the usual FID code
   (regression/dense/fd_ref.py: sqrtm(S1), then sqrtm(S1^1/2 S2 S1^1/2)), same machine; ratio.
2. SgmDenseSymEig (pdsyevd, with eigenvectors) for d = 512, 1024, 2048, 4096 on 1 and 2 ranks, and
   numpy.linalg.eigh (LAPACK dsyevd) for reference.
Best of --repeat runs.  Prints a Markdown table.  Run from the build directory:
  python3 regression/perf/bench-fd.py [--d 2048] [--dims 512,1024,2048,4096] [--repeat 2]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")


def run(cmd):
    return subprocess.run(cmd, env=ENV, check=True, capture_output=True, text=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d", type=int, default=2048)
    ap.add_argument("--dims", default="512,1024,2048,4096")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--mpiexec", default=os.environ.get("MPIEXEC", "mpiexec"))
    ap.add_argument("--srcdir", default=os.environ.get("top_srcdir", "."))
    ap.add_argument("--test-dense", default="regression/unit/test_dense")
    a = ap.parse_args()
    mpi = lambda n: [a.mpiexec, "-n", str(n)]
    print(f"machine: {os.uname().nodename}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        ref = os.path.join(tmp, "fd.bin")
        ts, tc = [], []
        for _ in range(a.repeat):
            out = run([sys.executable, os.path.join(a.srcdir, "regression/dense/fd_ref.py"), ref, str(a.d), "7"])
            ts.append(float(re.search(r"time ([0-9.]+) s", out).group(1)))
            out = run(mpi(2) + [a.test_dense, "-fd_ref", ref])
            tc.append(float(re.search(r"time ([0-9.]+) s", out).group(1)))
            err = re.search(r"err ([0-9.e+-]+)", out).group(1)
        print(f"\n| Frechet distance, d = {a.d} | time (s) |\n|---|---|")
        print(f"| scipy.linalg.sqrtm (1 process) | {min(ts):.2f} |")
        print(f"| SgmFrechetDistance, 2 ranks | {min(tc):.2f} |")
        print(f"| ratio SciPy / sgm | {min(ts) / min(tc):.1f} |")
        print(f"| relative difference | {err} |")
    dims = [int(x) for x in a.dims.split(",")]
    print("\n| d | numpy eigh (s) | pdsyevd 1 rank (s) | pdsyevd 2 ranks (s) | speed-up 1 -> 2 |\n|---|---|---|---|---|")
    for d in dims:
        rng = np.random.default_rng(1)
        g = rng.standard_normal((d, d)) / np.sqrt(d)
        A = (g + g.T) / 2 + 3 * np.eye(d)
        tn = []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            np.linalg.eigh(A)
            tn.append(time.perf_counter() - t0)
        t = {}
        for n in (1, 2):
            t[n] = min(float(re.search(r"time ([0-9.]+) s", run(mpi(n) + [a.test_dense, "-bench_eig", str(d)])).group(1))
                       for _ in range(a.repeat))
        print(f"| {d} | {min(tn):.2f} | {t[1]:.2f} | {t[2]:.2f} | {t[1] / t[2]:.2f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
