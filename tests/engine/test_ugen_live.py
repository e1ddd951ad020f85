"""ugen's fast path equals its plain path: the live label mapper against ``LabelMapper``
and the windowed renderer against rearranger + ``StyleGan2Generator.tail``, over a first
image, local strokes, a stroke that reaches the coarse grids, a new z and a mask edit."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from engine.inference.backends.names import BF16_TOLERANCE
from engine.inference.ugen_mapper_live import LiveLabelMapper
from engine.inference.ugen_render import UgenRenderer
from engine.inference.windows import changed_box, changed_groups
from engine.networks.blocks import fold_spectral_norm
from engine.networks.rearranger import Rearranger, RearrangerConfig
from engine.networks.semantic_mapper import LabelMapper, LabelMapperConfig
from engine.networks.stylegan2 import StyleGan2Config, StyleGan2Generator

SIDE, PROXY, K, CLASSES = 64, 16, 6, 5


@pytest.fixture(scope="module")
def nets() -> tuple[StyleGan2Generator, Rearranger, LabelMapper]:
    torch.manual_seed(0)
    g = StyleGan2Generator(StyleGan2Config.small(SIDE).generator).eval()
    r = Rearranger(RearrangerConfig.small(g.config.channels(PROXY), K)).eval()
    with torch.no_grad():
        for module in g.modules():
            if hasattr(module, "noise_strength"):
                module.noise_strength.fill_(0.3)  # the noise images' windows must line up too
        for p in r.parameters():  # no identity blocks: their windows must be right
            p.add_(torch.randn_like(p) * 0.05)
    mapper = fold_spectral_norm(LabelMapper(LabelMapperConfig.small(CLASSES, K))).eval()
    return g, r, mapper


def _onehot(labels: torch.Tensor) -> torch.Tensor:
    return F.one_hot(labels, CLASSES).permute(0, 3, 1, 2).float()


def _ws(g: StyleGan2Generator, z: torch.Tensor) -> torch.Tensor:
    """The renderer's style input: z's ws (1, num_ws, w_dim)."""
    with torch.no_grad():
        return g.mapping(z[None])


def _plain(g: StyleGan2Generator, r: Rearranger, z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        ws = _ws(g, z)
        features, skip = g.head(ws, PROXY, noise_mode="const")
        return g.tail(ws, *r(features, skip, mask[None]), PROXY, noise_mode="const")


def test_live_mapper_follows_strokes(nets: tuple) -> None:
    *_, mapper = nets
    live = LiveLabelMapper(mapper, (PROXY, PROXY))
    labels = torch.zeros(1, SIDE, SIDE, dtype=torch.long)
    labels[:, 24:] = 1
    strokes = [(5, 5, 3, 2), (40, 40, 6, 3), (0, 0, SIDE, 4), (50, 10, 4, 1)]  # (y, x, size, class)
    for y, x, size, cls in [(0, 0, 0, 0), *strokes]:
        labels[:, y : y + size, x : x + size] = cls
        with torch.no_grad():
            expected = mapper(_onehot(labels), (PROXY, PROXY))
        got = live(_onehot(labels))
        scale = float(expected.abs().max())
        assert float((got - expected).abs().max()) <= 1e-5 * scale
    assert live.last_box is not None
    # The finest level samples every 4th pixel, the coarser ones every 8th and 16th: a dot on
    # (60, 60) reaches the finest only, and its logits change near that corner alone.
    labels[:, 60, 60] = 2
    live(_onehot(labels))
    assert live.last_box == (10, 10, PROXY, PROXY)
    labels[:, 61, 61] = 3  # no level samples it: nothing changes
    live(_onehot(labels))
    assert live.last_box is None
    assert live(_onehot(labels)) is live.logits and live.last_box is None  # nothing changed


def test_renderer_equals_the_plain_pipeline(nets: tuple) -> None:
    g, r, _ = nets
    renderer = UgenRenderer(g, r, PROXY)
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(g.config.z_dim, generator=gen)
    mask = torch.randint(0, K, (PROXY, PROXY), generator=gen)
    steps = [
        ("first", []),
        ("dot", [(7, 7, 8, 8)]),
        ("corner", [(0, 0, 3, 2)]),
        ("edge", [(12, 10, 16, 16)]),
        ("two apart", [(0, 0, 1, 1), (15, 15, 16, 16)]),  # grouped apart, each on its own windows
    ]
    for name, boxes in steps:
        for y0, x0, y1, x1 in boxes:
            mask[y0:y1, x0:x1] = (mask[y0:y1, x0:x1] + 1) % K
        got = renderer.render(_ws(g, z), mask)
        assert float((got - _plain(g, r, z, mask)).abs().max()) <= 1e-4, name
        if boxes:
            assert renderer.last_boxes == boxes  # only the changed cells were redone from the queries on
    z2 = torch.randn(g.config.z_dim, generator=gen)  # a re-roll: same mask, new style
    assert float((renderer.render(_ws(g, z2), mask) - _plain(g, r, z2, mask)).abs().max()) <= 1e-4
    assert renderer.last_box == (0, 0, PROXY, PROXY)
    before = renderer.render(_ws(g, z2), mask).clone()
    assert torch.equal(renderer.render(_ws(g, z2), mask), before) and renderer.last_box is None


def test_bf16_renderer_stays_within_the_bf16_tolerance(nets: tuple) -> None:
    g, r, _ = nets
    fp32, bf16 = UgenRenderer(g, r, PROXY), UgenRenderer(g, r, PROXY, bf16=True)
    gen = torch.Generator().manual_seed(2)
    z = torch.randn(g.config.z_dim, generator=gen)
    mask = torch.randint(0, K, (PROXY, PROXY), generator=gen)
    for _ in range(2):
        reference = fp32.render(_ws(g, z), mask)
        scale = max(1.0, float(reference.abs().max()))
        assert float((bf16.render(_ws(g, z), mask).float() - reference).abs().max()) <= BF16_TOLERANCE * scale
        mask[3:6, 4:9] = (mask[3:6, 4:9] + 2) % K


def test_changed_box() -> None:
    a = torch.zeros(2, 8, 8)
    assert changed_box(a, None) == (0, 0, 8, 8)
    assert changed_box(a, a.clone()) is None
    b = a.clone()
    b[1, 2, 5] = 1
    b[0, 6, 3] = 1
    assert changed_box(b, a) == (2, 3, 7, 6)


def test_changed_groups_split_only_when_it_saves_work() -> None:
    old = torch.zeros(32, 32, dtype=torch.long)
    new = old.clone()
    new[2, 2] = new[3, 5] = 1  # near: one group
    new[28, 28] = 1  # far: its own
    assert changed_groups(new, old, grow_by=4) == [(2, 2, 4, 6), (28, 28, 29, 29)]
    near = old.clone()
    near[2, 2] = near[2, 8] = 1  # apart, but their grown boxes overlap: one box costs less
    assert changed_groups(near, old, grow_by=4) == [(2, 2, 3, 9)]
    assert changed_groups(old, old, grow_by=4) == []
