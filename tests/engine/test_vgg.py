"""A local VGG-19 file: loaded safely, checked for its layout, tapped at relu1_1 … relu5_1."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.errors import WeightsError
from engine.networks.vgg import Vgg19Features, load_vgg19, perceptual_loss
from tests.helpers import write_random_vgg19


@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_random_vgg19(tmp_path_factory.mktemp("vgg") / "vgg19.pth")


def test_loads_and_taps_five_levels(vgg_file: Path) -> None:
    net = load_vgg19(vgg_file)
    assert not any(p.requires_grad for p in net.parameters())
    taps = net(torch.zeros(1, 3, 64, 48))
    assert [t.shape[1] for t in taps] == list(Vgg19Features.widths)
    assert [t.shape[-2:] for t in taps] == [(64 >> i, 48 >> i) for i in range(5)]
    saved = torch.load(vgg_file, weights_only=True)
    assert torch.equal(net.features[0].weight, saved["features.0.weight"].float())
    # The loss is zero for equal images, positive otherwise, and sends gradients to the fake.
    real = torch.rand(1, 3, 32, 32) * 2 - 1
    fake = (real + 0.3 * torch.randn_like(real)).requires_grad_(True)
    assert float(perceptual_loss(net, real, real)) == 0
    loss = perceptual_loss(net, fake, real)
    loss.backward()
    assert float(loss.detach()) > 0 and fake.grad is not None and fake.grad.abs().sum() > 0


def test_bad_files_name_the_file_and_the_fix(vgg_file: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(vgg_file.read_bytes()[:100_000])
    with pytest.raises(WeightsError, match=r"truncated\.pth: cannot read this file safely"):
        load_vgg19(truncated)
    with pytest.raises(WeightsError, match="not found"):
        load_vgg19(tmp_path / "absent.pth")

    state = torch.load(vgg_file, weights_only=True)
    vgg16_like = {k: v for k, v in state.items() if not k.startswith("features.16.")}
    torch.save(vgg16_like, tmp_path / "other.pth")
    with pytest.raises(WeightsError, match=r"(?s)torchvision's layout: no features\.16\.weight.*vgg19"):
        load_vgg19(tmp_path / "other.pth")
    state["features.28.weight"] = torch.zeros(256, 512, 3, 3)
    torch.save(state, tmp_path / "narrow.pth")
    with pytest.raises(WeightsError, match=r"features\.28\.weight has shape"):
        load_vgg19(tmp_path / "narrow.pth")

    # Anything but plain tensors is refused unread.
    torch.save({"features.0.weight": Path("not a tensor")}, tmp_path / "pickled.pth")
    with pytest.raises(WeightsError, match=r"pickled\.pth"):
        load_vgg19(tmp_path / "pickled.pth")
