"""Live RESAIL: exact full passes, windowed γ/β updates, the drift limit, and the synthesizer's use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from engine.inference.resail_live import ResailLive
from engine.networks.blocks import fold_spectral_norm
from engine.networks.resail import ResailGenerator, ResailGeneratorConfig

SIZE = 96


def _generator(seed: int = 0) -> ResailGenerator:
    torch.manual_seed(seed)
    cfg = ResailGeneratorConfig.for_output(5, SIZE, SIZE, ngf=2, spade_hidden=8, style_length=8)
    g = ResailGenerator(cfg)
    for m in g.modules():  # statistics a trained net would have, not the identity
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.5)
            m.running_var.uniform_(0.5, 2.0)
        if hasattr(m, "blending_gamma"):
            m.blending_gamma.data.fill_(0.4)
    return fold_spectral_norm(g).eval()


def _inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    channels = torch.randint(0, 5, (1, 6, 6), generator=gen).repeat_interleave(16, 1).repeat_interleave(16, 2)
    cond = torch.zeros(1, 5, SIZE, SIZE).scatter_(1, channels[:, None], 1.0)
    return cond, torch.rand(1, 3, SIZE, SIZE, generator=gen) * 2 - 1


def _stroke(cond: torch.Tensor, guide: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    cond2, guide2 = cond.clone(), guide.clone()
    cond2[:, :, 40:50, 30:44] = 0
    cond2[:, 3, 40:50, 30:44] = 1
    guide2[:, :, 36:60, 28:52] = 0.25
    return cond2, guide2


@torch.no_grad()
def test_a_full_pass_is_the_generator_and_nothing_changed_is_the_same_image() -> None:
    g = _generator()
    cond, guide = _inputs()
    live = ResailLive(g)
    first = live(cond, guide)
    assert live.last_exact and torch.equal(first, g(cond, guide))
    again = live(cond, guide, None, None)
    assert not live.last_exact and live.last_windows == 0 and torch.equal(again, first)
    # The class's modulation is back after each call: the plain forward is untouched.
    assert "modulation" not in vars(g.head_0.norm_0)


@torch.no_grad()
def test_the_window_covers_every_change_of_the_held_statistics_update() -> None:
    """Recomputing only the windows gives exactly what recomputing every pixel with the
    same held globals gives: the windows miss nothing the change can reach."""
    g = _generator(1)
    cond, guide = _inputs(1)
    cond2, guide2 = _stroke(cond, guide)
    windowed, whole = ResailLive(g, drift_limit=10), ResailLive(g, drift_limit=10)
    windowed(cond, guide)
    whole(cond, guide)
    a = windowed(cond2, guide2, (40, 30, 50, 44), (36, 28, 60, 52))
    b = whole(cond2, guide2, (0, 0, SIZE, SIZE), None)
    assert not windowed.last_exact and windowed.last_windows < whole.last_windows
    assert torch.equal(a, b)
    # Held globals are the approximation: close to the exact image, not equal.
    exact = g(cond2, guide2)
    assert (a - exact).abs().mean() < 0.05


@torch.no_grad()
def test_the_drift_limit_brings_back_an_exact_pass() -> None:
    g = _generator(2)
    cond, guide = _inputs(2)
    cond2, guide2 = _stroke(cond, guide)
    live = ResailLive(g, drift_limit=0.05)  # the stroke's boxes cover 6.25 % of the map
    live(cond, guide)
    image = live(cond2, guide2, (40, 30, 50, 44), (36, 28, 60, 52))
    assert live.last_exact and torch.equal(image, g(cond2, guide2))
    live(cond2, guide2, exact=True)
    assert live.last_exact


def test_the_synthesizer_paints_live_after_the_first_image(tmp_path: Path) -> None:
    from engine.inference.open import open_synthesizer
    from engine.noise import NoiseField
    from tests.helpers import write_tiny_resail

    synth = open_synthesizer(write_tiny_resail(tmp_path / "r"))
    labels = np.full((SIZE, SIZE), 5, np.uint16)
    labels[: SIZE // 3] = 1
    noise = NoiseField.uniform(SIZE, SIZE, seed=0, z_dim=synth.z_dim)
    first = synth.generate(labels, noise)
    assert synth.live.last_exact
    stroke = labels.copy()
    stroke[60:66, 10:20] = 1
    image = synth.generate(stroke, noise)
    assert not synth.live.last_exact
    assert image.shape == first.shape == (SIZE, SIZE, 3)
    # Same map again: nothing to recompute, the same picture.
    assert np.array_equal(synth.generate(stroke, noise), image)
    assert synth.live.last_windows == 0


def test_a_new_canvas_size_starts_over() -> None:
    g = _generator(3)
    cond, guide = _inputs(3)
    live = ResailLive(g)
    live(cond, guide)
    big_cond = torch.nn.functional.interpolate(cond, size=(SIZE, 2 * SIZE))
    big_guide = torch.nn.functional.interpolate(guide, size=(SIZE, 2 * SIZE))
    with torch.no_grad():
        out = live(big_cond, big_guide, (0, 0, 1, 1), None)
    assert live.last_exact and out.shape[-1] == 2 * SIZE
