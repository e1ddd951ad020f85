"""INADE trains, resumes, exports and loads through the same tools as OASIS."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.checkpoints import load_weights
from engine.networks.inade import instance_onehot, number_instances
from engine.train.cli import main
from engine.train.gan_losses import kl_divergence
from tests.helpers import make_folder_dataset, write_random_vgg19


def _with_instances(root: Path) -> Path:
    """Give the tiny dataset instance maps: each tree (class 4) blob is an object."""
    for split in ("train", "val"):
        (root / split / "instances").mkdir(exist_ok=True)
        for label_file in sorted((root / split / "labels").glob("*.png")):
            labels = np.asarray(Image.open(label_file))
            inst = np.zeros(labels.shape, np.uint8)
            inst[:, : labels.shape[1] // 2][labels[:, : labels.shape[1] // 2] == 4] = 1
            inst[:, labels.shape[1] // 2 :][labels[:, labels.shape[1] // 2 :] == 4] = 2
            Image.fromarray(inst, mode="L").save(root / split / "instances" / label_file.name)
    return root


def test_number_instances_splits_objects_and_keeps_stuff_per_class() -> None:
    channels = torch.tensor([[[0, 0, 1, 1], [2, 2, 1, 1]]])
    instances = torch.tensor([[[0, 0, 0, 5], [3, 3, 0, 0]]])
    ids, count = number_instances(channels, instances)
    assert count == 4  # stuff 0, stuff 1, object 3, object 5
    assert ids[0, 0, 0] == ids[0, 0, 1] and ids[0, 0, 2] == ids[0, 1, 2]
    assert len({int(ids[0, 0, 3]), int(ids[0, 1, 0]), int(ids[0, 0, 0]), int(ids[0, 0, 2])}) == 4


def test_kl_is_zero_at_the_prior_and_ignores_padding() -> None:
    from engine.networks.inade import InstanceStyle

    zeros = torch.zeros(1, 3, 4)
    everything = torch.ones(1, 3, dtype=torch.bool)
    assert float(kl_divergence(InstanceStyle(zeros, zeros, zeros, zeros), everything)) == 0
    mu = torch.ones(1, 3, 4)
    present = torch.tensor([[True, True, False]])
    assert float(kl_divergence(InstanceStyle(mu, zeros, mu, zeros), present)) == pytest.approx(0.5 * (4 + 4))


def test_inade_fit_resume_export_init_from(tmp_path: Path) -> None:
    data = _with_instances(make_folder_dataset(tmp_path / "data", count=4))
    run, weights = tmp_path / "run", tmp_path / "inade"
    args = ["fit", "--family", "inade", "--data", f"folder:{data}", "--out", str(run), "--size", "64"]
    args += ["--batch", "2", "--steps", "3", "--arch", "small", "--workers", "0", "--precision", "fp32"]
    args += ["--log-every", "1", "--sample-every", "3", "--ckpt-every", "3", "--ema-bn-batches", "1"]
    assert main(args) == 0
    header, *rows = (run / "log.csv").read_text().splitlines()
    losses = "loss_g,loss_feat,loss_kld,loss_vgg,loss_pair_l1,loss_stripe,loss_spectrum,loss_seg,loss_d"
    assert header == "step,elapsed_s,images_per_s," + losses
    assert len(rows) == 3 and all(np.isfinite(float(v)) for v in rows[-1].split(",")[3:])
    assert list((run / "samples").glob("*.png"))
    assert main(["fit", "--resume", "--out", str(run), "--steps", "4"]) == 0
    assert (run / "log.csv").read_text().splitlines()[-1].startswith("4,")

    assert main(["export", "--run", str(run), "--out", str(weights), "--bn-batches", "1"]) == 0
    parts = ("generator", "encoder")
    loaded = load_weights(weights, family="inade", parts=parts, optional=("discriminator",))
    g, e = loaded.nets["generator"].eval(), loaded.nets["encoder"].eval()
    onehot = torch.zeros(1, g.config.semantic_nc, 64, 64)
    onehot[:, 1] = 1
    inst = instance_onehot(torch.zeros(1, 64, 64, dtype=torch.long), 2)
    with torch.no_grad():
        out = g(onehot, inst, torch.randn(1, 2, 2, g.config.noise_nc), torch.randn(1, g.config.z_dim))
        assert out.shape == (1, 3, 64, 64)
        # Any canvas that is a multiple of the scale: the latent grid follows (beyond the paper).
        big = g(
            torch.nn.functional.interpolate(onehot, size=(128, 96)),
            instance_onehot(torch.zeros(1, 128, 96, dtype=torch.long), 1),
            torch.randn(1, 1, 2, g.config.noise_nc),
            torch.randn(1, g.config.z_dim),
        )
        assert big.shape == (1, 3, 128, 96)
        style = e(torch.zeros(1, 3, 64, 64), inst)
        assert style.scale_mu.shape == (1, 2, g.config.noise_nc)

    run2 = tmp_path / "run2"
    args2 = ["fit", "--family", "inade", "--data", f"folder:{data}", "--out", str(run2), "--size", "64"]
    args2 += ["--batch", "2", "--steps", "1", "--workers", "0", "--precision", "fp32"]
    args2 += ["--init-from", str(weights)]
    args2 += ["--ema-bn-batches", "1", "--sample-every", "5", "--ckpt-every", "1"]
    assert main(args2) == 0


def _two_step_fit(data: Path, run: Path, *extra: str) -> list[str]:
    """A two-step tiny INADE fit on ``data`` into ``run``, with ``extra`` flags last."""
    args = ["fit", "--family", "inade", "--data", f"folder:{data}", "--out", str(run), "--size", "64"]
    args += ["--batch", "2", "--steps", "2", "--arch", "small", "--workers", "0", "--precision", "fp32"]
    return [*args, "--log-every", "1", "--sample-every", "9", "--ema-bn-batches", "1", *extra]


def test_vgg_file_turns_on_the_papers_perceptual_loss(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = make_folder_dataset(tmp_path / "data", count=4)
    vgg = write_random_vgg19(tmp_path / "vgg19.pth")
    run, weights = tmp_path / "run", tmp_path / "weights"
    args = _two_step_fit(data, run, "--vgg", str(vgg))
    assert main(args) == 0
    assert "VGG perceptual loss ×10.0 with" in capsys.readouterr().out
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert all(float(r["loss_vgg"]) > 0 for r in rows)
    assert main(["export", "--run", str(run), "--out", str(weights), "--bn-batches", "1"]) == 0
    card = (weights / "CARD.md").read_text()
    assert "the paper's VGG-19 perceptual loss ×10.0 (weights from" in card and "**without**" not in card
    # Another family, or two feature networks, are refused before any training.
    assert main([*args[:2], "oasis", *args[3:], "--out", str(tmp_path / "o")]) == 2
    assert main([*args, "--feature-net", str(weights)]) == 2


def test_efficientnet_features_stand_in_for_vgg(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = make_folder_dataset(tmp_path / "data", count=4)
    run, weights = tmp_path / "run", tmp_path / "weights"
    args = _two_step_fit(data, run, "--lambda-perceptual", "10")
    assert main([*args, "--upsample", "bilinear"]) == 0
    assert "EfficientNet-Lite0 features in place of VGG-19" in capsys.readouterr().out
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert all(float(r["loss_vgg"]) > 0 for r in rows)
    assert main(["export", "--run", str(run), "--out", str(weights), "--bn-batches", "1"]) == 0
    card = (weights / "CARD.md").read_text()
    assert "×10.0 on frozen ImageNet EfficientNet-Lite0 features" in card and "**without**" not in card
    assert "bilinear instead of nearest" in card
    assert (
        json.loads((weights / "config.json").read_text())["architecture"]["generator"]["upsample"]
        == "bilinear"
    )


def test_lambda_kl_weighs_the_encoders_kl(tmp_path: Path) -> None:
    """--lambda-kl reaches INADE's KL term (the paper's 0.05 by default) and the card says so."""
    data = _with_instances(make_folder_dataset(tmp_path / "data", count=4))
    kld = {}
    for weight in ("0.05", "0.5"):
        run = tmp_path / f"run{weight}"
        assert main(_two_step_fit(data, run, "--lambda-kl", weight, "--seed", "3")) == 0
        kld[weight] = [float(r["loss_kld"]) for r in csv.DictReader((run / "log.csv").open())]
    # The same seed gives the same first step: only the weight differs (the second step
    # follows different gradients).
    assert kld["0.5"][0] == pytest.approx(10 * kld["0.05"][0], rel=1e-4) and kld["0.05"][0] > 0
    weights = tmp_path / "weights"
    assert (
        main(["export", "--run", str(tmp_path / "run0.5"), "--out", str(weights), "--bn-batches", "1"]) == 0
    )
    assert "KL ×0.5 (the paper: 0.05) on the encoder's" in (weights / "CARD.md").read_text()


def test_lambda_kl_is_refused_where_there_is_no_kl(tmp_path: Path) -> None:
    from engine.errors import InputError
    from engine.train.options import FitOptions

    FitOptions(data="folder:x", out=tmp_path, family="inade", lambda_kl=0.01).validate()
    FitOptions(data="folder:x", out=tmp_path, style_encoder=True, lambda_kl=0.01).validate()
    for family in ("oasis", "msca"):
        with pytest.raises(InputError, match="KL term"):
            FitOptions(data="folder:x", out=tmp_path, family=family, lambda_kl=0.01).validate()


def test_free_half_trains_exports_and_says_so(tmp_path: Path) -> None:
    data = _with_instances(make_folder_dataset(tmp_path / "data", count=4))
    run, weights = tmp_path / "run", tmp_path / "weights"
    args = _two_step_fit(data, run, "--free-half", "--lambda-pair-l1", "1")
    args[args.index("--batch") + 1] = "4"
    assert main(args) == 0
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert all(float(r[k]) > 0 for r in rows for k in ("loss_feat", "loss_kld", "loss_pair_l1"))
    assert main(["export", "--run", str(run), "--out", str(weights), "--bn-batches", "1"]) == 0
    assert "the other half keeps its prior draw" in (weights / "CARD.md").read_text()
    assert main([*args[:2], "oasis", *args[3:], "--out", str(tmp_path / "o")]) == 2  # INADE only
