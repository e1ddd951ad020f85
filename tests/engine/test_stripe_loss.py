"""The stripe loss: the metric's twin in torch, zero without excess, and it removes stripes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import InputError
from engine.metrics.stripes import axis_share as metric_share
from engine.train.options import FitOptions
from engine.train.stripe_loss import axis_power, axis_share, stripe_loss
from tests.engine.test_oasis_paired import _batch, _training


def _tensor(images: list[np.ndarray]) -> torch.Tensor:
    return torch.tensor(np.stack(images)).permute(0, 3, 1, 2).float() / 127.5 - 1


def _striped(h: int, w: int, seed: int, amplitude: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:h, :w]
    base = rng.normal(128, 25, (h, w, 3)) + 20 * np.sin((x + y) * 0.7)[..., None]  # diagonal detail
    stripes = amplitude * np.sin(x * 2 * np.pi * 6 / w)[..., None]
    return np.clip(base + stripes, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("size", [(40, 56), (33, 47), (64, 64)])
def test_it_measures_what_the_metric_measures(size: tuple[int, int]) -> None:
    h, w = size
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (h, w, 3)).astype(np.uint8), _striped(h, w, 2, 60), _striped(h, w, 3, 0)]
    ours = axis_share(_tensor(images)).tolist()
    assert ours == pytest.approx([metric_share(x) for x in images], rel=5e-3)


def test_no_excess_no_loss_and_stripes_cost() -> None:
    real = _tensor([_striped(48, 48, i, 0) for i in range(3)])
    assert stripe_loss(real, real, 1.0).item() < 0.1  # only the spread of the real shares
    assert stripe_loss(real, real, 0.0).item() == 0.0
    striped = _tensor([_striped(48, 48, i, 80) for i in range(3)])
    assert stripe_loss(striped, real, 2.0).item() > 2 * 5  # several times the real share
    # A smooth image whose little detail is stripes costs too (its absolute axis power is
    # below the real images', its share is not).
    smooth = _tensor([_striped(48, 48, i, 20) for i in range(3)]) * 0.1
    assert stripe_loss(smooth, real, 1.0).item() > 1


def test_noise_off_the_axes_does_not_lower_it_through_the_gradient() -> None:
    real = _tensor([_striped(48, 48, i, 0) for i in range(3)])
    image = _tensor([_striped(48, 48, 9, 80)]).requires_grad_(True)
    stripe_loss(image, real, 1.0).backward()
    # Following the gradient must lower the axis power, not raise the total.
    step = image.detach() - 0.05 * image.grad / image.grad.abs().max()
    (on_before, total_before), (on_after, total_after) = axis_power(image.detach()), axis_power(step)
    assert on_after.item() < on_before.item() and total_after.item() <= total_before.item()


def test_descending_it_removes_the_stripes_and_keeps_the_rest() -> None:
    real = _tensor([_striped(48, 48, i, 0) for i in range(4)])
    image = _tensor([_striped(48, 48, 9, 80)]).requires_grad_(True)
    start = axis_share(image.detach()).item()
    opt = torch.optim.Adam([image], lr=0.02)
    for _ in range(150):
        opt.zero_grad()
        stripe_loss(image, real, 1.0).backward()
        opt.step()
    end = axis_share(image.detach()).item()
    assert end < start / 4 and end <= axis_share(real).mean().item() * 1.3
    # The image moves towards its stripe-free self (the part of the stripes that the σ = 2
    # blur keeps, about 30 % at this frequency, is below the high-pass and stays).
    clean = _tensor([_striped(48, 48, 9, 0)])
    before = _tensor([_striped(48, 48, 9, 80)])
    pairs = (torch.stack((x.flatten(), clean.flatten())) for x in (before, image.detach()))
    corr = [torch.corrcoef(pair)[0, 1] for pair in pairs]
    assert corr[1] > 0.9 and corr[1] > corr[0] + 0.2


def test_tiny_images_are_refused() -> None:
    with pytest.raises(ValueError, match="pixels a side"):
        axis_share(torch.zeros(1, 3, 6, 64))


def test_options(tmp_path: Path) -> None:
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(InputError, match="lambda-stripe"):
            FitOptions(data="folder:x", out=tmp_path, lambda_stripe=bad).validate()
    with pytest.raises(InputError, match="stripe loss"):
        FitOptions(data="folder:x", out=tmp_path, family="msca", lambda_stripe=1.0).validate()


def test_an_oasis_step_trains_with_it(tmp_path: Path) -> None:
    training = _training(tmp_path, lambda_stripe=1.0)
    losses = training.step(_batch(), 0, 0)
    assert "loss_stripe" in training.loss_names and np.isfinite(losses["loss_stripe"])
    assert losses["loss_stripe"] >= 0
