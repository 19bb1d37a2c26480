"""
Independent NumPy reimplementation of the 2-D toy datasets of `sgm data` (doc/data.md), written
from FFJORD's lib/toy_data.py (Grathwohl et al. 2019) and not from src/data/toy.c: vectorised,
NumPy's own generator, FFJORD's formulation (e.g. pinwheel through its rotation-matrix einsum).
Each generator returns (x [n,2], labels [n] or None).  Keyword arguments override a parameter, so
a test can draw from a deliberately wrong definition.

sklearn_reference() draws the three datasets FFJORD takes from sklearn with sklearn itself
(make_swiss_roll, make_moons, make_circles), to check these definitions against the originals.
"""
import numpy as np

DEFAULTS = {
    "swissroll": {"noise": 1.0, "scale": 0.2},
    "moons": {"noise": 0.1, "scale": 2.0, "shift": (-1.0, -0.2)},
    "checkerboard": {"scale": 2.0},
    "8gaussians": {"radius": 4.0, "std": 0.5},
    "pinwheel": {"arms": 5, "radial_std": 0.3, "tangential_std": 0.1, "rate": 0.25, "scale": 2.0},
    "circles": {"factor": 0.5, "noise": 0.08, "scale": 3.0},
}
NCLASSES = {"swissroll": 0, "moons": 2, "checkerboard": 8, "8gaussians": 8, "pinwheel": 5, "circles": 2}


def swissroll(rng, n, noise, scale):
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))
    x = np.stack([t * np.cos(t), t * np.sin(t)], 1) + noise * rng.standard_normal((n, 2))
    return scale * x, None


def moons(rng, n, noise, scale, shift):
    c = rng.integers(0, 2, n)
    th = np.pi * rng.random(n)
    outer = np.stack([np.cos(th), np.sin(th)], 1)
    inner = np.stack([1 - np.cos(th), 1 - np.sin(th) - 0.5], 1)
    p = np.where(c[:, None] == 0, outer, inner) + noise * rng.standard_normal((n, 2))
    return scale * p + np.asarray(shift), c


def checkerboard(rng, n, scale):
    x1 = rng.random(n) * 4 - 2
    b = rng.integers(0, 2, n)
    x2 = rng.random(n) - b * 2 + np.floor(x1) % 2
    col = np.floor(x1).astype(int) + 2
    return scale * np.stack([x1, x2], 1), 2 * col + 1 - b


def eightgaussians(rng, n, radius, std):
    k = rng.integers(0, 8, n)
    a = 2 * np.pi * k / 8
    centres = radius * np.stack([np.cos(a), np.sin(a)], 1)
    return centres + std * rng.standard_normal((n, 2)), k


def pinwheel(rng, n, arms, radial_std, tangential_std, rate, scale):
    k = rng.integers(0, arms, n)
    rads = np.linspace(0, 2 * np.pi, arms, endpoint=False)
    f = rng.standard_normal((n, 2)) * np.array([radial_std, tangential_std])
    f[:, 0] += 1.0
    ang = rads[k] + rate * np.exp(f[:, 0])
    rot = np.reshape(np.stack([np.cos(ang), -np.sin(ang), np.sin(ang), np.cos(ang)]).T, (-1, 2, 2))
    return scale * np.einsum("ti,tij->tj", f, rot), k


def circles(rng, n, factor, noise, scale):
    c = rng.integers(0, 2, n)
    r = np.where(c == 0, 1.0, factor)
    th = 2 * np.pi * rng.random(n)
    p = r[:, None] * np.stack([np.cos(th), np.sin(th)], 1) + noise * rng.standard_normal((n, 2))
    return scale * p, c


GENERATORS = {"swissroll": swissroll, "moons": moons, "checkerboard": checkerboard, "8gaussians": eightgaussians,
              "pinwheel": pinwheel, "circles": circles}


def draw(name, n, seed, **override):
    """n points of dataset name; override replaces parameters (a deliberately wrong definition)."""
    par = dict(DEFAULTS[name])
    par.update(override)
    return GENERATORS[name](np.random.default_rng(seed), n, **par)


def sklearn_reference(name, n, seed):
    """FFJORD's own recipe through sklearn, or None when there is none (or no sklearn)."""
    try:
        import sklearn.datasets as skd
    except ImportError:
        return None
    if name == "swissroll":
        return skd.make_swiss_roll(n_samples=n, noise=1.0, random_state=seed)[0][:, [0, 2]] / 5, None
    if name == "moons":
        x, y = skd.make_moons(n_samples=n, noise=0.1, random_state=seed)
        return x * 2 + np.array([-1, -0.2]), y
    if name == "circles":
        x, y = skd.make_circles(n_samples=n, factor=0.5, noise=0.08, random_state=seed)
        return x * 3, y
    return None
