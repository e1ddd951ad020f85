"""A spectral loss: the generated batch's fine-detail spectrum, band by band, held to the real's.

Measured on the shipped landscapes-oasis (2026-12-05, 24 test maps at 256², high-pass grey
as in :mod:`engine.metrics.stripes`): the generated images carry only 0.33× the renders'
high-pass power — 0.19× at periods of 2.7–4 px and 0.03× under 2.7 px off the frequency
axes — while *on* the axes the 2.7–4 px band holds 1.7× the renders' power, in narrow peaks
near a 3.2 px period. The stripe ratio (3.24) is as much missing fine texture as extra
stripes: the axis share is a ratio, and the denominator is short. No training loss sees
this scale — the paired L1 is pooled 4×4, the perceptual network's stem has stride 2, and
the discriminator sees full resolution only through its first two convolutions.

The loss compares the batch-mean power of fakes and reals in ``BANDS`` log-spaced radial
frequency bands (from 3 cycles per image side to the Nyquist corner), separately on the two
axes (kx = 0 or ky = 0) and off them:

    λ · mean over bands and {on, off} of | log(P_fake + ε) − log(P_real + ε) |

so missing detail is asked for and the axis peaks are pushed down, each in its own band,
with no band mattering more for having more power. Batch means compare distributions, not
pairs: the generated texture need not copy the paired render's. It relates to the spectral
regularisation of Durall et al. (CVPR 2020, "Watch your up-convolution"), which matches the
azimuthally averaged spectrum; separating the axes is what lets it remove stripes without
asking for blur (the failure of :mod:`engine.train.stripe_loss`).
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch

from engine.metrics.stripes import MIN_FREQUENCY
from engine.train.stripe_loss import highpass_power

BANDS = 8
EPS = 1e-6  # per-bin power floor (an all-flat band would otherwise give log 0)


@lru_cache(maxsize=8)  # one per training size and device
def band_index(h: int, w: int, device: torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(H, W) band of every FFT bin (-1: below the first band, the DC term included) and
    (H, W) bool, whether the bin lies on a frequency axis."""
    fy = torch.fft.fftfreq(h, device=device).abs()[:, None]
    fx = torch.fft.fftfreq(w, device=device).abs()[None, :]
    radius = (fy.square() + fx.square()).sqrt()  # cycles per pixel, up to √0.5 in the corners
    low = MIN_FREQUENCY / min(h, w)
    # Geometric band edges from `low` to 0.5; the corners beyond 0.5 join the last band.
    step = math.log(0.5 / low) / BANDS
    band = torch.floor(torch.log(radius.clamp_min(1e-12) / low) / step).long()
    band = torch.where(radius < low, torch.full_like(band, -1), band.clamp(max=BANDS - 1))
    on_axis = (fy == 0) | (fx == 0)
    return band, on_axis.expand(h, w)


def band_means(power: torch.Tensor) -> torch.Tensor:
    """(2, BANDS) batch-mean power per band, on the axes (row 0) and off them (row 1), of a
    (B, H, W) power spectrum; a band with no bins (tiny images) is 0."""
    h, w = power.shape[-2:]
    band, on_axis = band_index(h, w, power.device)
    mean = power.mean(0)
    out = power.new_zeros(2, BANDS)
    for row, where in enumerate((on_axis, ~on_axis)):
        for b in range(BANDS):
            bins = where & (band == b)
            if bool(bins.any()):
                out[row, b] = mean[bins].mean()
    return out


def spectrum_loss(fake: torch.Tensor, real: torch.Tensor, weight: float) -> torch.Tensor:
    """``weight`` × the mean absolute log-ratio of the fakes' and the reals' band powers;
    (B, 3, H, W) images in [-1, 1], fakes and reals of the same size. Bands that have no
    bins at this size are left out."""
    if weight <= 0 or fake.shape[0] == 0:
        return torch.zeros((), device=fake.device)
    if fake.shape[-2:] != real.shape[-2:]:
        raise ValueError(f"fakes {tuple(fake.shape[-2:])} and reals {tuple(real.shape[-2:])} differ in size")
    ours = band_means(highpass_power(fake))
    with torch.no_grad():
        target = band_means(highpass_power(real))
    present = target > 0
    gap = (ours[present] + EPS).log() - (target[present] + EPS).log()
    return weight * gap.abs().mean()
