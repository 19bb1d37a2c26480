"""test-crystals.py -- make check test of postprocess/sgm-crystals (the crystal prototypes).

    python3 test-crystals.py SGM-CRYSTALS

Writes the two files into a temporary directory and checks: the documented layout (shapes, types,
padding with 0, 1 <= natoms <= 8, frac in [0, 1)), that the split is a partition of 0..ntotal-1 and
is the stated permutation, that the stored crystals are the ASE prototypes (Niggli reduction and
rotation keep the volume per atom to 1e-9 and every atom's sorted distances to its 12 nearest
periodic neighbours to 1e-5 A (the single-precision coordinates of dcdft snapped to multiples of 1/144 move atoms by up to 1e-6 of a cell length), computed independently from ASE's original cells), that every
lattice is Niggli-reduced by ASE's own test (niggli_reduce leaves its cell parameters unchanged),
and that an existing output is refused.  Prints PASS/FAIL per check; under 5 s.
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

script = sys.argv[1]
py = sys.executable
nfail = 0


def check(name, ok, info=""):
    global nfail
    print(("PASS" if ok else "FAIL") + f": {name} {info}")
    nfail += 0 if ok else 1


def neighbour_shells(lat, frac, k=12):
    """Per atom, the sorted distances to its k nearest periodic images (brute force over +-3 cells)."""
    cart = frac @ lat
    shifts = np.array([[i, j, l] for i in range(-3, 4) for j in range(-3, 4) for l in range(-3, 4)]) @ lat
    out = []
    for a in range(len(frac)):
        d = np.linalg.norm(cart[None, :, :] + shifts[:, None, :] - cart[a], axis=2).ravel()
        out.append(np.sort(d[d > 1e-8])[:k])
    return np.sort(np.array(out), axis=0)


with tempfile.TemporaryDirectory() as tmp:
    r = subprocess.run([py, script, "--outdir", tmp], capture_output=True, text=True)
    check("runs", r.returncode == 0, r.stdout.strip() + r.stderr.strip())
    tr, te = (h5py.File(os.path.join(tmp, f"crystals-{s}.h5"), "r") for s in ("train", "test"))
    ntot = int(tr.attrs["ntotal"])
    idx = np.concatenate([tr["index"][:], te["index"][:]])
    check("split is a partition", sorted(idx.tolist()) == list(range(ntot)), f"ntotal {ntot}")
    perm = np.random.default_rng(int(tr.attrs["seed"])).permutation(ntot)
    ntest = int(round(ntot * float(tr.attrs["test_fraction"])))
    check("split is the stated permutation", sorted(perm[:ntest].tolist()) == te["index"][:].tolist())
    sys.path.insert(0, os.path.dirname(script))
    import importlib.machinery, importlib.util
    spec = importlib.util.spec_from_loader("sgmcrystals", importlib.machinery.SourceFileLoader("sgmcrystals", script))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    protos = mod.prototypes()
    from ase.build import niggli_reduce
    from ase import Atoms
    from ase.geometry import cell_to_cellpar
    worst_v = worst_d = worst_n = 0.0
    layout = True
    for h in (tr, te):
        n = h["natoms"][:]
        N = len(n)
        layout &= h["types"].shape == (N, 8) and h["frac"].shape == (N, 8, 3) and h["lattice"].shape == (N, 3, 3)
        layout &= h["natoms"].dtype == np.int64 and h["types"].dtype == np.int64
        layout &= bool(np.all((n >= 1) & (n <= 8)))
        for b in range(N):
            k = n[b]
            Z, F, L = h["types"][b], h["frac"][b], h["lattice"][b]
            layout &= bool(np.all(Z[:k] > 0) and np.all(Z[k:] == 0) and np.all(F[k:] == 0))
            layout &= bool(np.all((F[:k] >= 0) & (F[:k] < 1)))
            name, atoms = protos[h["index"][b]]
            layout &= name == h["name"][b].decode()
            layout &= sorted(Z[:k].tolist()) == sorted(atoms.numbers.tolist())
            worst_v = max(worst_v, abs(abs(np.linalg.det(L)) / k - atoms.get_volume() / len(atoms)))
            worst_d = max(worst_d, np.abs(neighbour_shells(L, F[:k]) - neighbour_shells(atoms.cell[:], atoms.get_scaled_positions())).max())
            a = Atoms(Z[:k], scaled_positions=F[:k], cell=L, pbc=True)
            p0 = cell_to_cellpar(L)
            niggli_reduce(a)
            worst_n = max(worst_n, np.abs(cell_to_cellpar(a.cell[:]) - p0).max())
    check("layout", layout)
    check("volume per atom kept", worst_v < 1e-9, f"max error {worst_v:.2e} A^3")
    check("neighbour distances kept", worst_d < 1e-5, f"max error {worst_d:.2e} A")
    check("lattices are Niggli-reduced", worst_n < 1e-9, f"max change of cell parameters {worst_n:.2e}")
    r = subprocess.run([py, script, "--outdir", tmp], capture_output=True, text=True)
    check("existing output refused", r.returncode != 0 and "exists" in r.stderr, r.stderr.strip())
print(f"{nfail} failed")
sys.exit(1 if nfail else 0)
