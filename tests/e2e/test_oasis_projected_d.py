"""OASIS with its discriminator on a frozen ImageNet EfficientNet-Lite0 trunk (beyond the paper):
the net's shape and freezing, the warm-up that trains it alone, --init-from a folder with the
paper's discriminator, export and load."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from engine.checkpoints import load_weights
from engine.networks.oasis import OasisDiscriminatorConfig, oasis_discriminator
from engine.networks.oasis_projected import ProjectedOasisDiscriminator
from engine.networks.pretrained import load_efficientnet_lite0, load_imagenet_trunk
from engine.train.cli import main
from tests.helpers import make_folder_dataset


def _tiny() -> ProjectedOasisDiscriminator:
    config = OasisDiscriminatorConfig(
        semantic_nc=5, widths=(8, 8, 8, 16, 16), last_width=4, backbone="efficientnet-lite0"
    )
    net = oasis_discriminator(config)
    assert isinstance(net, ProjectedOasisDiscriminator) and config.size_multiple == 32
    return net


def test_segments_at_full_resolution_with_a_frozen_trunk() -> None:
    d = _tiny()
    load_imagenet_trunk(d.backbone)
    imagenet = load_efficientnet_lite0().state_dict()
    assert torch.equal(d.backbone.state_dict()["_conv_stem.weight"], imagenet["_conv_stem.weight"])
    d.train().requires_grad_(False).requires_grad_(True)  # the G step's freeze and thaw
    assert not d.backbone.training and all(not p.requires_grad for p in d.backbone.parameters())
    image = torch.rand(2, 3, 64, 96, requires_grad=True)
    logits = d(image * 2 - 1)
    assert logits.shape == (2, 6, 64, 96)
    logits[:, 0].mean().backward()
    assert image.grad is not None and float(image.grad.abs().sum()) > 0  # reaches the generator
    assert all(p.grad is None for p in d.backbone.parameters())
    assert d.full_res[0].weight_orig.grad is not None  # the full-resolution branch is trained
    with pytest.raises(ValueError, match="divisible by 32"):
        d(torch.zeros(1, 3, 48, 48))


def _fit(args: list[str], data: Path, run: Path) -> list[dict]:
    base = ["fit", "--data", f"folder:{data}", "--out", str(run), "--size", "64", "--batch", "2"]
    base += ["--arch", "small", "--workers", "0", "--precision", "fp32", "--log-every", "1"]
    base += ["--sample-every", "100", "--ckpt-every", "100", "--ema-bn-batches", "1"]
    assert main([*base, *args]) == 0
    with (run / "log.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def _export(run: Path, out: Path) -> None:
    assert main(["export", "--run", str(run), "--out", str(out), "--bn-batches", "1"]) == 0


def test_init_from_the_papers_discriminator_warms_up_a_projected_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = make_folder_dataset(tmp_path / "data", count=4)
    _fit(["--steps", "1"], data, tmp_path / "paper")
    _export(tmp_path / "paper", tmp_path / "w0")
    before = dict(
        load_weights(tmp_path / "w0", family="oasis", parts=("generator_live",))
        .nets["generator_live"]
        .named_parameters()
    )
    projected = ["--init-from", str(tmp_path / "w0"), "--backbone", "efficientnet-lite0", "--d-warmup", "2"]

    rows = _fit([*projected, "--steps", "3"], data, tmp_path / "proj")
    out = capsys.readouterr().out
    assert "discriminator starts afresh" in out and "the first 2 steps train the discriminator only" in out
    # Warm-up steps: no generator loss, the discriminator's losses are there; then G trains.
    assert [float(r["loss_g"]) for r in rows[:2]] == [0.0, 0.0] and float(rows[2]["loss_g"]) > 0
    assert all(float(r["loss_d_real"]) > 0 for r in rows)
    _export(tmp_path / "proj", tmp_path / "w1")
    loaded = load_weights(tmp_path / "w1", family="oasis", parts=("generator_live", "discriminator")).nets
    assert isinstance(loaded["discriminator"], ProjectedOasisDiscriminator)
    assert loaded["discriminator"].config.backbone == "efficientnet-lite0"
    assert "EfficientNet-Lite0 trunk" in (tmp_path / "w1" / "CARD.md").read_text()
    trained = dict(loaded["generator_live"].named_parameters())
    assert any(not torch.equal(p, trained[k]) for k, p in before.items())  # G trained after the warm-up

    # G came from the folder: a run that is all warm-up exports the folder's G weights unchanged.
    _fit([*projected, "--steps", "2"], data, tmp_path / "warm")
    _export(tmp_path / "warm", tmp_path / "w2")
    warm = dict(
        load_weights(tmp_path / "w2", family="oasis", parts=("generator_live",))
        .nets["generator_live"]
        .named_parameters()
    )
    assert [k for k, p in before.items() if not torch.equal(p, warm[k])] == []


def test_d_warmup_and_backbone_are_refused_where_they_mean_nothing(tmp_path: Path) -> None:
    from engine.errors import InputError
    from engine.train.options import FitOptions

    with pytest.raises(InputError, match="--d-warmup"):
        FitOptions(data="x", out=tmp_path / "r", family="inade", d_warmup=3).validate()
    with pytest.raises(InputError, match="backbone"):
        FitOptions(data="x", out=tmp_path / "r", family="inade", backbone="efficientnet-lite0").validate()
