#!/usr/bin/env python3
"""sgm_nllhist.py -- histogram of the per-point negative log-likelihood of an `sgm nll` output file.

Reads /nll [N] (nats) and /bits_per_dim [N] and the summary attributes (nll_mean, nll_mean_se,
nll_estimator_se, bits_per_dim_mean, nll_divergence, nll_probes, nll_dequantization, nll_prior, nfe,
npoints, score_type, dimension) of FILE and writes a two-panel PNG (nats | bits/dim) with the summary
in the title.  Headless (Agg backend).  Nothing is hard-coded: every number comes from the file.

Usage: /usr/bin/python3 postprocess/sgm_nllhist.py nll.h5 [-o nll.png] [--bins 60]
About 1 s.
"""
import argparse
import sys

import h5py
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def attr(f, name, default=None):
    v = f.attrs.get(name, default)
    if isinstance(v, bytes):
        v = v.decode()
    if isinstance(v, np.ndarray) and v.size == 1:
        v = v.item()
    return v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", help="output file of sgm nll")
    ap.add_argument("-o", "--output", help="PNG to write (default: FILE with .png)")
    ap.add_argument("--bins", type=int, default=60)
    a = ap.parse_args(argv)
    out = a.output or (a.file[:-3] if a.file.endswith(".h5") else a.file) + ".png"
    with h5py.File(a.file, "r") as f:
        if "nll" not in f or "bits_per_dim" not in f:
            sys.exit(f"sgm_nllhist: error: {a.file} has no /nll and /bits_per_dim: not an sgm nll output file")
        nll, bpd = f["nll"][:], f["bits_per_dim"][:]
        s = {k: attr(f, k) for k in ("nll_mean", "nll_mean_se", "nll_estimator_se", "bits_per_dim_mean", "nll_divergence",
                                     "nll_probes", "nll_probe", "nll_dequantization", "nll_prior", "nfe", "npoints",
                                     "score_type", "dimension", "nll_levels")}
    div = s["nll_divergence"] or "?"
    if div == "hutchinson":
        div += f" ({s['nll_probes']} {s['nll_probe']} probes)"
    deq = s["nll_dequantization"] or "?"
    if deq == "uniform":
        deq += f", {s['nll_levels']} levels"
    title = (f"{s['score_type']} d={s['dimension']}, N={s['npoints']}: NLL {s['nll_mean']:.5g} nats "
             f"(± {s['nll_mean_se']:.2g} over points, ± {s['nll_estimator_se']:.2g} estimator), "
             f"{s['bits_per_dim_mean']:.5g} bits/dim\n"
             f"divergence {div}, dequantization {deq}, prior {s['nll_prior']}, NFE {s['nfe']}")
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    for axis, v, lab, m in ((ax[0], nll, "NLL per point [nats]", s["nll_mean"]),
                            (ax[1], bpd, "bits per dimension", s["bits_per_dim_mean"])):
        axis.hist(v, bins=a.bins, color="C0", alpha=0.8)
        axis.axvline(m, color="C3", lw=1.5, label=f"mean {m:.4g}")
        axis.set_xlabel(lab)
        axis.set_ylabel("points")
        axis.legend()
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"sgm_nllhist: {len(nll)} points -> {out}")


if __name__ == "__main__":
    main()
