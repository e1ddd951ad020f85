"""--free-half: INADE's encoder sees half the batch; the other half keeps its prior draw."""

from __future__ import annotations

from pathlib import Path

import torch

from engine.encoding import default_channel_ids
from engine.labels import LabelSet
from engine.registry import ModelSpec
from engine.train.inade_step import InadeTraining
from engine.train.options import FitOptions
from engine.train.sampling import step_generator
from tests.engine.test_oasis_paired import _batch
from tests.helpers import TINY_SET


def _training(tmp_path: Path, free_half: bool) -> InadeTraining:
    options = FitOptions(
        data="folder:x", out=tmp_path, family="inade", arch="small", size=(64, 64), free_half=free_half
    )
    options.validate()
    label_set = LabelSet.from_dict(TINY_SET)
    ids = default_channel_ids(label_set.ids, label_set.dontcare)
    arch = InadeTraining.build_arch(options, len(ids))
    return InadeTraining(
        ModelSpec("inade", label_set, ids, 0, options.size, arch), options, torch.device("cpu")
    )


def _spy(training: InadeTraining) -> dict[str, list]:
    seen: dict[str, list] = {"encoded": [], "noise": []}
    encoder, generator = training.E, training.G

    def encode(image: torch.Tensor, instances: torch.Tensor) -> object:
        seen["encoded"].append(image.shape[0])
        return encoder(image, instances)

    def generate(
        onehot: torch.Tensor, instances: torch.Tensor, noise: torch.Tensor, z: torch.Tensor
    ) -> object:
        seen["noise"].append(noise.detach().clone())
        return generator(onehot, instances, noise, z)

    training.E, training.G = encode, generate  # type: ignore[assignment]
    return seen


def test_the_second_half_keeps_its_prior_draw(tmp_path: Path) -> None:
    training = _training(tmp_path, free_half=True)
    seen = _spy(training)
    batch = _batch(4)
    training.step(batch, 7, 0)
    assert seen["encoded"] == [2]  # the G step encodes two of the four images
    # The draw the step makes (its own seeded generator): the last two rows pass unchanged.
    k = seen["noise"][0].shape[1]
    draw, _ = training._draws(4, k, step_generator(training.options.seed, 7, 0))
    torch.testing.assert_close(seen["noise"][0][2:], draw[2:])
    assert not torch.allclose(seen["noise"][0][:2], draw[:2])  # the encoded half is remapped


def test_without_it_every_sample_is_encoded(tmp_path: Path) -> None:
    training = _training(tmp_path, free_half=False)
    seen = _spy(training)
    training.step(_batch(4), 7, 0)
    assert seen["encoded"] == [4]
