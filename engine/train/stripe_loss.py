"""A spectral loss against stripes: the generated images' axis share, held to the real ones'.

Early GAN training leaves full-length vertical and horizontal stripes (grid artefacts of
upsampling and of the discriminator's strided convolutions); they live on the kx = 0 and
ky = 0 lines of the 2-D spectrum. :func:`axis_share` is the differentiable twin of
:func:`engine.metrics.stripes.axis_share` (grey, minus its σ = 2 Gaussian blur with
reflected borders, FFT power on the two axes with |k| ≥ 3 over the total). The loss

    λ · mean_i max(0, axis power(fake_i) / (mean share(real) · total power(fake_i)) − 1)

is zero once a generated image is no more axis-aligned than the real batch on average, so
it only removes the excess and never asks for less structure than photos have. The
denominator is held fixed for the gradient, so it cannot be lowered by adding noise off
the axes, only by taking power off them. This is a
relative of the spectral regularisation of Durall et al. (CVPR 2020, "Watch your
up-convolution"), which matches the azimuthal power spectrum; here only the two axes,
where the artefacts are, are constrained.

Measured (2026-12-04, OASIS landscapes, 128² crops, λ = 1, from the shipped weights): the
stripes did not go, the images went: within 500 steps the generator washed out to a grey
blur. Removing detail everywhere lowers the axis power too, and with the allowance held
fixed the gradient keeps asking for less of it. Off by default; no shipped model uses it.
A smaller weight, or a target that also keeps the total high-pass power, is untried.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.metrics.stripes import MIN_FREQUENCY, SIGMA

_LUMA = (0.299, 0.587, 0.114)


def _kernel_size(sigma: float) -> int:
    # OpenCV's size for a sigma with ksize 0 on float images: round(sigma * 4 * 2 + 1) | 1.
    return round(sigma * 8 + 1) | 1


def _gaussian_kernel(sigma: float, device: torch.device) -> torch.Tensor:
    size = _kernel_size(sigma)
    x = torch.arange(size, dtype=torch.float64, device=device) - (size - 1) / 2
    k = torch.exp(-(x**2) / (2 * sigma * sigma))
    return (k / k.sum()).float()


def _blur(grey: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (B, 1, H, W) with borders reflected as OpenCV's BORDER_REFLECT."""
    k = _gaussian_kernel(sigma, grey.device)
    r = k.numel() // 2
    # BORDER_REFLECT repeats the edge pixel (fedcba|abcdef); torch's "reflect" does not, so
    # build the padding by flipping the edge strips.
    top, bottom = grey[..., :r, :].flip(-2), grey[..., -r:, :].flip(-2)
    x = torch.cat((top, grey, bottom), -2)
    left, right = x[..., :r].flip(-1), x[..., -r:].flip(-1)
    x = torch.cat((left, x, right), -1)
    x = F.conv2d(x, k.view(1, 1, -1, 1))
    return F.conv2d(x, k.view(1, 1, 1, -1))


def highpass_power(images: torch.Tensor) -> torch.Tensor:
    """(B, H, W) FFT power of the metric's high-pass grey image (grey − its σ = 2 blur), for
    (B, 3, H, W) images in [-1, 1]; in FFT order (index 0 = zero frequency)."""
    least = max(2 * MIN_FREQUENCY + 1, _kernel_size(SIGMA) // 2 + 1)  # the reflected border fits
    if min(images.shape[-2:]) < least:
        raise ValueError(f"the spectral losses need at least {least} pixels a side")
    x = images.float()
    luma = torch.tensor(_LUMA, device=x.device).view(1, 3, 1, 1)
    grey = (x * luma).sum(1, keepdim=True)
    high = (grey - _blur(grey, SIGMA))[:, 0]
    return torch.fft.fft2(high).abs().square()


def axis_power(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B,) high-pass power on the frequency axes (|k| ≥ 3) and (B,) total high-pass power,
    for (B, 3, H, W) images in [-1, 1]."""
    power = highpass_power(images)
    h, w = power.shape[-2:]
    ky = torch.fft.fftfreq(h, device=power.device).abs() * h
    kx = torch.fft.fftfreq(w, device=power.device).abs() * w
    on_axes = power[:, ky >= MIN_FREQUENCY, 0].sum(-1) + power[:, 0, kx >= MIN_FREQUENCY].sum(-1)
    return on_axes, power.sum((-2, -1))


def axis_share(images: torch.Tensor) -> torch.Tensor:
    """(B,) share of high-pass power on the frequency axes: the metric's value, differentiable."""
    on_axes, total = axis_power(images)
    return on_axes / total.clamp_min(1e-12)


def stripe_loss(fake: torch.Tensor, real: torch.Tensor, weight: float) -> torch.Tensor:
    """``weight`` × the mean excess of each fake's axis power over what the real batch's
    share would allow it, given the fake's own high-pass power.

    The allowance (real share × the fake's total) is held fixed for the gradient, so the
    only way down is less power on the axes: adding fine noise elsewhere does not pay.
    Measuring absolute power against the real images instead would not bite, because
    early generators are smoother than photos — little detail, but most of it stripes.
    """
    if weight <= 0 or fake.shape[0] == 0:
        return torch.zeros((), device=fake.device)
    with torch.no_grad():
        share_real = axis_share(real).mean().clamp_min(1e-6)
    on_axes, total = axis_power(fake)
    allowance = (share_real * total).detach().clamp_min(1e-8)
    return weight * F.relu(on_axes / allowance - 1).mean()
