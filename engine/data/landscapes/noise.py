"""Seeded noise for the landscapes: what makes layouts irregular and surfaces textured.

For layouts: smooth random curves (ridgelines, shores, cloud edges), coarse 2-D fields and
periodic tiles sampled at world-space coordinates, so ground patches foreshorten by
themselves. For rendering: white noise cut from a fixed bank, fractal value noise, a
tileable ground texture sampled in perspective, and a per-id hash. The rng passed in is the
only source of randomness (the bank, tiles and texture come from fixed seeds), so a seed
reproduces its noise exactly.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

# ---------------------------------------------------------------------------------------
# Layouts: smooth curves, coarse fields and periodic tiles for world-space lookups.


def curve(rng: np.random.Generator, n: int, spacing: float) -> np.ndarray:
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


def ridge_curve(rng: np.random.Generator, n: int, spacing: float, octaves: int = 5) -> np.ndarray:
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


def smooth_field(rng: np.random.Generator, h: int, w: int, cells_y: float, cells_x: float) -> np.ndarray:
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


def random_tile(rng: np.random.Generator) -> np.ndarray:
    """One of the shared noise tiles, rolled by a random offset."""
    n = _TILES.shape[1]
    k, dy, dx = int(rng.integers(len(_TILES))), int(rng.integers(n)), int(rng.integers(n))
    return np.roll(_TILES[k], (dy, dx), axis=(0, 1))


def lookup(tile: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Sample a periodic tile at arbitrary (u, v) texel coordinates, bilinear and wrapping."""
    n = tile.shape[0]
    u = u.astype(np.float32, copy=False)
    v = v.astype(np.float32, copy=False)
    # wrap by hand (np.mod is slow on floats; remap wants coordinates near the tile)
    u = u - np.floor(u * np.float32(1 / n)) * np.float32(n)
    v = v - np.floor(v * np.float32(1 / n)) * np.float32(n)
    return cv2.remap(tile, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)


# ---------------------------------------------------------------------------------------
# Rendering. Everything below works on single-channel float32 planes: numpy and OpenCV are an
# order of magnitude faster on contiguous H×W planes than on H×W×3 arrays broadcast
# against colour vectors, and that is what keeps a 256² render within a few milliseconds.

_BANK = 512


@functools.lru_cache(maxsize=2)
def _white_bank(channels: int = 4) -> np.ndarray:
    """A fixed bank of white noise; each image cuts randomly placed crops from it."""
    bank = np.random.default_rng(0x7E55E7A + channels).standard_normal((_BANK, _BANK, channels))
    return bank.astype(np.float32)


def white(rng: np.random.Generator, h: int, w: int, channels: int = 4) -> np.ndarray:
    """h×w×channels standard-normal noise: a random crop of the bank (a view where it fits)."""
    bank = _white_bank(channels)
    if h <= _BANK and w <= _BANK:
        oy, ox = int(rng.integers(0, _BANK - h + 1)), int(rng.integers(0, _BANK - w + 1))
        return bank[oy : oy + h, ox : ox + w]
    oy, ox = rng.integers(0, _BANK, 2)
    return bank[(oy + np.arange(h)) % _BANK][:, (ox + np.arange(w)) % _BANK]


def fbm(
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
        cv2.scaleAdd(white(rng, gh, gw), sign * amp, acc, dst=acc)
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
def ground_texture(size: int) -> np.ndarray:
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


def hash01(ids: np.ndarray, seed: int) -> np.ndarray:
    """A uniform [0, 1) value per integer id (an integer mixing hash, vectorised)."""
    x = ids.astype(np.uint32) * np.uint32(0x9E3779B1) ^ np.uint32(seed & 0xFFFFFFFF)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x85EBCA77)
    x ^= x >> np.uint32(13)
    x *= np.uint32(0xC2B2AE35)
    x ^= x >> np.uint32(16)
    return (x >> np.uint32(8)).astype(np.float32) * np.float32(1.0 / (1 << 24))
