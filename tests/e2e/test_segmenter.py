"""The evaluation segmenter trains, exports and loads through the same tools as OASIS."""

from __future__ import annotations

from pathlib import Path

import torch

from engine.checkpoints import load_weights
from engine.train.cli import main
from tests.helpers import make_folder_dataset


def test_segmenter_fit_export_load(tmp_path: Path) -> None:
    data = make_folder_dataset(tmp_path / "data", count=4)
    run, weights = tmp_path / "run", tmp_path / "seg"
    args = ["fit", "--family", "segmenter", "--data", f"folder:{data}", "--out", str(run), "--size", "64"]
    args += ["--batch", "2", "--steps", "6", "--arch", "small", "--workers", "0", "--precision", "fp32"]
    args += ["--log-every", "3", "--sample-every", "6", "--lr", "0.01"]
    assert main(args) == 0
    assert (run / "log.csv").read_text().splitlines()[
        0
    ] == "step,elapsed_s,images_per_s,loss_ce,pixel_accuracy"
    assert list((run / "samples").glob("*.png"))
    assert main(["export", "--run", str(run), "--out", str(weights)]) == 0
    loaded = load_weights(weights, family="segmenter", parts=("segmenter",))
    net = loaded.nets["segmenter"]
    logits = net(torch.zeros(1, 3, 64, 64))
    assert logits.shape == (1, 5, 64, 64)
    assert net.features(torch.zeros(2, 3, 64, 64)).shape == (2, loaded.spec.arch.feature_dim)


def test_efficientnet_segmenter_starts_from_imagenet_and_keeps_it(tmp_path: Path) -> None:
    from engine.networks.pretrained import load_efficientnet_lite0

    data = make_folder_dataset(tmp_path / "data", count=4)
    run, weights = tmp_path / "run", tmp_path / "seg"
    args = ["fit", "--family", "segmenter", "--backbone", "efficientnet-lite0", "--data", f"folder:{data}"]
    args += ["--out", str(run), "--size", "64", "--batch", "2", "--steps", "2", "--arch", "small"]
    args += ["--workers", "0", "--precision", "fp32", "--log-every", "1", "--sample-every", "100"]
    assert main([*args, "--class-balance"]) == 0
    assert main(["export", "--run", str(run), "--out", str(weights)]) == 0
    net = load_weights(weights, family="segmenter", parts=("segmenter",)).nets["segmenter"].eval()
    assert net.config.backbone == "efficientnet-lite0"
    imagenet = load_efficientnet_lite0().state_dict()
    trunk = net.backbone.state_dict()
    # Two steps at a tenth of the decoder's rate move the ImageNet trunk only slightly.
    stem = trunk["_conv_stem.weight"]
    assert 0 < float((stem - imagenet["_conv_stem.weight"]).abs().max()) < 0.01
    levels = net.encoder_levels(torch.zeros(1, 3, 64, 64))
    assert [f.shape[1] for f in levels] == list(net.config.level_channels)
    assert net(torch.zeros(1, 3, 64, 96)).shape == (1, 5, 64, 96)
