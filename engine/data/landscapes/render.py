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
   (`_SURFACES` says how much of which), per-instance crown colours (conifers told from
   broadleaves by their shape), flower speckles, cracks, winter snow;
4. light: Lambert shading of a relief map (the layout's height plus ridged and bumpy
   noise) under a sun direction and a sky-fill colour per time of day and weather;
5. atmosphere: fog toward the sky colour with depth; water mirrors what stands above its
   far shore and the sky (mirrored about the horizon) elsewhere, with ripples;
6. grade: colour gains per time of day, contrast and saturation per weather, vignette,
   sensor noise and a tone curve.

The global `Style` (time of day, season, weather, sun side) is what a generator's noise
has to learn to express.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

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

if TYPE_CHECKING:
    from engine.data.landscapes.layouts import Layout

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


# ---------------------------------------------------------------------------------------
# Light and sky per time of day (sRGB-ish floats in [0, 1]).


@dataclass(frozen=True)
class _Light:
    sky_top: tuple[float, float, float]  # colour high in the frame
    sky_mid: tuple[float, float, float]  # colour a third of the way down to the horizon
    sky_horizon: tuple[float, float, float]  # colour at the horizon
    glow: tuple[float, float, float]  # sun glow colour
    glow_strength: float
    sun: tuple[float, float, float]  # direct light colour × intensity
    ambient: tuple[float, float, float]  # sky fill colour × intensity
    elevation: float  # sun elevation in degrees; ≤ 0 means no direct light
    sun_height: float  # sun centre above the horizon, as a fraction of H (may be < 0)
    toward_viewer: float  # z of the light: > 0 lights the faces we see, < 0 backlights them
    gains: tuple[float, float, float]  # colour grade
    exposure: float


_LIGHTS: dict[str, _Light] = {
    "noon": _Light(
        sky_top=(0.16, 0.36, 0.74),
        sky_mid=(0.36, 0.58, 0.88),
        sky_horizon=(0.70, 0.82, 0.94),
        glow=(1.0, 1.0, 0.96),
        glow_strength=0.22,
        sun=(1.0, 0.97, 0.9),
        ambient=(0.42, 0.5, 0.62),
        elevation=55.0,
        sun_height=1.1,
        toward_viewer=0.35,
        gains=(1.0, 1.0, 1.0),
        exposure=1.0,
    ),
    "golden": _Light(
        sky_top=(0.25, 0.42, 0.72),
        sky_mid=(0.6, 0.68, 0.8),
        sky_horizon=(0.98, 0.8, 0.56),
        glow=(1.0, 0.82, 0.5),
        glow_strength=0.5,
        sun=(1.15, 0.86, 0.52),
        ambient=(0.42, 0.45, 0.56),
        elevation=16.0,
        sun_height=0.2,
        toward_viewer=-0.1,
        gains=(1.06, 0.99, 0.84),
        exposure=1.0,
    ),
    "sunset": _Light(
        sky_top=(0.2, 0.24, 0.5),
        sky_mid=(0.74, 0.44, 0.5),
        sky_horizon=(1.0, 0.56, 0.26),
        glow=(1.0, 0.62, 0.26),
        glow_strength=0.75,
        sun=(1.1, 0.58, 0.3),
        ambient=(0.44, 0.36, 0.46),
        elevation=4.0,
        sun_height=0.04,
        toward_viewer=-0.3,
        gains=(1.06, 0.95, 0.88),
        exposure=0.95,
    ),
    "dusk": _Light(
        sky_top=(0.05, 0.07, 0.2),
        sky_mid=(0.2, 0.19, 0.38),
        sky_horizon=(0.6, 0.4, 0.46),
        glow=(0.95, 0.5, 0.34),
        glow_strength=0.35,
        sun=(0.0, 0.0, 0.0),
        ambient=(0.5, 0.5, 0.74),
        elevation=-5.0,
        sun_height=-0.08,
        toward_viewer=0.0,
        gains=(0.88, 0.92, 1.06),
        exposure=0.95,
    ),
}

# Overcast skies per time of day: (top, horizon) greys.
_OVERCAST_SKY = {
    "noon": ((0.58, 0.61, 0.65), (0.8, 0.81, 0.82)),
    "golden": ((0.55, 0.55, 0.58), (0.82, 0.76, 0.68)),
    "sunset": ((0.4, 0.38, 0.42), (0.74, 0.6, 0.52)),
    "dusk": ((0.13, 0.14, 0.2), (0.34, 0.32, 0.38)),
}

# ---------------------------------------------------------------------------------------
# Materials: (dark, light) albedo per class and season.

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
_GROUND = (GRASS, FLOWERS, SAND, DIRT, WATER, HILL, SNOWFIELD)


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
def _surface_table(field: str) -> np.ndarray:
    """One `_Surface` field for every class id, as a 256-entry table for `cv2.LUT`."""
    out = np.full(256, getattr(_Surface(), field), np.float32)
    for cls, surface in _SURFACES.items():
        out[cls] = getattr(surface, field)
    return out


# ---------------------------------------------------------------------------------------
# Noise. Everything below works on single-channel float32 planes: numpy and OpenCV are an
# order of magnitude faster on contiguous H×W planes than on H×W×3 arrays broadcast
# against colour vectors, and that is what keeps a 256² render within a few milliseconds.

_BANK = 512


@functools.lru_cache(maxsize=2)
def _white_bank(channels: int = 4) -> np.ndarray:
    """A fixed bank of white noise; each image cuts randomly placed crops from it."""
    bank = np.random.default_rng(0x7E55E7A + channels).standard_normal((_BANK, _BANK, channels))
    return bank.astype(np.float32)


def _white(rng: np.random.Generator, h: int, w: int, channels: int = 4) -> np.ndarray:
    """h×w×channels standard-normal noise: a random crop of the bank (a view where it fits)."""
    bank = _white_bank(channels)
    if h <= _BANK and w <= _BANK:
        oy, ox = int(rng.integers(0, _BANK - h + 1)), int(rng.integers(0, _BANK - w + 1))
        return bank[oy : oy + h, ox : ox + w]
    oy, ox = rng.integers(0, _BANK, 2)
    return bank[(oy + np.arange(h)) % _BANK][:, (ox + np.arange(w)) % _BANK]


def _fbm(
    rng: np.random.Generator,
    h: int,
    w: int,
    *,
    coarse: float,
    fine: float,
    persistence: float = 0.55,
    aspect: float = 1.0,
) -> list[np.ndarray]:
    """Four planes of fractal value noise, h×w each, about zero mean and unit deviation.

    Octaves run from cells of `coarse` pixels down to `fine` pixels, halving each time: the
    sum so far is upsampled to the next grid (`cv2.resize`) and fresh noise is added; the
    last grid is upsampled to the image. `aspect` > 1 stretches cells horizontally, < 1
    vertically.
    """
    cell_y, cell_x = coarse / math.sqrt(aspect), coarse * math.sqrt(aspect)
    acc = np.zeros((2, 2, 4), np.float32)
    amp, var = 1.0, 0.0
    while True:
        gh, gw = math.ceil(h / max(cell_y, 1.0)) + 1, math.ceil(w / max(cell_x, 1.0)) + 1
        acc = cv2.resize(acc, (gw, gh), interpolation=cv2.INTER_LINEAR)
        sign = 1.0 if rng.random() < 0.5 else -1.0
        cv2.scaleAdd(_white(rng, gh, gw), sign * amp, acc, dst=acc)
        var = var * 0.8 + amp * amp  # linear upsampling smooths away part of the variance
        if cell_y / 2 < fine and cell_x / 2 < fine:
            break
        cell_y, cell_x, amp = cell_y / 2, cell_x / 2, amp * persistence
    acc *= np.float32(1.0 / math.sqrt(var))
    # Cubic upsampling hides the grid of large cells; for pixel-sized cells linear is enough.
    mode = cv2.INTER_CUBIC if min(cell_y, cell_x) > 3 else cv2.INTER_LINEAR
    grid = np.ascontiguousarray(acc.transpose(2, 0, 1))
    return [cv2.resize(g, (w, h), interpolation=mode) for g in grid]


@functools.lru_cache(maxsize=4)
def _ground_texture(size: int) -> np.ndarray:
    """Tileable ground texture size×size×4 (noise filtered in Fourier space, so it wraps).

    Channels: grass tufts (short across, long along the view direction), ripples (long
    across: horizontal streaks on water), speckle dots (flowers, pebbles), soft patches.
    """
    rng = np.random.default_rng(0x6A0D)
    f = np.fft.fftfreq(size) * 256.0  # cycles per 256 texels, whatever the size
    fy, fx = f[:, None], f[None, :]

    def band(sigma_u: float, sigma_v: float, slope: float, cutoff: float) -> np.ndarray:
        radius = np.sqrt((fx / sigma_u) ** 2 + (fy / sigma_v) ** 2) + 1e-6
        spectrum = np.fft.fft2(rng.standard_normal((size, size))) * radius**-slope
        spectrum *= np.exp(-((radius / cutoff) ** 2))
        spectrum[0, 0] = 0.0
        field = np.fft.ifft2(spectrum).real
        return (field - field.mean()) / field.std()

    tufts = band(1.0, 1.0, 0.2, 70.0)
    ripples = band(0.6, 3.0, 0.9, 40.0)
    dots = np.clip((band(1.0, 1.0, 0.0, 50.0) - 0.85) * 3.0, 0.0, 1.0)
    patches = band(1.0, 1.0, 1.3, 30.0)
    return np.stack([tufts, ripples, dots, patches], axis=-1).astype(np.float32)


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


def _hash01(ids: np.ndarray, seed: int) -> np.ndarray:
    """A uniform [0, 1) value per integer id (an integer mixing hash, vectorised)."""
    x = ids.astype(np.uint32) * np.uint32(0x9E3779B1) ^ np.uint32(seed & 0xFFFFFFFF)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x85EBCA77)
    x ^= x >> np.uint32(13)
    x *= np.uint32(0xC2B2AE35)
    x ^= x >> np.uint32(16)
    return (x >> np.uint32(8)).astype(np.float32) * np.float32(1.0 / (1 << 24))


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - np.float32(lo)) * np.float32(1.0 / (hi - lo)), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _mix(a: Colour | np.ndarray, b: Colour | np.ndarray, t: float) -> np.ndarray:
    return np.asarray(a, np.float32) * (1.0 - t) + np.asarray(b, np.float32) * t


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


class _Render:
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
        self.light = _LIGHTS[style.time_of_day]
        self.unit = self.h / 256.0  # feature sizes are fractions of the image height
        self.rows = np.arange(self.h, dtype=np.float32)
        self.cols = np.arange(self.w, dtype=np.float32)

    # -- small helpers -------------------------------------------------------------------

    def lut(self, values: dict[int, float], default: float = 0.0) -> np.ndarray:
        return cv2.LUT(self.mat, _table(values, default))

    def surface(self, field: str) -> np.ndarray:
        """A `_Surface` field per pixel."""
        return cv2.LUT(self.mat, _surface_table(field))

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
        self.low = _fbm(rng, h, w, coarse=100 * u, fine=5 * u)
        self.high = _fbm(rng, h, w, coarse=20 * u, fine=max(1.0, 1.2 * u), persistence=0.62)
        self.streak = _fbm(rng, h, w, coarse=40 * u, fine=max(1.0, 1.5 * u), aspect=0.3)
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

    def setup_light(self) -> None:
        style, light = self.style, self.light
        self.direct = 1.0 if light.elevation > 0 else 0.0
        self.ambient_gain = 1.0
        self.fog_density = 0.5
        if style.weather == "hazy":
            self.direct *= 0.7
            self.ambient_gain = 1.3
            self.fog_density = 1.1
        elif style.weather == "overcast":
            self.direct *= 0.1
            self.ambient_gain = 1.9
            self.fog_density = 0.9
        ambient = np.asarray(light.ambient, np.float32)
        if style.weather != "clear":
            # Under haze or cloud the fill light loses the blue of a clear sky.
            grey = float(ambient.mean())
            ambient = _mix(ambient, (grey, grey, grey), 0.6 if style.weather == "overcast" else 0.35)
        self.ambient = ambient * np.float32(self.ambient_gain)
        self.fog_density *= float(self.rng.uniform(0.7, 1.3))
        el = math.radians(max(light.elevation, 1.0))
        # Light direction in image axes: x to the right, y down, z toward the viewer.
        lx, ly, lz = style.sun_azimuth * math.cos(el), -math.sin(el) - 0.2, light.toward_viewer
        norm = math.sqrt(lx * lx + ly * ly + lz * lz)
        self.sun_dir = (lx / norm, ly / norm, lz / norm)
        self.ground_lit = 0.25 + 0.75 * math.sin(el)  # flat ground under this sun

    # -- sky -------------------------------------------------------------------------------

    def setup_sky(self) -> None:
        style, light, h, w = self.style, self.light, self.h, self.w
        top, mid, hor = (self.jitter(c, 0.05) for c in (light.sky_top, light.sky_mid, light.sky_horizon))
        glow = self.jitter(light.glow, 0.04)
        strength = light.glow_strength * float(self.rng.uniform(0.8, 1.2))
        if style.weather == "hazy":
            grey = 0.8 if style.time_of_day != "dusk" else 0.38
            top, mid, hor = (
                _mix(top, hor * 0.5 + grey * 0.5, 0.4),
                _mix(mid, grey, 0.45),
                _mix(hor, grey, 0.4),
            )
            strength *= 0.8
        elif style.weather == "overcast":
            otop, ohor = _OVERCAST_SKY[style.time_of_day]
            top, hor = self.jitter(otop, 0.04), self.jitter(ohor, 0.04)
            mid = _mix(top, hor, 0.65)
            strength *= 0.2
        self.sky_stops = (top, mid, hor)
        self.glow_colour, self.glow_strength = glow, strength
        self.sun_x = w * (0.5 + 0.55 * style.sun_azimuth)
        self.sun_y = self.horizon - light.sun_height * h
        self.glow_x = (
            np.exp(-(((self.cols - self.sun_x) / (0.5 * h)) ** 2)),
            np.exp(-(((self.cols - self.sun_x) / (0.12 * h)) ** 2)),
        )
        sky = self.sky_at(self.rows)
        # Aerial perspective fades toward the sky just above the horizon: below that row the
        # fog keeps the colour of that row.
        fog_row = int(np.clip(self.horizon - 0.02 * h, 0, h - 1))
        self.fog = []
        for c, plane in enumerate(sky):
            fog = plane * np.float32(0.75) + np.float32(0.25 * hor[c])
            fog[fog_row + 1 :] = fog[fog_row]
            self.fog.append(fog)
        variation = 1.0 + 0.03 * self.low[2]
        self.sky = [plane * variation for plane in sky]

    def sky_at(self, rows: np.ndarray) -> list[np.ndarray]:
        """Sky colour planes (len(rows)×W) at image rows `rows` (any real values)."""
        h = self.h
        top, mid, hor = self.sky_stops
        s = np.clip((self.horizon - rows) / (0.8 * h), 0.0, 1.0)
        lo = np.clip(s / 0.3, 0.0, 1.0)
        hi = np.clip((s - 0.3) / 0.7, 0.0, 1.0) ** 0.8
        under = s < 0.3
        halo_y = np.exp(-(((rows - self.sun_y) / (0.3 * h)) ** 2))[:, None]
        core_y = np.exp(-(((rows - self.sun_y) / (0.08 * h)) ** 2))[:, None]
        glow = (0.7 * halo_y) * self.glow_x[0][None, :] + (0.45 * core_y) * self.glow_x[1][None, :]
        glow = np.minimum(glow * np.float32(self.glow_strength), 1.0)
        planes = []
        for c in range(3):
            grad = np.where(under, hor[c] + (mid[c] - hor[c]) * lo, mid[c] + (top[c] - mid[c]) * hi)
            grad = grad.astype(np.float32)[:, None]
            # Screen-blend the glow: it brightens without overflowing.
            planes.append(grad + (1.0 - grad) * (glow * self.glow_colour[c]))
        return planes

    # -- ground texture ------------------------------------------------------------------

    def setup_ground(self) -> None:
        """Sample the ground texture in perspective: texels shrink toward the horizon."""
        h, w = self.h, self.w
        size = 256 if h <= 320 else 512
        texture = _ground_texture(size)
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

    # -- materials -----------------------------------------------------------------------

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
        r1, r2 = _hash01(inst, self.seed), _hash01(inst, self.seed ^ 0x5BD1E995)
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

    # -- light ---------------------------------------------------------------------------

    def shading(self) -> tuple[np.ndarray, np.ndarray]:
        """Sky-fill and sun intensity per pixel from the normals of a relief map."""
        h, u, lut = self.h, self.unit, self.lut
        low, high, streak = self.low, self.high, self.streak
        relief = self.height * self.surface("height")
        # Ridged noise: sharp crests and rounded gullies; stretched a little downhill.
        ridges = 1.0 - np.abs(streak[1] * 0.6 + low[1] * 0.5 + high[2] * 0.25)
        relief += self.surface("ridges") * (ridges * ridges)
        relief += self.surface("rolling") * low[1]
        relief += self.surface("bump") * high[1] * np.float32(u**-0.2)
        gx = cv2.Sobel(relief, cv2.CV_32F, 1, 0, ksize=3, scale=h / 8.0)
        gy = cv2.Sobel(relief, cv2.CV_32F, 0, 1, ksize=3, scale=h / 8.0)
        # Terrain relief is an elevation (it rises up the slope, toward the top of the image),
        # crowns, rocks and clouds are bumps toward the viewer: their vertical slopes face
        # opposite ways.
        gy *= self.surface("slope")
        lx, ly, lz = self.sun_dir
        flat = lut({c: self.ground_lit for c in _GROUND} | {CLOUD: 0.7}, 0.15 + 0.6 * max(lz, 0.0))
        inv_len = 1.0 / np.sqrt(1.0 + gx * gx + gy * gy)
        sun = np.clip((flat - gx * lx - gy * ly) * inv_len, 0.0, 1.0)
        # Sky fill: faces turned up see more sky; clouds and snow are bright.
        up = np.clip(0.75 - 0.25 * gy * inv_len, 0.4, 1.0)
        ambient = up * self.surface("fill")
        return ambient, sun

    def aerial_perspective(self, img: list[np.ndarray]) -> None:
        """Fade toward the sky colour with depth."""
        d = self.depth
        amount = self.surface("fog") * (1.0 - np.exp(-self.fog_density * (d * d) * (d * d)))
        for c in range(3):
            img[c] += (self.fog[c] - img[c]) * amount

    def sky_and_clouds(self, img: list[np.ndarray]) -> None:
        style = self.style
        sky = self.sky
        if style.time_of_day in ("golden", "sunset") and style.weather != "overcast":
            sky = self.sun_disc([p.copy() for p in sky])
        m_sky = (self.lab == SKY).view(np.uint8)
        for c in range(3):
            cv2.copyTo(sky[c], m_sky, img[c])
        if self.present[CLOUD]:
            m = (self.lab == CLOUD).view(np.uint8)
            # Denser inside; thin edges let some sky through, never all of it.
            alpha = np.clip(0.78 + 0.5 * self.height + 0.1 * self.high[2], 0.65, 1.0)
            # Under an overcast sky the clouds that stand out are the darker, heavier ones.
            dim = 0.72 if style.weather == "overcast" else 1.0
            for c in range(3):
                cloud = sky[c] + (img[c] * dim - sky[c]) * alpha
                cv2.copyTo(cloud, m, img[c])

    def sun_disc(self, sky: list[np.ndarray]) -> list[np.ndarray]:
        h = self.h
        r = 0.03 * h * (1.5 if self.style.weather == "hazy" else 1.0)
        y0, y1 = max(int(self.sun_y - 5 * r), 0), min(int(self.sun_y + 5 * r) + 1, h)
        x0, x1 = max(int(self.sun_x - 5 * r), 0), min(int(self.sun_x + 5 * r) + 1, self.w)
        if y0 >= y1 or x0 >= x1:
            return sky
        yy = self.rows[y0:y1, None] - self.sun_y
        xx = self.cols[None, x0:x1] - self.sun_x
        rr = np.sqrt(yy * yy + xx * xx) / r
        disc = np.clip((1.1 - rr) * 4.0, 0.0, 1.0) + 0.4 * np.exp(-rr * rr * 0.3)
        disc = np.clip(disc * (0.6 if self.style.weather == "hazy" else 1.0), 0.0, 1.0)
        colour = (1.0, 0.97, 0.88) if self.style.time_of_day == "golden" else (1.0, 0.88, 0.62)
        for c in range(3):
            patch = sky[c][y0:y1, x0:x1]
            patch += (colour[c] - patch) * disc
        return sky

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
        cv2.scaleAdd(_white(rng, self.h, self.w, 3), sigma, img, dst=img)
        img = cv2.max(img, 0.0)
        quantised = cv2.convertScaleAbs(img, alpha=255.0 / _HEADROOM)
        return cv2.LUT(quantised, _tone_table(0.8, 0.18))
