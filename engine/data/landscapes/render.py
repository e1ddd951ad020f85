"""Procedural photo-like rendering of a landscapes label map.

`render(layout, style, rng)` turns a `Layout` (label map, instances, depth, relief) into an
RGB image. Every pixel is painted with the material of its own class, so the label map can
be recovered from the image; only the 1–2 pixels along class boundaries are blended.

The image is built in steps, all vectorised (numpy + OpenCV, no per-pixel Python):

1. noise: value-noise octaves grown from small random grids with `cv2.resize`, plus a
   cached, tileable ground texture sampled in perspective (`cv2.remap`) so that grass
   tufts, flower speckles, sand grain and water ripples shrink toward the horizon;
2. sky: a three-stop gradient per time of day with a sun glow (and a disc at low sun);
3. materials: per-class dark/light albedo looked up with `cv2.LUT` and mixed by texture
   (the materials' surface table says how much of which), per-instance crown colours
   (conifers told from broadleaves by their shape), flower speckles, cracks, winter snow;
4. light: Lambert shading of a relief map (the layout's height plus ridged and bumpy
   noise) under a sun direction and a sky-fill colour per time of day and weather;
5. atmosphere: fog toward the sky colour with depth; water mirrors what stands above its
   far shore and the sky (mirrored about the horizon) elsewhere, with ripples;
6. grade: colour gains per time of day, contrast and saturation per weather, vignette,
   sensor noise and a tone curve.

The global `Style` (time of day, season, weather, sun side) is what a generator's noise
has to learn to express. The noise of step 1 comes from :mod:`~engine.data.landscapes.noise`;
steps 2, 4 and the fog of step 5 are :class:`~engine.data.landscapes.light.LightSteps`, step 3
is :class:`~engine.data.landscapes.materials.MaterialSteps`; this module holds the style, the
pipeline that runs them, the ground texture lookup, water and the grade.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from engine.data.landscapes.classes import BUSH, DIRT, FLOWERS, GRASS, NUM_CLASSES, SAND, SNOW, TREE, WATER
from engine.data.landscapes.light import LIGHTS, LightSteps
from engine.data.landscapes.materials import SNOWFIELD, Colour, MaterialSteps, surface_table
from engine.data.landscapes.noise import fbm, ground_texture, white

if TYPE_CHECKING:
    from engine.data.landscapes.canvas import Layout

TIMES_OF_DAY = ("noon", "golden", "sunset", "dusk")
SEASONS = ("summer", "autumn", "winter")
WEATHERS = ("clear", "hazy", "overcast")

_TIME_PRIOR = (0.45, 0.22, 0.2, 0.13)
_SEASON_PRIOR = (0.55, 0.25, 0.2)
_WEATHER_PRIOR = (0.6, 0.2, 0.2)


@dataclass(frozen=True)
class Style:
    """Global look of one rendered image."""

    time_of_day: str = "noon"  # "noon" | "golden" | "sunset" | "dusk"
    season: str = "summer"  # "summer" | "autumn" | "winter"
    weather: str = "clear"  # "clear" | "hazy" | "overcast"
    sun_azimuth: float = 0.3  # -1 (light from the left) .. 1 (from the right)

    def __post_init__(self) -> None:
        for field, value, allowed in (
            ("time_of_day", self.time_of_day, TIMES_OF_DAY),
            ("season", self.season, SEASONS),
            ("weather", self.weather, WEATHERS),
        ):
            if value not in allowed:
                raise ValueError(f"Style.{field}={value!r} is not one of {', '.join(allowed)}")
        if not -1.0 <= self.sun_azimuth <= 1.0:
            raise ValueError(f"Style.sun_azimuth={self.sun_azimuth!r} must lie in [-1, 1]")

    @classmethod
    def sample(cls, rng: np.random.Generator) -> Style:
        """Draw a style; noon, summer and clear skies are the most common."""
        return cls(
            time_of_day=TIMES_OF_DAY[rng.choice(len(TIMES_OF_DAY), p=_TIME_PRIOR)],
            season=SEASONS[rng.choice(len(SEASONS), p=_SEASON_PRIOR)],
            weather=WEATHERS[rng.choice(len(WEATHERS), p=_WEATHER_PRIOR)],
            sun_azimuth=float(rng.uniform(-1.0, 1.0)),
        )


@functools.lru_cache(maxsize=8)
def _radius2(h: int, w: int) -> np.ndarray:
    """Squared distance from the image centre (1 at the middle of the long side), H×W×3."""
    yy = (np.arange(h, dtype=np.float32) - (h - 1) / 2) / (0.5 * max(h, w))
    xx = (np.arange(w, dtype=np.float32) - (w - 1) / 2) / (0.5 * max(h, w))
    r2 = yy[:, None] ** 2 + xx[None, :] ** 2
    return np.repeat(r2[..., None], 3, axis=2).astype(np.float32)


@functools.lru_cache(maxsize=32)
def _tone_table(shoulder: float, s_curve: float) -> np.ndarray:
    """uint8 → uint8 tone curve for values quantised as x / _HEADROOM: soft highlight
    shoulder above `shoulder`, then a gentle S-curve."""
    x = np.arange(256, dtype=np.float64) / 255.0 * _HEADROOM
    knee = 1.0 - shoulder
    y = np.where(x > shoulder, shoulder + knee * np.tanh((x - shoulder) / knee), x)
    y = np.clip(y, 0.0, 1.0)
    y = y + s_curve * y * (1.0 - y) * (2.0 * y - 1.0)
    return np.clip(y * 255.0 + 0.5, 0, 255).astype(np.uint8)


_HEADROOM = 1.3  # values up to this are kept before the tone curve


def _table(values: dict[int, float], default: float = 0.0) -> np.ndarray:
    """A 256-entry float32 table for `cv2.LUT` over the uint8 label image."""
    out = np.full(256, default, np.float32)
    for k, v in values.items():
        out[k] = v
    return out


# ---------------------------------------------------------------------------------------
# Rendering.


def render(layout: Layout, style: Style, rng: np.random.Generator) -> np.ndarray:
    """Render `layout` in `style` as an H×W×3 uint8 RGB image.

    Deterministic for a given layout, style and rng state; draws from `rng`.
    """
    labels = np.asarray(layout.labels)
    if labels.ndim != 2 or min(labels.shape) < 2:
        raise ValueError(f"layout.labels must be an H×W map with H, W ≥ 2, got shape {labels.shape}")
    if int(labels.max()) >= NUM_CLASSES:
        raise ValueError(
            f"layout.labels holds class id {int(labels.max())}; landscapes ids are 0..{NUM_CLASSES - 1}"
        )
    for name in ("instances", "depth", "height"):
        shape = np.shape(getattr(layout, name))
        if shape != labels.shape:
            raise ValueError(f"layout.{name} has shape {shape}, labels have {labels.shape}; they must match")
    return _Render(layout, style, rng).image()


class _Render(LightSteps, MaterialSteps):
    """One render call. The steps share their maps as attributes; colours are kept as
    three separate planes (r, g, b) until the final grade."""

    def __init__(self, layout: Layout, style: Style, rng: np.random.Generator) -> None:
        self.style, self.rng = style, rng
        self.lab = np.ascontiguousarray(layout.labels, dtype=np.uint8)
        self.h, self.w = self.lab.shape
        self.instances = np.asarray(layout.instances)
        self.depth = np.clip(np.asarray(layout.depth, np.float32), 0.0, 1.0)
        self.height = np.asarray(layout.height, np.float32)
        self.horizon = float(np.clip(layout.horizon, 0.02, 0.98)) * self.h
        self.present = np.bincount(self.lab.ravel(), minlength=NUM_CLASSES)[:NUM_CLASSES] > 0
        # Material per pixel: the class, except for snow lying on the ground.
        self.mat = self.lab
        if self.present[SNOW]:
            field = (self.lab == SNOW) & ((self.depth < 0.88) | (self.height < 0.02))
            if field.any():
                self.mat = self.lab.copy()
                self.mat[field] = SNOWFIELD
        self.light = LIGHTS[style.time_of_day]
        self.unit = self.h / 256.0  # feature sizes are fractions of the image height
        self.rows = np.arange(self.h, dtype=np.float32)
        self.cols = np.arange(self.w, dtype=np.float32)

    # -- small helpers -------------------------------------------------------------------

    def lut(self, values: dict[int, float], default: float = 0.0) -> np.ndarray:
        return cv2.LUT(self.mat, _table(values, default))

    def surface(self, field: str) -> np.ndarray:
        """A `_Surface` field per pixel."""
        return cv2.LUT(self.mat, surface_table(field))

    def is_(self, *classes: int) -> np.ndarray:
        m = self.lab == classes[0]
        for c in classes[1:]:
            m |= self.lab == c
        return m

    def jitter(self, colour: Colour | np.ndarray, amount: float) -> np.ndarray:
        """Per-image colour variation: a random gain per channel plus one in brightness."""
        gain = 1.0 + self.rng.uniform(-amount, amount, 3) + self.rng.uniform(-amount, amount)
        return np.clip(np.asarray(colour) * gain, 0.0, 1.0).astype(np.float32)

    # -- the pipeline --------------------------------------------------------------------

    def image(self) -> np.ndarray:
        h, w, u, rng = self.h, self.w, self.unit, self.rng
        self.seed = int(rng.integers(0, 2**31))
        self.low = fbm(rng, h, w, coarse=100 * u, fine=5 * u)
        self.high = fbm(rng, h, w, coarse=20 * u, fine=max(1.0, 1.2 * u), persistence=0.62)
        self.streak = fbm(rng, h, w, coarse=40 * u, fine=max(1.0, 1.5 * u), aspect=0.3)
        if self.present[TREE] or self.present[BUSH]:
            self.enlarge_leaves()
        self.setup_light()
        self.setup_sky()
        self.setup_ground()
        albedo = self.albedo()
        ambient, sun = self.shading()
        light_amb = self.ambient
        light_sun = np.asarray(self.light.sun, np.float32) * np.float32(self.direct)
        img = [albedo[c] * (ambient * light_amb[c] + sun * light_sun[c]) for c in range(3)]
        self.aerial_perspective(img)
        self.sky_and_clouds(img)
        if self.present[WATER]:
            self.water(img)
        out = cv2.merge(img)
        self.soften_boundaries(out)
        return self.grade(out)

    def enlarge_leaves(self) -> None:
        """Near crowns get leaf clusters at twice the scale: the fine noise, magnified."""
        h, w = self.h, self.w
        near = np.clip((1.0 - self.depth) * 1.6 - 0.3, 0.0, 1.0) * self.is_(TREE, BUSH)
        for k in (0, 1):
            fine = self.high[k]
            coarse = cv2.resize(fine[: (h + 1) // 2, : (w + 1) // 2], (w, h), interpolation=cv2.INTER_LINEAR)
            self.high[k] = fine + (coarse * np.float32(1.2) - fine) * near

    # -- ground texture ------------------------------------------------------------------

    def setup_ground(self) -> None:
        """Sample the ground texture in perspective: texels shrink toward the horizon."""
        h, w = self.h, self.w
        size = 256 if h <= 320 else 512
        texture = ground_texture(size)
        below = np.maximum((self.rows - self.horizon) / h, 0.01)  # ∝ 1 / distance
        k = 0.32 * size
        v = k / below + float(self.rng.uniform(0, size))
        x = (self.cols - w / 2) / h
        u = (x[None, :] * (k * 1.2)) / below[:, None] + float(self.rng.uniform(0, size))
        u = u.astype(np.float32)
        map_x = u - np.floor(u * np.float32(1.0 / size)) * np.float32(size)  # wrapped; np.mod is slow
        map_y = np.ascontiguousarray(np.broadcast_to(np.mod(v, size).astype(np.float32)[:, None], (h, w)))
        ground = cv2.remap(texture, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
        self.ground = np.ascontiguousarray(ground.transpose(2, 0, 1))
        # Far away a pixel spans many texels: fade detail out instead of letting it alias.
        texels_per_px = k / (below * below * h)
        fade = np.clip(1.5 / texels_per_px, 0.0, 1.0) ** 0.6
        self.fade = np.where(self.rows < self.horizon, 0.0, fade).astype(np.float32)[:, None]
        self.near = np.clip((self.rows - self.horizon) / max(h - self.horizon, 1.0), 0.0, 1.0)[:, None]

    def water(self, img: list[np.ndarray]) -> None:
        """Reflect what stands above the far shore; darker toward the viewer; ripples."""
        h, w, u = self.h, self.w, self.unit
        rows_any = np.flatnonzero((self.lab == WATER).any(axis=1))
        y0, y1 = int(rows_any[0]), int(rows_any[-1]) + 1
        m = self.lab[y0:y1] == WATER
        rows = np.arange(y0, y1, dtype=np.float32)[:, None]
        # The mirror line is the far shore: the top of each vertical run of water, once small
        # things standing in the water (rocks, a tree) are closed over.
        gap = max(3, int(0.08 * h) | 1)
        body = cv2.morphologyEx(m.view(np.uint8), cv2.MORPH_CLOSE, np.ones((gap, 1), np.uint8)) > 0
        body |= m
        start = body.copy()
        start[1:] &= ~body[:-1]
        if y0 > 0:
            start[0] &= self.lab[y0 - 1] != WATER
        top = np.maximum.accumulate(np.where(start, rows, np.float32(0.0)), axis=0)
        # A jagged shoreline would cut the mirror image into steps: smooth the mirror line.
        top = cv2.blur(top, (max(3, int(6 * u) | 1), 1))
        fade = self.fade[y0:y1]
        ripple = self.ground[1][y0:y1] * fade
        src_y = (2.0 * top - rows - 1.0) + ripple * np.float32(1.5 * u)
        src_x = self.cols[None, :] + ripple * np.float32(2.5 * u) + self.high[3][y0:y1] * np.float32(0.5 * u)
        src_y = np.maximum(src_y, 0.0).astype(np.float32)
        src_x = src_x.astype(np.float32)
        scene = cv2.merge(img)
        refl = cv2.remap(scene, src_x, src_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        k = max(3, int(4 * u) | 1)
        refl = cv2.blur(refl, (1, k))
        refl_planes = [np.ascontiguousarray(refl[..., c]) for c in range(3)]
        # Flat ground and water seen in the mirror, or a mirror image leaving the frame, show
        # the sky instead (mirrored about the horizon): only what stands up reflects.
        source = cv2.remap(self.lab, src_x, src_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT)
        sky_seen = cv2.LUT(source, _table({c: 1.0 for c in (GRASS, FLOWERS, SAND, DIRT, WATER)}))
        sky_seen = ((sky_seen > 0) | (src_y < 0.5)).view(np.uint8)
        mirrored = self.sky_at(2.0 * self.horizon - rows[:, 0].astype(np.float32))
        for c in range(3):
            cv2.copyTo(mirrored[c], sky_seen, refl_planes[c])
        near = self.near[y0:y1]
        reflectivity = 0.92 - 0.35 * np.sqrt(near)
        deep = self.jitter((0.03, 0.13, 0.19), 0.15)
        tint = self.jitter((0.8, 0.93, 1.0), 0.03)
        fill = self.ambient * np.float32(1.5)
        sparkle = None
        if self.direct > 0 and self.style.time_of_day != "noon":
            width = (0.04 + 0.2 * near) * w
            path = np.exp(-(((self.cols[None, :] - self.sun_x) / width) ** 2))
            sparkle = path * np.clip(self.ground[1][y0:y1] - 1.2, 0.0, 2.0) * fade * np.float32(self.direct)
        streaks = 1.0 + 0.16 * ripple * (1.0 - 0.6 * near)
        mask = m.view(np.uint8)
        for c in range(3):
            # Water returns less light than the sky it mirrors, tinted by what it carries.
            mirror = refl_planes[c] * (0.78 * tint[c]) * reflectivity
            water = (mirror + deep[c] * fill[c] * (1.0 - reflectivity)) * streaks
            if sparkle is not None:
                water += sparkle * self.glow_colour[c]
            cv2.copyTo(water.astype(np.float32), mask, img[c][y0:y1])

    def soften_boundaries(self, out: np.ndarray) -> None:
        """Blend across class boundaries over one to two pixels."""
        lab = self.lab
        edge = np.zeros(lab.shape, np.uint8)
        edge[:, 1:] |= lab[:, 1:] != lab[:, :-1]
        edge[1:, :] |= lab[1:, :] != lab[:-1, :]
        edge = cv2.dilate(edge, np.ones((2, 2), np.uint8))
        cv2.copyTo(cv2.GaussianBlur(out, (3, 3), 0.75), edge, out)

    def grade(self, img: np.ndarray) -> np.ndarray:
        """Colour grade, contrast, vignette, sensor noise and the tone curve; to uint8."""
        style, light, rng = self.style, self.light, self.rng
        gains = (
            np.asarray(light.gains) * light.exposure * rng.uniform(0.97, 1.03, 3) * rng.uniform(0.93, 1.07)
        )
        sat = {"clear": 1.1, "hazy": 0.9, "overcast": 0.8}[style.weather] * rng.uniform(0.9, 1.1)
        contrast = {"clear": 1.06, "hazy": 0.92, "overcast": 0.9}[style.weather]
        lum_w = np.asarray((0.3, 0.59, 0.11))
        saturate = (1.0 - sat) * np.outer(np.ones(3), lum_w) + sat * np.eye(3)
        matrix = contrast * saturate @ np.diag(gains)
        mean = float(np.dot(lum_w, cv2.mean(img)[:3]) * np.dot(lum_w, gains))
        affine = np.hstack([matrix, np.full((3, 1), mean * (1.0 - contrast))]).astype(np.float32)
        img = cv2.transform(img, affine)
        vignette = np.float32(rng.uniform(0.1, 0.3))
        img -= vignette * (img * _radius2(self.h, self.w))
        sigma = (0.012 if style.time_of_day != "dusk" else 0.02) * rng.uniform(0.6, 1.2)
        cv2.scaleAdd(white(rng, self.h, self.w, 3), sigma, img, dst=img)
        img = cv2.max(img, 0.0)
        quantised = cv2.convertScaleAbs(img, alpha=255.0 / _HEADROOM)
        return cv2.LUT(quantised, _tone_table(0.8, 0.18))
