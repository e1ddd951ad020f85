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


def axis_share(image: np.ndarray) -> float:
    """The share of the high-pass spectral power on the two frequency axes (|k| ≥ 3)."""
    g = grey(image)
    h, w = g.shape
    if min(h, w) < 2 * MIN_FREQUENCY + 1:
        raise ValueError(f"the stripe measure needs at least {2 * MIN_FREQUENCY + 1} pixels a side")
    high = g - cv2.GaussianBlur(g, (0, 0), SIGMA, borderType=cv2.BORDER_REFLECT)
    power = np.abs(np.fft.fft2(high)) ** 2
    total = power.sum()
    if total <= 0:
        return 0.0
    ky = np.abs(np.fft.fftfreq(h) * h)
    kx = np.abs(np.fft.fftfreq(w) * w)
    on_axes = power[ky >= MIN_FREQUENCY, 0].sum() + power[0, kx >= MIN_FREQUENCY].sum()
    return float(on_axes / total)


def share_ratio(generated: list[float], real: list[float]) -> float:
    """Mean axis share of generated images over that of real ones, from their shares."""
    if not generated or not real:
        raise ValueError("the stripe ratio needs at least one generated and one real image")
    return float(np.mean(generated)) / max(float(np.mean(real)), 1e-12)


def stripe_ratio(generated: list[np.ndarray], real: list[np.ndarray]) -> float:
    """Mean axis share of the generated images over that of the real ones (1 = as real)."""
    return share_ratio([axis_share(x) for x in generated], [axis_share(x) for x in real])
