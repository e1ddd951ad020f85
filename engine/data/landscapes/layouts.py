"""Random label layouts for the landscapes domain: what is where, before any colour.

A layout is the label map plus what the renderer needs to make it look real: one
instance id per thing (cloud, mountain ridge, rock, tree, bush), a depth map that drives
haze and texture scale, and a relief map for shading. Two sources are mixed so that the
trained generator sees both what landscapes look like and what people actually paint:

* **natural** scenes, built like a photograph: a horizon, a ground plane seen in
  perspective (lakes, rivers, paths and meadows are drawn in world coordinates, so they
  foreshorten and narrow into the distance by themselves), and standing objects
  (mountain ridges, hills, trees, bushes, boulders) drawn far to near so that near
  things occlude far ones;
* **painted** layouts: flat fills and brush strokes of arbitrary classes with crisp
  edges, as a person would paint them in the studio.

Everything is vectorised with numpy/OpenCV and scaled with the image height, so a
512² layout looks like a 256² one at twice the resolution and panoramas simply show
more of the world. The rng is the only source of randomness, so a seed reproduces a
layout exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from engine.data.landscapes.classes import (
    BUSH,
    CLOUD,
    DIRT,
    FLOWERS,
    GRASS,
    HILL,
    MOUNTAIN,
    NUM_CLASSES,
    ROCK,
    SAND,
    SKY,
    SNOW,
    THINGS,
    TREE,
    WATER,
)

__all__ = ["Layout", "make_layout"]

_THING_LUT = np.zeros(NUM_CLASSES, bool)
_THING_LUT[list(THINGS)] = True

# Depth of a ground point at distance z (1 = the bottom row): 0 at the viewer's feet,
# approaching 1 at the horizon. The exponent makes mid-distance already fairly deep.
_DEPTH_EXP = 0.8
_MIN_SIZE = 8


@dataclass
class Layout:
    """One generated layout; the renderer turns it into an RGB image."""

    labels: np.ndarray  # H×W uint16, landscapes ids
    instances: np.ndarray  # H×W int32, 0 = stuff; one id 1..K per thing instance
    depth: np.ndarray  # H×W float32 in [0, 1]: 0 = nearest, 1 = horizon/sky
    height: np.ndarray  # H×W float32 in [0, 1]: relief for shading; 0 where flat
    horizon: float  # horizon row as a fraction of H (0 = top)
    kind: str  # "natural" | "painted"


def make_layout(
    rng: np.random.Generator, height: int, width: int, *, painted_fraction: float = 0.3
) -> Layout:
    """A random layout of ``height``×``width``; a painted-style one with probability ``painted_fraction``."""
    if height < _MIN_SIZE or width < _MIN_SIZE:
        raise ValueError(
            f"layout size {height}×{width} is too small: both sides must be at least {_MIN_SIZE} pixels"
        )
    if not 0.0 <= painted_fraction <= 1.0:
        raise ValueError(f"painted_fraction is {painted_fraction}; give a probability in 0..1")
    if rng.random() < painted_fraction:
        return _painted_layout(rng, int(height), int(width))
    return _natural_layout(rng, int(height), int(width))


# --------------------------------------------------------------------------- noise


def _curve(rng: np.random.Generator, n: int, spacing: float) -> np.ndarray:
    """Smooth random curve of ``n`` samples, one feature every ``spacing`` samples, roughly N(0, 1).

    Catmull-Rom through random control points: the number of random draws depends on
    n/spacing only, so the same seed gives the same curve at any resolution.
    """
    spacing = max(float(spacing), 1e-3)
    k = int(np.ceil(n / spacing)) + 4
    pts = rng.standard_normal(k).astype(np.float32)
    x = np.arange(n, dtype=np.float32) / spacing + 1.0 + np.float32(rng.random())
    i = x.astype(np.int32)
    f = x - i
    p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
    return 0.5 * (
        2 * p1 + (p2 - p0) * f + (2 * p0 - 5 * p1 + 4 * p2 - p3) * f * f + (3 * p1 - p0 - 3 * p2 + p3) * f**3
    )


def _ridge_curve(rng: np.random.Generator, n: int, spacing: float, octaves: int = 5) -> np.ndarray:
    """Fractal piecewise-linear curve in [0, 1]: linear pieces give the sharp peaks of a ridgeline."""
    out = np.zeros(n, np.float32)
    amp = 1.0
    xs = np.arange(n, dtype=np.float32)
    for _ in range(octaves):
        k = int(np.ceil(n / spacing)) + 2
        pts = rng.standard_normal(k).astype(np.float32)
        out += amp * np.interp(xs / spacing + rng.random(), np.arange(k), pts).astype(np.float32)
        amp *= 0.5
        spacing /= 2.0
    lo, hi = float(out.min()), float(out.max())
    return (out - lo) / max(hi - lo, 1e-6)


def _field(rng: np.random.Generator, h: int, w: int, cells_y: float, cells_x: float) -> np.ndarray:
    """Smooth 2-D noise of about N(0, 1) with the given number of features across each side.

    Bilinear rather than bicubic: cheaper, and its facets read as rock faces in the relief.
    """
    gy = max(round(cells_y), 1) + 2
    gx = max(round(cells_x), 1) + 2
    grid = rng.standard_normal((gy, gx)).astype(np.float32)
    return cv2.resize(grid, (max(w, 1), max(h, 1)), interpolation=cv2.INTER_LINEAR)


def _make_tiles(count: int = 8, n: int = 64) -> np.ndarray:
    """Periodic smooth noise tiles (unit std, features about 10 texels) for world-space lookups.

    Made once from a fixed seed: a layout picks one and a random offset, which is as good
    as a fresh tile and costs nothing.
    """
    rng = np.random.default_rng(0x7E55E2A)
    spec = np.fft.rfft2(rng.standard_normal((count, n, n)))
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.rfftfreq(n)[None, :]
    spec *= np.exp(-(fy * fy + fx * fx) / 0.09**2)
    spec[:, 0, 0] = 0.0
    tiles = np.fft.irfft2(spec, s=(n, n)).astype(np.float32)
    return tiles / tiles.std(axis=(1, 2), keepdims=True)


_TILES = _make_tiles()


def _tile(rng: np.random.Generator) -> np.ndarray:
    """One of the shared noise tiles, rolled by a random offset."""
    n = _TILES.shape[1]
    k, dy, dx = int(rng.integers(len(_TILES))), int(rng.integers(n)), int(rng.integers(n))
    return np.roll(_TILES[k], (dy, dx), axis=(0, 1))


def _lookup(tile: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Sample a periodic tile at arbitrary (u, v) texel coordinates, bilinear and wrapping."""
    n = tile.shape[0]
    u = u.astype(np.float32, copy=False)
    v = v.astype(np.float32, copy=False)
    # wrap by hand (np.mod is slow on floats; remap wants coordinates near the tile)
    u = u - np.floor(u * np.float32(1 / n)) * np.float32(n)
    v = v - np.floor(v * np.float32(1 / n)) * np.float32(n)
    return cv2.remap(tile, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)


# -------------------------------------------------------------------------- canvas


class _Canvas:
    """Painter's-algorithm canvas: every region drawn is an object id, attributes live in tables.

    Drawing only writes int32 ids (cv2 draws into int32 images directly), so occlusion is
    free and labels, instances, depth and relief are all resolved once at the end by
    table lookups.
    """

    def __init__(self, h: int, w: int) -> None:
        self.h, self.w = h, w
        self.oid = np.zeros((h, w), np.int32)
        self.relief = np.zeros((h, w), np.float32)
        # object 0 is the sky
        self.cls: list[int] = [SKY]
        self.depth: list[float] = [1.0]
        self.plane: list[bool] = [False]
        self.dome: list[float] = [0.0]
        self.radius: list[float] = [1.0]
        self.split: list[bool] = [False]
        self.use_relief: list[bool] = [False]

    def add(
        self,
        cls: int,
        *,
        depth: float = 1.0,
        plane: bool = False,
        dome: float = 0.0,
        radius: float = 1.0,
        split: bool = False,
        relief: bool = False,
    ) -> int:
        """Register an object; ``dome`` > 0 gives it a rounded bump of that height and ``radius`` px."""
        self.cls.append(cls)
        self.depth.append(float(depth))
        self.plane.append(plane)
        self.dome.append(float(dome))
        self.radius.append(max(float(radius), 1.0))
        self.split.append(split)
        self.use_relief.append(relief)
        return len(self.cls) - 1

    def add_many(self, cls: int, *, depth: np.ndarray, radius: np.ndarray, dome: float = 1.0) -> np.ndarray:
        """Register one domed object per entry; returns their ids."""
        n = len(depth)
        start = len(self.cls)
        self.cls.extend([cls] * n)
        self.depth.extend(depth.tolist())
        self.plane.extend([False] * n)
        self.dome.extend([dome] * n)
        self.radius.extend(np.maximum(radius, 1.0).tolist())
        self.split.extend([False] * n)
        self.use_relief.extend([False] * n)
        return np.arange(start, start + n)

    def finish(self, plane_depth: np.ndarray, horizon: float, kind: str) -> Layout:
        """Resolve the id canvas into the :class:`Layout` arrays (``plane_depth`` is an H×1 column)."""
        oid = self.oid
        n = len(self.cls)
        cls_lut = np.asarray(self.cls, np.uint16)
        labels = np.take(cls_lut, oid)

        count = np.bincount(oid.ravel(), minlength=n)
        thing = _THING_LUT[cls_lut]
        split = np.asarray(self.split, bool)
        whole = thing & ~split & (count > 0)
        n_whole = int(whole.sum())
        inst_lut = np.zeros(n, np.int32)
        inst_lut[whole] = np.arange(1, n_whole + 1, dtype=np.int32)
        instances = np.take(inst_lut, oid)
        if (split & (count > 0)).any():
            # rock outcrops: one instance per connected piece (the only things still at 0)
            m = (instances == 0) & np.take(_THING_LUT, labels)
            _, cc = cv2.connectedComponents(m.view(np.uint8), connectivity=8)
            instances += (cc + n_whole) * m

        # Blends are written as arithmetic: np.where is slow on ragged masks.
        # Plane objects have depth -1 and take the per-row ground depth instead.
        depth_lut = np.where(np.asarray(self.plane, bool), -1.0, np.asarray(self.depth)).astype(np.float32)
        depth = np.take(depth_lut, oid)
        depth = np.maximum(depth, (depth < 0) * plane_depth)

        # dome > 0: a rounded bump of that height; dome = -1: the relief canvas; 0: flat
        dome_lut = np.where(np.asarray(self.use_relief, bool), -1.0, np.asarray(self.dome)).astype(np.float32)
        dome = np.take(dome_lut, oid)
        height = self.relief * (dome < 0)
        if (dome_lut > 0).any():
            # distance to the nearest object edge; at half resolution for big layouts,
            # where the domes are wide enough not to notice
            step = 2 if min(self.h, self.w) >= 384 else 1
            o = oid[::step, ::step]
            edge = np.zeros(o.shape, bool)
            dh = o[:, 1:] != o[:, :-1]
            edge[:, 1:] |= dh
            edge[:, :-1] |= dh
            dv = o[1:] != o[:-1]
            edge[1:] |= dv
            edge[:-1] |= dv
            dist = cv2.distanceTransform((~edge).view(np.uint8), cv2.DIST_L2, 3)
            if step > 1:
                dist = cv2.resize(dist * np.float32(step), (self.w, self.h), interpolation=cv2.INTER_LINEAR)
            inv_rad = np.where(dome_lut > 0, 1.0 / np.asarray(self.radius), 0.0).astype(np.float32)
            bump = np.sqrt(np.minimum(dist * np.take(inv_rad, oid), np.float32(1.0)))
            height += bump * np.maximum(dome, np.float32(0.0))
        return Layout(
            labels=labels,
            instances=instances,
            depth=np.clip(depth, 0.0, 1.0, dtype=np.float32),
            height=np.clip(height, 0.0, 1.0, dtype=np.float32),
            horizon=float(horizon),
            kind=kind,
        )


def _plane_depth(h: int, hr: int) -> np.ndarray:
    """Depth of a flat ground below row ``hr`` (1 above it), as an H×1 column."""
    gh = max(h - hr, 1)
    col = np.ones(h, np.float32)
    t = (np.arange(h - hr, dtype=np.float32) + 0.5) / gh
    col[hr:] = 1.0 - t**_DEPTH_EXP
    return col[:, None]


def _depth_at(z: float) -> float:
    return float(1.0 - max(z, 1e-3) ** -_DEPTH_EXP)


def _pick(rng: np.random.Generator, weights: dict[int, float]) -> int:
    keys = list(weights)
    p = np.asarray([weights[k] for k in keys], np.float64)
    return int(keys[int(rng.choice(len(keys), p=p / p.sum()))])


# ---------------------------------------------------------------- natural scenes

# Standing objects are polygons in fixed point (cv2 ``shift``) so small ones keep their shape.
_SHIFT = 2
_SUB = 1 << _SHIFT


def _conifer(rng: np.random.Generator, n: int) -> np.ndarray:
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


def _broadleaf(rng: np.random.Generator, n: int) -> np.ndarray:
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


def _bush(rng: np.random.Generator, n: int) -> np.ndarray:
    """n bush outlines: a lumpy dome with a flat base, unit width, base centre at (0, 0)."""
    theta = np.linspace(0, -np.pi, 13)[None, :]
    tall = rng.uniform(0.45, 0.8, size=(n, 1))
    rho = _lumpy(rng, n, theta * 2, 0.15)
    return np.stack([0.5 * rho * np.cos(theta), tall * rho * np.sin(theta)], 2)


def _boulder(rng: np.random.Generator, n: int) -> np.ndarray:
    """n boulder outlines, unit width, sunk a little into the ground at (0, 0)."""
    theta = np.sort(rng.uniform(0, 2 * np.pi, size=(n, 9)), 1)
    rad = rng.uniform(0.7, 1.0, size=(n, 9))
    squash = rng.uniform(0.45, 0.85, size=(n, 1))
    px = 0.5 * np.cos(theta) * rad
    py = -0.3 * squash + 0.5 * squash * np.sin(theta) * rad
    return np.stack([px, np.minimum(py, 0.05)], 2)


class _Ground:
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


class _Natural:
    """Builds one natural scene; the methods are the stages, called far to near."""

    def __init__(self, rng: np.random.Generator, h: int, w: int) -> None:
        self.rng = rng
        self.h, self.w = h, w
        self.aspect = w / h
        style = rng.random()
        if style < 0.2:  # looking up at mountains
            horizon = rng.uniform(0.55, 0.72)
        elif style < 0.35:  # big sky
            horizon = rng.uniform(0.62, 0.78)
        else:
            horizon = rng.uniform(0.33, 0.62)
        self.hr = int(np.clip(round(horizon * h), 2, h - 2))
        self.horizon = self.hr / h
        self.c = _Canvas(h, w)
        self.g = _Ground(h, w, self.hr)
        self.tile = _tile(rng)
        self.plane_cls = np.full((self.g.gh, w), GRASS, np.uint8)
        # standing objects: (-z, order, a draw callable or a fixed-point polygon, object id);
        # plain tuple order is then far to near, ties in the order queued
        self.items: list[tuple[float, int, Callable[[], None] | np.ndarray, int]] = []

    # -- scheduling -------------------------------------------------------------

    def stand(self, z: float, draw: Callable[[], None]) -> None:
        """Queue a standing object at distance z; :meth:`draw_standing` paints far to near."""
        self.items.append((-z, len(self.items), draw, 0))

    def stand_sprites(self, cls: int, zs: np.ndarray, outline: np.ndarray, radius: np.ndarray) -> None:
        """Queue one polygon object per row of ``outline`` (pixel coordinates, n×k×2)."""
        ids = self.c.add_many(cls, depth=1.0 - np.maximum(zs, 1e-3) ** -_DEPTH_EXP, radius=radius)
        pts = np.round(outline * _SUB).astype(np.int32)
        for z, p, i in zip(zs.tolist(), pts, ids.tolist()):
            self.items.append((-z, len(self.items), p, i))

    def draw_standing(self) -> None:
        oid = self.c.oid
        for _, _, draw, obj in sorted(self.items):
            if isinstance(draw, np.ndarray):
                cv2.fillPoly(oid, [draw], obj, cv2.LINE_8, _SHIFT)
            else:
                draw()

    def land_mask(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Which ground points (pixel coordinates) are not water; below the frame counts as land."""
        xi = np.clip(x.astype(np.int64), 0, self.w - 1)
        yi = y.astype(np.int64)
        inside = (yi >= self.hr) & (yi < self.h)
        cls = self.plane_cls[np.clip(yi - self.hr, 0, self.g.gh - 1), xi]
        return (yi >= self.h) | (inside & (cls != WATER))

    def visible(self, x: np.ndarray, y: np.ndarray, size: np.ndarray) -> np.ndarray:
        return (size >= 1.2) & (x > -size) & (x < self.w + size) & (y - size < self.h)

    # -- sky --------------------------------------------------------------------

    def clouds(self) -> None:
        rng = self.rng
        weather = rng.random()
        if weather < 0.15:
            return
        n_cu = n_st = n_ci = 0
        if weather < 0.55:
            n_cu = rng.integers(1, 6)
        elif weather < 0.7:
            n_st = rng.integers(1, 4)
            n_cu = rng.integers(0, 3)
        elif weather < 0.85:
            n_ci = rng.integers(1, 4)
            n_cu = rng.integers(0, 2)
        else:
            n_cu, n_st, n_ci = rng.integers(1, 4), rng.integers(0, 2), rng.integers(0, 3)
        scale = self.aspect**0.8
        for _ in range(round(n_cu * scale)):
            self._cumulus()
        for _ in range(round(n_st * max(1.0, scale * 0.6))):
            self._stratus()
        for _ in range(round(n_ci * scale)):
            self._cirrus()

    def _cumulus(self) -> None:
        rng, h = self.rng, self.h
        cy = rng.uniform(0.12, 0.92) * self.hr
        near = 1.0 - cy / self.hr  # clouds high in the frame are nearer, so bigger
        cw = rng.uniform(0.1, 0.32) * h * (0.35 + 0.65 * near)
        ch = cw * rng.uniform(0.28, 0.5)
        cx = rng.uniform(-0.1, 1.1) * self.w
        cid = self.c.add(CLOUD, depth=0.93 + 0.07 * (1 - near), dome=1.0, radius=ch * 0.5)
        oid = self.c.oid
        base_y = int(cy)
        cv2.ellipse(oid, (int(cx), base_y), (max(int(cw / 2), 1), max(int(ch * 0.18), 1)), 0, 0, 360, cid, -1)
        for _ in range(int(rng.integers(3, 8))):
            off = rng.uniform(-0.42, 0.42)
            r = ch * rng.uniform(0.35, 0.75) * (1.0 - 0.9 * abs(off))
            px = int(cx + off * cw)
            py = base_y + int(rng.uniform(0.0, 0.1) * ch)
            ax = (max(int(r * rng.uniform(1.0, 1.5)), 1), max(int(r), 1))
            cv2.ellipse(oid, (px, py), ax, 0, 180, 360, cid, -1)

    def _stratus(self) -> None:
        rng, h, w = self.rng, self.h, self.w
        cy = rng.uniform(0.35, 0.95) * self.hr
        near = 1.0 - cy / self.hr
        th = rng.uniform(0.015, 0.06) * h * (0.4 + 0.6 * near)
        length = rng.uniform(0.4, 1.6) * h
        x0 = rng.uniform(-0.3, 1.0) * w
        xs = np.arange(w, dtype=np.float32)
        u = (xs - x0) / max(length, 1.0)
        taper = np.clip(np.sin(np.clip(u, 0, 1) * np.pi) * 1.6, 0, 1) ** 0.7
        top = cy - th * (0.5 + 0.35 * _curve(rng, w, 0.12 * h)) * taper
        bot = cy + th * (0.35 + 0.2 * _curve(rng, w, 0.1 * h)) * taper
        y0, y1 = max(int(top.min()), 0), min(int(bot.max()) + 1, self.hr)
        if y1 <= y0:
            return
        ys = np.arange(y0, y1, dtype=np.float32)[:, None]
        mask = (ys >= top[None, :]) & (ys <= bot[None, :]) & (taper[None, :] > 0.05)
        cid = self.c.add(CLOUD, depth=0.95 + 0.05 * (1 - near), dome=0.5, radius=th * 0.5)
        self.c.oid[y0:y1][mask] = cid

    def _cirrus(self) -> None:
        rng, h = self.rng, self.h
        cx = rng.uniform(0.0, 1.0) * self.w
        cy = rng.uniform(0.05, 0.6) * self.hr
        ang = rng.uniform(-0.5, 0.5)
        bend = rng.uniform(-0.4, 0.4)
        length = rng.uniform(0.12, 0.4) * h
        thick = max(1, round(rng.uniform(0.5, 1.5) * h / 128))
        cid = self.c.add(CLOUD, depth=0.99, dome=0.3, radius=thick)
        strokes = []
        for _ in range(int(rng.integers(3, 9))):
            sx = cx + rng.normal(0, 0.25) * length
            sy = cy + rng.normal(0, 0.12) * length
            ln = length * rng.uniform(0.4, 1.0)
            s = np.linspace(0, 1, 8)
            a = ang + bend * s + rng.normal(0, 0.05)
            px = sx + np.cumsum(np.cos(a)) * ln / 8
            py = sy + np.cumsum(np.sin(a)) * ln / 8 + np.sin(s * np.pi) * rng.normal(0, 0.04) * ln
            strokes.append(np.stack([px, py], 1).astype(np.int32))
        cv2.polylines(self.c.oid, strokes, False, cid, thick)

    # -- ground plane ------------------------------------------------------------

    def ground(self) -> None:
        """Decide the ground's surface classes (drawn flat; standing things come later)."""
        rng, g = self.rng, self.g
        X, Z = g.X, g.Z
        pc = self.plane_cls
        mood = rng.random()
        self.winter = mood < 0.06
        self.desert = 0.06 <= mood < 0.11
        self.base = SNOW if self.winter else SAND if self.desert else DIRT if mood < 0.16 else GRASS
        pc[:] = self.base

        near = g.d_col < 12
        if not self.winter and rng.random() < 0.25:  # patches of bare earth or grass
            patch = _lookup(self.tile, X * 9 + 17, Z * 9 + 5) > rng.uniform(0.9, 1.6)
            pc[patch & near] = GRASS if self.base in (DIRT, SAND) else DIRT
        if not (self.winter or self.desert) and rng.random() < 0.45:
            s = rng.uniform(10.0, 30.0)
            blooms = _lookup(self.tile, X * s + 31, Z * s * 0.8) > rng.uniform(0.7, 1.6)
            pc[blooms & (g.d_col < 14) & (pc == GRASS)] = FLOWERS

        self.water_mode = "none"
        self.land_z: list[tuple[float, float]] = [(1.0, 1e9)]  # where hills may stand
        if rng.random() < 0.25 and not self.desert:
            self._path()
        r = rng.random()
        if self.desert:
            r = 1.0 if rng.random() < 0.7 else r
        if r < 0.22:
            self._lake()
        elif r < 0.37:
            self._sea()
        elif r < 0.5:
            self._near_water()
        if rng.random() < (0.25 if self.water_mode != "near" else 0.0):
            self._river()

        # ground objects: one per class present
        ids = np.zeros(256, np.int32)
        for k in np.flatnonzero(np.bincount(pc.ravel(), minlength=NUM_CLASSES)):
            ids[k] = self.c.add(int(k), plane=True)
        self.c.oid[self.hr :] = cv2.LUT(pc, ids)

    def _lake(self) -> None:
        """A lake: a noisy ellipse on the ground, in world coordinates around its own bearing."""
        rng, g, pc = self.rng, self.g, self.plane_cls
        zc = rng.uniform(2.5, 14.0)
        rz = zc * rng.uniform(0.25, 0.55)
        pc_ = rng.uniform(-0.8, 0.8) * min(g.phi_max, 1.2)
        rx = zc * rng.uniform(0.3, 1.4)
        dphi = g.phi - pc_
        du = g.d_col * (np.sin(dphi) / rx)[None, :]
        dz = (g.d_col * np.cos(dphi)[None, :] - zc) / rz
        rho = du * du + dz * dz
        rho = rho + 0.3 * _lookup(self.tile, du * 6 + 13 * rng.random(), dz * 6 + 7 * rng.random())
        if rng.random() < 0.55:
            bw = rng.uniform(0.12, 0.5)
            beach = rho < 1 + bw
            if rng.random() < 0.6:
                beach &= dz < 0.3
            pc[beach] = SAND
        pc[rho < 1] = WATER
        self.water_mode = "lake"
        self.land_z = [(1.0, max(zc - rz * 1.1, 1.0)), (zc + rz, 1e9)]
        self.lake_z = zc

    def _shore(self, d0: float, spacing: float, amount: float) -> np.ndarray:
        """Distance of a shore line per column: ``d0`` give or take ``amount`` (log scale)."""
        wave = _curve(self.rng, self.w, spacing * self.g.gh) + 0.25 * _curve(
            self.rng, self.w, 0.1 * self.g.gh
        )
        return (d0 * np.exp(amount * wave))[None, :]

    def _sea(self) -> None:
        """Water from a shore (often with a beach) to the horizon."""
        rng, g, pc = self.rng, self.g, self.plane_cls
        z0 = rng.uniform(1.4, 7.0)
        zs = self._shore(z0, rng.uniform(0.6, 2.5), 0.2)
        if rng.random() < 0.75:
            pc[g.d_col > zs * (1 - rng.uniform(0.12, 0.45))] = SAND
        pc[g.d_col > zs] = WATER
        self.water_mode = "sea"
        self.land_z = [(1.0, z0 * 0.6)]

    def _near_water(self) -> None:
        """Water from the viewer's feet to a far shore."""
        rng, g, pc = self.rng, self.g, self.plane_cls
        z0 = rng.uniform(2.0, 14.0)
        zs = self._shore(z0, rng.uniform(0.6, 2.5), 0.3)
        if rng.random() < 0.45:
            pc[(g.d_col > zs) & (g.d_col < zs * (1 + rng.uniform(0.08, 0.3)))] = SAND
        pc[g.d_col < zs] = WATER
        self.water_mode = "near"
        self.land_z = [(z0 * 1.3, 1e9)]

    def _winding(self, spread: float) -> tuple[np.ndarray, float]:
        """Centre bearing of a river or path per ground row, winding with log-distance."""
        rng, g = self.rng, self.g
        c0 = rng.uniform(-0.35, 0.35) * g.w / g.gh
        amp = rng.uniform(0.05, spread) * g.w / g.gh
        om = rng.uniform(1.5, 4.0)
        ph = rng.uniform(0, 2 * np.pi)
        lz = np.log(g.d_row)
        centre = c0 + amp * np.sin(om * lz + ph) + 0.3 * amp * np.sin(2.7 * om * lz + 2 * ph)
        return centre.astype(np.float32), float(om)

    def _river(self) -> None:
        rng, g, pc = self.rng, self.g, self.plane_cls
        centre, _ = self._winding(0.35)
        width = rng.uniform(0.25, 0.9)
        z_end = rng.uniform(12.0, 120.0)
        if self.water_mode == "lake":
            z_end = self.lake_z
        elif self.water_mode == "sea":
            z_end = 1e9
        wob = 1 + 0.15 * _curve(rng, g.gh, max(g.gh / 6, 2))
        half = (width / 2 * wob / g.d_row)[:, None]
        off = np.abs(g.phi[None, :] - centre[:, None])
        inside = (g.d_row < z_end)[:, None]
        if rng.random() < 0.4:
            bank = rng.uniform(0.05, 0.25)
            pc[(off < half + bank / g.d_col) & inside & (pc != WATER)] = SAND
        pc[(off < half) & inside] = WATER

    def _path(self) -> None:
        rng, g, pc = self.rng, self.g, self.plane_cls
        centre, _ = self._winding(0.25)
        width = rng.uniform(0.05, 0.16)
        z_end = rng.uniform(3.0, 40.0)
        taper = np.clip((z_end - g.d_row) / (0.3 * z_end), 0, 1)
        wob = 1 + 0.2 * _curve(rng, g.gh, max(g.gh / 8, 2))
        half = (width / 2 * taper * wob / g.d_row)[:, None]
        pc[np.abs(g.phi[None, :] - centre[:, None]) < half] = DIRT if self.base != DIRT else SAND

    # -- standing objects --------------------------------------------------------

    def mountains(self) -> None:
        rng = self.rng
        n = int(rng.choice(4, p=[0.2, 0.3, 0.3, 0.2]))
        if self.water_mode == "near" and n == 0 and rng.random() < 0.5:
            n = 1
        z = rng.uniform(40.0, 110.0)
        amp = rng.uniform(0.3, 0.9) * self.hr
        if n:
            # one pair of noise fields for all ridges, down to the lowest possible base
            rows = min(int(self.g.row(9.0)) + 1, self.h)
            self.gully = _field(rng, rows, self.w, 2.5 * rows / self.h + 1, 14 * self.aspect)
            self.rough = _field(rng, rows, self.w, 6 * rows / self.h + 1, 8 * self.aspect)
        for i in range(n):
            self._ridge(z, amp, far=i == 0)
            z /= rng.uniform(1.5, 2.4)
            z = max(z, 9.0)
            amp *= rng.uniform(0.45, 0.85)

    def _ridge(self, z: float, amp: float, far: bool) -> None:
        rng, h, w = self.rng, self.h, self.w
        spacing = rng.uniform(0.3, 0.8) * h
        prof = _ridge_curve(rng, w, spacing) ** rng.uniform(1.0, 1.7)
        if not far and rng.random() < 0.5:  # a massif, not a full range
            env = np.clip(_curve(rng, w, rng.uniform(0.5, 1.2) * h) * 0.8 + rng.uniform(0.0, 0.9), 0, 1)
        else:
            env = np.ones(w, np.float32)
        lo = rng.uniform(0.05, 0.3)
        base = self.g.row(z)
        top_line = base - amp * (lo + (1 - lo) * prof) * env
        snowy = rng.random() < (0.75 if amp > 0.22 * h else 0.3) or self.winter
        snow_level = rng.uniform(0.3, 0.7)
        snow_drop = rng.uniform(0.25, 0.6)
        rocky = rng.random() < 0.6
        steep_thr = rng.uniform(0.5, 1.0)
        tongues = 0.3 * _curve(rng, w, 0.08 * h)
        ragged = 0.012 * h * _curve(rng, w, 0.015 * h)
        mid = self.c.add(MOUNTAIN, depth=_depth_at(z), relief=True)
        sid = self.c.add(SNOW, depth=_depth_at(z), relief=True)
        rid = self.c.add(ROCK, depth=_depth_at(z), relief=True, split=True)

        def draw() -> None:
            y0 = max(int(top_line.min()), 0)
            y1 = min(int(np.ceil(base)), h)
            if y1 <= y0:
                return
            ys = np.arange(y0, y1, dtype=np.float32)[:, None]
            below = ys - top_line[None, :]
            mask = below >= 0
            gully, rough = self.gully[y0:y1], self.rough[y0:y1]
            oid = self.c.oid[y0:y1]
            oid[mask] = mid
            elev = np.clip((base - ys) / max(amp, 1.0), 0, 1)
            rel = 0.55 * elev + 0.25 * np.abs(gully) + 0.1 * rough + 0.1
            dst = self.c.relief[y0:y1]
            dst[...] = np.where(mask, rel, dst)
            snow = np.zeros_like(mask)
            if snowy:
                cap = np.clip(prof - snow_level, 0, None) / (1 - snow_level) * amp * snow_drop * env
                edge = cap * np.clip(1 + tongues, 0.4, None) + ragged
                snow = mask & (below < edge[None, :] + 0.01 * h * rough)
                oid[snow] = sid
            if rocky:
                slope = np.abs(np.gradient(cv2.GaussianBlur(top_line[None, :], (0, 0), max(w / 200, 0.8))[0]))
                score = (
                    np.clip(slope / steep_thr - 1, -1, 1)[None, :] * 1.5 - below / (0.3 * amp) + 0.8 * rough
                )
                outcrop = mask & ~snow & ((score > 0.6) | ((rough > 1.6) & (gully > 0.3)))
                if outcrop.any():
                    _, cc, stats, _ = cv2.connectedComponentsWithStats(outcrop.view(np.uint8), connectivity=8)
                    keep = stats[:, cv2.CC_STAT_AREA] >= max(4.0, (h / 64) ** 2 * 3)
                    keep[0] = False
                    outcrop &= keep[cc]
                    oid[outcrop] = rid

        self.stand(z, draw)

    def hills(self) -> None:
        rng = self.rng
        n = int(rng.choice(4, p=[0.3, 0.3, 0.25, 0.15]))
        zs: list[float] = []
        for _ in range(n):
            lo, hi = self.land_z[int(rng.integers(len(self.land_z)))]
            lo, hi = max(lo, 2.0), min(hi, 40.0)
            if hi <= lo:
                continue
            zs.append(float(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
        for z in sorted(zs, reverse=True):
            self._hill(z)

    def _hill(self, z: float) -> None:
        rng, h, w, g = self.rng, self.h, self.w, self.g
        foot = g.row(z)
        amp = min(rng.uniform(0.05, 0.2) * h, foot * 0.9)
        cover = rng.uniform(-0.3, 0.9)
        bumps = np.clip(_curve(rng, w, rng.uniform(0.3, 0.9) * h) * 0.45 + cover, 0, None)
        bumps /= max(float(bumps.max()), 0.5)
        crest = foot - amp * bumps
        bottom = foot + amp * rng.uniform(0.1, 0.35) * np.sqrt(bumps)
        forest = rng.random() < 0.35 and not self.desert
        crest_trees = not forest and rng.random() < 0.3 and not self.desert
        cls = SNOW if self.winter and rng.random() < 0.7 else HILL
        hid = self.c.add(cls, depth=_depth_at(z), relief=True)

        def draw() -> None:
            y0 = max(int(crest.min()), 0)
            y1 = min(int(np.ceil(bottom.max())) + 1, h)
            if y1 <= y0:
                return
            ys = np.arange(y0, y1, dtype=np.float32)[:, None]
            mask = (ys >= crest[None, :]) & (ys < bottom[None, :]) & (bumps[None, :] > 0.01)
            self.c.oid[y0:y1][mask] = hid
            rel = np.sqrt(np.clip((bottom[None, :] - ys) / max(amp, 1.0), 0, 1)) * (
                0.3 + 0.7 * bumps[None, :]
            )
            self.c.relief[y0:y1][mask] = rel[mask]

        self.stand(z, draw)
        if forest or crest_trees:
            size = rng.uniform(0.2, 0.45) * g.scale(z)
            cols = np.flatnonzero(bumps > 0.15)
            if cols.size == 0 or size < 1.0:
                return
            n = int(min(cols.size / max(size * 0.35, 1.0) * (2.5 if forest else 1.0), 100))
            xs = rng.choice(cols, size=n)
            frac = rng.uniform(0.0, 0.9 if forest else 0.12, size=n)
            ys = crest[xs] + frac * (bottom[xs] - crest[xs]) + size * 0.1
            # lower on the slope is nearer: drawn later, but still after the hill itself
            zs = z * (0.995 - 0.004 * ys / h)
            self._trees_at(xs.astype(np.float64), ys, zs, size * rng.uniform(0.7, 1.2, size=n), rng.random())

    def trees(self) -> None:
        """Tree lines, forests and single trees on the ground plane."""
        rng, g = self.rng, self.g
        if self.desert:
            p_line, p_forest, p_single = 0.05, 0.0, 0.1
        else:
            p_line, p_forest, p_single = 0.45, 0.35, 0.35
        conifer_bias = 0.9 if self.winter else rng.uniform(0.0, 1.0)
        if rng.random() < p_line:  # along a distance, e.g. the far shore
            lo, hi = self.land_z[-1]
            lo, hi = max(lo * 1.02, 3.0), max(min(hi, 40.0), lo * 1.05, 3.5)
            d = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
            size_w = rng.uniform(0.25, 0.55)
            p0, p1 = sorted(rng.uniform(-1.3, 1.3, size=2) * g.phi_max)
            if rng.random() < 0.4:
                p0, p1 = -g.phi_max * 1.05, g.phi_max * 1.05
            n = int(min((p1 - p0) * d / (size_w * rng.uniform(0.18, 0.35)), 100))
            self._plant(
                rng.uniform(p0, p1, size=n), d * np.exp(rng.normal(0, 0.06, size=n)), size_w, conifer_bias
            )
        if rng.random() < p_forest:  # a wood: a band of distance and bearing
            lo, hi = self.land_z[int(rng.integers(len(self.land_z)))]
            da = float(np.exp(rng.uniform(np.log(max(lo, 1.5)), np.log(max(min(hi, 30.0), lo * 1.1, 1.6)))))
            db = da * rng.uniform(1.3, 3.0)
            pc_ = rng.uniform(-1.0, 1.0) * g.phi_max
            spread = rng.uniform(0.2, 1.0)
            n = int(rng.integers(20, 90))
            ds = np.exp(rng.uniform(np.log(da), np.log(db), size=n))
            self._plant(pc_ + rng.uniform(-1, 1, size=n) * spread, ds, rng.uniform(0.25, 0.5), conifer_bias)
        if rng.random() < p_single:
            n = int(rng.integers(1, 6))
            ds = np.exp(rng.uniform(np.log(1.1), np.log(8.0), size=n))
            self._plant(rng.uniform(-1, 1, size=n) * g.phi_max, ds, rng.uniform(0.3, 0.7), conifer_bias)

    def _plant(self, phis: np.ndarray, ds: np.ndarray, size_w: float, conifer_bias: float) -> None:
        """Trees at bearings ``phis`` and distances ``ds`` standing on dry ground."""
        g = self.g
        x = self.w / 2 + phis * g.gh
        y = self.hr + g.gh / ds
        px = size_w * self.rng.uniform(0.7, 1.3, size=len(ds)) * g.gh / ds
        self._trees_at(x, y, ds, px, conifer_bias, self.land_mask(x, y))

    def _trees_at(
        self,
        x: np.ndarray,
        y: np.ndarray,
        zs: np.ndarray,
        size: np.ndarray,
        conifer_bias: float,
        keep: np.ndarray | None = None,
    ) -> None:
        """Queue trees with their base at pixel (x, y) and ``size`` px tall, conifers or broadleaves.

        The random draws cover every candidate before culling the invisible ones, so a
        seed gives the same trees at any resolution.
        """
        n = len(x)
        con = self.rng.random(size=n) < conifer_bias
        shapes = (_conifer(self.rng, n), _broadleaf(self.rng, n))
        keep = self.visible(x, y, size) & (True if keep is None else keep)
        xy = np.stack([x, y], 1)[:, None, :]
        for m, unit in zip((con & keep, ~con & keep), shapes):
            if m.any():
                outline = unit[m] * size[m][:, None, None] + xy[m]
                self.stand_sprites(TREE, zs[m], outline, size[m] * 0.18)

    def bushes_and_boulders(self) -> None:
        rng, g = self.rng, self.g
        n_bush = int(rng.choice([0, 0, 2, 5, 10])) if not self.winter else 0
        n_rock = int(rng.choice([0, 0, 1, 3, 6])) + (3 if self.desert else 0)
        reach = min(self.aspect, 3)
        for cls, n, zlo, zhi, wlo, whi in (
            (BUSH, n_bush, 1.0, 12.0, 0.08, 0.3),
            (ROCK, n_rock, 0.9, 5.0, 0.06, 0.35),
        ):
            n = int(n * reach)
            if n == 0:
                continue
            zs = np.exp(rng.uniform(np.log(zlo), np.log(zhi), size=n))
            x = self.w / 2 + rng.uniform(-1, 1, size=n) * self.w / 2
            y = self.hr + g.gh / zs
            width = rng.uniform(wlo, whi, size=n) * g.gh / zs
            unit = (_bush if cls == BUSH else _boulder)(rng, n)
            keep = self.visible(x, y, width) & (self.land_mask(x, y) if cls == BUSH else True)
            outline = unit[keep] * width[keep, None, None] + np.stack([x, y], 1)[keep, None, :]
            self.stand_sprites(cls, zs[keep], outline, width[keep] * 0.3)

    def build(self) -> Layout:
        self.clouds()
        self.ground()
        self.mountains()
        self.hills()
        self.trees()
        self.bushes_and_boulders()
        self.draw_standing()
        return self.c.finish(_plane_depth(self.h, self.hr), self.horizon, "natural")


def _natural_layout(rng: np.random.Generator, h: int, w: int) -> Layout:
    return _Natural(rng, h, w).build()


# ---------------------------------------------------------------- painted layouts

# What people paint above and below the horizon, and how often.
_PAINT_SKY = {
    CLOUD: 0.4,
    MOUNTAIN: 0.22,
    TREE: 0.1,
    SKY: 0.06,
    HILL: 0.06,
    SNOW: 0.04,
    ROCK: 0.03,
    WATER: 0.03,
}
_PAINT_GROUND = {
    GRASS: 0.1,
    FLOWERS: 0.1,
    WATER: 0.12,
    SAND: 0.08,
    DIRT: 0.08,
    TREE: 0.14,
    BUSH: 0.1,
    ROCK: 0.1,
    HILL: 0.06,
    SNOW: 0.03,
    MOUNTAIN: 0.03,
    CLOUD: 0.01,
}
_PAINT_BASE = {
    GRASS: 0.45,
    WATER: 0.17,
    SAND: 0.1,
    HILL: 0.08,
    DIRT: 0.07,
    SNOW: 0.05,
    FLOWERS: 0.04,
    ROCK: 0.04,
}


class _Painter:
    """Imitates a person with a round brush, a polygon tool and a fill bucket."""

    def __init__(self, rng: np.random.Generator, h: int, w: int) -> None:
        self.rng, self.h, self.w = rng, h, w
        self.c = _Canvas(h, w)
        self.hr = int(np.clip(round(rng.uniform(0.25, 0.7) * h), 2, h - 2))
        self.pdepth = _plane_depth(h, self.hr)
        self.boundary = np.full(w, float(self.hr), np.float32)

    def obj(self, cls: int, radius: float, bottom: float) -> int:
        """New object of ``cls``; things get the depth of the ground under their lowest point."""
        if _THING_LUT[cls] or cls == HILL:
            d = float(self.pdepth[int(np.clip(bottom, 0, self.h - 1)), 0])
            if cls in (MOUNTAIN, CLOUD):
                d = max(d, 0.9)
            return self.c.add(cls, depth=d, dome=0.6, radius=radius)
        return self.c.add(cls, plane=True)

    def background(self) -> None:
        rng, h, w, hr = self.rng, self.h, self.w, self.hr
        style = rng.random()
        ground = _pick(rng, _PAINT_BASE)
        xs = np.arange(w, dtype=np.float32)
        if style < 0.1:  # one fill over everything
            fill = _pick(rng, {SKY: 0.3, GRASS: 0.3, WATER: 0.2, SAND: 0.1, SNOW: 0.1})
            self.c.oid[:] = self.obj(fill, h / 2, h)
            return
        if style < 0.55:
            line = np.full(w, float(hr), np.float32)
        else:  # a hand-drawn horizon: a few straight segments
            k = int(rng.integers(2, 7))
            kx = np.linspace(0, w, k)
            line = np.interp(xs, kx, hr + rng.normal(0, 0.06, size=k) * h).astype(np.float32)
        self.boundary = line
        ys = np.arange(h, dtype=np.float32)[:, None]
        below = ys >= line[None, :]
        self.c.oid[below] = self.obj(ground, h / 2, h)
        if rng.random() < 0.2:  # a middle band: distant mountains, hills, forest or sea
            band_cls = _pick(rng, {MOUNTAIN: 0.4, HILL: 0.3, TREE: 0.15, WATER: 0.15})
            k = int(rng.integers(3, 9))
            kx = np.linspace(0, w, k)
            top = np.interp(xs, kx, np.interp(kx, xs, line) - rng.uniform(0.02, 0.25, size=k) * h).astype(
                np.float32
            )
            bot = line + rng.uniform(0.0, 0.15) * h
            band = (ys >= top[None, :]) & (ys < bot[None, :])
            self.c.oid[band] = self.obj(band_cls, h * 0.1, float(bot.max()))
            self.boundary = top

    def shapes(self) -> None:
        rng = self.rng
        n = int(rng.integers(1, 13) * min(self.w / self.h, 3) ** 0.5)
        for _ in range(n):
            where = rng.random()
            if where < 0.1:
                cls = _pick(rng, {**_PAINT_SKY, **_PAINT_GROUND})
                y = rng.uniform(0, 1) * self.h
            elif where < 0.4:
                cls = _pick(rng, _PAINT_SKY)
                y = rng.uniform(0.05, 1.0) * self.hr
            else:
                cls = _pick(rng, _PAINT_GROUND)
                y = self.hr + rng.uniform(0.05, 1.0) * (self.h - self.hr)
            x = rng.uniform(0, 1) * self.w
            self.shape(cls, x, y)

    def shape(self, cls: int, x: float, y: float) -> None:
        rng, h = self.rng, self.h
        size = rng.uniform(0.04, 0.22) * h
        kind = rng.random()
        oid = self.c.oid
        if cls == MOUNTAIN and kind < 0.6:  # triangles / zigzags standing on the horizon
            col = int(np.clip(x, 0, self.w - 1))
            base = float(self.boundary[col]) + rng.uniform(0, 0.05) * h
            k = int(rng.integers(1, 4))
            width = rng.uniform(0.15, 0.6) * h * k
            px = np.linspace(x - width / 2, x + width / 2, 2 * k + 1)
            py = np.full(2 * k + 1, base)
            py[1::2] = base - rng.uniform(0.1, 0.45, size=k) * h
            py[2:-1:2] = base - rng.uniform(0.0, 0.15, size=k - 1) * h
            pts = np.stack([px, py], 1).astype(np.int32)
            cv2.fillPoly(oid, [pts], self.obj(cls, width / (4 * k), base))
        elif cls in (TREE, BUSH, ROCK, FLOWERS, CLOUD) and kind < 0.45:  # dabs, one instance each
            for _ in range(int(rng.integers(2, 9))):
                dx, dy = rng.normal(0, 1.5) * size, rng.normal(0, 0.4) * size
                r = max(int(size * rng.uniform(0.2, 0.45)), 1)
                cx, cy = int(x + dx), int(y + dy)
                o = self.obj(cls, r, cy + r)
                if cls == TREE and rng.random() < 0.5:
                    tri = np.array([[cx, cy - 2 * r], [cx + r, cy + r], [cx - r, cy + r]], np.int32)
                    cv2.fillPoly(oid, [tri], o)
                elif cls == CLOUD:
                    cv2.ellipse(oid, (cx, cy), (r * 2, r), 0, 0, 360, o, -1)
                else:
                    cv2.circle(oid, (cx, cy), r, o, -1)
        elif kind < 0.65:  # blob: a wobbly closed outline
            k = int(rng.integers(10, 20))
            ang = np.linspace(0, 2 * np.pi, k, endpoint=False)
            wob = (
                1 + 0.25 * np.sin(ang * rng.integers(2, 5) + rng.uniform(0, 6)) + rng.normal(0, 0.08, size=k)
            )
            stretch = rng.uniform(0.8, 2.5)
            px = x + np.cos(ang) * size * wob * stretch
            py = y + np.sin(ang) * size * wob
            cv2.fillPoly(oid, [np.stack([px, py], 1).astype(np.int32)], self.obj(cls, size, y + size))
        elif kind < 0.85:  # a thick brush stroke
            k = int(rng.integers(2, 7))
            step = rng.uniform(0.05, 0.2) * h
            ang = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.6, size=k))
            px = x + np.concatenate([[0], np.cumsum(np.cos(ang[:-1]) * step)])
            py = y + np.concatenate([[0], np.cumsum(np.sin(ang[:-1]) * step * 0.6)])
            thick = max(int(rng.uniform(0.02, 0.1) * h), 1)
            pts = np.stack([px, py], 1).astype(np.int32)
            cv2.polylines(oid, [pts], False, self.obj(cls, thick / 2, float(py.max()) + thick / 2), thick)
        elif kind < 0.93:  # polygon tool
            k = int(rng.integers(3, 8))
            ang = np.sort(rng.uniform(0, 2 * np.pi, size=k))
            rad = size * rng.uniform(0.5, 1.6, size=k)
            px, py = x + np.cos(ang) * rad * 1.4, y + np.sin(ang) * rad
            cv2.fillPoly(oid, [np.stack([px, py], 1).astype(np.int32)], self.obj(cls, size, float(py.max())))
        else:  # rectangle or ellipse
            a, b = size * rng.uniform(0.6, 2.5), size * rng.uniform(0.3, 1.0)
            o = self.obj(cls, b, y + b)
            if rng.random() < 0.5:
                cv2.rectangle(oid, (int(x - a), int(y - b)), (int(x + a), int(y + b)), o, -1)
            else:
                cv2.ellipse(oid, (int(x), int(y)), (max(int(a), 1), max(int(b), 1)), 0, 0, 360, o, -1)

    def build(self) -> Layout:
        self.background()
        self.shapes()
        return self.c.finish(self.pdepth, self.hr / self.h, "painted")


def _painted_layout(rng: np.random.Generator, h: int, w: int) -> Layout:
    return _Painter(rng, h, w).build()
