#!/usr/bin/env python3
"""Weak and strong scaling of the field scores (issue 8, doc/fields.md).  Not part of make check.

  make bench-fields [BENCH_FIELDS_ARGS="--steps 5 --ranks 1,2"]

Weak scaling: a 1024^2 field per rank (1024 x 1024 on 1 rank, 2048 x 1024 on 2 ranks).
Strong scaling: one 2048^2 field on 1 and 2 ranks.  For each, the FFT path (grf_fft, MATFFTW) and the
KSP path (gmrf, CG + BoomerAMG, rtol 1e-10, alpha = 1, kappa = 0.5): `sgm sample -sampler_type em`
with one field and --steps steps; the time per step is the run's wall_time_seconds attribute (the
TSSolve, prior draw included) over the steps, best of --repeat runs.  Parallel efficiency:
weak T(1)/T(p), strong T(1)/(p T(p)).  Prints a table (Markdown) for doc/fields.md.
"""
import argparse
import os
import subprocess
import tempfile

import h5py


def run(sgm, mpiexec, n, score, grid, steps, extra):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "b.h5")
        pre = "grf" if score == "grf_fft" else "gmrf"
        cmd = [*mpiexec.split(), "-n", str(n), sgm, "sample", "-score_type", score, "-field_grid", grid,
               f"-{pre}_kappa", "0.5", "-{}_alpha".format(pre), "1", "-nsamples", "1", "-sampler_type", "em",
               "-sampler_steps", str(steps), "-seed", "1", "-quiet", "-output", out, *extra]
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
        subprocess.run(cmd, check=True, env=env)
        f = h5py.File(out, "r")
        it = f.attrs.get("gmrf_mean_iterations", 0)
        return f.attrs["wall_time_seconds"] / steps, it


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--base", type=int, default=1024, help="per-rank field side of the weak scaling")
    ap.add_argument("--strong", type=int, default=2048, help="field side of the strong scaling")
    a = ap.parse_args()
    top = os.environ.get("top_builddir", ".")
    sgm = os.path.join(top, "src", "sgm")
    mpiexec = os.environ.get("MPIEXEC", "mpiexec") or "mpiexec"
    rows = []
    for score in ("grf_fft", "gmrf"):
        for kind in ("weak", "strong"):
            t = {}
            for n in (1, 2):
                grid = f"{a.base * n},{a.base}" if kind == "weak" else f"{a.strong},{a.strong}"
                best = min(run(sgm, mpiexec, n, score, grid, a.steps, []) for _ in range(a.repeat))
                t[n] = best
                rows.append((score, kind, n, grid, best[0], best[1]))
            eff = t[1][0] / t[2][0] if kind == "weak" else t[1][0] / (2 * t[2][0])
            rows.append((score, kind, "eff", "", eff, None))
    print("| score | scaling | ranks | grid | s/step | KSP its | efficiency |")
    print("|---|---|---|---|---|---|---|")
    for score, kind, n, grid, v, it in rows:
        if n == "eff":
            print(f"| {score} | {kind} | 1 -> 2 | | | | **{v:.2f}** |")
        else:
            print(f"| {score} | {kind} | {n} | {grid} | {v:.3f} | {it if it else '-'} | |")


if __name__ == "__main__":
    main()
