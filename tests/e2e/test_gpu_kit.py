"""The GPU kit, rehearsed on the CPU with tiny settings: renders, continues the shipped
OASIS with the card's recipe, exports, and packs a float16 tar that loads back."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.checkpoints import load_weights
from engine.noise import NoiseField
from engine.paths import WEIGHTS
from engine.train.gpu_kit import main


@pytest.mark.slow
def test_kit_trains_exports_and_packs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the kit renders into ./data, as on the lent machine
    out = tmp_path / "out"
    args = ["--out", str(out), "--minutes", "4", "--size", "64", "--count", "20", "--batch", "2"]
    assert main([*args, "--steps", "2", "--workers", "0", "--runs", str(tmp_path / "runs")]) == 0
    assert (tmp_path / "data" / "gpu-kit-land64" / "dataset.json").is_file()
    report = json.loads((out / "gpu_kit.json").read_text())
    assert "landscapes-oasis.tar" in report["results"]["landscapes-oasis"]
    with tarfile.open(out / "landscapes-oasis.tar") as tar:
        names = set(tar.getnames())
        tar.extractall(tmp_path / "back", filter="data")
    assert "landscapes-oasis/generator.safetensors" in names
    assert "landscapes-oasis/encoder.safetensors" in names  # the recipe trains a style encoder
    assert not any("generator_live" in n for n in names)
    folder = tmp_path / "back" / "landscapes-oasis"
    spec = json.loads((folder / "config.json").read_text())
    assert spec["architecture"]["generator"]["upsample"] == "bilinear"
    assert spec["training"]["steps"] == 2 and "/tmp" not in spec["training"]["data"]
    assert (out / "landscapes-oasis.tar").stat().st_size < 16 * 2**20
    # float16 on disk, float32 once loaded, and it still draws a picture.
    shipped = (WEIGHTS / "landscapes-oasis" / "generator.safetensors").stat().st_size
    assert (folder / "generator.safetensors").stat().st_size < 0.6 * shipped
    weights = load_weights(folder, family="oasis", parts=("generator",))
    g = weights.nets["generator"].eval()
    assert next(g.parameters()).dtype == torch.float32
    from engine.inference.open import open_synthesizer

    labels = np.zeros((64, 64), np.uint16)
    labels[32:] = 6
    image = open_synthesizer(folder).generate(labels, NoiseField.uniform(64, 64, seed=0, z_dim=64))
    assert image.shape == (64, 64, 3) and image.std() > 1


@pytest.mark.slow
def test_kit_trains_stylegan2_from_scratch_then_ugen_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shipped = tmp_path / "weights"  # no landscapes-stylegan2 here: StyleGAN2 starts from scratch
    shipped.mkdir()
    (shipped / "landscapes-unet").symlink_to(WEIGHTS / "landscapes-unet")
    out, runs = tmp_path / "out", tmp_path / "runs"
    args = ["--out", str(out), "--minutes", "6", "--size", "64", "--count", "20", "--batch", "2"]
    args += ["--families", "stylegan2,ugen", "--shares", "stylegan2=2,ugen=1", "--arch", "small"]
    args += ["--stylegan2-width", "16", "--weights", str(shipped)]
    assert main([*args, "--steps", "2", "--workers", "0", "--runs", str(runs)]) == 0
    report = json.loads((out / "gpu_kit.json").read_text())["results"]
    assert "landscapes-stylegan2.tar" in report["landscapes-stylegan2"]
    assert "landscapes-ugen.tar" in report["landscapes-ugen"]
    for name in ("landscapes-stylegan2", "landscapes-ugen"):
        with tarfile.open(out / f"{name}.tar") as tar:
            tar.extractall(tmp_path / "back", filter="data")
    sg_options = json.loads((runs / "landscapes-stylegan2" / "options.json").read_text())
    assert sg_options["init_from"] is None and sg_options["channels_g"] == 16  # from scratch, capped
    # ugen was trained on the StyleGAN2 of this kit run, and names it as it will be shipped;
    # unpacked side by side, it finds its sibling.
    ugen_options = json.loads((runs / "landscapes-ugen-rearranger" / "options.json").read_text())
    assert ugen_options["stylegan2"].endswith("runs/landscapes-stylegan2-export")
    from engine.networks.ugen import stylegan2_folder

    folder = tmp_path / "back" / "landscapes-ugen"
    ugen = load_weights(folder, family="ugen")
    assert set(ugen.nets) == {"rearranger", "proxy", "mapper_labels"}
    assert ugen.spec.arch.stylegan2 == "weights/landscapes-stylegan2"
    assert stylegan2_folder(folder, ugen.spec.arch.stylegan2) == tmp_path / "back" / "landscapes-stylegan2"
    g = load_weights(tmp_path / "back" / "landscapes-stylegan2", family="stylegan2").nets["generator"]
    assert next(g.parameters()).dtype == torch.float32 and g.config.resolution == 64
