"""The clouds of a natural layout: cumulus, stratus and cirrus above the horizon.

Each cloud is one domed object on the layout canvas; clouds high in the frame are nearer,
so bigger. The weather drawn here decides how many of each kind there are.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.data.landscapes.canvas import Canvas
from engine.data.landscapes.classes import CLOUD
from engine.data.landscapes.noise import curve


def draw_clouds(rng: np.random.Generator, c: Canvas, hr: int) -> None:
    """Draw the clouds of one sky onto ``c``, above the horizon row ``hr``."""
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
    scale = (c.w / c.h) ** 0.8
    for _ in range(round(n_cu * scale)):
        _cumulus(rng, c, hr)
    for _ in range(round(n_st * max(1.0, scale * 0.6))):
        _stratus(rng, c, hr)
    for _ in range(round(n_ci * scale)):
        _cirrus(rng, c, hr)


def _cumulus(rng: np.random.Generator, c: Canvas, hr: int) -> None:
    h = c.h
    cy = rng.uniform(0.12, 0.92) * hr
    near = 1.0 - cy / hr  # clouds high in the frame are nearer, so bigger
    cw = rng.uniform(0.1, 0.32) * h * (0.35 + 0.65 * near)
    ch = cw * rng.uniform(0.28, 0.5)
    cx = rng.uniform(-0.1, 1.1) * c.w
    cid = c.add(CLOUD, depth=0.93 + 0.07 * (1 - near), dome=1.0, radius=ch * 0.5)
    oid = c.oid
    base_y = int(cy)
    cv2.ellipse(oid, (int(cx), base_y), (max(int(cw / 2), 1), max(int(ch * 0.18), 1)), 0, 0, 360, cid, -1)
    for _ in range(int(rng.integers(3, 8))):
        off = rng.uniform(-0.42, 0.42)
        r = ch * rng.uniform(0.35, 0.75) * (1.0 - 0.9 * abs(off))
        px = int(cx + off * cw)
        py = base_y + int(rng.uniform(0.0, 0.1) * ch)
        ax = (max(int(r * rng.uniform(1.0, 1.5)), 1), max(int(r), 1))
        cv2.ellipse(oid, (px, py), ax, 0, 180, 360, cid, -1)


def _stratus(rng: np.random.Generator, c: Canvas, hr: int) -> None:
    h, w = c.h, c.w
    cy = rng.uniform(0.35, 0.95) * hr
    near = 1.0 - cy / hr
    th = rng.uniform(0.015, 0.06) * h * (0.4 + 0.6 * near)
    length = rng.uniform(0.4, 1.6) * h
    x0 = rng.uniform(-0.3, 1.0) * w
    xs = np.arange(w, dtype=np.float32)
    u = (xs - x0) / max(length, 1.0)
    taper = np.clip(np.sin(np.clip(u, 0, 1) * np.pi) * 1.6, 0, 1) ** 0.7
    top = cy - th * (0.5 + 0.35 * curve(rng, w, 0.12 * h)) * taper
    bot = cy + th * (0.35 + 0.2 * curve(rng, w, 0.1 * h)) * taper
    y0, y1 = max(int(top.min()), 0), min(int(bot.max()) + 1, hr)
    if y1 <= y0:
        return
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    mask = (ys >= top[None, :]) & (ys <= bot[None, :]) & (taper[None, :] > 0.05)
    cid = c.add(CLOUD, depth=0.95 + 0.05 * (1 - near), dome=0.5, radius=th * 0.5)
    c.oid[y0:y1][mask] = cid


def _cirrus(rng: np.random.Generator, c: Canvas, hr: int) -> None:
    h = c.h
    cx = rng.uniform(0.0, 1.0) * c.w
    cy = rng.uniform(0.05, 0.6) * hr
    ang = rng.uniform(-0.5, 0.5)
    bend = rng.uniform(-0.4, 0.4)
    length = rng.uniform(0.12, 0.4) * h
    thick = max(1, round(rng.uniform(0.5, 1.5) * h / 128))
    cid = c.add(CLOUD, depth=0.99, dome=0.3, radius=thick)
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
    cv2.polylines(c.oid, strokes, False, cid, thick)
