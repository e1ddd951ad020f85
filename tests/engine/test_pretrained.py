"""The frozen ImageNet EfficientNet-Lite0 from its PyPI wheel: layout, safety, and that it
really is an ImageNet classifier (a rendered mountain lake is an alp, a lakeside …)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.data.landscapes.generate import render_scene
from engine.errors import WeightsError
from engine.metrics.effnet import EffNetFeatures
from engine.networks.pretrained import TAP_CHANNELS, efficientnet_file, load_efficientnet_lite0
from engine.train.perceptual import EfficientNetPerceptual

# ImageNet classes of landscapes: 970 alp, 972 cliff,
# 975 lakeside, 976 promontory, 977 sandbar, 978 seashore, 979 valley, 980 volcano.
LANDSCAPE_CLASSES = set(range(970, 981)) - {971, 973, 974}


@pytest.fixture(scope="module")
def net() -> torch.nn.Module:
    return load_efficientnet_lite0()


def test_rendered_landscapes_are_landscapes_to_imagenet(net: torch.nn.Module) -> None:
    images = [render_scene(seed, 224, 224)[0] for seed in range(6)]
    x = torch.from_numpy(np.stack(images).astype(np.float32)).permute(0, 3, 1, 2) / 127.5 - 1
    with torch.no_grad():
        top5 = net(x).topk(5, dim=1).indices.tolist()
    # A random or mis-built network would almost never rank these 9 of 1000 classes high.
    assert sum(bool(LANDSCAPE_CLASSES & set(t)) for t in top5) >= 5, top5


def test_features_have_the_documented_shapes(net: torch.nn.Module) -> None:
    out = net.features(torch.zeros(2, 3, 64, 96))
    assert [t.shape[1] for t in out["taps"]] == list(TAP_CHANNELS)
    assert [tuple(t.shape[-2:]) for t in out["taps"]] == [(16, 24), (8, 12), (4, 6), (2, 3)]
    assert out["pooled"].shape == (2, 1280)
    assert not any(p.requires_grad for p in net.parameters())


def test_a_file_with_a_wrong_shape_is_refused_by_name(tmp_path: Path) -> None:
    state = torch.load(efficientnet_file(), weights_only=True)
    state["_conv_head.weight"] = torch.zeros(10, 320, 1, 1)
    bad = tmp_path / "effnet.pth"
    torch.save(state, bad)
    with pytest.raises(WeightsError, match=r"_conv_head\.weight") as info:
        load_efficientnet_lite0(bad)
    assert "effnet.pth" in str(info.value)


def test_a_truncated_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "cut.pth"
    bad.write_bytes(efficientnet_file().read_bytes()[:1000])
    with pytest.raises(WeightsError, match=r"cut\.pth"):
        load_efficientnet_lite0(bad)


def test_perceptual_loss_is_zero_for_the_same_image_and_grows_with_change(net: torch.nn.Module) -> None:
    loss = EfficientNetPerceptual(net)
    image = torch.from_numpy(render_scene(3, 64, 64)[0].astype(np.float32)).permute(2, 0, 1)[None] / 127.5 - 1
    assert float(loss(image, image)) == 0
    slight, strong = float(loss(image * 0.9, image)), float(loss(-image, image))
    assert 0 < slight < strong
    loss.train()
    assert not loss.net.training  # frozen statistics whatever the trainer asks


def test_fed_features_of_one_image_match_and_differ_across_images() -> None:
    features = EffNetFeatures(batch=2)
    a, b = render_scene(1, 64, 64)[0], render_scene(2, 64, 64)[0]
    f = features([a, a, b])
    assert f.shape == (3, 1280)
    assert np.allclose(f[0], f[1]) and not np.allclose(f[0], f[2])
