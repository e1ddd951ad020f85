"""MSCA trains (patch cross-reconstruction), resumes, exports and loads."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from engine.checkpoints import load_weights
from engine.train.cli import main
from engine.train.patches import patch_pairs
from tests.helpers import make_folder_dataset, write_random_vgg19


def test_patch_pairs_cut_two_places_of_one_image() -> None:
    image = torch.arange(64 * 64, dtype=torch.float32).view(1, 1, 64, 64).expand(2, 3, -1, -1).contiguous()
    onehot = torch.zeros(2, 4, 64, 64)
    onehot[:, 1] = 1
    gen = torch.Generator().manual_seed(0)
    target, labels, ex, ex_labels = patch_pairs(image, onehot, 1, gen)
    assert target.shape == ex.shape == (2, 3, 32, 32) and labels.shape == ex_labels.shape == (2, 4, 32, 32)
    assert not torch.equal(target, ex)  # different places (or flips) of the same picture
    for stage in (1, 2):
        for _ in range(5):
            t, lab, e, _ = patch_pairs(image, onehot, stage, gen)
            assert t.shape[-2:] == e.shape[-2:] == (32, 32) and bool((lab.sum(1) == 1).all())


def _segmenter_for(data: Path, tmp_path: Path) -> Path:
    """A one-step segmenter on the tiny dataset (its label set is not the landscapes one)."""
    seg_run, seg = tmp_path / "seg-run", tmp_path / "seg"
    args = ["fit", "--family", "segmenter", "--data", f"folder:{data}", "--out", str(seg_run), "--size", "64"]
    args += ["--batch", "2", "--steps", "1", "--arch", "small", "--workers", "0", "--precision", "fp32"]
    assert main(args) == 0 and main(["export", "--run", str(seg_run), "--out", str(seg)]) == 0
    return seg


def test_msca_fit_resume_export(tmp_path: Path) -> None:
    data = make_folder_dataset(tmp_path / "data", count=4)
    run, weights = tmp_path / "run", tmp_path / "msca"
    args = ["fit", "--family", "msca", "--data", f"folder:{data}", "--out", str(run), "--size", "64"]
    args += ["--batch", "2", "--steps", "4", "--arch", "small", "--workers", "0", "--precision", "fp32"]
    args += ["--log-every", "1", "--sample-every", "2", "--ckpt-every", "2", "--ema-bn-batches", "1"]
    assert main(args) == 0
    header, *rows = (run / "log.csv").read_text().splitlines()
    assert (
        header == "step,elapsed_s,images_per_s,loss_g,loss_feat,loss_rec,loss_perc,loss_spectrum,loss_pre,"
        "loss_d,stage"
    )
    assert [float(r.split(",")[-1]) for r in rows] == [1.0, 1.0, 2.0, 2.0]  # the global stage in the 2nd half
    assert all(np.isfinite(float(v)) for v in rows[-1].split(",")[3:])
    assert len(list((run / "samples").glob("*.png"))) == 2
    assert main(["fit", "--resume", "--out", str(run), "--steps", "5"]) == 0
    assert main(["export", "--run", str(run), "--out", str(weights), "--bn-batches", "1"]) == 0
    g = load_weights(weights, family="msca", parts=("generator",)).nets["generator"].eval()
    onehot = torch.zeros(1, g.config.semantic_nc, 64, 64)
    onehot[:, 1] = 1
    with torch.no_grad():
        out = g(onehot, torch.zeros(1, 3, 64, 96), torch.nn.functional.pad(onehot, (0, 32)))
    assert out.shape == (1, 3, 64, 64)
    assert "VGG" in (weights / "CARD.md").read_text()


def test_style_eval_of_msca_weights(tmp_path: Path) -> None:
    import json

    data = make_folder_dataset(tmp_path / "data", count=4)
    seg = _segmenter_for(data, tmp_path)
    run, weights = tmp_path / "run", tmp_path / "msca"
    args = ["fit", "--family", "msca", "--data", f"folder:{data}", "--out", str(run), "--size", "64"]
    args += ["--batch", "2", "--steps", "1", "--arch", "small", "--workers", "0", "--precision", "fp32"]
    args += ["--ema-bn-batches", "1", "--sample-every", "5"]
    assert (
        main(args) == 0
        and main(["export", "--run", str(run), "--out", str(weights), "--bn-batches", "1"]) == 0
    )
    out = tmp_path / "eval"
    args = ["eval", "--weights", str(weights), "--data", f"folder:{data}", "--segmenter", str(seg)]
    assert main([*args, "--split", "val", "--limit", "2", "--out", str(out)]) == 0
    report = json.loads((out / "style_eval.json").read_text())
    assert report["pairs"] == 2 and report["attention"] == "msca" and "baseline" not in report
    assert all(report[k] >= 0 for k in ("style_gram", "nn_feature", "nn_pixel", "miou_to_target"))
    assert report["fed"] >= 0 and report["stripe_ratio"] > 0  # realism beside the style measures
    assert report["colour_delta_e"] is None  # only for landscapes maps (the renderer's looks)

    # Against a baseline (here the same weights): the same pairs give the same numbers,
    # and --card writes both columns into the card.
    assert main([*args, "--split", "val", "--limit", "2", "--baseline", str(weights), "--card"]) == 0
    again = json.loads((weights / "eval" / "style_eval.json").read_text())
    assert again["baseline"]["nn_pixel"] == again["nn_pixel"] == report["nn_pixel"]
    card = (weights / "CARD.md").read_text()
    assert "MSCA (this model) | MSCA baseline" in card and "per-class mean colour" in card
    assert main(["eval", "--weights", str(seg), "--data", f"folder:{data}", "--baseline", str(weights)]) == 2

    # With a VGG-19 file the feature measures use it, as the paper does; pixels do not change.
    vgg = write_random_vgg19(tmp_path / "vgg19.pth")
    assert main([*args, "--split", "val", "--limit", "2", "--vgg", str(vgg), "--out", str(out)]) == 0
    with_vgg = json.loads((out / "style_eval.json").read_text())
    assert with_vgg["features"].startswith("VGG-19") and with_vgg["nn_pixel"] == report["nn_pixel"]
    assert with_vgg["nn_feature"] != report["nn_feature"]


def test_pretraining_with_a_segmenter_in_place_of_vgg(tmp_path: Path) -> None:
    data = make_folder_dataset(tmp_path / "data", count=4)
    seg = _segmenter_for(data, tmp_path)
    run = tmp_path / "run"
    args = ["fit", "--family", "msca", "--data", f"folder:{data}", "--out", str(run), "--size", "64"]
    args += ["--batch", "2", "--steps", "4", "--arch", "small", "--workers", "0", "--precision", "fp32"]
    args += ["--log-every", "1", "--sample-every", "9", "--ema-bn-batches", "1"]
    args += ["--feature-net", str(seg), "--pretrain-steps", "2", "--lambda-feature", "1"]
    assert main(args) == 0
    header, *rows = (run / "log.csv").read_text().splitlines()
    columns = header.split(",")
    values = [dict(zip(columns, r.split(","))) for r in rows]
    assert [float(v["loss_pre"]) > 0 for v in values] == [True, True, False, False]
    assert [float(v["stage"]) for v in values] == [0.0, 0.0, 1.0, 2.0]
    assert float(values[-1]["loss_perc"]) > 0
    assert main(["fit", "--resume", "--out", str(run), "--steps", "5"]) == 0  # the decoders resume too
    gap = ["fit", "--family", "msca", "--data", f"folder:{data}", "--out", str(tmp_path / "gap")]
    gap += ["--size", "64", "--batch", "2", "--steps", "1", "--arch", "small", "--workers", "0"]
    assert main([*gap, "--attention", "gap", "--sample-every", "5", "--ema-bn-batches", "1"]) == 0
    assert '"attention": "gap"' in (tmp_path / "gap" / "model.json").read_text()
    bad = [
        "fit",
        "--family",
        "msca",
        "--data",
        f"folder:{data}",
        "--out",
        str(tmp_path / "r2"),
        "--pretrain-steps",
        "2",
    ]
    assert main(bad) == 2  # needs --feature-net


def test_msca_pretrains_on_a_vgg_file(tmp_path: Path) -> None:
    data = make_folder_dataset(tmp_path / "data", count=4)
    vgg = write_random_vgg19(tmp_path / "vgg19.pth")
    run, weights = tmp_path / "run", tmp_path / "weights"
    args = ["fit", "--family", "msca", "--data", f"folder:{data}", "--out", str(run), "--size", "64"]
    args += ["--batch", "2", "--steps", "3", "--arch", "small", "--workers", "0", "--precision", "fp32"]
    args += ["--log-every", "1", "--sample-every", "9", "--ema-bn-batches", "1"]
    args += ["--vgg", str(vgg), "--pretrain-steps", "1", "--lambda-feature", "1"]
    assert main(args) == 0
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert float(rows[0]["loss_pre"]) > 0 and all(float(r["loss_perc"]) > 0 for r in rows[1:])
    assert main(["export", "--run", str(run), "--out", str(weights), "--bn-batches", "1"]) == 0
    assert "VGG-19 from `" in (weights / "CARD.md").read_text()


def test_the_spectrum_loss_trains_msca_too(tmp_path: Path) -> None:
    data = make_folder_dataset(tmp_path / "data", count=4)
    run, weights = tmp_path / "run", tmp_path / "msca"
    args = ["fit", "--family", "msca", "--data", f"folder:{data}", "--out", str(run), "--size", "64"]
    args += ["--batch", "2", "--steps", "2", "--arch", "small", "--workers", "0", "--precision", "fp32"]
    args += ["--log-every", "1", "--sample-every", "9", "--ema-bn-batches", "1", "--lambda-spectrum", "1"]
    assert main(args) == 0
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert all(float(r["loss_spectrum"]) > 0 for r in rows)
    assert main(["export", "--run", str(run), "--out", str(weights), "--bn-batches", "1"]) == 0
    assert "a spectral loss ×1.0" in (weights / "CARD.md").read_text()
