"""What each class of a landscapes render is made of, and the material steps of a render.

Per class and season a dark and a light albedo, mixed per pixel by texture; `_SURFACES`
says how much of which texture and relief each class gets and how it takes light and
air. Trees pick a crown palette per instance (conifers told from broadleaves by their
shape); flowers are speckles of a few colours; rock cracks; winter lays snow over ground
and crowns. :class:`MaterialSteps` holds those steps for the renderer.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

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
    TREE,
    WATER,
)
from engine.data.landscapes.noise import hash01

# (dark, light) albedo per class and season.

Colour = tuple[float, float, float]
_Pair = tuple[Colour, Colour]

_COMMON: dict[int, _Pair] = {
    CLOUD: ((0.9, 0.91, 0.93), (1.0, 1.0, 1.0)),
    MOUNTAIN: ((0.2, 0.2, 0.22), (0.56, 0.53, 0.5)),
    SNOW: ((0.78, 0.82, 0.88), (0.93, 0.93, 0.94)),
    ROCK: ((0.1, 0.085, 0.075), (0.4, 0.34, 0.28)),
    SAND: ((0.6, 0.52, 0.38), (0.88, 0.8, 0.62)),
    DIRT: ((0.18, 0.13, 0.08), (0.5, 0.38, 0.25)),
    WATER: ((0.02, 0.08, 0.11), (0.08, 0.2, 0.24)),
    SKY: ((0.5, 0.7, 0.9), (0.5, 0.7, 0.9)),
}

_SEASONAL: dict[str, dict[int, _Pair]] = {
    "summer": {
        HILL: ((0.2, 0.25, 0.1), (0.56, 0.58, 0.3)),
        GRASS: ((0.1, 0.2, 0.05), (0.4, 0.52, 0.18)),
        FLOWERS: ((0.1, 0.2, 0.05), (0.36, 0.5, 0.17)),
        TREE: ((0.02, 0.07, 0.02), (0.2, 0.36, 0.09)),
        BUSH: ((0.07, 0.14, 0.04), (0.34, 0.46, 0.14)),
    },
    "autumn": {
        HILL: ((0.26, 0.2, 0.08), (0.64, 0.5, 0.24)),
        GRASS: ((0.2, 0.2, 0.08), (0.58, 0.52, 0.3)),
        FLOWERS: ((0.16, 0.2, 0.07), (0.5, 0.5, 0.26)),
        TREE: ((0.3, 0.12, 0.02), (0.85, 0.52, 0.1)),
        BUSH: ((0.3, 0.1, 0.04), (0.75, 0.36, 0.1)),
    },
    "winter": {
        HILL: ((0.3, 0.3, 0.28), (0.62, 0.6, 0.55)),
        GRASS: ((0.24, 0.24, 0.17), (0.52, 0.5, 0.38)),
        FLOWERS: ((0.22, 0.24, 0.16), (0.48, 0.48, 0.36)),
        TREE: ((0.12, 0.1, 0.09), (0.42, 0.38, 0.35)),
        BUSH: ((0.2, 0.16, 0.12), (0.46, 0.4, 0.33)),
    },
}

# Crown palettes: trees pick one per instance (conifer / broadleaf, season dependent).
_CONIFER: _Pair = ((0.01, 0.05, 0.03), (0.1, 0.24, 0.12))
_BROADLEAF: dict[str, tuple[_Pair, ...]] = {
    "summer": (
        ((0.02, 0.07, 0.02), (0.2, 0.36, 0.09)),
        ((0.03, 0.09, 0.02), (0.28, 0.42, 0.1)),
        ((0.02, 0.06, 0.03), (0.16, 0.3, 0.1)),
    ),
    "autumn": (
        ((0.3, 0.12, 0.02), (0.88, 0.55, 0.1)),  # orange
        ((0.26, 0.05, 0.03), (0.75, 0.2, 0.08)),  # red
        ((0.3, 0.24, 0.03), (0.9, 0.76, 0.2)),  # yellow
        ((0.05, 0.1, 0.03), (0.36, 0.44, 0.12)),  # still green
    ),
    "winter": (
        ((0.1, 0.08, 0.07), (0.42, 0.37, 0.34)),
        ((0.12, 0.11, 0.1), (0.46, 0.44, 0.42)),
    ),
}

# Flower speckle colours: pink, yellow, white, purple, red.
_FLOWER_COLOURS = np.array(
    [(0.95, 0.45, 0.7), (0.98, 0.85, 0.2), (0.96, 0.96, 0.94), (0.6, 0.4, 0.85), (0.9, 0.2, 0.15)],
    np.float32,
)

# Materials beyond the label set: snow lying on flat ground or low hills (a snowfield)
# renders as ground, not as the snow of a mountain face.
SNOWFIELD = NUM_CLASSES

# Ground materials: they face up rather than toward the viewer.
GROUND = (GRASS, FLOWERS, SAND, DIRT, WATER, HILL, SNOWFIELD)


class _Surface(NamedTuple):
    """Per-class texture and relief amounts (see `_SURFACES`)."""

    # albedo texture: how far each noise moves the class between its dark and light colour
    large: float = 0.0  # large noise (patches, colour variation)
    fine: float = 0.0  # fine noise (leaves, grit)
    streaks: float = 0.0  # downhill streaks
    tufts: float = 0.0  # ground texture in perspective: tufts and grain
    patches: float = 0.0  # ground texture in perspective: soft patches
    strata: float = 0.0  # bands that follow the relief (rock layers)
    far: float = 0.0  # lighter toward the horizon
    # relief for shading
    height: float = 0.1  # scale of the layout's height map
    ridges: float = 0.0  # ridged noise: crests and gullies
    rolling: float = 0.004  # large noise
    bump: float = 0.0  # fine noise
    slope: float = 1.0  # sign of vertical slopes: -0.6 for terrain elevations, 1 for bumps
    # light and air
    fill: float = 1.0  # sky-fill multiplier
    fog: float = 1.0  # share of the aerial perspective
    cracks: float = 0.0  # dark crack lines
    winter: float = 0.0  # winter snow cover


_SURFACES: dict[int, _Surface] = {
    SKY: _Surface(fog=0.0),
    CLOUD: _Surface(large=0.05, height=0.15, rolling=0.05, bump=0.012, fill=1.6, fog=0.0),
    MOUNTAIN: _Surface(
        large=0.2,
        fine=0.1,
        streaks=0.06,
        strata=0.06,
        height=0.5,
        ridges=0.05,
        rolling=0.04,
        bump=0.012,
        slope=-0.6,
        cracks=0.3,
        winter=0.15,
    ),
    SNOW: _Surface(
        large=0.04,
        fine=0.03,
        streaks=0.03,
        height=0.5,
        ridges=0.04,
        rolling=0.03,
        bump=0.006,
        slope=-0.6,
        fill=1.1,
        fog=0.8,
    ),
    ROCK: _Surface(
        large=0.14,
        fine=0.18,
        strata=0.03,
        height=0.3,
        ridges=0.02,
        rolling=0.03,
        bump=0.02,
        cracks=0.6,
        winter=0.3,
    ),
    HILL: _Surface(
        large=0.16,
        fine=0.05,
        tufts=0.06,
        far=0.1,
        height=0.3,
        rolling=0.015,
        bump=0.004,
        slope=-0.6,
        winter=0.65,
    ),
    GRASS: _Surface(large=0.15, fine=0.04, tufts=0.26, patches=0.1, far=0.18, bump=0.003, winter=0.55),
    FLOWERS: _Surface(large=0.12, tufts=0.22, patches=0.08, far=0.12, bump=0.003, winter=0.4),
    TREE: _Surface(large=0.06, fine=0.2, bump=0.022, winter=0.3),
    BUSH: _Surface(large=0.08, fine=0.16, bump=0.016, winter=0.4),
    WATER: _Surface(fog=0.7),
    SAND: _Surface(large=0.08, fine=0.09, tufts=0.08, patches=0.12, bump=0.002, winter=0.35),
    DIRT: _Surface(large=0.14, fine=0.14, tufts=0.16, patches=0.1, bump=0.006, winter=0.35),
    SNOWFIELD: _Surface(large=0.06, tufts=0.05, patches=0.08, height=0.2, bump=0.003, slope=-0.6, fill=1.1),
}


@functools.cache
def surface_table(field: str) -> np.ndarray:
    """One `_Surface` field for every class id, as a 256-entry table for `cv2.LUT`."""
    out = np.full(256, getattr(_Surface(), field), np.float32)
    for cls, surface in _SURFACES.items():
        out[cls] = getattr(surface, field)
    return out


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - np.float32(lo)) * np.float32(1.0 / (hi - lo)), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


class MaterialSteps:
    """The albedo step of a render, mixed into :class:`engine.data.landscapes.render._Render`.

    It reads the maps the renderer has set up (labels and materials, instances, the noise
    planes, the ground texture and its fade) and its helpers ``surface`` and ``is_``.
    """

    def albedo(self) -> list[np.ndarray]:
        style, rng = self.style, self.rng
        pairs = dict(_COMMON)
        pairs.update(_SEASONAL[style.season])
        pairs[SNOWFIELD] = pairs[SNOW]
        ids = list(pairs)
        colours = np.asarray([pairs[k] for k in ids], np.float32)  # class × (dark, light) × rgb
        # Per-image variation: a gain per colour channel and one in brightness.
        colours *= 1.0 + rng.uniform(-0.06, 0.06, colours.shape) + rng.uniform(-0.06, 0.06, (len(ids), 2, 1))
        # Mountains lean brown, blue or grey.
        tint = [(1.06, 1.0, 0.92), (0.94, 0.98, 1.07), (1.0, 1.0, 1.0)][rng.integers(0, 3)]
        colours[ids.index(MOUNTAIN)] *= np.asarray(tint, np.float32)
        tables = np.zeros((2, 3, 256), np.float32)  # (dark, light) × rgb × class id
        tables[:, :, ids] = np.clip(colours, 0.0, 1.0).transpose(1, 2, 0)
        low, high, streak, g = self.low, self.high, self.streak, self.ground
        fade = self.fade
        # t in [0, 1] mixes the two albedos of each class; texture sets it.
        t = 0.5 + self.surface("large") * low[0]
        t += self.surface("fine") * high[0]
        t += self.surface("streaks") * streak[0]
        t += (self.surface("tufts") * g[0] + self.surface("patches") * g[3]) * fade
        if self.present[MOUNTAIN] or self.present[ROCK]:
            strata = np.sin(self.height * 45.0 + low[1] * 2.0 + streak[2] * 0.5)
            t += self.surface("strata") * strata
        # Distant grass and hills read lighter and yellower.
        t += self.surface("far") * (1.0 - self.near) * (self.lab != SKY)
        t = np.clip(t, 0.0, 1.0)
        self.t = t
        alb = []
        for c in range(3):
            d = cv2.LUT(self.mat, tables[0, c])
            li = cv2.LUT(self.mat, tables[1, c])
            alb.append(d + (li - d) * t)
        if self.present[TREE] or self.present[BUSH]:
            self.crowns(alb)
        if self.present[FLOWERS]:
            self.flowers(alb)
        if self.present[ROCK] or self.present[MOUNTAIN]:
            self.cracks(alb)
        if style.season == "winter":
            self.snow_dusting(alb)
        elif self.present[HILL]:
            self.forest_patches(alb)
        return alb

    def crowns(self, alb: list[np.ndarray]) -> None:
        """Per-instance crown colours for trees and bushes: conifer or broadleaf, autumn hues."""
        season = self.style.season
        sel = np.flatnonzero(self.is_(TREE, BUSH))
        inst = self.instances.ravel()[sel]
        r1, r2 = hash01(inst, self.seed), hash01(inst, self.seed ^ 0x5BD1E995)
        is_tree = self.lab.ravel()[sel] == TREE
        conifer = is_tree & self.pointed(sel, inst)
        palette = _BROADLEAF[season]
        choice = np.minimum((r2 * len(palette)).astype(np.int64), len(palette) - 1)
        t = self.t.ravel()[sel]
        shade = 0.85 + 0.3 * r1
        for c in range(3):
            d = np.asarray([p[0][c] for p in palette], np.float32)[choice]
            li = np.asarray([p[1][c] for p in palette], np.float32)[choice]
            d[conifer], li[conifer] = _CONIFER[0][c], _CONIFER[1][c]
            # Bushes: lower contrast.
            d = np.where(is_tree, d, d * 0.6 + li * 0.4)
            alb[c].ravel()[sel] = (d + (li - d) * t) * shade

    def pointed(self, sel: np.ndarray, inst: np.ndarray) -> np.ndarray:
        """Whether each selected pixel belongs to a crown that narrows upward (a conifer).

        A spruce is a triangle on its base: little of its area lies in the top third of its
        height. A round crown on a trunk has about half of its area there.
        """
        _, index, count = np.unique(inst, return_inverse=True, return_counts=True)
        rows = sel // self.w
        order = np.argsort(index, kind="stable")
        starts = np.concatenate([[0], np.cumsum(count)[:-1]])
        top = np.minimum.reduceat(rows[order], starts)
        bottom = np.maximum.reduceat(rows[order], starts)
        upper = rows < (top + 0.35 * (bottom - top + 1))[index]
        share = np.bincount(index, upper) / count
        return ((share < 0.28) & (bottom - top >= 3))[index]

    def flowers(self, alb: list[np.ndarray]) -> None:
        """Speckles of a few flower colours over the meadow; far away they merge into a tint."""
        rng = self.rng
        sel = np.flatnonzero(self.lab == FLOWERS)
        # Two main colours and an accent; white is only ever the accent.
        main = rng.choice([0, 1, 3, 4], size=2, replace=False)
        colours = _FLOWER_COLOURS[[main[0], main[1], 2 if rng.random() < 0.5 else main[0]]]
        fade = np.broadcast_to(self.fade, (self.h, self.w)).ravel()[sel]
        dots = self.ground[2].ravel()[sel] * fade + (1.0 - fade) * 0.3
        dots = np.clip(dots * 1.5, 0.0, 1.0)
        which = self.low[3].ravel()[sel] + 0.4 * self.high[3].ravel()[sel]
        idx = np.where(which < -0.1, 0, np.where(which < 0.9, 1, 2))
        for c in range(3):
            plane = alb[c].ravel()
            plane[sel] = plane[sel] * (1.0 - dots) + colours[idx, c] * dots

    def cracks(self, alb: list[np.ndarray]) -> None:
        """Dark cracks (zero crossings of fine noise) in rock and mountain faces."""
        line = np.abs(self.high[1] + 0.3 * self.low[1])
        strength = self.surface("cracks")
        keep = 1.0 - (1.0 - _smoothstep(line, 0.0, 0.1)) * strength
        for plane in alb:
            plane *= keep

    def snow_dusting(self, alb: list[np.ndarray]) -> None:
        """Winter: snow lying on grass, hills and crowns, with tufts and patches showing
        through; all colours a little greyer."""
        amount = self.surface("winter")
        g, fade = self.ground, self.fade
        noise = self.low[3] * 0.6 + (g[3] * 0.5 + g[0] * 0.25) * fade + self.high[2] * 0.15
        cover = _smoothstep(noise + (amount - 0.5) * 3.0, -0.8, 0.8) * np.minimum(amount * 2.0, 0.82)
        lum = 0.3 * alb[0] + 0.59 * alb[1] + 0.11 * alb[2]
        for c, snow in enumerate((0.86, 0.88, 0.92)):
            alb[c] += (lum - alb[c]) * 0.3
            alb[c] += (snow - alb[c]) * cover

    def forest_patches(self, alb: list[np.ndarray]) -> None:
        """Hills carry darker patches of woodland."""
        n = self.low[2] * 0.8 + self.high[3] * 0.35
        cover = _smoothstep(n, 0.25, 0.6) * (self.lab == HILL) * 0.6
        wood = (0.05, 0.1, 0.04) if self.style.season == "summer" else (0.2, 0.1, 0.03)
        for c in range(3):
            alb[c] += (wood[c] - alb[c]) * cover
