#!/usr/bin/env python3
"""
Test of the digits converter postprocess/sgm-digits (issue 6, doc/data.md).

1. It writes digits-train.h5 and digits-test.h5: /data (1500,64) and (297,64) of doubles in
   [-1, 1] on the 17 levels v/8 - 1 of the 0..16 pixels, /labels integers 0..9 (all ten digits in
   both sets), /index disjoint and covering the 1797 rows of the source.
2. The data are the source: x = scale v + offset with the recorded scale and offset reproduces the
   csv of sklearn (read here independently) at the rows /index names; seed and rule are recorded.
3. The split is reproducible: a second run (another directory) gives identical files' contents;
   another --seed gives another split.
4. --grid draws a PNG (headless: MPLBACKEND unset, no DISPLAY) of /data, and of /samples when the
   file has them, with the expected pixel size.
5. Errors are one line "sgm-digits: error: ..." with exit status 1: sklearn missing (a stub module
   that fails to import is put first on PYTHONPATH), a --csv that does not exist, a file that is not
   the digits, an existing output without --overwrite; and no file is left behind.

Usage: test-digits.py --script PATH/postprocess/sgm-digits.  Prints one line per check and
"N passed, M failed"; exit status 1 on failure.
"""
import argparse
import gzip
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "reference"))
from testkit import check, summary  # noqa: E402

PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")


def run(args, env=None):
    e = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND")}
    e.update(env or {})
    return subprocess.run([PYTHON, ARGS.script] + args, capture_output=True, text=True, env=e)


def load(d):
    out = {}
    for part in ("train", "test"):
        with h5py.File(os.path.join(d, f"digits-{part}.h5"), "r") as f:
            out[part] = {k: f[k][:] for k in ("data", "labels", "index")}
            out[part]["attrs"] = dict(f.attrs)
    return out


def one_error(r, expect):
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    ok = r.returncode == 1 and len(lines) == 1 and lines[0].startswith("sgm-digits: error:") and expect in lines[0]
    return ok, f"exit {r.returncode}, stderr {lines!r}"


def main():
    import sklearn
    csv = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "data", "digits.csv.gz")
    src = np.loadtxt(gzip.open(csv, "rt"), delimiter=",")
    with tempfile.TemporaryDirectory(prefix="sgm-digits-") as tmp:
        a, b, c = (os.path.join(tmp, s) for s in "abc")
        for d in (a, b, c):
            os.mkdir(d)
        r = run(["--outdir", a])
        check("converter runs", r.returncode == 0, (r.stdout + r.stderr).strip().replace("\n", " | "))
        if r.returncode:
            return summary()
        got = load(a)
        tr, te = got["train"], got["test"]
        shapes = (tr["data"].shape, te["data"].shape, tr["labels"].shape, te["labels"].shape)
        check("shapes", shapes == ((1500, 64), (297, 64), (1500,), (297,)), f"/data {shapes[0]} and {shapes[1]}, /labels {shapes[2]} and {shapes[3]}")
        allx = np.concatenate([tr["data"], te["data"]])
        levels = np.unique(allx)
        check("values in [-1, 1]", allx.min() >= -1 and allx.max() <= 1 and np.allclose(levels, np.round((levels + 1) * 8) / 8 - 1)
              and tr["data"].dtype == np.float64,
              f"min {allx.min()}, max {allx.max()}, {len(levels)} levels, all v/8 - 1")
        labs_ok = all(p["labels"].dtype.kind == "i" and set(np.unique(p["labels"])) == set(range(10)) for p in (tr, te))
        check("labels 0..9", labs_ok, f"integer; train counts {np.bincount(tr['labels']).tolist()}, test counts {np.bincount(te['labels']).tolist()}")
        idx = np.concatenate([tr["index"], te["index"]])
        check("split partitions the source", np.array_equal(np.sort(idx), np.arange(1797)), "train and test /index disjoint, together rows 0..1796")
        at = tr["attrs"]
        inv = (tr["data"] - at["offset"]) / at["scale"]
        same = np.array_equal(inv, src[tr["index"], :64]) and np.array_equal(tr["labels"], src[tr["index"], 64].astype(int)) \
            and np.array_equal((te["data"] - at["offset"]) / at["scale"], src[te["index"], :64])
        check("data = source rows", same and at["scale"] == 0.125 and at["offset"] == -1.0,
              f"(x - offset)/scale with scale {at['scale']}, offset {at['offset']} gives the csv pixels and labels at /index")
        need = ("split_seed", "split_rule", "split_ntest", "source_sha256", "sgm_version", "scaling", "image_shape")
        check("attributes", all(k in at for k in need) and at["split"] == "train" and te["attrs"]["split"] == "test",
              ", ".join(need) + ", split")
        r = run(["--outdir", b])
        again = load(b)
        same = r.returncode == 0 and all(np.array_equal(got[p][k], again[p][k]) for p in got for k in ("data", "labels", "index"))
        r = run(["--outdir", c, "--seed", "1"])
        other = load(c)
        check("reproducible split", same and not np.array_equal(other["test"]["index"], te["index"]),
              "a second run gives the same arrays; --seed 1 another test set")

        png = os.path.join(tmp, "grid.png")
        r = run(["--grid", png, os.path.join(a, "digits-train.h5")])
        ok = r.returncode == 0 and os.path.exists(png)
        if ok:
            import matplotlib.image
            img = matplotlib.image.imread(png)
            ok = img.ndim == 3 and img.shape[0] > 400 and img.shape[1] >= 700 and img[..., :3].std() > 0.05
        check("grid of /data", ok, f"headless PNG {img.shape if ok else (r.stdout + r.stderr).strip()}")
        smp = os.path.join(tmp, "samples.h5")
        with h5py.File(smp, "w") as f:
            f["samples"] = np.clip(tr["data"][:30] + 0.1 * np.random.default_rng(0).standard_normal((30, 64)), -1.2, 1.2)
        png2 = os.path.join(tmp, "samples.png")
        r = run(["--grid", png2, smp, "--columns", "6"])
        check("grid of /samples", r.returncode == 0 and os.path.exists(png2) and "/samples" in r.stdout, r.stdout.strip() or r.stderr.strip())

        stub = os.path.join(tmp, "stub")
        os.makedirs(os.path.join(stub, "sklearn"))
        with open(os.path.join(stub, "sklearn", "__init__.py"), "w") as f:
            f.write("raise ImportError('stub: no sklearn')\n")
        d = os.path.join(tmp, "d")
        os.mkdir(d)
        ok, msg = one_error(run(["--outdir", d], env={"PYTHONPATH": stub}), "python3-sklearn")
        check("error: sklearn missing", ok and not os.listdir(d), msg)
        ok, msg = one_error(run(["--outdir", d, "--csv", os.path.join(tmp, "none.csv.gz")]), "cannot read")
        check("error: --csv missing", ok and not os.listdir(d), msg)
        bad = os.path.join(tmp, "bad.csv")
        np.savetxt(bad, src[:100], delimiter=",", fmt="%d")
        ok, msg = one_error(run(["--outdir", d, "--csv", bad]), "not the")
        check("error: not the digits", ok and not os.listdir(d), msg)
        ok, msg = one_error(run(["--outdir", a]), "exists already")
        check("error: output exists", ok and set(os.listdir(a)) == {"digits-train.h5", "digits-test.h5"}, msg)
    return summary()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--script", required=True)
    ARGS = ap.parse_args()
    sys.exit(main())
