"""
Exact discretised moments of the fixed-step samplers on 1-D Gaussian data (issue 3, verification 1).

For data N(m, S^2) the score of the marginal at time t is linear,
    s(x, t) = -(x - alpha m) / (alpha^2 S^2 + sigma^2),
so every step of em, ancestral, ddim, heun and dpmpp2m is an affine map of the state plus fresh
Gaussian noise.  Here every quantity a sampler handles (x, x0_hat, the previous x0_hat of the
multistep method, ...) is kept as an affine function  c + sum_j a_j xi_j  of independent standard
normals xi_0 (the prior draw) and xi_1, xi_2, ... (the noise of each step).  Applying a sampler's
update formula to such objects is the exact recursion for the joint law of all of them: the mean
is c and the variance is sum_j a_j^2 (for dpmpp2m this is the joint mean and covariance of the
pair (x_k, x0_hat_{k-1})).

The updates below are written from the papers and lecture notes, not from sgm's source:
    em        Euler-Maruyama on the reverse SDE  dx = [f x - g^2 s] dt + g dw_bar  (Song et al. 2021)
    ancestral DDPM Alg. 2 (Ho et al. 2020) with alpha_t -> r^2, beta_t -> v of the transition
              q(x_{t_k} | x_{t_{k+1}}) = N(r x, v)
    ddim      DDIM eq. 12 (Song, Meng, Ermon 2021), sigma_t(eta) = eta * (posterior std)
    heun      EDM Alg. 1 (Karras et al. 2022) in y = x/alpha, sigma_hat = sigma/alpha
    dpmpp2m   DPM-Solver++(2M), Alg. 2 of Lu et al. 2022 (first order on the final step, as
              issue 3 specifies, or as in the paper with --no-lower-final)
and the time grids (uniform, quadratic, logsnr, karras) from the formulas of doc/theory.md / EDM eq. 5.

Then `sgm sample` is run with N samples per case and the sample mean and variance are compared
with the recursion within 5 standard errors (SE(mean) = sqrt(var/N), SE(var) = var sqrt(2/(N-1))).
The SDE parameters are read back from the attributes of the output file.  Sensitivity checks:
at n = 10 the recursion differs from the exact target N(alpha m, alpha^2 S^2 + sigma^2) by many
SE for the stochastic samplers (so the test is not a comparison with the target), and two
deliberately wrong recursions (ancestral with the other variance, em with the score taken at the
end of the step) are rejected by the same 5-SE test.  The third "wrong" recursion pins a convention:
EDM Alg. 1 (and sgm's heun) applies the second-order correction whenever sigma_{i+1} != 0; an Euler
last step on every grid differs from it by > 5 SE on the VP uniform grid (ending at eps > 0).

Also -sampler_denoise (denoise_checks): with and without it the same run must differ by exactly
the Tweedie step at the end of the grid (VP at eps, poly2 at t = 0 where sigma(0) > 0), by nothing
on VE with -sde_eps 0.

Usage: moments.py --sgm PATH/src/sgm --workdir DIR [--quick]
Prints one line per check and "N passed, M failed"; exit status 1 on failure.  About 25 s on 2 cores.
"""
import argparse
import concurrent.futures
import math
import os
import subprocess
import sys

import numpy as np
from scipy.optimize import brentq

ZMAX = 5.0  # standard errors


# ---------------------------------------------------------------------------------------------
# SDEs (Song et al. 2021): marginal x_t = alpha(t) x_0 + sigma(t) z, drift f(t) x, diffusion g(t)
class VP:
    """dx = -beta/2 x dt + sqrt(beta) dw, beta(t) = bmin + (bmax - bmin) t/T."""

    def __init__(self, bmin, bmax, T, eps):
        self.bmin, self.bmax, self.T, self.eps, self.prior_std = bmin, bmax, T, eps, 1.0

    def _B(self, t):  # int_0^t beta
        return self.bmin * t + 0.5 * (self.bmax - self.bmin) * t * t / self.T

    def alpha(self, t):
        return math.exp(-0.5 * self._B(t))

    def sigma(self, t):
        return math.sqrt(-math.expm1(-self._B(t)))

    def f(self, t):
        return -0.5 * (self.bmin + (self.bmax - self.bmin) * t / self.T)

    def g2(self, t):
        return self.bmin + (self.bmax - self.bmin) * t / self.T


class VE:
    """dx = sqrt(d[s(t)^2]/dt) dw, s(t) = smin (smax/smin)^(t/T); marginal variance s(t)^2 - smin^2."""

    def __init__(self, smin, smax, T, eps):
        self.smin, self.smax, self.T, self.eps, self.prior_std = smin, smax, T, eps, smax
        self.L = math.log(smax / smin)

    def alpha(self, t):
        return 1.0

    def sigma(self, t):
        return self.smin * math.sqrt(math.expm1(2 * self.L * t / self.T))

    def f(self, t):
        return 0.0

    def g2(self, t):
        return (self.smin * math.exp(self.L * t / self.T)) ** 2 * 2 * self.L / self.T


def sde_from_attrs(a):
    kind = a["sde_type"].decode() if isinstance(a["sde_type"], bytes) else a["sde_type"]
    if kind == "vp":
        return VP(float(a["sde_beta_min"]), float(a["sde_beta_max"]), float(a["sde_T"]), float(a["sde_eps"]))
    if kind == "ve":
        return VE(float(a["sde_sigma_min"]), float(a["sde_sigma_max"]), float(a["sde_T"]), float(a["sde_eps"]))
    raise ValueError("sde_type %s not handled" % kind)


def default_sde(kind):
    """score_sde's defaults, as sgm documents them (used before an output file exists)."""
    return VP(0.1, 20.0, 1.0, 1e-3) if kind == "vp" else VE(0.01, 50.0, 1.0, 1e-5)


def ratio(sde, t):  # sigma/alpha, EDM's sigma
    return sde.sigma(t) / sde.alpha(t)


def time_of_ratio(sde, r):
    if r >= ratio(sde, sde.T):
        return sde.T
    return brentq(lambda t: ratio(sde, t) - r, 0.0, sde.T, xtol=1e-16, rtol=1e-15, maxiter=500)


# ---------------------------------------------------------------------------------------------
# Time grids T = t_0 > ... > t_n
def grid(sde, schedule, n, rho=7.0):
    T, eps = sde.T, sde.eps
    if schedule == "uniform":
        t = T + (eps - T) * np.arange(n + 1) / n
        t[-1] = eps
        return t
    if schedule == "quadratic":  # sqrt(t) equally spaced (DPM-Solver's time_quadratic)
        t = (math.sqrt(T) + (math.sqrt(eps) - math.sqrt(T)) * np.arange(n + 1) / n) ** 2
        t[0], t[-1] = T, eps
        return t
    if schedule == "logsnr":  # lambda = log(alpha/sigma) equally spaced (DPM-Solver)
        l0, l1 = math.log(ratio(sde, T)), math.log(ratio(sde, eps))
        t = np.array([time_of_ratio(sde, math.exp(l0 + (l1 - l0) * k / n)) for k in range(n + 1)])
        t[0], t[-1] = T, eps
        return t
    if schedule == "karras":  # EDM eq. 5, sigma_hat from that of t = eps to that of T, then sigma_hat = 0
        smin, smax = ratio(sde, max(eps, 1e-10)), ratio(sde, T)
        s = (smax ** (1 / rho) + np.arange(n) / (n - 1) * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
        t = np.array([T if sk >= smax else time_of_ratio(sde, sk) for sk in s] + [0.0])
        return t
    raise ValueError(schedule)


# ---------------------------------------------------------------------------------------------
# Affine functions of independent standard normals
class Lin:
    def __init__(self, c, a):
        self.c, self.a = c, a

    def __add__(self, o):
        return Lin(self.c + o.c, self.a + o.a) if isinstance(o, Lin) else Lin(self.c + o, self.a)

    __radd__ = __add__

    def __sub__(self, o):
        return self + (-1.0) * o

    def __mul__(self, k):
        return Lin(k * self.c, k * self.a)

    __rmul__ = __mul__

    def __truediv__(self, k):
        return Lin(self.c / k, self.a / k)

    def mean(self):
        return self.c

    def var(self):
        return float(np.dot(self.a, self.a))


class Noise:
    """Source of fresh independent N(0,1) variables, as Lin objects over a basis of size nmax."""

    def __init__(self, nmax):
        self.nmax, self.used = nmax, 0

    def __call__(self):
        a = np.zeros(self.nmax)
        a[self.used] = 1.0
        self.used += 1
        return Lin(0.0, a)


def score(sde, m, S, x, t):
    """Exact score of N(m, S^2) data at time t, applied to x (Lin or float)."""
    al, si = sde.alpha(t), sde.sigma(t)
    return (x - al * m) * (-1.0 / (al * al * S * S + si * si))


# ---------------------------------------------------------------------------------------------
# One step of each sampler, t0 > t1; `z` draws fresh noise.
def em_step(sde, m, S, x, t0, t1, z, wrong=False):
    h = t0 - t1
    ts = t1 if wrong else t0  # wrong: score at the end of the step (deliberate error)
    return x - h * (sde.f(t0) * x - sde.g2(t0) * score(sde, m, S, x, ts)) + math.sqrt(sde.g2(t0) * h) * z()


def transition(sde, t0, t1):
    """q(x_{t0} | x_{t1}) = N(r x, v), t1 < t0."""
    r = sde.alpha(t0) / sde.alpha(t1)
    return r, sde.sigma(t0) ** 2 - r * r * sde.sigma(t1) ** 2


def ancestral_step(sde, m, S, x, t0, t1, z, variance):
    r, v = transition(sde, t0, t1)
    var = v if variance == "beta" else v * sde.sigma(t1) ** 2 / sde.sigma(t0) ** 2
    x = (x + v * score(sde, m, S, x, t0)) / r  # DDPM: (x_t - beta_t/sqrt(1-abar_t) eps)/sqrt(alpha_t)
    return x + math.sqrt(var) * z() if t1 > 0 else x


def ddim_step(sde, m, S, x, t0, t1, z, eta):
    a0, s0, a1, s1 = sde.alpha(t0), sde.sigma(t0), sde.alpha(t1), sde.sigma(t1)
    epshat = (-s0) * score(sde, m, S, x, t0)
    x0 = (x - s0 * epshat) / a0
    r, v = transition(sde, t0, t1)
    c2 = eta * eta * s1 * s1 * v / (r * r * s1 * s1 + v)  # posterior variance of x_{t1} | x_{t0}, x_0
    x = a1 * x0 + math.sqrt(max(s1 * s1 - c2, 0.0)) * epshat
    return x + math.sqrt(c2) * z() if c2 > 0 else x


def heun_step(sde, m, S, x, t0, t1, last, euler_last):
    """EDM Alg. 1 in y = x/alpha; the 2nd-order correction unless sigma_hat_{i+1} = 0 (or, with
    euler_last, on the last step of the grid: the deliberately wrong variant)."""
    a0, a1 = sde.alpha(t0), sde.alpha(t1)
    sh0, sh1 = ratio(sde, t0), ratio(sde, t1)

    def D(y, t):  # denoiser D(y; sigma_hat) = E[x_0 | x_t = alpha y] = (x + sigma^2 s)/alpha
        al, si = sde.alpha(t), sde.sigma(t)
        xx = al * y
        return (xx + si * si * score(sde, m, S, xx, t)) / al

    y = x / a0
    d = (y - D(y, t0)) / sh0
    y1 = y + (sh1 - sh0) * d
    if sh1 != 0 and not (euler_last and last):
        d1 = (y1 - D(y1, t1)) / sh1
        y1 = y + (sh1 - sh0) * (0.5 * d + 0.5 * d1)
    return a1 * y1


def run_dpmpp2m(sde, m, S, x, t, lower_final=True):
    """DPM-Solver++(2M), Lu et al. 2022 Alg. 2, on the grid t."""
    n = len(t) - 1
    lam = lambda tt: math.log(sde.alpha(tt) / sde.sigma(tt))
    x0prev, hprev = None, None
    for k in range(n):
        t0, t1 = t[k], t[k + 1]
        a0, s0, a1, s1 = sde.alpha(t0), sde.sigma(t0), sde.alpha(t1), sde.sigma(t1)
        h = lam(t1) - lam(t0)
        x0 = (x + s0 * s0 * score(sde, m, S, x, t0)) / a0  # data prediction x_theta
        if k == 0 or (lower_final and k == n - 1):
            D = x0
        else:
            r = hprev / h
            D = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * x0prev
        x = (s1 / s0) * x - a1 * math.expm1(-h) * D
        x0prev, hprev = x0, h
    return x


# ---------------------------------------------------------------------------------------------
SCHEDULE_DEFAULT = {"em": "uniform", "ancestral": "uniform", "ddim": "uniform", "heun": "karras", "dpmpp2m": "logsnr"}


def recursion(sde, m, S, case, n, wrong=None):
    """Mean and variance of x at the end of the grid for one case (dict: sampler, schedule, options)."""
    smp = case["sampler"]
    t = grid(sde, case.get("schedule", SCHEDULE_DEFAULT[smp]), n)
    z = Noise(n + 2)
    x = sde.prior_std * z()
    if smp == "dpmpp2m":
        x = run_dpmpp2m(sde, m, S, x, t)
    else:
        for k in range(n):
            t0, t1 = t[k], t[k + 1]
            if smp == "em":
                x = em_step(sde, m, S, x, t0, t1, z, wrong == "em_score_at_t1")
            elif smp == "ancestral":
                var = case["variance"]
                if wrong == "ancestral_other_variance":
                    var = "beta" if var == "beta_tilde" else "beta_tilde"
                x = ancestral_step(sde, m, S, x, t0, t1, z, var)
            elif smp == "ddim":
                x = ddim_step(sde, m, S, x, t0, t1, z, case["eta"])
            elif smp == "heun":
                x = heun_step(sde, m, S, x, t0, t1, k == n - 1, wrong == "heun_euler_last_step")
            else:
                raise ValueError(smp)
    return x.mean(), x.var(), t[-1]


def target(sde, m, S, tend):
    """Exact marginal at the end of the grid: N(alpha m, alpha^2 S^2 + sigma^2)."""
    al, si = (1.0, 0.0) if tend == 0 else (sde.alpha(tend), sde.sigma(tend))
    return al * m, al * al * S * S + si * si


def case_options(case):
    o = ["-sampler_type", case["sampler"]]
    if "schedule" in case:
        o += ["-sampler_schedule", case["schedule"]]
    if "variance" in case:
        o += ["-ancestral_variance", case["variance"]]
    if "eta" in case:
        o += ["-ddim_eta", repr(case["eta"])]
    return o


def case_name(case):
    s = case["sampler"]
    if "variance" in case:
        s += "(" + case["variance"] + ")"
    if "eta" in case:
        s += "(eta=%g)" % case["eta"]
    if "schedule" in case:
        s += "[" + case["schedule"] + "]"
    return s


CASES = [
    {"sampler": "em"},
    {"sampler": "ancestral", "variance": "beta"},
    {"sampler": "ancestral", "variance": "beta_tilde"},
    {"sampler": "ddim", "eta": 0.0},
    {"sampler": "ddim", "eta": 1.0},
    {"sampler": "heun", "schedule": "uniform"},
    {"sampler": "heun", "schedule": "karras"},
    {"sampler": "dpmpp2m", "schedule": "logsnr"},
    {"sampler": "dpmpp2m", "schedule": "quadratic"},
]

DATA_MEAN, DATA_STD = 1.5, 0.5


def run_sgm(sgm, workdir, kind, case, n, N, seed):
    import h5py

    out = os.path.join(workdir, "moments_%s_%s_%d.h5" % (kind, case_name(case).replace("(", "_").replace(")", "").replace("[", "_").replace("]", "").replace("=", ""), n))
    cmd = [sgm, "sample", "-score_type", "gaussian", "-gaussian_mean", repr(DATA_MEAN), "-gaussian_std", repr(DATA_STD),
           "-sde_type", kind, "-sampler_steps", str(n), "-nsamples", str(N), "-seed", str(seed),
           "-trajectory_frames", "0", "-output", out, "-overwrite", "-quiet"] + case_options(case)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s failed:\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))
    with h5py.File(out, "r") as f:
        x = f["samples"][:, 0].astype(np.float64)
        attrs = dict(f.attrs)
    os.remove(out)
    return x, attrs, " ".join(cmd)


def zscores(x, mu, var):
    N = len(x)
    return (x.mean() - mu) / math.sqrt(var / N), (x.var(ddof=1) - var) / (var * math.sqrt(2.0 / (N - 1)))


class Checks:
    def __init__(self):
        self.npass = self.nfail = 0

    def __call__(self, ok, msg):
        print("%s %s" % ("ok    " if ok else "FAILED", msg), flush=True)
        if ok:
            self.npass += 1
        else:
            self.nfail += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--sgm", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="n = 10 only")
    args = ap.parse_args()
    chk = Checks()

    runs = []  # (kind, case, n, N, seed)
    seed = 11
    for kind in ("vp", "ve"):
        for n, N in ((10, 200000), (1000, 100000)):
            if args.quick and n > 10:
                continue
            for case in CASES:
                runs.append((kind, case, n, N, seed))
                seed += 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        futs = [ex.submit(run_sgm, args.sgm, args.workdir, *r) for r in runs]
        results = [f.result() for f in futs]

    print("# sample moments of sgm against the exact discretised recursion, data N(%g, %g^2); z in standard errors" % (DATA_MEAN, DATA_STD))
    keep = {}
    for (kind, case, n, N, sd), (x, attrs, cmd) in zip(runs, results):
        sde = sde_from_attrs(attrs)
        mu, var, tend = recursion(sde, DATA_MEAN, DATA_STD, case, n)
        zm, zv = zscores(x, mu, var)
        tm, tv = target(sde, DATA_MEAN, DATA_STD, tend)
        tzm, tzv = zscores(x, tm, tv)
        keep[(kind, case_name(case), n)] = (x, sde, case, (tzm, tzv))
        chk(abs(zm) <= ZMAX and abs(zv) <= ZMAX,
            "%-3s %-28s n=%-4d N=%d  mean %.6f (rec %.6f, z %+5.2f)  var %.6f (rec %.6f, z %+5.2f)  [vs target: z %+7.1f %+7.1f]"
            % (kind, case_name(case), n, N, x.mean(), mu, zm, x.var(ddof=1), var, zv, tzm, tzv))
        if not (abs(zm) <= ZMAX and abs(zv) <= ZMAX):
            print("       reproduce: " + cmd)

    # The test can fail: (a) at n = 10 the discretisation error is many SE, so matching the
    # recursion is a sharper statement than matching the target; (b) wrong recursions are rejected.
    for kind in ("vp", "ve"):
        for name in ("em", "ancestral(beta)", "ddim(eta=1)"):
            x, sde, case, (tzm, tzv) = keep[(kind, name, 10)]
            chk(max(abs(tzm), abs(tzv)) > ZMAX,
                "sensitivity: %s %s n=10 differs from the exact target by %.1f SE (mean) and %.1f SE (variance): > %g, the recursion is needed"
                % (kind, name, tzm, tzv, ZMAX))
    for kind in ("vp", "ve"):
        for name, wrong in (("ancestral(beta_tilde)", "ancestral_other_variance"), ("em", "em_score_at_t1"),
                            ("heun[uniform]", "heun_euler_last_step")):
            if wrong == "heun_euler_last_step" and kind == "ve":
                continue  # VE: sigma(t_{n-1}) = 0.02 is already below the data std, the two agree to 2 SE
            x, sde, case, _ = keep[(kind, name, 10)]
            mu, var, _ = recursion(sde, DATA_MEAN, DATA_STD, case, 10, wrong=wrong)
            zm, zv = zscores(x, mu, var)
            chk(max(abs(zm), abs(zv)) > ZMAX,
                "sensitivity: a deliberately wrong recursion (%s) for %s %s n=10 is rejected: z %+.1f (mean), %+.1f (variance)"
                % (wrong, kind, name, zm, zv))
    denoise_checks(args, chk)
    print("%d passed, %d failed" % (chk.npass, chk.nfail))
    return 1 if chk.nfail else 0


def denoise_checks(args, chk):
    """-sampler_denoise: the same run (seed, em, 10 steps) with and without it must differ by exactly
    the Tweedie step x0 = (x + sigma^2 s(x, t_end))/alpha at the end of the grid, with alpha, sigma of
    the formulas here (VP: t_end = eps = 1e-3; poly2 with -sde_eps 0: t_end = 0, where EDM's
    polynomial_2 still has sigma(0)^2 = s = 1e-5, alpha(0)^2 = 1 - s), and one more NFE.  On VE with
    -sde_eps 0 (sigma(0) = 0) it must change nothing."""
    import h5py

    def alpha_sigma(a):
        kind = a["sde_type"].decode() if isinstance(a["sde_type"], bytes) else a["sde_type"]
        t = float(a["sde_eps"])
        if kind == "poly2":
            s, T = float(a["sde_poly2_precision"]), float(a["sde_T"])
            a2 = (1 - 2 * s) * (1 - (t / T) ** 2) ** 2 + s
            return math.sqrt(a2), math.sqrt(1 - a2)
        sde = sde_from_attrs(a)
        return sde.alpha(t), sde.sigma(t)

    print("# -sampler_denoise against the Tweedie step computed here")
    for kind, extra in (("vp", []), ("poly2", ["-sde_eps", "0"]), ("ve", ["-sde_eps", "0"])):
        xs, nfe = [], []
        for den in ([], ["-sampler_denoise"]):
            out = os.path.join(args.workdir, "denoise_%s_%d.h5" % (kind, len(den)))
            cmd = [args.sgm, "sample", "-score_type", "gaussian", "-gaussian_mean", repr(DATA_MEAN), "-gaussian_std", repr(DATA_STD),
                   "-sde_type", kind, "-sampler_type", "em", "-sampler_steps", "10", "-nsamples", "1000", "-seed", "5",
                   "-output", out, "-overwrite", "-quiet"] + extra + den
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                chk(False, "denoise %s: %s failed: %s" % (kind, " ".join(cmd), p.stderr.strip()))
                return
            with h5py.File(out, "r") as f:
                xs.append(f["samples"][:, 0].astype(np.float64))
                nfe.append(int(f.attrs["nfe"]))
                attrs = dict(f.attrs)
            os.remove(out)
        a, s = alpha_sigma(attrs)
        x = xs[0]
        expect = (x - s * s * (x - a * DATA_MEAN) / (a * a * DATA_STD ** 2 + s * s)) / a if s > 0 else x
        err = np.abs(xs[1] - expect).max()
        moved = np.abs(xs[1] - x).max()
        ok = err <= 1e-12 * max(1.0, np.abs(x).max()) and nfe[1] == nfe[0] + (1 if s > 0 else 0) and (moved > 1e-6 if s > 0 else moved == 0)
        chk(ok, "denoise %-5s (alpha %.8f, sigma %.3e at the end): max |x_den - Tweedie(x)| %.1e, largest change %.2e, NFE %d -> %d"
            % (kind, a, s, err, moved, nfe[0], nfe[1]))


if __name__ == "__main__":
    sys.exit(main())
