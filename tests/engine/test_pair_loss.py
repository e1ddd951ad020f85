"""The optional paired low-frequency L1 (beyond the paper): off by default, pulls G when on."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.data import Batch, Sample, make_batch
from engine.encoding import default_channel_ids
from engine.errors import InputError
from engine.labels import LabelSet
from engine.registry import ModelSpec
from engine.train.oasis_step import OasisTraining
from engine.train.options import FitOptions
from tests.helpers import TINY_SET, tiny_scene


def _training(tmp_path: Path, weight: float) -> OasisTraining:
    options = FitOptions(
        data="folder:x", out=tmp_path, arch="small", size=(64, 64), lambda_pair_l1=weight, pair_pool=4
    )
    options.validate()
    label_set = LabelSet.from_dict(TINY_SET)
    ids = default_channel_ids(label_set.ids, label_set.dontcare)
    spec = ModelSpec(
        family="oasis",
        label_set=label_set,
        channel_ids=ids,
        dontcare_channel=0,
        image_size=options.size,
        arch=OasisTraining.build_arch(options, len(ids)),
    )
    return OasisTraining(spec, options, torch.device("cpu"))


def _batch() -> Batch:
    scenes = [tiny_scene(i, (64, 64)) for i in range(2)]
    return make_batch([Sample(f"s{i}", s[1], s[0], None) for i, s in enumerate(scenes)])


def test_off_by_default_and_logged_as_zero(tmp_path: Path) -> None:
    assert FitOptions(data="folder:x", out=tmp_path).lambda_pair_l1 == 0
    losses = _training(tmp_path, 0.0).step(_batch(), 0, 0)
    assert losses["loss_pair_l1"] == 0


def test_weight_scales_the_loss_and_moves_the_generator(tmp_path: Path) -> None:
    batch = _batch()
    one = _training(tmp_path, 1.0).step(batch, 0, 0)["loss_pair_l1"]
    three = _training(tmp_path, 3.0).step(batch, 0, 0)["loss_pair_l1"]
    assert one > 0
    assert three == pytest.approx(3 * one, rel=1e-5)  # same seed → same first fake image


def test_negative_weight_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="lambda-pair-l1"):
        FitOptions(data="folder:x", out=tmp_path, lambda_pair_l1=-1).validate()
