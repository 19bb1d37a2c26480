"""Statistics of sampled Gaussian random fields against NumPy references (issue 8, doc/fields.md).

  field_stats.py periodic FILE    per-site variance against diag(C_eps) and the radially averaged
                                  power spectrum against a^2 S(k) + s^2, S = 1/q(k) the SPDE symbol
  field_stats.py dirichlet FILE   per-site variance against diag(a^2 Q^-1 + s^2 I), Q assembled and
                                  inverted densely here
  field_stats.py agree A B TOL    /samples of A and B agree to TOL (relative to max |A|)

C_eps is the covariance of the exact p_eps = N(0, a^2 Q^{-1} + s^2 I) at the sampler's final time
eps (a, s of the VP SDE from the file's attributes).  Every tolerance is 5 standard errors computed
from the sample: per site SE = target sqrt(2/B) (Gaussian, known zero mean); a site- or bin-average
is formed per field and its SE is the spread over the B independent fields / sqrt(B).
Parameters (grid, spacing, tau, kappa, alpha, SDE) are read from the file's attributes.
"""
import sys
import h5py
import numpy as np


def attrs(f):
    a = {k: f.attrs[k] for k in f.attrs}
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in a.items()}


def marginal(at):
    assert at["sde_type"] == "vp" and at["sde_vp_schedule"] == "linear", "VP linear SDE only"
    t, b0, b1 = at["sde_eps"], at["sde_beta_min"], at["sde_beta_max"]
    a = np.exp(-0.25 * t * t * (b1 - b0) - 0.5 * t * b0)
    return a, np.sqrt(1 - a * a)


def spde(at):
    pre = "gmrf" if at["score_type"] == "gmrf" else "grf"
    return at[pre + "_tau"], at[pre + "_kappa"], int(at[pre + "_alpha"])


def symbol(at, shape):
    """q(k) on the full FFT grid (numpy order [ny, nx] or [nz, ny, nx])."""
    tau, kappa, alpha = spde(at)
    h = at["field_spacing"]
    lam = kappa * kappa
    grids = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    for k, n in zip(grids, shape):
        lam = lam + 4 / h**2 * np.sin(np.pi * k / n) ** 2
    return tau * lam**alpha


def check(name, z, bound=5.0):
    ok = np.all(np.abs(z) <= bound)
    print(f"{name:60s} max |z| = {np.max(np.abs(z)):6.2f}  (bound {bound})  {'ok' if ok else 'FAILED'}")
    return ok


def periodic(path):
    f = h5py.File(path, "r")
    at = attrs(f)
    x = f["samples"][...]
    B, shape = x.shape[0], x.shape[1:]
    N = np.prod(shape)
    a, s = marginal(at)
    St = a * a / symbol(at, shape) + s * s  # spectrum of p_eps
    var = St.mean()  # diag of the circulant covariance
    ok = True
    # per site
    v = (x**2).mean(axis=0)
    ok &= check(f"per-site variance ({N} sites, B = {B}) vs {var:.5f}", (v - var) / (var * np.sqrt(2.0 / B)))
    m = (x**2).reshape(B, -1).mean(axis=1)
    ok &= check("site-averaged variance vs diag(C_eps)", [(m.mean() - var) / (m.std(ddof=1) / np.sqrt(B))])
    # radially averaged spectrum: |X_k|^2 / (N S_t(k)) averaged over each shell, per field
    X = np.fft.fftn(x, axes=tuple(range(1, x.ndim)))
    ratio = np.abs(X) ** 2 / (N * St)
    kk = np.meshgrid(*[np.fft.fftfreq(n) * n for n in shape], indexing="ij")
    kr = np.rint(np.sqrt(sum(k * k for k in kk))).astype(int)
    zs, lines = [], []
    for r in range(kr.max() + 1):
        sel = kr == r
        if not sel.any():
            continue
        pb = ratio[:, sel].mean(axis=1)  # one value per field
        se = pb.std(ddof=1) / np.sqrt(B)
        zs.append((pb.mean() - 1) / se)
        Pk = (np.abs(X[:, sel]) ** 2).mean() / N
        lines.append(f"  |k| = {r:3d}  modes {sel.sum():5d}  P = {Pk:10.4e}  exact {St[sel].mean():10.4e}  ratio {pb.mean():.4f} +- {se:.4f}")
    print("\n".join(lines[:: max(1, len(lines) // 12)]))
    ok &= check(f"radial power spectrum / exact, {len(zs)} bins", np.array(zs))
    return ok


def dirichlet(path):
    f = h5py.File(path, "r")
    at = attrs(f)
    x = f["samples"][...]
    B, shape = x.shape[0], x.shape[1:]
    assert len(shape) == 2 and at["field_boundary"] == "dirichlet"
    ny, nx = shape
    tau, kappa, alpha = spde(at)
    h = at["field_spacing"]
    # K = kappa^2 I - Laplacian_h, 5-point, zero outside the grid
    def lap1(n):
        return (np.diag(np.full(n, 2.0)) - np.diag(np.ones(n - 1), 1) - np.diag(np.ones(n - 1), -1)) / h**2
    K = kappa**2 * np.eye(nx * ny) + np.kron(np.eye(ny), lap1(nx)) + np.kron(lap1(ny), np.eye(nx))
    Q = tau * (K if alpha == 1 else K @ K)
    a, s = marginal(at)
    C = a * a * np.linalg.inv(Q) + s * s * np.eye(nx * ny)
    var = np.diag(C).reshape(shape)
    v = (x**2).mean(axis=0)
    ok = check(f"per-site variance ({nx}x{ny} Dirichlet, B = {B}) vs dense diag", (v - var) / (var * np.sqrt(2.0 / B)))
    w = (x**2 / var).reshape(B, -1).mean(axis=1)
    ok &= check("site-averaged variance / diag, over fields", [(w.mean() - 1) / (w.std(ddof=1) / np.sqrt(B))])
    print(f"  corner site variance {v[0, 0]:.5f} (exact {var[0, 0]:.5f}), centre {v[ny // 2, nx // 2]:.5f} (exact {var[ny // 2, nx // 2]:.5f})")
    return ok


def agree(pa, pb, tol):
    xa, xb = h5py.File(pa, "r")["samples"][...], h5py.File(pb, "r")["samples"][...]
    n = min(xa.shape[0], xb.shape[0])
    err = np.abs(xa[:n] - xb[:n]).max() / np.abs(xa[:n]).max()
    ok = err <= tol
    print(f"{'samples of ' + pa + ' vs ' + pb:60s} rel. err {err:9.3e}  (bound {tol:g})  {'ok' if ok else 'FAILED'}")
    return ok


if __name__ == "__main__":
    mode = sys.argv[1]
    ok = {"periodic": lambda: periodic(sys.argv[2]), "dirichlet": lambda: dirichlet(sys.argv[2]),
          "agree": lambda: agree(sys.argv[2], sys.argv[3], float(sys.argv[4]))}[mode]()
    sys.exit(0 if ok else 1)
