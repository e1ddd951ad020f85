"""The spectrum loss: its bands, values derivable by hand, and that descending it removes
stripes while it restores fine detail instead of blurring."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import InputError
from engine.train.options import FitOptions
from engine.train.spectrum_loss import BANDS, band_index, band_means, spectrum_loss
from engine.train.stripe_loss import axis_power, axis_share, highpass_power
from tests.engine.test_oasis_paired import _batch, _training


def _textured(n: int, size: int, seed: int) -> torch.Tensor:
    """Images with fine detail in every direction (smoothed noise around mid grey)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, size + 2, size + 2, generator=g)
    x = torch.nn.functional.avg_pool2d(x, 3, stride=1)  # some correlation, still fine detail
    return (0.3 * x).expand(n, 3, size, size).clone()


def test_bands_cover_the_spectrum_and_mark_the_axes() -> None:
    band, on_axis = band_index(32, 48)
    assert band[0, 0] == -1  # DC: below the first band
    assert band[0, 3] == -1 and band[0, 5] >= 0  # 3 cycles per the shorter side (32) is the start
    assert band[16, 24] == BANDS - 1  # the Nyquist corner joins the last band
    assert set(band.unique().tolist()) == {-1, *range(BANDS)}
    assert bool(on_axis[0, 7]) and bool(on_axis[5, 0]) and not bool(on_axis[3, 4])
    # Bands grow outward: along an axis the band index never decreases with frequency.
    row = band[0, : 48 // 2 + 1]
    assert bool((row[1:] >= row[:-1]).all())


def test_band_means_are_batch_means_of_the_bins() -> None:
    power = torch.zeros(2, 16, 16)
    power[0, 0, 6] = 4.0  # one on-axis bin in one image
    band, on_axis = band_index(16, 16)
    b = int(band[0, 6])
    means = band_means(power)
    bins = int((on_axis & (band == b)).sum())
    assert means[0, b].item() == pytest.approx(4.0 / 2 / bins)  # batch mean, then bin mean
    assert means[1].abs().sum().item() == 0.0


def test_values_by_hand() -> None:
    real = _textured(3, 32, 0)
    assert spectrum_loss(real, real, 1.0).item() == pytest.approx(0.0, abs=1e-6)
    assert spectrum_loss(real, real, 0.0).item() == 0.0
    # Scaling an image by a scales its high-pass power by a² in every band: |log a²| each.
    for a in (0.5, 2.0):
        assert spectrum_loss(real * a, real, 1.5).item() == pytest.approx(
            1.5 * 2 * abs(math.log(a)), rel=1e-3
        )
    with pytest.raises(ValueError, match="differ in size"):
        spectrum_loss(real, real[..., :16], 1.0)


def test_descending_it_removes_stripes_and_restores_detail() -> None:
    real = _textured(4, 48, 1)
    # A generator-like image: too smooth (a quarter of the detail) plus a vertical stripe
    # pattern with a period of 3 px.
    x = torch.arange(48.0)
    stripes = 0.15 * torch.sin(2 * math.pi * x / 3.0).expand(1, 3, 48, 48)
    start = (0.25 * _textured(1, 48, 9) + stripes).requires_grad_(True)
    opt = torch.optim.Adam([start], lr=0.01)
    before = start.detach().clone()
    for _ in range(200):
        opt.zero_grad()
        spectrum_loss(start, real, 1.0).backward()
        opt.step()
    after = start.detach()
    # Fewer stripes: the axis share falls towards the real images'.
    assert axis_share(after).item() < axis_share(before).item() / 2
    assert axis_share(after).item() < 2 * axis_share(real).mean().item()
    # Not by blurring: the high-pass power off the axes grows towards the real images'.
    off = lambda t: (axis_power(t)[1] - axis_power(t)[0]).mean().item()  # noqa: E731
    assert off(after) > 2 * off(before)
    assert highpass_power(after).sum().item() > 0.3 * highpass_power(real).mean(0).sum().item()


def test_options(tmp_path: Path) -> None:
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(InputError, match="lambda-spectrum"):
            FitOptions(data="folder:x", out=tmp_path, lambda_spectrum=bad).validate()
    with pytest.raises(InputError, match="spectrum loss"):
        FitOptions(data="folder:x", out=tmp_path, family="resail", lambda_spectrum=1.0).validate()


def test_an_oasis_step_trains_with_it(tmp_path: Path) -> None:
    training = _training(tmp_path, lambda_spectrum=1.0)
    losses = training.step(_batch(), 0, 0)
    assert "loss_spectrum" in training.loss_names and np.isfinite(losses["loss_spectrum"])
    assert losses["loss_spectrum"] > 0
