"""Quality measures behave as their definitions say."""

from __future__ import annotations

import numpy as np
import torch

from engine.metrics import ColourTextureStats, ConfusionMatrix, frechet_distance, ms_ssim
from engine.metrics.distributions import _traces_from_covariances, _traces_from_samples


def test_frechet_distance_of_shifted_gaussians() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 3))
    assert frechet_distance(a, a) < 1e-6
    # Same covariance, mean shifted by (2, 0, 0): the distance is |Δμ|² = 4.
    assert abs(frechet_distance(a, a + np.array([2.0, 0.0, 0.0])) - 4.0) < 1e-6


def test_frechet_distance_with_fewer_samples_than_dimensions() -> None:
    # The N×M route (used when N < D) gives what the D×D covariance route gives.
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(5, 40)), rng.normal(1.0, 2.0, size=(7, 40))
    a_c, b_c = a - a.mean(0), b - b.mean(0)
    np.testing.assert_allclose(_traces_from_samples(a_c, b_c), _traces_from_covariances(a, b), rtol=1e-6)
    d = frechet_distance(a, b)
    assert abs(d - frechet_distance(b, a)) < 1e-9 and d > 0
    assert abs(frechet_distance(a, a)) < 1e-9


def test_ms_ssim_identity_and_noise() -> None:
    x = torch.rand(2, 3, 128, 128)
    torch.testing.assert_close(ms_ssim(x, x), torch.ones(2))
    noisy = (x + 0.3 * torch.randn_like(x)).clamp(0, 1)
    assert (ms_ssim(x, noisy) < 0.9).all()


def test_miou() -> None:
    cm = ConfusionMatrix(3, ignore=0)
    target = np.array([0, 1, 1, 2, 2, 2])
    pred = np.array([2, 1, 2, 2, 2, 2])
    cm.update(target, pred)
    # class 1: tp 1, union 2 → 0.5; class 2: tp 3, union 4 → 0.75; the ignored pixel is skipped
    assert abs(cm.miou() - 0.625) < 1e-9


def test_colour_and_texture_distances() -> None:
    rng = np.random.default_rng(1)
    smooth = np.full((64, 64, 3), 120, np.uint8)
    rough = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    a, b, c = ColourTextureStats(), ColourTextureStats(), ColourTextureStats()
    a.add(smooth)
    b.add(smooth.copy())
    c.add(rough)
    assert a.colour_emd(b) == 0 and a.texture_chi2(b) == 0
    assert a.colour_emd(c) > 1 and a.texture_chi2(c) > 0.5
