"""Our SPADE nets reproduce the official code (fixtures in shared/fixtures/official)."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from safetensors.torch import load_file

from engine.encoding import LabelEncoder
from engine.networks.blocks import fold_spectral_norm, instance_edges
from engine.networks.inade import InadeGenerator, InadeGeneratorConfig
from engine.networks.spade import (
    PAPER_DATASETS,
    SpadeConfig,
    SpadeEncoder,
    SpadeEncoderConfig,
    SpadeGenerator,
    SpadeGeneratorConfig,
)

from .conftest import OFFICIAL

ATOL = 1e-5
CLASSES = 7  # 6 labels + unknown (id 6, the LAST one-hot channel); the 8th input is the edge map
MODES = ("normal", "more")  # one state file serves both: the extra ×2 has no weights


def _state(name: str) -> dict[str, torch.Tensor]:
    raw = load_file(OFFICIAL / name)
    return {k: v.float() if v.is_floating_point() else v for k, v in raw.items()}


@pytest.fixture(scope="module")
def io() -> dict[str, torch.Tensor]:
    return load_file(OFFICIAL / "spade_G_small_io.safetensors")


def small_config(mode: str = "normal", **kwargs: object) -> SpadeGeneratorConfig:
    return SpadeGeneratorConfig.for_output(CLASSES, 64, 128, ngf=1, num_upsampling=mode, **kwargs)


def small_generator(mode: str) -> SpadeGenerator:
    g = SpadeGenerator(small_config(mode))
    g.load_state_dict(_state("spade_G_small_state.safetensors"), strict=True)
    return g.eval()


def test_input_helpers_rebuild_the_official_input(io: dict[str, torch.Tensor]) -> None:
    # The fixture's label set puts unknown (id 6) last, as SPADE-COCO does: channel i = id i.
    onehot = LabelEncoder(list(range(CLASSES)), dontcare_channel=6).onehot(io["label"][:, 0].long())
    assert torch.equal(onehot, io["input"][:, :CLASSES].float())
    assert torch.equal(instance_edges(io["instance"]), io["input"][:, CLASSES:].float())


@pytest.mark.parametrize("mode", MODES)
def test_generator_matches_official(io: dict[str, torch.Tensor], mode: str) -> None:
    g = small_generator(mode)
    assert g.config.latent_size == ((2, 4) if mode == "normal" else (1, 2))
    assert g.latent_grid(64, 128) == g.config.latent_size
    with torch.no_grad():
        out = g(io["input"].float())
        folded = fold_spectral_norm(copy.deepcopy(g))(io["input"].float())
    torch.testing.assert_close(out, io[f"output_{mode}"], atol=ATOL, rtol=0)
    torch.testing.assert_close(folded, io[f"output_{mode}"], atol=ATOL, rtol=0)


def test_state_dict_order_is_the_official_one() -> None:
    manifest = json.loads((OFFICIAL / "spade_G_small.json").read_text())
    keys = list(SpadeGenerator(small_config()).state_dict())
    assert len(keys) == manifest["param_counts"]["state_dict_entries"]
    assert keys[:6] == [
        "fc.weight",
        "fc.bias",
        "head_0.conv_0.bias",
        "head_0.conv_0.weight_orig",
        "head_0.conv_0.weight_u",
        "head_0.conv_0.weight_v",
    ]
    assert "head_0.norm_0.param_free_norm.running_var" in keys
    assert keys[-2:] == ["conv_img.weight", "conv_img.bias"]


def _block_inputs(net: torch.nn.Module, names: tuple[str, ...], run: object) -> list[tuple[int, int]]:
    sizes: list[tuple[int, int]] = []
    hooks = [
        getattr(net, n).register_forward_pre_hook(lambda _m, args: sizes.append(tuple(args[0].shape[-2:])))
        for n in names
    ]
    with torch.no_grad():
        run()  # type: ignore[operator]
    for h in hooks:
        h.remove()
    return sizes


def test_inade_more_upsamples_where_the_spade_fixture_does(io: dict[str, torch.Tensor]) -> None:
    """INADE's Cityscapes ``more`` path has no fixture of its own: its extra ×2 sits where
    SPADE's does (the shared skeleton schedule), which output_more pins to 1e-5."""
    spade = small_generator("more")
    inade = InadeGenerator(
        InadeGeneratorConfig.for_output(CLASSES, 64, 128, ngf=1, z_dim=8, noise_nc=4, num_upsampling="more")
    ).eval()
    onehot = io["input"][:, :CLASSES].float()
    instances = torch.ones(1, 1, 64, 128)
    spade_sizes = _block_inputs(spade, spade.blocks, lambda: spade(io["input"].float()))
    inade_sizes = _block_inputs(
        inade,
        inade.BLOCKS,
        lambda: inade(onehot, instances, torch.zeros(1, 1, 2, 4), torch.zeros(1, 8)),
    )
    assert spade.blocks == inade.BLOCKS
    assert spade_sizes == inade_sizes == [(1, 2), (2, 4), (4, 8), (8, 16), (16, 32), (32, 64), (64, 128)]


def test_most_adds_up_4_at_half_width() -> None:
    config = SpadeGeneratorConfig.for_output(CLASSES, 128, 256, ngf=2, num_upsampling="most")
    g = SpadeGenerator(config).eval()
    assert g.config.latent_size == (1, 2) and g.blocks[-1] == "up_4"
    assert tuple(g.up_4.conv_0.weight_orig.shape) == (1, 2, 3, 3)  # fmiddle = min(fin, fout)
    assert tuple(g.up_4.conv_s.weight_orig.shape) == (1, 2, 1, 1)
    assert tuple(g.conv_img.weight.shape) == (3, 1, 3, 3)
    with torch.no_grad():
        out = g(torch.zeros(1, CLASSES + 1, 128, 256))
    assert out.shape == (1, 3, 128, 256)


def test_other_canvas_sizes_follow_the_map() -> None:
    g = small_generator("normal")
    x = torch.zeros(1, CLASSES + 1, 96, 96)
    x[:, 2] = 1
    with torch.no_grad():
        assert g(x).shape == (1, 3, 96, 96)  # multiples of 32: the grid follows the map
        assert g(x[..., :50, :70]).shape == (1, 3, 64, 128)  # otherwise the official fixed grid


def test_generator_checks_its_inputs(io: dict[str, torch.Tensor]) -> None:
    g = small_generator("normal")
    with pytest.raises(ValueError, match="instance-edge channel"):
        g(io["input"][:, :CLASSES].float())
    with pytest.raises(ValueError, match="takes no z"):
        g(io["input"].float(), torch.zeros(1, 256))
    vae = SpadeGenerator(small_config(use_vae=True, z_dim=16)).eval()
    with pytest.raises(ValueError, match="pass z"):
        vae(io["input"].float())


@pytest.mark.parametrize("dataset", sorted(PAPER_DATASETS))
def test_paper_config_matches_release_manifest(dataset: str) -> None:
    manifest = json.loads((OFFICIAL / f"spade_{dataset}_G.json").read_text())
    opt = manifest["constructor_opt"]
    config = SpadeConfig.paper(dataset).generator
    assert config.cond_nc == opt["semantic_nc"]
    assert config.instance_edges == (not opt["no_instance"])
    assert config.semantic_nc == opt["label_nc"] + int(opt["contain_dontcare_label"])
    assert (config.ngf, config.use_vae, config.num_upsampling) == (
        opt["ngf"],
        opt["use_vae"],
        opt["num_upsampling_layers"],
    )
    assert opt["norm_G"] == "spectralspadesyncbatch3x3" and config.spectral_norm
    assert list(config.latent_size) == manifest["latent_size_hw"]
    assert config.output_size[1] == opt["crop_size"]
    with torch.device("meta"):
        model = SpadeGenerator(config)
    ours = [(k, list(v.shape)) for k, v in model.state_dict().items()]
    theirs = [(e["key"], e["shape"]) for e in manifest["state_dict"]]
    assert ours == theirs
    counts = manifest["param_counts"]
    assert sum(p.numel() for p in model.parameters()) == counts["parameters"]
    assert sum(b.numel() for b in model.buffers()) == counts["buffers"]


def test_vae_generator_fc_is_a_linear_on_z() -> None:
    with torch.device("meta"):
        plain = SpadeGenerator(SpadeGeneratorConfig(semantic_nc=151, instance_edges=False))
        vae = SpadeGenerator(SpadeGeneratorConfig(semantic_nc=151, instance_edges=False, use_vae=True))
    assert tuple(vae.fc.weight.shape) == (1024 * 8 * 8, 256)
    keys = list(vae.state_dict())
    assert keys[:2] == ["fc.weight", "fc.bias"] and keys == list(plain.state_dict())


def test_encoder_layout_follows_the_official_conv_encoder() -> None:
    """Sizes from NVlabs/SPADE models/networks/encoder.py (norm_E spectralinstance, ngf 64,
    crop 256): six stride-2 3×3 convs without bias, widths 64 … 512, two Linears 8192 → 256."""
    with torch.device("meta"):
        e = SpadeEncoder(SpadeEncoderConfig())
    widths = [64, 128, 256, 512, 512, 512]
    expected = []
    fin = 3
    for i, w in enumerate(widths, 1):
        expected += [
            (f"layer{i}.0.weight_orig", [w, fin, 3, 3]),
            (f"layer{i}.0.weight_u", [w]),
            (f"layer{i}.0.weight_v", [fin * 9]),
        ]
        fin = w
    expected += [
        ("fc_mu.weight", [256, 512 * 16]),
        ("fc_mu.bias", [256]),
        ("fc_var.weight", [256, 512 * 16]),
        ("fc_var.bias", [256]),
    ]
    assert [(k, list(v.shape)) for k, v in e.state_dict().items()] == expected
    assert e.config.input_size == 256


def test_encoder_codes_drive_the_vae_generator() -> None:
    torch.manual_seed(0)
    e = SpadeEncoder(SpadeEncoderConfig(ndf=2, z_dim=16, layers=4)).eval()
    g = SpadeGenerator(small_config(use_vae=True, z_dim=16)).eval()
    photo = torch.rand(2, 3, 64, 128) * 2 - 1
    with torch.no_grad():
        mu, logvar = e(photo)
        assert mu.shape == logvar.shape == (2, 16)
        out = g(torch.zeros(2, CLASSES + 1, 64, 128), mu)
    assert out.shape == (2, 3, 64, 128)
    assert not torch.equal(out[0], out[1])  # two photos, two styles
    with pytest.raises(ValueError, match="8-long"):
        SpadeConfig(g.config, SpadeEncoderConfig(ndf=2, z_dim=8))
    with pytest.raises(ValueError, match="use_vae"):
        SpadeConfig(small_config(), SpadeEncoderConfig(ndf=2))
