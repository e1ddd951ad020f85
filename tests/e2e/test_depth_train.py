"""The depth estimator (--family depth) through `app-train`: it fits a tiny dataset's depth
maps (the loss falls), exports, loads, estimates depth of any size, is measured by
`app-train eval` (abs-rel, δ < 1.25) and refuses data without depth, and a folder of another
family is refused naming its config.json and the fix."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import WeightsError
from engine.inference.depth_estimator import DepthEstimator
from engine.metrics.depth_eval import DepthErrors, distance
from engine.train.cli import main
from tests.helpers import TINY_SET, make_folder_dataset, write_tiny_segmenter

COMMON = ["--size", "64", "--batch", "4", "--arch", "small", "--workers", "0", "--precision", "fp32"]


def _fit(data: Path, run: Path, *extra: str) -> list[str]:
    return ["fit", "--family", "depth", "--data", f"folder:{data}", "--out", str(run), *COMMON, *extra]


def test_depth_fit_export_load_eval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = make_folder_dataset(tmp_path / "data", count=4, depth=True)
    run, weights = tmp_path / "run", tmp_path / "depth"
    args = ["--steps", "40", "--lr", "0.01", "--log-every", "5", "--sample-every", "40"]
    assert main(_fit(data, run, *args)) == 0
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert set(rows[0]) >= {"loss_l1", "loss_grad"}
    first, last = float(rows[0]["loss_l1"]), float(rows[-1]["loss_l1"])
    assert last < 0.6 * first, (first, last)  # it learns the depth of the tiny scenes
    assert list((run / "samples").glob("*.png"))

    assert main(["export", "--run", str(run), "--out", str(weights)]) == 0
    config = json.loads((weights / "config.json").read_text())
    assert config["family"] == "depth" and (weights / "depth.safetensors").is_file()
    card = (weights / "CARD.md").read_text()
    assert "gradient matching" in card and "Adam lr 0.01" in card
    estimator = DepthEstimator.load(weights)
    depth = estimator(torch.zeros(2, 3, 64, 64))
    assert depth.shape == (2, 1, 64, 64) and 0 <= float(depth.min()) and float(depth.max()) <= 1
    assert estimator(torch.zeros(1, 3, 50, 70)).shape == (1, 1, 50, 70)  # resized in and out

    out = tmp_path / "eval"
    capsys.readouterr()
    eval_args = ["eval", "--weights", str(weights), "--data", f"folder:{data}", "--split", "val"]
    assert main([*eval_args, "--out", str(out), "--card"]) == 0
    report = json.loads((out / "depth_eval.json").read_text())
    assert report["images"] == 2 and 0 <= report["delta_1_25"] <= 1 and report["abs_rel"] >= 0
    assert "δ < 1.25" in (weights / "CARD.md").read_text()

    plain = make_folder_dataset(tmp_path / "plain", count=4)  # no depth/ folder
    assert main(["eval", "--weights", str(weights), "--data", f"folder:{plain}", "--split", "val"]) == 2
    assert "no depth maps" in capsys.readouterr().err
    assert main(_fit(plain, tmp_path / "run-plain", "--steps", "1")) == 2
    err = capsys.readouterr().err
    assert "no depth maps" in err and "app-train data landscapes" in err


def test_another_family_is_refused_naming_the_file_and_the_fix(tmp_path: Path) -> None:
    seg = write_tiny_segmenter(tmp_path / "seg", TINY_SET)
    with pytest.raises(WeightsError) as info:
        DepthEstimator.load(seg)
    text = str(info.value)
    assert str(seg / "config.json") in text and "'segmenter' model" in text and "--family depth" in text


def test_the_measures_on_known_errors() -> None:
    true = np.array([[0.0, 0.5, 1.0]], np.float32)  # near, middle, sky
    perfect = DepthErrors()
    perfect.add(true.copy(), true)
    assert perfect.report() == {"abs_rel": 0.0, "delta_1_25": 1.0, "mae": 0.0, "near_share": 0.6667}
    off = DepthErrors()
    pred = 1 - (1 - true) * 1.5**-0.8  # every distance 1.5× too far; the sky stays sky
    pred[0, 2] = 1.0
    off.add(pred, true)
    report = off.report()
    assert report["abs_rel"] == pytest.approx(0.5, abs=1e-3) and report["delta_1_25"] == 0.0
    assert np.allclose(distance(pred[0, :2]) / distance(true[0, :2]), 1.5, atol=1e-4)


def test_efficientnet_depth_net_starts_from_imagenet(tmp_path: Path) -> None:
    from engine.networks.pretrained import load_efficientnet_lite0

    data = make_folder_dataset(tmp_path / "data", count=4, depth=True)
    run, weights = tmp_path / "run", tmp_path / "depth"
    args = ["--backbone", "efficientnet-lite0", "--steps", "1", "--sample-every", "100"]
    assert main(_fit(data, run, *args)) == 0
    assert main(["export", "--run", str(run), "--out", str(weights)]) == 0
    assert "starts from its weights" in (weights / "CARD.md").read_text()
    estimator = DepthEstimator.load(weights)
    assert estimator.net.config.backbone == "efficientnet-lite0" and estimator.size_multiple == 32
    stem = estimator.net.net.backbone.state_dict()["_conv_stem.weight"]
    imagenet = load_efficientnet_lite0().state_dict()["_conv_stem.weight"]
    assert 0 < float((stem - imagenet).abs().max()) < 0.01  # one step at a tenth of the rate
    assert estimator(torch.zeros(1, 3, 64, 64)).shape == (1, 1, 64, 64)
