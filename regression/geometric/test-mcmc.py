#!/usr/bin/env python3
"""Verification of `sgm mcmc` (issue 9, doc/geometric.md).

  DW4 and LJ13 chains on 1 and 2 ranks: /samples and /energy bitwise identical; every stored energy
  recomputed here from /samples with NumPy (independent code, the conventions of the docstring of
  src/mcmc/impls/*.c); samples CoM-centred; the means against the published values
      DW4  <E> = -22.5;  LJ13 (ordered-pair target)  <sum_{i<j} LJ> = -26.1,  <oscillator> = 9.0
  within 5 standard errors (from the independent chains' means) plus half the last printed digit of
  the published value (0.05); the stored statistics attributes against NumPy; bad input.
Prints one line per check and "N passed, M failed".  About 15 s on 2 cores.
"""
import argparse, os, subprocess, sys
import numpy as np
import h5py

ap = argparse.ArgumentParser()
ap.add_argument("--sgm", required=True)
ap.add_argument("--workdir", required=True)
ap.add_argument("--mpiexec", default=os.environ.get("MPIEXEC", "mpiexec"))
args = ap.parse_args()
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
npass = nfail = 0


def check(name, err, bound):
    global npass, nfail
    ok = bool(err <= bound)  # NaN fails
    npass += ok
    nfail += not ok
    print(f"{name:<66s} err {err:9.3e}  bound {bound:9.3e}  {'ok' if ok else 'FAILED'}", flush=True)


def run(nranks, out, *opts, expect=0):
    cmd = ([args.mpiexec, "-n", str(nranks)] if nranks else []) + [args.sgm, "mcmc", "-output", out, "-overwrite", *opts]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != expect:
        print(r.stdout, r.stderr)
    return r


def dw4_energy(x):
    x = x.reshape(len(x), 4, 2)
    e = np.zeros(len(x))
    for i in range(4):
        for j in range(i + 1, 4):
            u = np.linalg.norm(x[:, i] - x[:, j], axis=1) - 4.0
            e += 0.9 * u**4 - 4.0 * u**2
    return e


def lj13_parts(x):
    x = x.reshape(len(x), 13, 3)
    pair = np.zeros(len(x))
    for i in range(13):
        for j in range(i + 1, 13):
            d = np.linalg.norm(x[:, i] - x[:, j], axis=1)
            pair += d**-12 - 2 * d**-6
    osc = 0.5 * ((x - x.mean(axis=1, keepdims=True))**2).sum(axis=(1, 2))
    return pair, osc


def chain_stats(v, C):
    m = v.reshape(C, -1).mean(axis=1)
    return v.mean(), m.std(ddof=1) / np.sqrt(C)


def case(name, target, C, S, opts, refs, parts):
    f1, f2 = f"{args.workdir}/{name}1.h5", f"{args.workdir}/{name}2.h5"
    common = ["-mcmc_target", target, "-mcmc_chains", str(C), "-mcmc_samples", str(S), "-seed", "3", *opts]
    r1, r2 = run(1, f1, *common), run(2, f2, *common)
    check(f"{name}: runs on 1 and 2 ranks", float(r1.returncode != 0 or r2.returncode != 0), 0)
    if r1.returncode or r2.returncode:
        return
    print(r2.stdout.rstrip())
    with h5py.File(f1) as a, h5py.File(f2) as b:
        same = all(np.array_equal(a[k][...], b[k][...]) and a[k].dtype == b[k].dtype for k in a.keys())
        check(f"{name}: every dataset bitwise identical on 1 and 2 ranks", float(not same), 0)
        x, E = b["samples"][...], b["energy"][...]
        nd = x.shape[1] // (4 if target == "dw4" else 13)
        check(f"{name}: /samples shape [C*S, n*dim] = {list(x.shape)}", float(x.shape[0] != C * S), 0)
        com = np.abs(x.reshape(len(x), -1, nd).sum(axis=1)).max()
        check(f"{name}: samples centred, max |sum_i x_i|", com, 1e-12)
        if target == "dw4":
            vals = {"energy": dw4_energy(x)}
        else:
            pair, osc = lj13_parts(x)
            vals = {"energy": 2 * pair + osc, "energy_pair": pair, "energy_oscillator": osc}
        for k, v in vals.items():
            check(f"{name}: /{k} against NumPy (relative)", np.abs(b[k][...] - v).max() / np.abs(v).max(), 1e-12)
        acc = b.attrs["acceptance_rate"]
        print(f"  acceptance {acc:.4f}, run time {b.attrs['run_time_s']:.2f} s on 2 ranks")
        check(f"{name}: acceptance rate in (0.15, 0.8)", abs(acc - 0.475), 0.325)
        for k, ref in refs.items():
            m, se = chain_stats(b[k][...], C)
            check(f"{name}: <{k}> = {m:.4f} +- {se:.4f} vs published {ref}", abs(m - ref), 5 * se + 0.05)
            check(f"{name}: attribute {k}_mean/_se against NumPy", max(abs(b.attrs[k + '_mean'] - m), abs(b.attrs[k + '_se'] - se)), 1e-9 * (1 + abs(m)))


os.makedirs(args.workdir, exist_ok=True)
case("dw4", "dw4", 64, 400, ["-mcmc_burnin", "2000", "-mcmc_thin", "10"], {"energy": -22.5}, None)
case("lj13", "lj13", 64, 200, ["-mcmc_burnin", "4000", "-mcmc_thin", "20"], {"energy_pair": -26.1, "energy_oscillator": 9.0}, None)
# bad input: one sentence, exit status 1, no output file
bad = f"{args.workdir}/bad.h5"
for opts, what in ((["-mcmc_chains", "0"], "-mcmc_chains"), (["-mcmc_target", "lj99"], "-mcmc_target"), (["-mcmc_target", "dw4", "-lj_pairs", "unordered"], "-lj_pairs")):
    r = run(0, bad, *opts, expect=1)  # without mpiexec, whose own messages would add lines
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    ok = r.returncode == 1 and len(lines) == 1 and what in lines[0] and not os.path.exists(bad)
    check(f"bad input {' '.join(opts)}: one-line error naming {what}", float(not ok), 0)
    if not ok:
        print(r.stderr)
print(f"{npass} passed, {nfail} failed")
sys.exit(nfail != 0)
