"""Our RESAIL generator and SESAME discriminator reproduce the official code
(tests/fixtures/official/resail_small.json; regenerate with tests/fixtures/make_resail_official.py)."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from engine.networks.blocks import instance_edges
from engine.networks.resail import ResailGenerator, ResailGeneratorConfig
from engine.networks.sesame_d import SesameDiscriminatorConfig, SesameMultiScaleDiscriminator

from .conftest import OFFICIAL

ATOL = 1e-5
CLASSES = 6  # + the instance-edge channel
SIZE = 96


def _state(name: str) -> dict[str, torch.Tensor]:
    raw = load_file(OFFICIAL / name)
    return {k: v.float() if v.is_floating_point() else v for k, v in raw.items()}


@pytest.fixture(scope="module")
def io() -> dict[str, torch.Tensor]:
    return load_file(OFFICIAL / "resail_small_io.safetensors")


def test_input_is_the_onehot_and_the_edges(io: dict[str, torch.Tensor]) -> None:
    onehot = torch.zeros(1, CLASSES, SIZE, SIZE).scatter_(1, io["label"].long(), 1.0)
    assert torch.equal(io["input"][:, :CLASSES].float(), onehot)
    assert torch.equal(io["input"][:, CLASSES:].float(), instance_edges(io["instance"].long()))


def test_generator_matches_official(io: dict[str, torch.Tensor]) -> None:
    config = ResailGeneratorConfig.for_output(
        CLASSES, SIZE, SIZE, instance_edges=True, ngf=2, spade_hidden=8, style_length=8
    )
    g = ResailGenerator(config)
    g.load_state_dict(_state("resail_G_small_state.safetensors"), strict=True)
    g.eval()
    with torch.no_grad():
        out = g(io["input"].float(), io["guidance"])
        # The empty region as a validity mask gives the same image: it holds −1 already.
        valid = (io["guidance"] > -1).any(1, keepdim=True)
        masked = g(io["input"].float(), io["guidance"], valid)
    torch.testing.assert_close(out, io["output"], atol=ATOL, rtol=0)
    torch.testing.assert_close(masked, io["output"], atol=ATOL, rtol=0)


def test_discriminator_matches_official(io: dict[str, torch.Tensor]) -> None:
    d = SesameMultiScaleDiscriminator(SesameDiscriminatorConfig(CLASSES, instance_edges=True, ndf=4))
    d.load_state_dict(_state("resail_D_small_state.safetensors"), strict=True)
    d.eval()
    with torch.no_grad():
        out = d(io["input"].float(), io["image"])
    assert len(out) == 2 and all(len(scale) == 5 for scale in out)
    for i, scale in enumerate(out):
        for j, t in enumerate(scale):
            torch.testing.assert_close(t, io[f"d{i}_{j}"], atol=ATOL, rtol=0)
