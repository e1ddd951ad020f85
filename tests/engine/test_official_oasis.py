"""Our OASIS nets reproduce the official code (fixtures in shared/fixtures/official)."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from engine.networks.oasis import (
    OasisConfig,
    OasisDiscriminator,
    OasisDiscriminatorConfig,
    OasisGenerator,
    OasisGeneratorConfig,
    expand_noise,
)

from .conftest import OFFICIAL

ATOL = 1e-5


def _state(name: str) -> dict[str, torch.Tensor]:
    raw = load_file(OFFICIAL / name)
    return {k: v.float() if v.is_floating_point() else v for k, v in raw.items()}


def _small_generator() -> OasisGenerator:
    g = OasisGenerator(OasisGeneratorConfig(semantic_nc=7, channels_g=2))
    g.load_state_dict(_state("oasis_G_small_state.safetensors"), strict=True)
    return g.eval()


def _onehot(label: torch.Tensor, n: int) -> torch.Tensor:
    label = label.long()
    out = torch.zeros(label.shape[0], n, *label.shape[-2:])
    return out.scatter_(1, label, 1.0)


def test_generator_matches_official_global_noise() -> None:
    io = load_file(OFFICIAL / "oasis_G_small_io.safetensors")
    onehot = _onehot(io["label"], 7)
    assert torch.equal(onehot, io["input_onehot"].float())
    with torch.no_grad():
        out = _small_generator()(onehot, expand_noise(io["z"], 64, 128))
    torch.testing.assert_close(out, io["output"], atol=ATOL, rtol=0)


def test_generator_matches_official_spatial_noise() -> None:
    io = load_file(OFFICIAL / "oasis_G_small_spatial_io.safetensors")
    onehot = _onehot(io["label"], 7)
    region = io["region_B"].float()
    field = expand_noise(io["zB"], 64, 128) * region + expand_noise(io["zA"], 64, 128) * (1 - region)
    g = _small_generator()
    with torch.no_grad():
        out = g(onehot, field)
        out_a = g(onehot, expand_noise(io["zA"], 64, 128))
    torch.testing.assert_close(out, io["output"], atol=ATOL, rtol=0)
    torch.testing.assert_close(out_a, io["output_all_zA"], atol=ATOL, rtol=0)


def test_discriminator_matches_official() -> None:
    io = load_file(OFFICIAL / "oasis_D_small_io.safetensors")
    d = OasisDiscriminator(
        OasisDiscriminatorConfig(semantic_nc=7, widths=(8, 8, 16, 16, 32, 32), last_width=64)
    )
    d.load_state_dict(_state("oasis_D_small_state.safetensors"), strict=True)
    with torch.no_grad():
        out = d.eval()(io["image"])
    torch.testing.assert_close(out, io["output"], atol=ATOL, rtol=0)


@pytest.mark.parametrize("dataset", ["ade20k", "cityscapes", "coco"])
@pytest.mark.parametrize("net", ["G", "D"])
def test_paper_config_matches_release_manifest(dataset: str, net: str) -> None:
    manifest = json.loads((OFFICIAL / f"oasis_{dataset}_{net}.json").read_text())
    semantic_nc = manifest["constructor_opt"]["semantic_nc"]
    config = OasisConfig.paper(semantic_nc)
    with torch.device("meta"):
        model = OasisGenerator(config.generator) if net == "G" else OasisDiscriminator(config.discriminator)
    ours = [(k, list(v.shape)) for k, v in model.state_dict().items()]
    theirs = [(e["key"], e["shape"]) for e in manifest["state_dict"]]
    assert ours == theirs
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == manifest["param_counts"]["parameters"]
