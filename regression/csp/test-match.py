"""test-match.py -- make check test of the structure matcher (src/csp/match.c) through `sgm csp eval`.

    python3 test-match.py SGM SGM-CRYSTALS

Builds pairs (candidate, reference) from the 130 prototypes of sgm-crystals with NumPy, writes them
as two crystal files, runs `sgm csp eval` on 1 and 2 ranks and checks:
  exact     every prototype against itself with the atoms permuted, the origin shifted, every atom
            shifted by random integer vectors, the lattice given in another basis (random unimodular
            S: L' = S L, f' = f S^-1) and rotated (L' R^T): match, rms <= 1e-12;
  displaced the same lattice, atoms displaced by known Cartesian vectors u (rms 0.02 (V/n)^(1/3)),
            permuted: rms = sqrt(mean |u - mean u|^2) / (V/n)^(1/3) to 1e-12 (small displacements,
            so the identity pairing is the optimal one; lattice tolerances 1e-10 and 1e-8 degrees, so
            that only exact symmetries of the lattice map it: with the default ltol a slightly
            different lattice within tolerance can give a smaller rms, as in pymatgen);
  different another composition never matches; the rocksalt and caesium-chloride cells of NaCl
            (no lattice mapping) do not match;
  pymatgen  (when python3-pymatgen is installed) noisy, strained, re-based copies and random
            structures of the same composition, compared with pymatgen's StructureMatcher(stol 0.5,
            ltol 0.3, angle_tol 10, primitive_cell False, scale True, attempt_supercell False)
            get_rms_dist(candidate, reference): the same match decision for every pair, and the
            same rms (to 1e-10; 3e-15 seen) where both match;
  ranks     /match and /rms bitwise the same on 1 and 2 ranks;
  errors    a reference/candidate row-count mismatch, a misspelt option and a missing file are
            one-line errors.
Prints PASS/FAIL per check with the numbers; about 10 s (pymatgen's matcher is most of it).
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sgm, crystals = sys.argv[1], sys.argv[2]
MPIEXEC = os.environ.get("MPIEXEC", "mpiexec")
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
rng = np.random.default_rng(20231)
nfail = 0
M = 8


def check(name, ok, info=""):
    global nfail
    print(("PASS" if ok else "FAIL") + f": {name} {info}")
    nfail += 0 if ok else 1


def load(path):
    with h5py.File(path, "r") as h:
        return [(h["types"][b, :n].copy(), h["frac"][b, :n].copy(), h["lattice"][b].copy()) for b, n in enumerate(h["natoms"][:])]


def save(path, cs):
    N = len(cs)
    nat = np.array([len(z) for z, _, _ in cs])
    Z = np.zeros((N, M), dtype=np.int64)
    F = np.zeros((N, M, 3))
    L = np.zeros((N, 3, 3))
    for b, (z, f, l) in enumerate(cs):
        Z[b, :len(z)], F[b, :len(z)], L[b] = z, f, l
    with h5py.File(path, "w") as h:
        h["natoms"], h["types"], h["frac"], h["lattice"] = nat, Z, F, L


def run_eval(tmp, ref, cand, nranks=1, out="eval.h5", expect_ok=True, extra=()):
    r_, c_, o_ = (os.path.join(tmp, x) for x in (ref, cand, out))
    cmd = [MPIEXEC, "-n", str(nranks), sgm, "csp", "eval", "-csp_reference", r_, "-csp_candidates", c_, "-output", o_, "-overwrite", "-quiet", *extra]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if not expect_ok:
        return p
    if p.returncode:
        print(p.stdout, p.stderr)
        raise SystemExit("sgm csp eval failed")
    with h5py.File(o_, "r") as h:
        return h["match"][:], h["rms"][:]


def unimodular():
    while True:
        S = rng.integers(-1, 2, size=(3, 3))
        if abs(round(np.linalg.det(S))) == 1:
            return S


def rotation():
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def transform(z, f, L, perm=True, rebase=True):
    n = len(z)
    p = rng.permutation(n) if perm else np.arange(n)
    f = (f + rng.uniform(size=3))[p] + rng.integers(-3, 4, size=(n, 3))
    z = z[p]
    if rebase:
        S = unimodular()
        L = S @ L
        f = f @ np.linalg.inv(S)
        L = L @ rotation().T
    return z, f, L


def vscale(L, n):
    return (abs(np.linalg.det(L)) / n) ** (1 / 3)


with tempfile.TemporaryDirectory() as tmp:
    subprocess.run([sys.executable, crystals, "--outdir", tmp], check=True, capture_output=True)
    protos = load(os.path.join(tmp, "crystals-train.h5")) + load(os.path.join(tmp, "crystals-test.h5"))

    # exact copies
    ref, cand = [], []
    for z, f, L in protos:
        ref.append((z, f, L))
        cand.append(transform(z, f, L))
    save(os.path.join(tmp, "ref.h5"), ref)
    save(os.path.join(tmp, "cand.h5"), cand)
    m, r = run_eval(tmp, "ref.h5", "cand.h5")
    check("exact: permuted, origin- and integer-shifted, re-based, rotated copies match", bool(np.all(m == 1)), f"{int(m.sum())}/{len(m)}")
    check("exact: rms <= 1e-12", float(r.max()) <= 1e-12, f"max rms {r.max():.2e}")
    m2, r2 = run_eval(tmp, "ref.h5", "cand.h5", nranks=2, out="eval2.h5")
    check("ranks: 1 and 2 ranks bitwise equal", np.array_equal(m, m2) and np.array_equal(r, r2))

    # known displacements
    cand, expect = [], []
    for z, f, L in protos:
        n = len(z)
        s = vscale(L, n)
        u = rng.normal(size=(n, 3)) * 0.02 * s / np.sqrt(3)
        fc = f + u @ np.linalg.inv(L)
        zc, fc, Lc = transform(z, fc, L, rebase=False)
        cand.append((zc, fc, Lc))
        expect.append(np.sqrt(np.mean(np.sum((u - u.mean(0)) ** 2, axis=1))) / s)
    save(os.path.join(tmp, "cand.h5"), cand)
    m, r = run_eval(tmp, "ref.h5", "cand.h5", extra=("-csp_match_ltol", "1e-10", "-csp_match_angle_tol", "1e-8"))
    err = np.abs(r - np.array(expect))
    check("displaced: all match", bool(np.all(m == 1)), f"{int(m.sum())}/{len(m)}")
    check("displaced: rms = sqrt(mean|u - mean u|^2)/(V/n)^(1/3) to 1e-12", float(err.max()) <= 1e-12, f"max error {err.max():.2e} (rms up to {max(expect):.4f})")

    # different structures
    nacl = [i for i, (z, f, L) in enumerate(protos) if sorted(z.tolist()) == [11, 17] and len(z) == 2]
    zc, fc, Lc = np.array([11, 17]), np.array([[0, 0, 0], [0.5, 0.5, 0.5]]), np.eye(3) * 5.64 / 2 ** (1 / 3)
    other = [protos[(i + 1) % len(protos)] for i in range(len(protos))]
    diffcomp = [(o[0], o[1], o[2]) for o in other]
    ref2 = [protos[nacl[0]]] + protos
    cand2 = [(zc, fc, Lc)] + diffcomp
    keep = [0] + [1 + i for i in range(len(protos)) if sorted(protos[i][0].tolist()) != sorted(other[i][0].tolist())]
    save(os.path.join(tmp, "ref.h5"), [ref2[k] for k in keep])
    save(os.path.join(tmp, "cand.h5"), [cand2[k] for k in keep])
    m, r = run_eval(tmp, "ref.h5", "cand.h5")
    check("different: rocksalt vs caesium-chloride NaCl (same volume) do not match", m[0] == 0, f"rms {r[0]}")
    check("different: other compositions never match", bool(np.all(m[1:] == 0) and np.all(r[1:] == -1)), f"{len(keep) - 1} pairs")

    # against pymatgen
    try:
        from pymatgen.core import Lattice, Structure
        from pymatgen.analysis.structure_matcher import StructureMatcher
    except ImportError:
        print("SKIP: pymatgen comparison (python3-pymatgen not installed)")
    else:
        ref, cand = [], []
        for z, f, L in protos:
            n = len(z)
            s = vscale(L, n)
            for kind in ("noise", "noise", "noise", "strain", "random"):
                if kind == "random":
                    fc, Lc = rng.uniform(size=(n, 3)), L
                else:
                    sig = rng.uniform(0.05, 0.45) * s
                    fc = f + rng.normal(size=(n, 3)) * sig / np.sqrt(3) @ np.linalg.inv(L)
                    eps = rng.normal(size=(3, 3)) * (0.12 if kind == "strain" else 0.02)
                    Lc = L @ (np.eye(3) + (eps + eps.T) / 2)
                ref.append((z, f, L))
                cand.append(transform(z, fc, Lc))
        save(os.path.join(tmp, "ref.h5"), ref)
        save(os.path.join(tmp, "cand.h5"), cand)
        m, r = run_eval(tmp, "ref.h5", "cand.h5", nranks=2)
        sm = StructureMatcher(ltol=0.3, stol=0.5, angle_tol=10, primitive_cell=False, scale=True, attempt_supercell=False)
        pm, pr = np.zeros(len(ref)), np.full(len(ref), -1.0)
        for b, ((z1, f1, L1), (z2, f2, L2)) in enumerate(zip(cand, ref)):
            res = sm.get_rms_dist(Structure(Lattice(L1), z1.tolist(), f1), Structure(Lattice(L2), z2.tolist(), f2))
            if res is not None:
                pm[b], pr[b] = 1, res[0]
        agree = m == pm
        both = (m == 1) & (pm == 1)
        d = np.abs(r[both] - pr[both])
        bad = np.where(~agree)[0]
        check("pymatgen: same match decision", bool(agree.all()), f"{int(agree.sum())}/{len(agree)} pairs agree, {int(pm.sum())} matched"
              + "".join(f"\n    pair {b}: sgm {int(m[b])} rms {r[b]:.6f}, pymatgen {int(pm[b])} rms {pr[b]:.6f}" for b in bad[:10]))
        check("pymatgen: same rms where both match", float(d.max(initial=0)) <= 1e-10, f"max |diff| {d.max(initial=0):.2e} over {int(both.sum())} pairs")

    # errors
    save(os.path.join(tmp, "short.h5"), protos[:3])
    p = run_eval(tmp, "ref.h5", "short.h5", expect_ok=False)
    check("error: row-count mismatch", p.returncode != 0 and p.stderr.startswith("sgm: error:") and "must be equal" in p.stderr.splitlines()[0], p.stderr.splitlines()[0])
    p = run_eval(tmp, "ref.h5", "ref.h5", expect_ok=False, extra=("-csp_match_stl", "0.4"))
    check("error: misspelt option", p.returncode != 0 and "unknown option -csp_match_stl" in p.stderr.splitlines()[0], p.stderr.splitlines()[0])
    p = run_eval(tmp, "ref.h5", "missing.h5", expect_ok=False)
    check("error: missing file", p.returncode != 0 and "does not exist" in p.stderr.splitlines()[0], p.stderr.splitlines()[0])
print(f"{nfail} failed")
sys.exit(1 if nfail else 0)
