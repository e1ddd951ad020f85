"""The segmentation loss through a frozen training segmenter: its value, and OASIS/INADE runs with it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from engine.errors import InputError
from engine.labels import LabelSet
from engine.train.cli import main
from engine.train.options import FitOptions
from engine.train.seg_loss import SegmentationLoss, segmentation_loss
from tests.helpers import TINY_SET, make_folder_dataset, write_tiny_segmenter


def test_value_is_the_class_balanced_cross_entropy_times_lambda(tmp_path: Path) -> None:
    label_set = LabelSet.from_dict(TINY_SET)
    folder = write_tiny_segmenter(tmp_path / "seg", TINY_SET)
    loss = SegmentationLoss(folder, label_set, weight=2.0)
    fake = torch.rand(1, 3, 16, 16, requires_grad=True)
    # A map three quarters class 0, one quarter class 1: the balanced weights are
    # N / (K · count) per present class, i.e. 256 / (2 · 192) and 256 / (2 · 64).
    labels = torch.zeros(1, 16, 16, dtype=torch.long)
    labels[:, :4] = 1
    target = loss.spec.encoder.channels(labels)
    ce = F.cross_entropy(loss.net(fake.detach()), target, reduction="none")
    weights = torch.where(target == 0, torch.tensor(256 / 384), torch.tensor(256 / 128))
    expected = 2.0 * float((ce * weights).mean())
    value = loss(fake, labels)
    assert float(value.detach()) == pytest.approx(expected, rel=1e-5)
    value.backward()  # into the image only: the segmenter stays frozen
    assert fake.grad is not None and float(fake.grad.abs().sum()) > 0
    assert all(p.grad is None for p in loss.net.parameters())


def test_off_without_a_segmenter_or_weight(tmp_path: Path) -> None:
    label_set = LabelSet.from_dict(TINY_SET)
    folder = write_tiny_segmenter(tmp_path / "seg", TINY_SET)
    cpu = torch.device("cpu")
    assert segmentation_loss(FitOptions(data="x", out=tmp_path / "r"), label_set, cpu) is None
    off = FitOptions(data="x", out=tmp_path / "r", seg_net=folder, lambda_seg=0.0)
    assert segmentation_loss(off, label_set, cpu) is None
    on = FitOptions(data="x", out=tmp_path / "r", seg_net=folder, lambda_seg=3.0)
    assert segmentation_loss(on, label_set, cpu).weight == 3.0


def test_a_segmenter_of_another_label_set_is_refused(tmp_path: Path) -> None:
    folder = write_tiny_segmenter(tmp_path / "seg", "landscapes")
    with pytest.raises(InputError, match="label set"):
        SegmentationLoss(folder, LabelSet.from_dict(TINY_SET), weight=1.0)


@pytest.mark.parametrize("family", ["oasis", "inade"])
def test_fit_with_a_segmentation_loss_logs_it_and_names_it_in_the_card(
    tmp_path: Path, family: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = make_folder_dataset(tmp_path / "data", count=4)
    seg = write_tiny_segmenter(tmp_path / "seg", TINY_SET)
    run, weights = tmp_path / "run", tmp_path / "w"
    args = ["fit", "--family", family, "--data", f"folder:{data}", "--out", str(run), "--size", "64"]
    args += ["--batch", "2", "--steps", "2", "--arch", "small", "--workers", "0", "--precision", "fp32"]
    args += ["--log-every", "1", "--sample-every", "100", "--ckpt-every", "2", "--ema-bn-batches", "1"]
    args += ["--seg-net", str(seg), "--lambda-seg", "4"]
    assert main(args) == 0
    assert "segmentation loss ×4.0" in capsys.readouterr().out
    with (run / "log.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and all(float(r["loss_seg"]) > 0 for r in rows)
    assert main(["export", "--run", str(run), "--out", str(weights), "--bn-batches", "1"]) == 0
    card = (weights / "CARD.md").read_text()
    assert "segmentation loss ×4.0" in card and "beyond the paper" in card


def test_msca_refuses_a_segmenter(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--seg-net"):
        FitOptions(data="x", out=tmp_path / "r", family="msca", seg_net=tmp_path).validate()
