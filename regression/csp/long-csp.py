"""long-csp.py -- `make check-long` quality run of sgm csp (doc/geometric.md, "Crystals (DiffCSP)").

    python3 long-csp.py SGM SGM-CRYSTALS [--steps 10000] [--dist-steps 3000] [--workdir DIR] [--nranks 2] [--plain] [--only-distance]

Writes the prototypes, trains task 1 (lattice fixed) and task 2 (lattice diffused, the
preconditioned lattice head) on the training split (default network, batch 32), samples one crystal
per row of the training and the test split (DiffCSP's PC sampler, T = 1000, step_lr 1e-5) and
matches them with `sgm csp eval`.  Baselines: uniformly random fractional coordinates in the
reference cells (task 1's prior), and uniformly random fractional coordinates in the lattices that
task 2 sampled (the same draws; it isolates what task 2 adds beyond its lattice).  --plain also
trains task 2 with DiffCSP's plain lattice head (-csp_lattice_precond 0) for comparison (its
lattices diverge for many crystals at this budget; ~4 more minutes).
Prints match rate and mean RMS for all crystals and for those with >= 3 atoms (1- and 2-atom cells
match almost always once the lattice matches: for one atom any position is the structure, and stol
0.5 is generous for two).  Crystals whose sampled lattice diverged are counted in the "diverged"
column and as unmatched.

Checks, on the training split (the model can memorise it); per crystal the RMS (0.5 when it does not
match) of the sampled structure against a baseline's, a sign test at 3 standard errors:
(better - worse) > 3 sqrt(better + worse):
  task 1 against random coordinates in the reference cells;
  task 2 against random coordinates in task 2's own sampled lattices;
  task 2: at most 1% of the crystals diverged;
  the distance network (-csp_net distance, task 1, default options, --dist-steps steps) against
  random coordinates in the reference cells.
About 20 minutes on 2 cores with the default 10000 and 3000 steps (--only-distance: only the
distance network, under a minute).
"""
import argparse
import os
import subprocess
import sys

import h5py
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("sgm")
ap.add_argument("crystals")
ap.add_argument("--steps", type=int, default=10000)
ap.add_argument("--workdir", default="csp-long")
ap.add_argument("--nranks", type=int, default=2)
ap.add_argument("--dist-steps", type=int, default=3000)
ap.add_argument("--only-distance", action="store_true")
ap.add_argument("--plain", action="store_true", help="also task 2 with DiffCSP's plain lattice head")
a = ap.parse_args()
MPIEXEC = os.environ.get("MPIEXEC", "mpiexec")
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
os.makedirs(a.workdir, exist_ok=True)
W = lambda x: os.path.join(a.workdir, x)  # noqa: E731


def sgm(*args, check=True):
    cmd = [MPIEXEC, "-n", str(a.nranks), os.path.abspath(a.sgm), "csp", *args, "-overwrite"]
    print("$", " ".join(cmd[3:]), flush=True)
    p = subprocess.run(cmd, env=env, stderr=subprocess.PIPE, text=True)
    if p.returncode:
        msg = p.stderr.splitlines()[0] if p.stderr else "failed"
        print(msg, flush=True)
        if check:
            raise SystemExit(msg)
    return p.returncode == 0


def evaluate(ref, cand, out):
    sgm("eval", "-csp_reference", ref, "-csp_candidates", cand, "-output", out, "-quiet")
    with h5py.File(ref, "r") as h:
        n = h["natoms"][:]
    with h5py.File(out, "r") as h:
        m, r = h["match"][:], h["rms"][:]
    with h5py.File(cand, "r") as h:
        div = int((h["diverged"][:] > 0).sum()) if "diverged" in h else 0
    res = {"diverged": div}
    for lab, sel in (("all", n >= 1), (">=3 atoms", n >= 3)):
        res[lab] = (sel.sum(), m[sel].mean(), r[sel & (m == 1)].mean() if (sel & (m == 1)).any() else float("nan"))
    return res, np.where(m == 1, r, 0.5)


subprocess.run([sys.executable, a.crystals, "--outdir", a.workdir, "--overwrite"], check=True)
rows = []
per = {}
for split in ("train", "test"):
    ref = W(f"crystals-{split}.h5")
    with h5py.File(ref, "r") as h:
        natoms, frac = h["natoms"][:], h["frac"][:]
    rng = np.random.default_rng(0)
    rnd = rng.uniform(size=frac.shape)
    for b, k in enumerate(natoms):
        rnd[b, k:] = 0
    subprocess.run(["cp", ref, W(f"random-{split}.h5")], check=True)
    with h5py.File(W(f"random-{split}.h5"), "r+") as h:
        h["frac"][:] = rnd
    res, per[("random", split)] = evaluate(ref, W(f"random-{split}.h5"), W(f"eval-random-{split}.h5"))
    rows.append(("random F (task 1 prior)", split, res))
rnds = {}
for split in ("train", "test"):
    with h5py.File(W(f"crystals-{split}.h5"), "r") as h:
        natoms, frac = h["natoms"][:], h["frac"][:]
    rng = np.random.default_rng(0)
    rnds[split] = rng.uniform(size=frac.shape)
    for b, k in enumerate(natoms):
        rnds[split][b, k:] = 0
tasks = [] if a.only_distance else [("1", [], a.steps), ("2", ["-csp_lattice"], a.steps)] + ([("2 plain", ["-csp_lattice", "-csp_lattice_precond", "0"], a.steps)] if a.plain else [])
tasks.append(("dist", ["-csp_net", "distance"], a.dist_steps))
for task, opt, steps in tasks:
    tag = task.replace(" ", "-")
    name = ("task 1, distance net" if task == "dist" else f"task {task}{' (DiffCSP plain lattice head)' if task == '2 plain' else ''}") + f", {steps} steps"
    sgm("train", "-csp_data", W("crystals-train.h5"), *opt, "-csp_train_steps", str(steps), "-csp_log_every", "1000", "-output", W(f"model-task{tag}.h5"))
    for split in ("train", "test"):
        ref = W(f"crystals-{split}.h5")
        if not sgm("sample", "-csp_model", W(f"model-task{tag}.h5"), "-csp_reference", ref, "-output", W(f"samples-task{tag}-{split}.h5"), check=task in ("1", "dist")):
            rows.append((name, split, None))
            continue
        res, per[(task, split)] = evaluate(ref, W(f"samples-task{tag}-{split}.h5"), W(f"eval-task{tag}-{split}.h5"))
        rows.append((name, split, res))
        if task == "2":  # random coordinates in the lattices task 2 sampled
            cand = W(f"random-in-task2-lattices-{split}.h5")
            subprocess.run(["cp", W(f"samples-task{tag}-{split}.h5"), cand], check=True)
            with h5py.File(cand, "r+") as h:
                h["frac"][:] = rnds[split]
            res, per[("random in task 2 lattices", split)] = evaluate(ref, cand, W(f"eval-random-in-task2-lattices-{split}.h5"))
            rows.append(("random F in task 2's lattices", split, res))
print("\n| model | split | crystals | diverged | match rate | mean RMS | crystals >= 3 atoms | match rate | mean RMS |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for name, split, res in rows:
    if res is None:
        print(f"| {name} | {split} | sampling failed | | | | | | |")
        continue
    (n1, m1, r1), (n3, m3, r3) = res["all"], res[">=3 atoms"]
    print(f"| {name} | {split} | {n1} | {res['diverged']} | {m1:.3f} | {r1:.3f} | {n3} | {m3:.3f} | {r3:.3f} |")
ok = True
print()
checks = [] if a.only_distance else [("1", "random", "task 1 vs random coordinates in the reference cells"),
                                     ("2", "random in task 2 lattices", "task 2 vs random coordinates in its own sampled lattices")]
checks.append(("dist", "random", "task 1, distance net vs random coordinates in the reference cells"))
for task, base, label in checks:
    if (task, "train") not in per:
        print(f"sign test, {label}: sampling failed: FAIL")
        ok = False
        continue
    d = per[(task, "train")] - per[(base, "train")]
    better, worse = int((d < -1e-12).sum()), int((d > 1e-12).sum())
    good = better - worse > 3 * np.sqrt(better + worse)
    ok = ok and good
    print(f"sign test, {label}, training split: better on {better}, worse on {worse} crystals: "
          f"{better - worse} > 3 sqrt({better + worse}) = {3 * np.sqrt(better + worse):.1f}: {'PASS' if good else 'FAIL'}")
if not a.only_distance:
    res2 = dict((split, r) for name, split, r in rows if name.startswith("task 2,"))
    ndiv, ntot = (res2["train"]["diverged"], res2["train"]["all"][0]) if res2.get("train") else (-1, 0)
    good = 0 <= ndiv <= 0.01 * ntot
    ok = ok and good
    print(f"task 2 diverged lattices, training split: {ndiv} of {ntot} <= 1%: {'PASS' if good else 'FAIL'}")
sys.exit(0 if ok else 1)
