"""test-distnet.py -- make check test of the distance network of sgm csp (-csp_net distance, task 1).

    python3 test-distnet.py SGM SGM-CRYSTALS

An independent re-implementation in NumPy (the periodic multi-graph by brute force over a cube of
lattice images, not sgm's reciprocal-width bounds) and PyTorch (float64, autograd) of
src/csp/distnet.c on a tiny network (edge MLP hidden 6, 2 layers, 8 radial basis functions, 8 time
features, cutoff 4 Angstrom: wider than many of the prototype cells, so images beyond the 27
nearest count) and T = 6 steps:
  init       the initial weights from the Philox uniforms (philox_ref.py), the layout of distnet.c;
  loss       one training step (-csp_train_steps 1): the DiffCSP loss with the reference forward pass
             = final_loss to 1e-12 relative (the forward pass on 8 noisy crystals), the Adam step
             theta_1 = theta_0 - lr g/(|g| + eps) with g from torch.autograd (/theta_raw, 1e-12);
  ranks      5 training steps on 1 and 2 ranks: the same weights to 1e-9; samples bitwise the same
             on 1 and 2 ranks;
  sampler    DiffCSP's predictor-corrector sampler with the reference forward pass from the
             trained weights, output layer / 100 (else the sampler amplifies rounding chaotically):
             the same crystals to 1e-9 (fractional distances mod 1);
  file       csp_net = "distance" in the model file; a cspnet model without the attribute (an
             older file) samples bitwise as with it; an unknown csp_net is refused; checkpoint/restart
             (4 steps + -restart to 8 = 8 steps, bitwise; the checkpoint refused by a cspnet run);
             options of the other network (-csp_hidden with distance, -csp_cutoff with cspnet) refused;
  errors     -csp_net distance with -csp_lattice, a bad -csp_cutoff: one-line errors and no output.
About 15 s (mostly MPI start-up).
"""
import math
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cspref import STREAM_DRAW, STREAM_INIT, STREAM_NOISE, STREAM_SAMPLE, load, normal, schedule, uniform, wn_logp_score  # noqa: E402

torch.set_default_dtype(torch.float64)
sgm, crystals = sys.argv[1], sys.argv[2]
MPIEXEC = os.environ.get("MPIEXEC", "mpiexec")
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
nfail = 0
CFG = dict(H=6, nl=2, nr=8, nt=8, rc=4.0, T=6, s0=0.005, s1=0.5)
NETOPTS = ["-csp_net", "distance", "-csp_dist_hidden", "6", "-csp_dist_layers", "2", "-csp_dist_rbf", "8", "-csp_time_features", "8",
           "-csp_cutoff", "4", "-csp_steps", "6"]
def check(name, ok, info=""):
    global nfail
    print(("PASS" if ok else "FAIL") + f": {name} {info}")
    nfail += 0 if ok else 1


def run(args, nranks=1, ok=True):
    p = subprocess.run([MPIEXEC, "-n", str(nranks), sgm, "csp", *args, "-quiet"], capture_output=True, text=True, env=env)
    if ok and p.returncode:
        print(p.stdout, p.stderr)
        raise SystemExit(f"sgm csp {args[0]} failed")
    return p


# ---- the distance network (src/csp/distnet.c) ----
def layout(H, nl, nr, nt):
    o, off = 0, {}
    names = [("E", 100 * H), ("Wr", H * nr), ("Wt", H * nt), ("b0", H)]
    for l in range(1, nl):
        names += [(f"W{l}", H * H), (f"b{l}", H)]
    names += [("w", H), ("bout", 1)]
    for name, size in names:
        off[name] = (o, size)
        o += size
    return off, o


def init_theta(cfg, seed):
    H, nl, nr, nt = cfg["H"], cfg["nl"], cfg["nr"], cfg["nt"]
    off, P = layout(H, nl, nr, nt)
    u = uniform(seed, STREAM_INIT, 0, 0, P)
    th = np.zeros(P)

    def fill(name, a):
        o, s = off[name]
        th[o:o + s] = a * (2 * u[o:o + s] - 1)
    fill("E", 0.5)
    fill("Wr", 1.0)
    fill("Wt", 1 / math.sqrt(nt))
    for l in range(1, nl):
        fill(f"W{l}", 1 / math.sqrt(H))
    fill("w", 1 / math.sqrt(H))
    return th


def edges(f, L, r):
    """All directed edges (i, j, k), d = |x_j + k L - x_i| < r, by brute force over |k_a| <= K."""
    f = f - np.floor(f)
    V = abs(np.linalg.det(L))
    wmin = min(V / np.linalg.norm(np.cross(L[(a + 1) % 3], L[(a + 2) % 3])) for a in range(3))
    K = int(math.ceil(r / wmin)) + 1
    g = np.arange(-K, K + 1)
    ks = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
    n = len(f)
    df = f[None, :, :] - f[:, None, :]                       # [i, j] f_j - f_i
    v = (df[:, :, None, :] + ks[None, None, :, :]) @ L       # [i, j, k, 3]
    d = np.linalg.norm(v, axis=-1)
    self0 = (np.arange(n)[:, None] == np.arange(n)[None, :])[:, :, None] & np.all(ks == 0, axis=1)[None, None, :]
    i, j, k = np.nonzero((d < r) & ~self0)
    assert np.all(np.abs(ks[k]) < K), "image range too small"
    return i, j, v[i, j, k], d[i, j, k]


def forward(cfg, th, z, f, L, t):
    """th: torch vector; z (n,) ints; f (n,3), L (3,3) numpy; t int.  Returns eps_F (n,3), torch."""
    H, nl, nr, nt, rc = cfg["H"], cfg["nl"], cfg["nr"], cfg["nt"], cfg["rc"]
    off, _ = layout(H, nl, nr, nt)
    W = lambda nm, r, c: th[off[nm][0]:off[nm][0] + off[nm][1]].reshape(r, c)  # noqa: E731
    b = lambda nm: th[off[nm][0]:off[nm][0] + off[nm][1]]  # noqa: E731
    silu = torch.nn.functional.silu
    i, j, v, d = edges(f, L, rc)
    half = nt // 2
    fr = np.exp(-math.log(10000.0) * np.arange(half) / (half - 1))
    tau = torch.tensor(np.concatenate([np.sin(t * fr), np.cos(t * fr)]))
    delta = rc / (nr - 1)
    rbf = torch.tensor(np.exp(-0.5 * ((d[:, None] - delta * np.arange(nr)[None, :]) / delta) ** 2))
    E = W("E", 100, H)
    zz = torch.as_tensor(np.asarray(z) - 1)
    a = rbf @ W("Wr", H, nr).T + (W("Wt", H, nt) @ tau + b("b0"))[None, :] + E[zz[i]] + E[zz[j]]
    for l in range(1, nl):
        a = silu(a) @ W(f"W{l}", H, H).T + b(f"b{l}")
    y = silu(a) @ b("w") + b("bout")[0]
    se = y * torch.tensor(0.5 * (1 + np.cos(np.pi * d / rc)))
    sx = torch.zeros(len(z), 3).index_add_(0, torch.as_tensor(i), -se[:, None] * torch.tensor(v / d[:, None]))
    return sx @ torch.tensor(L).T  # eps_F[i, a] = sum_c L[a, c] s_x[i, c]


def ref_loss(cfg, sch, th, data, seed, B):
    N, T = len(data), cfg["T"]
    draws = [uniform(seed, STREAM_DRAW, 0, j, 2) for j in range(B)]
    crys = [min(int(u[0] * N), N - 1) for u in draws]
    ts = [1 + min(int(u[1] * T), T - 1) for u in draws]
    natoms = sum(len(data[c][0]) for c in crys)
    loss = 0
    for j in range(B):
        z, f0, L0 = data[crys[j]]
        n, t = len(z), ts[j]
        eF = normal(seed, STREAM_NOISE, 0, j, 3 * n + 9)[:3 * n].reshape(n, 3)
        sig = sch["sigma"][t]
        ft = f0 + sig * eF
        ft = ft - np.floor(ft)
        target = np.array([wn_logp_score(x, sig)[1] for x in (sig * eF).ravel()]).reshape(n, 3) / math.sqrt(sch["sn"][t])
        loss = loss + ((forward(cfg, th, z, ft, L0, t) - torch.tensor(target)) ** 2).sum() / (3 * natoms)
    return loss


def ref_sample(cfg, sch, th, data, seed, step_lr):
    T, out = cfg["T"], []
    with torch.no_grad():
        for b, (z, f0, L) in enumerate(data):
            n = len(z)
            F = uniform(seed, STREAM_SAMPLE, 0, b, 3 * n).reshape(n, 3)
            for t in range(T, 0, -1):
                k = T - t
                sq = math.sqrt(sch["sn"][t])
                s2, s2p = sch["sigma"][t] ** 2, sch["sigma"][t - 1] ** 2
                gam = step_lr * s2 / sch["sigma"][1] ** 2
                z1 = normal(seed, STREAM_SAMPLE, 3 * k + 1, b, 3 * n).reshape(n, 3) if t > 1 else np.zeros((n, 3))
                F = F + gam * sq * forward(cfg, torch.tensor(th), z, F, L, t).numpy() + math.sqrt(2 * gam) * z1
                F = F - np.floor(F)
                z2 = normal(seed, STREAM_SAMPLE, 3 * k + 2, b, 3 * n).reshape(n, 3) if t > 1 else np.zeros((n, 3))
                F = F + (s2 - s2p) * sq * forward(cfg, torch.tensor(th), z, F, L, t).numpy() + math.sqrt(s2p * (s2 - s2p) / s2) * z2
                F = F - np.floor(F)
            out.append(F)
    return out


with tempfile.TemporaryDirectory() as tmp:
    P = lambda x: os.path.join(tmp, x)  # noqa: E731
    subprocess.run([sys.executable, crystals, "--outdir", tmp], check=True, capture_output=True)
    train, test = load(P("crystals-train.h5")), load(P("crystals-test.h5"))
    sch = schedule(CFG["T"], CFG["s0"], CFG["s1"])
    nwide = sum(1 for _, _, L in train if min(abs(np.linalg.det(L)) / np.linalg.norm(np.cross(L[(a + 1) % 3], L[(a + 2) % 3])) for a in range(3)) < CFG["rc"])
    # one step: loss and Adam step against the reference
    run(["train", "-csp_data", P("crystals-train.h5"), *NETOPTS, "-csp_train_steps", "1", "-csp_batch", "8", "-seed", "3", "-output", P("m.h5")])
    with h5py.File(P("m.h5"), "r") as h:
        th1, floss, net = h["theta_raw"][:], h.attrs["final_loss"], h.attrs["csp_net"]
        net = net.decode() if isinstance(net, bytes) else str(net)
    check("model file says csp_net = distance", net == "distance", f"csp_net {net!r}")
    th0 = torch.tensor(init_theta(CFG, 3), requires_grad=True)
    loss = ref_loss(CFG, sch, th0, train, 3, 8)
    loss.backward()
    g = th0.grad.numpy()
    th0 = th0.detach().numpy()
    pred = th0 - 1e-3 * g / (np.abs(g) + 1e-8)
    check("loss of step 1 = NumPy/torch reference forward pass", abs(floss - loss.item()) <= 1e-12 * abs(loss.item()), f"sgm {floss:.15f} reference {loss.item():.15f} ({nwide} of {len(train)} training cells narrower than the cutoff)")
    check("Adam step with the autograd gradient", np.max(np.abs(th1 - pred)) <= 1e-12, f"max |theta_1 - (theta_0 - lr g/(|g|+eps))| {np.max(np.abs(th1 - pred)):.1e}, {int((np.abs(g) > 0).sum())} nonzero gradients")
    # 5 steps on 1 and 2 ranks
    for nr in (1, 2):
        run(["train", "-csp_data", P("crystals-train.h5"), *NETOPTS, "-csp_train_steps", "5", "-csp_batch", "8", "-seed", "3", "-csp_lr", "0.01", "-output", P(f"mr{nr}.h5")], nranks=nr)
    with h5py.File(P("mr1.h5"), "r") as a, h5py.File(P("mr2.h5"), "r") as b:
        d = np.max(np.abs(a["theta"][:] - b["theta"][:]))
        th = a["theta"][:]
    check("training on 1 and 2 ranks", d <= 1e-9, f"max weight difference {d:.1e}")
    for nr in (1, 2):
        run(["sample", "-csp_model", P("mr1.h5"), "-csp_reference", P("crystals-test.h5"), "-csp_step_lr", "0.01", "-seed", "5", "-output", P(f"sr{nr}.h5")], nranks=nr)
    with h5py.File(P("sr1.h5"), "r") as a, h5py.File(P("sr2.h5"), "r") as b:
        same = all(np.array_equal(a[k][:], b[k][:]) for k in ("natoms", "types", "frac", "lattice"))
        latt = a["lattice"][:]
    check("samples bitwise equal on 1 and 2 ranks", same)
    # The reference sampler on a copy with the output layer w, b / 100: the 5-step network's scores
    # are steep in F, and the sampler amplified rounding differences to 1.5e-4 after 12
    # evaluations (crystal 3, 8 atoms) although the forward passes agree to 2e-16.
    shutil.copy(P("mr1.h5"), P("mtame.h5"))
    off, _ = layout(CFG["H"], CFG["nl"], CFG["nr"], CFG["nt"])
    th[off["w"][0]:off["bout"][0] + 1] /= 100
    with h5py.File(P("mtame.h5"), "r+") as h:
        h["theta"][:] = th
    run(["sample", "-csp_model", P("mtame.h5"), "-csp_reference", P("crystals-test.h5"), "-csp_step_lr", "0.01", "-seed", "5", "-output", P("stame.h5")])
    with h5py.File(P("stame.h5"), "r") as a:
        frac = a["frac"][:]
    ref = ref_sample(CFG, sch, th, test, 5, 0.01)
    df = max(np.max(np.minimum(np.abs(frac[b, :len(z)] - F), 1 - np.abs(frac[b, :len(z)] - F))) for b, ((z, _, _), F) in enumerate(zip(test, ref)))
    check("sampler (tame copy) = reference PC sampler with the reference forward pass", df <= 1e-9, f"max |dF| mod 1 {df:.1e}")
    check("task 1 keeps the reference lattices", all(np.array_equal(latt[b], L0) for b, (_, _, L0) in enumerate(test)))
    # a cspnet model file without csp_net (as written before the attribute existed) is cspnet
    run(["train", "-csp_data", P("crystals-train.h5"), "-csp_hidden", "6", "-csp_layers", "2", "-csp_frequencies", "3", "-csp_time_features", "8", "-csp_steps", "6",
         "-csp_train_steps", "2", "-csp_batch", "4", "-output", P("c.h5")])
    shutil.copy(P("c.h5"), P("cold.h5"))
    with h5py.File(P("cold.h5"), "r+") as h:
        del h.attrs["csp_net"]
    for m in ("c", "cold"):
        run(["sample", "-csp_model", P(f"{m}.h5"), "-csp_reference", P("crystals-test.h5"), "-seed", "2", "-output", P(f"s{m}.h5")])
    with h5py.File(P("sc.h5"), "r") as a, h5py.File(P("scold.h5"), "r") as b:
        check("a cspnet model file without csp_net samples as with it", np.array_equal(a["frac"][:], b["frac"][:]))
    shutil.copy(P("c.h5"), P("cbad.h5"))
    with h5py.File(P("cbad.h5"), "r+") as h:
        h.attrs["csp_net"] = np.bytes_("mace")  # fixed-length, as sgm writes strings
    p = run(["sample", "-csp_model", P("cbad.h5"), "-csp_reference", P("crystals-test.h5"), "-output", P("x.h5")], ok=False)
    first = p.stderr.splitlines()[0] if p.stderr else ""
    check("error: unknown csp_net in the model file", p.returncode != 0 and "csp_net" in first and not os.path.exists(P("x.h5")), first)
    # errors
    p = run(["train", "-csp_data", P("crystals-train.h5"), *NETOPTS, "-csp_lattice", "-output", P("x.h5")], ok=False)
    first = p.stderr.splitlines()[0] if p.stderr else ""
    check("error: -csp_net distance with -csp_lattice", p.returncode != 0 and "-csp_lattice" in first and not os.path.exists(P("x.h5")), first)
    p = run(["train", "-csp_data", P("crystals-train.h5"), *NETOPTS, "-csp_cutoff", "-1", "-output", P("x.h5")], ok=False)
    first = p.stderr.splitlines()[0] if p.stderr else ""
    check("error: -csp_cutoff -1", p.returncode != 0 and "cutoff" in first and not os.path.exists(P("x.h5")), first)
    # checkpoint/restart with the distance network: 4 steps, -restart to 8 = 8 steps in one go (bitwise);
    # its checkpoint refused by a cspnet run
    base = ["train", "-csp_data", P("crystals-train.h5"), *NETOPTS, "-csp_batch", "8", "-overwrite"]
    run(base + ["-csp_train_steps", "8", "-output", P("rfull.h5")])
    run(base + ["-csp_train_steps", "4", "-output", P("rhalf.h5")])
    run(base + ["-csp_train_steps", "8", "-restart", P("rhalf.h5.ckpt"), "-output", P("rres.h5")])
    with h5py.File(P("rfull.h5"), "r") as a, h5py.File(P("rres.h5"), "r") as b:
        nd = int(np.sum(a["theta"][:] != b["theta"][:])) + int(np.sum(a["theta_raw"][:] != b["theta_raw"][:]))
    check("restart at 4 of 8 steps: weights bitwise equal to 8 steps in one go (entries differing)", nd == 0, str(nd))
    p = run(["train", "-csp_data", P("crystals-train.h5"), "-csp_batch", "8", "-csp_train_steps", "8", "-restart", P("rhalf.h5.ckpt"), "-output", P("x.h5")], ok=False)
    first = p.stderr.splitlines()[0] if p.stderr else ""
    check("error: a distance-net checkpoint restarted as cspnet", p.returncode != 0 and "checkpoint" in first and not os.path.exists(P("x.h5")), first)
    # an option of the other network is refused, not silently ignored
    p = run(["train", "-csp_data", P("crystals-train.h5"), *NETOPTS, "-csp_hidden", "16", "-output", P("x.h5")], ok=False)
    first = p.stderr.splitlines()[0] if p.stderr else ""
    check("error: -csp_hidden (cspnet) with -csp_net distance", p.returncode != 0 and "-csp_hidden" in first and not os.path.exists(P("x.h5")), first)
    p = run(["train", "-csp_data", P("crystals-train.h5"), "-csp_cutoff", "5", "-csp_train_steps", "1", "-output", P("x.h5")], ok=False)
    first = p.stderr.splitlines()[0] if p.stderr else ""
    check("error: -csp_cutoff (distance) with the default -csp_net cspnet", p.returncode != 0 and "-csp_cutoff" in first and not os.path.exists(P("x.h5")), first)
print(f"{nfail} failed")
sys.exit(1 if nfail else 0)
