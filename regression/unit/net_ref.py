#!/usr/bin/python3
"""Independent NumPy forward pass of sgm's MLP score network (src/nn), from its documented layout.

Reads the text that `test_net -ref_print` writes on stdin (weights, inputs, and the C code's score,
Jacobian-vector product and trace) and recomputes them: the score by a plain forward pass, the JVP
and the trace by central differences of that score (Richardson, O(h^4)).
Parameter layout (column-major matrices): Wt [w x E], bt [w], Cls [(K+1) x w] rows (if K > 0),
Win [w x d], bin [w], per block W [w x w], b [w], P [w x w], then Wout [d x w], bout [d].
Prints one line per check and "N passed, M failed"; exit status 1 on failure.
"""
import sys
import numpy as np


def silu(a):
    return a / (1.0 + np.exp(-a))


class Net:
    def __init__(self, arch, theta, freq):
        d, w, L, E, K, res = (int(a) for a in arch[:6])
        self.d, self.w, self.L, self.E, self.K, self.res = d, w, L, E, K, res
        self.output, self.sd, self.tin = arch[6], float(arch[7]), arch[8]
        self.freq = freq
        o = 0

        def take(n, shape=None, order="F"):
            nonlocal o
            a = theta[o:o + n]
            o += n
            return a.reshape(shape, order=order) if shape else a
        self.Wt, self.bt = take(w * E, (w, E)), take(w)
        self.Cls = take((K + 1) * w, (K + 1, w), order="C") if K else None
        self.Win, self.bin = take(w * d, (w, d)), take(w)
        self.blocks = [(take(w * w, (w, w)), take(w), take(w * w, (w, w))) for _ in range(L)]
        self.Wout, self.bout = take(d * w, (d, w)), take(d)
        assert o == len(theta), (o, len(theta))

    def score(self, x, t, alpha, sigma, label):
        """one sample"""
        c = t if self.tin == "t" else 0.25 * np.log(sigma / alpha)
        e = np.concatenate([np.sin(self.freq * c), np.cos(self.freq * c)])
        temb = silu(self.Wt @ e + self.bt)
        if self.K:
            temb = temb + self.Cls[self.K if label < 0 else int(label)]
        if self.output == "edm":   # Karras et al. 2022, Table 1
            sh, sd = sigma / alpha, self.sd
            cskip, cout, cin = sd**2 / (sh**2 + sd**2), sh * sd / np.sqrt(sh**2 + sd**2), 1 / np.sqrt(sh**2 + sd**2)
            u = cin * x / alpha
        else:
            u = x
        h = self.Win @ u + self.bin
        for W, b, P in self.blocks:
            hn = silu(W @ h + b + P @ temb)
            h = h + hn if self.res else hn
        F = self.Wout @ h + self.bout
        if self.output == "eps":
            return -F / sigma
        if self.output == "score":
            return F / sigma
        D = cskip * x / alpha + cout * F
        return (alpha * D - x) / sigma**2


def fd(f, x, v):
    d = [(f(x + h * v) - f(x - h * v)) / (2 * h) for h in (1e-3, 5e-4)]
    return (4 * d[1] - d[0]) / 3


def main():
    npass = nfail = 0
    blocks, cur = [], {}
    for line in sys.stdin:
        f = line.split()
        if not f:
            continue
        if f[0] == "end":
            blocks.append(cur)
            cur = {}
        elif f[0] == "arch":
            cur["arch"] = f[1:]
        elif f[0] in ("theta", "freq", "x", "t", "alpha", "sigma", "labels", "v", "score", "jv", "div"):
            cur[f[0]] = np.array([float(a) for a in f[2:]])
    for b in blocks:
        net = Net(b["arch"], b["theta"], b["freq"])
        d, n = net.d, len(b["t"])
        X, V = b["x"].reshape(n, d), b["v"][:n * d].reshape(n, d)
        S, JV, DIV = np.zeros((n, d)), np.zeros((n, d)), np.zeros(n)
        for i in range(n):
            def f(x):
                return net.score(x, b["t"][i], b["alpha"][i], b["sigma"][i], b["labels"][i])
            S[i] = f(X[i])
            JV[i] = fd(f, X[i], V[i])
            DIV[i] = sum(fd(f, X[i], np.eye(d)[k])[k] for k in range(d))
        tag = "%s w%d L%d%s%s" % (net.output, net.w, net.L, " res" if net.res else "", " cls" if net.K else "")
        for name, ref, got, tol in (("score", S, b["score"].reshape(n, d), 1e-13),
                                    ("JVP (FD of numpy)", JV, b["jv"].reshape(n, d), 1e-7),
                                    ("trace (FD of numpy)", DIV, b["div"], 1e-7)):
            err = np.max(np.abs(ref - got)) / np.max(np.abs(ref))
            ok = err <= tol
            npass, nfail = npass + ok, nfail + (not ok)
            print("numpy %-40s err %9.3e  bound %9.3e  %s" % (tag + " " + name, err, tol, "ok" if ok else "FAILED"))
    if not blocks:
        nfail += 1
        print("no networks read from test_net -ref_print")
    print("%d passed, %d failed" % (npass, nfail))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
