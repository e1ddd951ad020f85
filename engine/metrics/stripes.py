"""Stripe measure: how much of an image's fine detail lies on the two frequency axes.

Vertical and horizontal stripes — the grid artefacts of early GAN training — put their
energy on the kx = 0 and ky = 0 lines of the 2-D spectrum; natural detail spreads over
all orientations. The *axis share* of an image is

    high-pass = grey − GaussianBlur(grey, σ = 2)   (borders reflected)
    P         = |FFT2(high-pass)|²
    share     = Σ P on the two axes with |k| ≥ 3  /  Σ P

No window: the high-pass image has no large jump where the FFT wraps around, and a
window would smear a stripe's energy off its axis (a Hann window keeps only 2/3 of it
there). The *stripe ratio* of a generator is its mean share over the mean
share of the real images of the same maps: 1 means as axis-aligned as the real images.

The share is a ratio, so it rises both with stripes and with missing fine texture off the
axes. :func:`axis_powers` splits it: the *axis power ratio* (generated over real high-pass
power on the axes: 1 = as much as the real images, above 1 = stripes) and the *detail
ratio* (the same off the axes: below 1 = smoother than the real images). The stripe ratio
is roughly the first over the second.
"""

from __future__ import annotations

import cv2
import numpy as np

SIGMA = 2.0
MIN_FREQUENCY = 3


def grey(image: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of an H×W×3 uint8 (or float) image, as float64 in 0..255."""
    x = np.asarray(image, np.float64)
    if x.ndim == 2:
        return x
    return x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114


def spectrum_measures(image: np.ndarray) -> tuple[float, float, float]:
    """(axis share, power on the axes, power off them) from one FFT: see :func:`axis_share`
    and :func:`axis_powers`, which read one part each; the eval needs all three."""
    g = grey(image)
    h, w = g.shape
    if min(h, w) < 2 * MIN_FREQUENCY + 1:
        raise ValueError(f"the stripe measure needs at least {2 * MIN_FREQUENCY + 1} pixels a side")
    high = g - cv2.GaussianBlur(g, (0, 0), SIGMA, borderType=cv2.BORDER_REFLECT)
    power = np.abs(np.fft.fft2(high)) ** 2
    ky = np.abs(np.fft.fftfreq(h) * h)
    kx = np.abs(np.fft.fftfreq(w) * w)
    on_axes = float(power[ky >= MIN_FREQUENCY, 0].sum() + power[0, kx >= MIN_FREQUENCY].sum())
    off_axes = float(power[1:, 1:].sum())
    total = float(power.sum())
    # Parseval: Σ|FFT|² = N·Σx², so divide by N² for the mean square per pixel.
    n2 = float(h * w) ** 2
    return (on_axes / total if total > 0 else 0.0), on_axes / n2, off_axes / n2


def axis_powers(image: np.ndarray) -> tuple[float, float]:
    """High-pass power on the two frequency axes (|k| ≥ 3) and off them, per pixel (so images
    of different sizes compare), for grey levels in 0..255."""
    _, on_axes, off_axes = spectrum_measures(image)
    return on_axes, off_axes


def axis_share(image: np.ndarray) -> float:
    """The share of the high-pass spectral power on the two frequency axes (|k| ≥ 3)."""
    return spectrum_measures(image)[0]


def share_ratio(generated: list[float], real: list[float]) -> float:
    """Mean axis share of generated images over that of real ones, from their shares."""
    if not generated or not real:
        raise ValueError("the stripe ratio needs at least one generated and one real image")
    return float(np.mean(generated)) / max(float(np.mean(real)), 1e-12)


def power_ratio(generated: list[float], real: list[float]) -> float:
    """Mean power of the generated images over that of the real ones (one value per image)."""
    if not generated or not real:
        raise ValueError("a power ratio needs at least one generated and one real image")
    return float(np.mean(generated)) / max(float(np.mean(real)), 1e-12)


def stripe_ratio(generated: list[np.ndarray], real: list[np.ndarray]) -> float:
    """Mean axis share of the generated images over that of the real ones (1 = as real)."""
    return share_ratio([axis_share(x) for x in generated], [axis_share(x) for x in real])
