"""Incremental OASIS synthesis equals a full recompute (engine/inference/incremental.py)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from engine.inference.incremental import IncrementalOasis, changed_box
from engine.networks.blocks import fold_spectral_norm
from engine.networks.oasis import OasisConfig, OasisGenerator, OasisGeneratorConfig

ATOL = 1e-4
NC = 9  # classes of the small model


def _generator(config: OasisGeneratorConfig, seed: int = 0) -> OasisGenerator:
    """Random, non-trivial weights: PyTorch's default conv init (larger than the official
    0.02 Xavier, so γ and β matter), BatchNorm statistics from a training-mode pass (so the
    image is not saturated), spectral norm folded."""
    torch.manual_seed(seed)
    g = OasisGenerator(config)
    for module in g.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = None  # running stats = plain average over the passes
    labels, z = _scene(config.semantic_nc, 64, 64, seed=seed, batch=2)
    with torch.no_grad():
        g.train()(_onehot(labels, config.semantic_nc), z)
    return fold_spectral_norm(g).eval()


def _onehot(labels: torch.Tensor, n: int) -> torch.Tensor:
    return torch.zeros(labels.shape[0], n, *labels.shape[1:]).scatter_(1, labels[:, None], 1.0)


def _scene(n: int, height: int, width: int, seed: int, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Blocky labels with some per-pixel speckle, and a per-pixel noise field (both non-trivial)."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randint(0, n, (batch, height // 8, width // 8), generator=g)
    labels = coarse.repeat_interleave(8, 1).repeat_interleave(8, 2)
    speckle = torch.rand(batch, height, width, generator=g) < 0.05
    labels[speckle] = torch.randint(0, n, (int(speckle.sum()),), generator=g)
    return labels, torch.randn(batch, 64, height, width, generator=g)


def _reference(g: OasisGenerator, onehot: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return g(onehot, z)


OPTIONS = [{}, {"onehot_gather": False}]  # per-class gather for the label part of the shared conv, or not


@pytest.fixture(scope="module")
def small() -> OasisGenerator:
    return _generator(OasisConfig.small(NC).generator)


def test_small_model_is_not_trivial(small: OasisGenerator) -> None:
    labels, z = _scene(NC, 64, 96, seed=1)
    out = _reference(small, _onehot(labels, NC), z)
    assert 0.05 < float(out.std()) and float((out.abs() > 0.99).float().mean()) < 0.5


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("size", [(64, 96), (32, 32), (96, 64)])
def test_full_equals_generator(small: OasisGenerator, options: dict, size: tuple[int, int]) -> None:
    labels, z = _scene(NC, *size, seed=2)
    onehot = _onehot(labels, NC)
    inc = IncrementalOasis(small, **options)
    torch.testing.assert_close(inc.full(onehot, z), _reference(small, onehot, z), atol=ATOL, rtol=0)


BOXES = [
    (20, 30, 36, 46),  # 16² in the middle
    (0, 0, 5, 7),  # top-left corner
    (50, 80, 64, 96),  # bottom-right corner, touching both borders
    (0, 40, 64, 41),  # one column, top to bottom
    (33, 65, 34, 66),  # one pixel
    (-10, -10, 20, 200),  # reaching past the borders
    (8, 8, 56, 88),  # most of the image: falls back to full
]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("box", BOXES)
def test_label_edit_equals_full(small: OasisGenerator, options: dict, box: tuple[int, int, int, int]) -> None:
    labels, z = _scene(NC, 64, 96, seed=3)
    inc = IncrementalOasis(small, **options)
    inc.full(_onehot(labels, NC), z)
    y0, x0, y1, x1 = max(box[0], 0), max(box[1], 0), box[2], box[3]
    edited = labels.clone()
    region = edited[:, y0:y1, x0:x1]
    region.copy_(torch.randint(0, NC, region.shape, generator=torch.Generator().manual_seed(4)))
    onehot = _onehot(edited, NC)
    out = inc.update(onehot, z, box)
    torch.testing.assert_close(out, _reference(small, onehot, z), atol=ATOL, rtol=0)


def test_noise_reroll_in_box(small: OasisGenerator) -> None:
    labels, z = _scene(NC, 64, 96, seed=5)
    onehot = _onehot(labels, NC)
    inc = IncrementalOasis(small)
    inc.full(onehot, z)
    z2 = z.clone()
    z2[:, :, 10:30, 50:96] = torch.randn(64, 1, 1)  # one new vector over the brushed area
    out = inc.update(onehot, z2, (10, 50, 30, 96))
    assert not inc.last_was_full
    torch.testing.assert_close(out, _reference(small, onehot, z2), atol=ATOL, rtol=0)


def test_edit_sequence_accumulates(small: OasisGenerator) -> None:
    labels, z = _scene(NC, 64, 128, seed=6, batch=2)
    inc = IncrementalOasis(small)
    inc.full(_onehot(labels, NC), z)
    gen = torch.Generator().manual_seed(7)
    for step in range(12):
        h, w = (int(v) for v in torch.randint(1, 24, (2,), generator=gen))
        y0 = int(torch.randint(-4, 64 - h + 4, (1,), generator=gen))
        x0 = int(torch.randint(-4, 128 - w + 4, (1,), generator=gen))
        box = (y0, x0, y0 + h, x0 + w)
        sl = (slice(None), slice(max(y0, 0), y0 + h), slice(max(x0, 0), x0 + w))
        if step % 3 == 2:
            z[(sl[0], slice(None), *sl[1:])] = torch.randn(2, 64, 1, 1, generator=gen)
        else:
            labels[sl] = int(torch.randint(0, NC, (1,), generator=gen))  # a flat brush dab
        onehot = _onehot(labels, NC)
        out = inc.update(onehot, z, box)
        assert not inc.last_was_full
        torch.testing.assert_close(out, _reference(small, onehot, z), atol=ATOL, rtol=0)


def test_soft_labels_take_the_conv_path(small: OasisGenerator) -> None:
    labels, z = _scene(NC, 64, 64, seed=8)
    onehot = _onehot(labels, NC)
    inc = IncrementalOasis(small)
    inc.full(onehot, z)
    soft = onehot.clone()
    soft[:, :, 20:30, 20:30] = 1.0 / NC  # blended labels in the box: not one-hot any more
    out = inc.update(soft, z, (20, 20, 30, 30))
    torch.testing.assert_close(out, _reference(small, soft, z), atol=ATOL, rtol=0)
    soft[:, :, 40:44, 0:8] = _onehot(torch.zeros(1, 4, 8, dtype=torch.long), NC)
    out = inc.update(soft, z, (40, 0, 44, 8))
    torch.testing.assert_close(out, _reference(small, soft, z), atol=ATOL, rtol=0)


def test_unlabelled_pixels(small: OasisGenerator) -> None:
    """All-zero one-hot pixels (no class) are handled by the gather too."""
    labels, z = _scene(NC, 64, 64, seed=9)
    onehot = _onehot(labels, NC)
    onehot[:, :, :8, :] = 0
    inc = IncrementalOasis(small)
    torch.testing.assert_close(inc.full(onehot, z), _reference(small, onehot, z), atol=ATOL, rtol=0)
    onehot[:, :, 30:40, 30:40] = 0
    out = inc.update(onehot, z, (30, 30, 40, 40))
    torch.testing.assert_close(out, _reference(small, onehot, z), atol=ATOL, rtol=0)


def test_empty_box_none_and_new_size(small: OasisGenerator) -> None:
    labels, z = _scene(NC, 64, 64, seed=10)
    onehot = _onehot(labels, NC)
    inc = IncrementalOasis(small)
    first = inc.update(onehot, z, (0, 0, 4, 4))  # no cache yet: full
    assert inc.last_was_full
    assert inc.update(onehot, z, (5, 5, 5, 9)) is first  # empty box: nothing to do
    assert not inc.last_was_full
    assert inc.update(onehot, z, (70, 70, 80, 80)) is first  # outside the image
    inc.update(onehot, z, None)
    assert inc.last_was_full
    inc.update(onehot, z, (1, 1, 63, 63))  # most of the image: a full recompute is cheaper
    assert inc.last_was_full
    labels2, z2 = _scene(NC, 96, 64, seed=11)
    onehot2 = _onehot(labels2, NC)
    out = inc.update(onehot2, z2, (0, 0, 4, 4))
    assert inc.last_was_full
    torch.testing.assert_close(out, _reference(small, onehot2, z2), atol=ATOL, rtol=0)


def test_needs_folded_eval_generator() -> None:
    g = OasisGenerator(OasisConfig.small(NC).generator)
    with pytest.raises(ValueError, match="eval"):
        IncrementalOasis(g)
    with pytest.raises(ValueError, match="spectral"):
        IncrementalOasis(g.eval())


def test_changed_box() -> None:
    a = torch.zeros(1, 3, 10, 12)
    assert changed_box(a, a.clone()) is None
    b = a.clone()
    b[0, 2, 3, 4] = 1
    b[0, 0, 6, 9] = 1
    assert changed_box(a, b) == (3, 4, 7, 10)


@pytest.mark.slow
def test_mid_size_model() -> None:
    config = OasisGeneratorConfig(semantic_nc=20, channels_g=16, spade_hidden=64)
    g = _generator(config, seed=1)
    labels, z = _scene(20, 128, 128, seed=12)
    inc = IncrementalOasis(g)
    onehot = _onehot(labels, 20)
    torch.testing.assert_close(inc.full(onehot, z), _reference(g, onehot, z), atol=ATOL, rtol=0)
    for box, cls in (((40, 50, 72, 82), 3), ((96, 0, 128, 32), 17), ((0, 120, 9, 128), 0)):
        labels[:, box[0] : box[2], box[1] : box[3]] = cls
        onehot = _onehot(labels, 20)
        out = inc.update(onehot, z, box)
        assert not inc.last_was_full
        torch.testing.assert_close(out, _reference(g, onehot, z), atol=ATOL, rtol=0)
