"""OASIS beyond the paper: style encoder, perceptual loss on ImageNet features, bilinear upsampling."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.data import Batch, Sample, make_batch
from engine.encoding import default_channel_ids
from engine.errors import InputError
from engine.labels import LabelSet
from engine.networks.oasis import OasisConfig, OasisGenerator, OasisStyleEncoder, OasisStyleEncoderConfig
from engine.registry import ModelSpec
from engine.train.oasis_step import OasisTraining
from engine.train.options import FitOptions
from tests.helpers import TINY_SET, tiny_scene


def _training(tmp_path: Path, **overrides: object) -> OasisTraining:
    options = FitOptions(data="folder:x", out=tmp_path, arch="small", size=(64, 64), **overrides)
    options.validate()
    label_set = LabelSet.from_dict(TINY_SET)
    ids = default_channel_ids(label_set.ids, label_set.dontcare)
    arch = OasisTraining.build_arch(options, len(ids))
    OasisTraining.adapt_arch(arch, options)
    spec = ModelSpec("oasis", label_set, ids, 0, options.size, arch)
    return OasisTraining(spec, options, torch.device("cpu"))


def _batch(n: int = 4) -> Batch:
    scenes = [tiny_scene(i, (64, 64)) for i in range(n)]
    return make_batch([Sample(f"s{i}", s[1], s[0], None) for i, s in enumerate(scenes)])


def test_the_official_layout_stays_the_default() -> None:
    config = OasisConfig.paper(13)
    assert config.generator.upsample == "nearest" and config.encoder is None
    with pytest.raises(ValueError, match="upsample"):
        OasisConfig.small(5).generator.__class__(semantic_nc=5, upsample="cubic")


def test_bilinear_upsampling_loads_the_same_weights_and_smooths() -> None:
    config = OasisConfig.small(5).generator
    nearest = OasisGenerator(config).eval()
    config.upsample = "bilinear"
    bilinear = OasisGenerator(config).eval()
    bilinear.load_state_dict(nearest.state_dict())
    onehot = torch.zeros(1, 5, 64, 64)
    onehot[:, 1, :32] = 1
    onehot[:, 2, 32:] = 1
    noise = torch.randn(1, 64, 1, 1).expand(1, 64, 64, 64)
    with torch.no_grad():
        a, b = nearest(onehot, noise), bilinear(onehot, noise)
    assert not torch.allclose(a, b)
    # Between the two SPADE blocks: a step 0 → 1 becomes 0, 0, 1, 1 or 0, ¼, ¾, 1.
    step = torch.tensor([[[[0.0, 1.0]]]])
    assert nearest.up(step)[0, 0, 0].tolist() == [0, 0, 1, 1]
    assert bilinear.up(step)[0, 0, 0].tolist() == [0, 0.25, 0.75, 1]


def test_the_encoder_reads_colour_it_does_not_normalise_it_away() -> None:
    enc = OasisStyleEncoder(OasisStyleEncoderConfig(widths=(8, 8))).eval()
    grey = torch.zeros(1, 3, 64, 64)
    with torch.no_grad():
        assert not torch.allclose(enc(grey)[0], enc(grey + 0.5)[0])


def test_style_encoder_pairs_half_the_batch_and_trains(tmp_path: Path) -> None:
    training = _training(tmp_path, style_encoder=True, lambda_perceptual=1.0, lambda_pair_l1=1.0)
    assert training.e is not None and training.perceptual is not None
    before = [p.detach().clone() for p in training.e.parameters()]
    gen = torch.Generator().manual_seed(0)
    _, paired, kl = training._g_noise(_batch()["image"], gen)
    assert paired == 2 and kl.item() > 0
    losses = training.step(_batch(), 0, 0)
    assert losses["loss_perceptual"] > 0 and losses["loss_kl"] > 0 and losses["loss_pair_l1"] > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, training.e.parameters()))
    assert "encoder" in training.export_states(iter([_batch(2)]))
    assert "E" in training.state_dict()


def test_without_the_encoder_every_sample_is_paired_with_random_noise(tmp_path: Path) -> None:
    training = _training(tmp_path, lambda_pair_l1=1.0)
    assert training.e is None
    _, paired, kl = training._g_noise(_batch()["image"], torch.Generator().manual_seed(0))
    assert paired == 4 and float(kl) == 0


def test_init_from_weights_gains_the_encoder_and_bilinear(tmp_path: Path) -> None:
    arch = OasisConfig.small(5)
    OasisTraining.adapt_arch(
        arch, FitOptions(data="folder:x", out=tmp_path, style_encoder=True, upsample="bilinear")
    )
    assert arch.encoder is not None and arch.generator.upsample == "bilinear"


@pytest.mark.parametrize(
    ("overrides", "flag"),
    [
        ({"family": "inade", "style_encoder": True}, "--style-encoder"),
        ({"family": "msca", "lambda_perceptual": 1.0}, "--lambda-perceptual"),
        ({"upsample": "cubic"}, "--upsample"),
        ({"lambda_kl": -1.0}, "--lambda-kl"),
        ({"family": "inade", "backbone": "efficientnet-lite0"}, "--backbone"),
        ({"family": "inade", "d_warmup": 10}, "--d-warmup"),
        ({"class_balance": True}, "--class-balance"),
    ],
)
def test_options_that_do_not_apply_are_refused(tmp_path: Path, overrides: dict, flag: str) -> None:
    with pytest.raises(InputError, match=flag):
        FitOptions(data="folder:x", out=tmp_path, **overrides).validate()
