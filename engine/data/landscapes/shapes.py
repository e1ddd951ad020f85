"""The geometry natural layouts are built from: the ground-plane camera and unit outlines.

:class:`Ground` maps image rows and columns of the ground to world distance and bearing;
:func:`conifer`, :func:`broadleaf`, :func:`bush` and :func:`boulder` give n random outlines
of standing things at unit size with their base at the origin, to be scaled and placed
where they stand.
"""

from __future__ import annotations

import numpy as np


def conifer(rng: np.random.Generator, n: int) -> np.ndarray:
    """n conifer outlines (tiered, with a trunk), unit height, base centre at (0, 0); y points down."""
    tiers = int(rng.integers(2, 5))
    hw = rng.uniform(0.15, 0.26, size=(n, 1))
    trunk = 0.12
    k = np.arange(1, tiers + 1) / tiers
    ty = -1 + (1 - trunk) * k  # bottom of each tier
    outer = hw * (0.45 + 0.55 * k)  # n×tiers
    xs, ys = [np.zeros((n, 1))], [np.full((n, 1), -1.0)]
    for i in range(tiers):
        xs.append(outer[:, i : i + 1])
        ys.append(np.full((n, 1), ty[i]))
        if i < tiers - 1:
            xs.append(outer[:, i : i + 1] * 0.45)
            ys.append(np.full((n, 1), ty[i] + 0.03))
    rx, ry = np.concatenate(xs[1:], 1), np.concatenate(ys[1:], 1)
    tw = np.full((n, 1), 0.04)
    px = np.concatenate([xs[0], rx, tw, tw, -tw, -tw, -rx[:, ::-1]], 1)
    py = np.concatenate(
        [
            ys[0],
            ry,
            np.full((n, 1), -trunk),
            np.zeros((n, 1)),
            np.zeros((n, 1)),
            np.full((n, 1), -trunk),
            ry[:, ::-1],
        ],
        1,
    )
    return np.stack([px, py], 2)


def _lumpy(rng: np.random.Generator, n: int, theta: np.ndarray, amount: float) -> np.ndarray:
    """Radius multipliers that make circles look like crowns, bushes and stones."""
    ph = rng.uniform(0, 2 * np.pi, size=(n, 2))
    return 1 + amount * (np.sin(3 * theta + ph[:, :1]) * 0.6 + np.sin(5 * theta + ph[:, 1:]) * 0.4)


def broadleaf(rng: np.random.Generator, n: int) -> np.ndarray:
    """n broadleaf outlines (a lumpy round crown on a short trunk), unit height, base at (0, 0)."""
    r = rng.uniform(0.3, 0.4, size=(n, 1))
    aspect = rng.uniform(0.85, 1.25, size=(n, 1))
    cy = -1 + r
    theta = np.linspace(np.pi / 2 - 0.3, np.pi / 2 + 0.3 - 2 * np.pi, 16)[None, :]
    rho = r * _lumpy(rng, n, theta, 0.12)
    cx_, cy_ = rho * np.cos(theta) * aspect, cy + rho * np.sin(theta)
    tw = np.full((n, 1), 0.045)
    join = cy + r * 0.9
    px = np.concatenate([cx_, -tw, -tw, tw, tw], 1)
    py = np.concatenate([cy_, join, np.zeros((n, 1)), np.zeros((n, 1)), join], 1)
    return np.stack([px, py], 2)


def bush(rng: np.random.Generator, n: int) -> np.ndarray:
    """n bush outlines: a lumpy dome with a flat base, unit width, base centre at (0, 0)."""
    theta = np.linspace(0, -np.pi, 13)[None, :]
    tall = rng.uniform(0.45, 0.8, size=(n, 1))
    rho = _lumpy(rng, n, theta * 2, 0.15)
    return np.stack([0.5 * rho * np.cos(theta), tall * rho * np.sin(theta)], 2)


def boulder(rng: np.random.Generator, n: int) -> np.ndarray:
    """n boulder outlines, unit width, sunk a little into the ground at (0, 0)."""
    theta = np.sort(rng.uniform(0, 2 * np.pi, size=(n, 9)), 1)
    rad = rng.uniform(0.7, 1.0, size=(n, 9))
    squash = rng.uniform(0.45, 0.85, size=(n, 1))
    px = 0.5 * np.cos(theta) * rad
    py = -0.3 * squash + 0.5 * squash * np.sin(theta) * rad
    return np.stack([px, np.minimum(py, 0.05)], 2)


class Ground:
    """Ground plane below the horizon row ``hr``, seen through a cylindrical camera.

    Ground row y sees distance ``d = gh / (y - hr)`` (the bottom row is d = 1) and column
    x the bearing ``phi = (x - w/2) / gh`` radians, so a panorama turns around the viewer
    instead of stretching sideways; one world unit at distance d is ``gh / d`` pixels.
    ``X, Z`` are every ground pixel's Cartesian world position, for world-space noise and
    lakes: features defined there foreshorten and narrow into the distance by themselves.
    """

    def __init__(self, h: int, w: int, hr: int) -> None:
        self.h, self.w, self.hr = h, w, hr
        self.gh = h - hr
        t = (np.arange(self.gh, dtype=np.float32) + 0.5) / self.gh
        self.d_row = (1.0 / t).astype(np.float32)
        self.d_col = self.d_row[:, None]
        self.phi = ((np.arange(w, dtype=np.float32) + 0.5 - w / 2) / self.gh).astype(np.float32)
        self.phi_max = w / 2 / self.gh
        self.X = self.d_col * np.sin(self.phi)[None, :]
        self.Z = self.d_col * np.cos(self.phi)[None, :]

    def row(self, d: float) -> float:
        return self.hr + self.gh / d

    def scale(self, d: float) -> float:
        """Pixels per world unit at distance d."""
        return self.gh / d
