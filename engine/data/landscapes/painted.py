"""Painted layouts: label maps as a person paints them in the studio.

Flat fills and brush strokes of arbitrary classes with crisp edges: a ground fill below a
straight or hand-drawn horizon, sometimes a band of distant mountains or sea, then blobs,
strokes, polygons, dabs and rectangles of what people paint above and below the horizon.
:func:`painted_layout` builds one.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.data.landscapes.canvas import THING_LUT, Canvas, Layout, plane_depth
from engine.data.landscapes.classes import (
    BUSH,
    CLOUD,
    DIRT,
    FLOWERS,
    GRASS,
    HILL,
    MOUNTAIN,
    ROCK,
    SAND,
    SKY,
    SNOW,
    TREE,
    WATER,
)


def _pick(rng: np.random.Generator, weights: dict[int, float]) -> int:
    keys = list(weights)
    p = np.asarray([weights[k] for k in keys], np.float64)
    return int(keys[int(rng.choice(len(keys), p=p / p.sum()))])


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
        self.c = Canvas(h, w)
        self.hr = int(np.clip(round(rng.uniform(0.25, 0.7) * h), 2, h - 2))
        self.pdepth = plane_depth(h, self.hr)
        self.boundary = np.full(w, float(self.hr), np.float32)

    def obj(self, cls: int, radius: float, bottom: float) -> int:
        """New object of ``cls``; things get the depth of the ground under their lowest point."""
        if THING_LUT[cls] or cls == HILL:
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


def painted_layout(rng: np.random.Generator, h: int, w: int) -> Layout:
    return _Painter(rng, h, w).build()
