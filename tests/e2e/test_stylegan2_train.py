"""StyleGAN2 trains unconditionally, resumes, exports and loads through the same tools as
the other families; its discriminator and generator losses fall on a tiny overfit."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from engine.checkpoints import load_weights
from engine.data import make_batch, open_dataset
from engine.registry import ModelSpec
from engine.train.cli import main
from engine.train.gan_losses import logistic_d, logistic_g
from engine.train.options import FAMILY_DEFAULTS, FitOptions
from engine.train.stylegan2_step import StyleGan2Training
from tests.helpers import make_folder_dataset


def _fit_args(data: Path, run: Path, steps: int) -> list[str]:
    args = ["fit", "--family", "stylegan2", "--arch", "small", "--size", "64", "--steps", str(steps)]
    args += ["--workers", "0", "--precision", "fp32", "--data", f"folder:{data}", "--out", str(run)]
    return [*args, "--batch", "2", "--log-every", "1", "--sample-every", "3", "--ckpt-every", "3"]


def test_stylegan2_fit_resume_export_load_generate(tmp_path: Path) -> None:
    data = make_folder_dataset(tmp_path / "data", count=4)
    run, weights = tmp_path / "run", tmp_path / "stylegan2"
    assert main(_fit_args(data, run, 3)) == 0
    options = json.loads((run / "options.json").read_text())
    assert {k: options[k] for k in FAMILY_DEFAULTS["stylegan2"]} == FAMILY_DEFAULTS["stylegan2"]
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert [r["step"] for r in rows] == ["1", "2", "3"]
    assert all(np.isfinite(float(r[k])) for r in rows for k in ("loss_g", "loss_d_real", "loss_d_fake"))
    assert float(rows[0]["loss_r1"]) > 0 and float(rows[1]["loss_r1"]) == 0  # lazy: steps 0, 16, …
    assert list((run / "samples").glob("*.png"))
    assert main(["fit", "--resume", "--out", str(run), "--steps", "4"]) == 0
    assert (run / "log.csv").read_text().splitlines()[-1].startswith("4,")

    assert main(["export", "--run", str(run), "--out", str(weights)]) == 0
    assert "**without** path-length regularisation" in (weights / "CARD.md").read_text()
    loaded = load_weights(weights, family="stylegan2", parts=("generator",), optional=("discriminator",))
    g, d = loaded.nets["generator"].eval(), loaded.nets["discriminator"].eval()
    # The exported EMA generator carries its mean w, so truncation works after loading.
    w_avg = load_file(str(weights / "generator.safetensors"))["mapping.w_avg"]
    assert w_avg.abs().sum() > 0 and torch.equal(g.mapping.w_avg, w_avg)
    z = torch.randn(3, g.config.z_dim)
    with torch.no_grad():
        image = g(z, noise_mode="const")
        assert image.shape == (3, 3, 64, 64) and torch.isfinite(image).all()
        flat = g(z, truncation_psi=0.0, noise_mode="const")
        assert torch.allclose(flat[0], flat[2], atol=1e-5) and not torch.allclose(image[0], image[2])
        assert g.features(g.mapping(z), resolution=32).shape[-2:] == (32, 32)
        assert d(image).shape == (3,)

    def init_from(out: str, size: str) -> list[str]:
        args = ["fit", "--family", "stylegan2", "--data", f"folder:{data}", "--out", str(tmp_path / out)]
        args += ["--size", size, "--batch", "2", "--steps", "1", "--workers", "0", "--precision", "fp32"]
        return [*args, "--sample-every", "5", "--init-from", str(weights)]

    assert main(init_from("run2", "64")) == 0
    assert main(init_from("run3", "32")) == 2  # weights of one resolution cannot continue at another


def _training(data: Path, tmp_path: Path) -> tuple[StyleGan2Training, torch.Tensor]:
    options = FitOptions(data=f"folder:{data}", out=tmp_path / "run", family="stylegan2", size=(64, 64))
    options.arch, options.precision, options.device = "small", "fp32", "cpu"
    for key, value in FAMILY_DEFAULTS["stylegan2"].items():
        setattr(options, key, value)
    dataset = open_dataset(options.data, split="train")
    arch = StyleGan2Training.build_arch(options, 1)
    spec = ModelSpec("stylegan2", dataset.label_set, list(dataset.label_set.ids), None, (64, 64), arch)
    real = make_batch([dataset[i] for i in range(4)])["image"]
    return StyleGan2Training(spec, options, torch.device("cpu")), real


def test_losses_fall_on_a_tiny_overfit(tmp_path: Path) -> None:
    training, real = _training(make_folder_dataset(tmp_path / "data", count=4), tmp_path)
    g, d = training.g, training.d
    z = torch.randn(4, g.config.z_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        fake = g(z, noise_mode="const")

    def d_loss() -> torch.Tensor:
        real_term, fake_term = logistic_d(d(real), d(fake))
        return real_term + fake_term

    first = d_loss().item()
    for _ in range(30):  # D only, with the trainer's optimiser, on a fixed real/fake batch
        training.opt_d.zero_grad(set_to_none=True)
        d_loss().backward()
        training.opt_d.step()
    assert d_loss().item() < 0.5 * first
    assert d(real).min() > d(fake).max()  # it now tells every real image from every fake

    d.requires_grad_(False)  # now G only, against this fixed D
    first_g = logistic_g(d(g(z, noise_mode="const"))).item()
    for _ in range(30):
        training.opt_g.zero_grad(set_to_none=True)
        logistic_g(d(g(z, noise_mode="const"))).backward()
        training.opt_g.step()
    assert logistic_g(d(g(z, noise_mode="const"))).item() < 0.5 * first_g


def test_step_is_reproducible_from_seed_and_step(tmp_path: Path) -> None:
    data = make_folder_dataset(tmp_path / "data", count=4)
    results = []
    for k in range(2):
        training, real = _training(data, tmp_path / str(k))
        metrics = training.step({"image": real[:2]}, step=0, rank=0)
        results.append((metrics, training.g.state_dict()["mapping.w_avg"].clone()))
    assert results[0][0] == pytest.approx(results[1][0])
    assert torch.equal(results[0][1], results[1][1]) and results[0][1].abs().sum() > 0


@pytest.mark.slow
def test_two_processes_train_through_the_lazy_r1_step(tmp_path: Path) -> None:
    """Under DDP every D parameter needs a gradient in the R1 backward (the last bias has none
    of its own), else the next forward fails; step 16 is the second R1 step."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = make_folder_dataset(tmp_path / "data", count=4)
    run = tmp_path / "run"
    repo = Path(__file__).resolve().parents[2]
    ddp = subprocess.run(
        [
            sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
            "--master_addr", "127.0.0.1", "--master_port", str(port), "-m", "engine.train.cli",
            *_fit_args(data, run, 17)[:-6], "--batch", "4", "--sample-every", "100", "--log-every", "1",
        ],
        env=os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(repo)},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert ddp.returncode == 0, ddp.stdout + ddp.stderr
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert len(rows) == 17 and float(rows[16]["loss_r1"]) > 0
