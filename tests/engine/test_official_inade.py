"""Our INADE nets reproduce the official code (fixtures in shared/fixtures/official)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from engine.checkpoints import load_weights
from engine.errors import WeightsError
from engine.importers import import_inade
from engine.labels import LabelSet
from engine.networks.blocks import fold_spectral_norm
from engine.networks.inade import (
    PAPER_DATASETS,
    InadeConfig,
    InadeDiscriminator,
    InadeEncoder,
    InadeGenerator,
    InadeGeneratorConfig,
    InstanceStyle,
    instance_edges,
    instance_onehot,
    remap_noise,
)

from .conftest import OFFICIAL

ATOL = 1e-5
CLASSES = 7  # 6 labels + dontcare; the fixture's 8th input channel is the instance edge


def _state(name: str) -> dict[str, torch.Tensor]:
    raw = load_file(OFFICIAL / name)
    return {k: v.float() if v.is_floating_point() else v for k, v in raw.items()}


@pytest.fixture(scope="module")
def io() -> dict[str, torch.Tensor]:
    return load_file(OFFICIAL / "inade_small_io.safetensors")


@pytest.fixture(scope="module")
def nets() -> tuple[InadeGenerator, InadeEncoder]:
    config = InadeConfig.small(CLASSES)
    g = InadeGenerator(config.generator)
    g.load_state_dict(_state("inade_G_small_state.safetensors"), strict=True)
    e = InadeEncoder(config.encoder)
    e.load_state_dict(_state("inade_E_small_state.safetensors"), strict=True)
    return g.eval(), e.eval()


def _inputs(io: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    onehot = io["input"][:, :CLASSES].float()
    return onehot, instance_onehot(io["instance"])


def _style(io: dict[str, torch.Tensor]) -> InstanceStyle:
    return InstanceStyle(io["enc_scale_mu"], io["enc_scale_logvar"], io["enc_bias_mu"], io["enc_bias_logvar"])


def test_input_helpers_rebuild_the_official_inputs(io: dict[str, torch.Tensor]) -> None:
    label = io["label"].long()
    onehot = torch.zeros(1, CLASSES, *label.shape[-2:]).scatter_(1, label, 1.0)
    assert torch.equal(onehot, io["input"][:, :CLASSES].float())
    assert torch.equal(instance_edges(io["instance"]), io["input"][:, CLASSES:].float())
    instances = instance_onehot(io["instance"])
    assert instances.shape == (1, 28, 64, 128)
    assert torch.equal(instances.argmax(1), io["instance"][:, 0].long())


def test_generator_matches_official_without_encoder(io: dict[str, torch.Tensor], nets) -> None:
    g, _ = nets
    assert g.config.output_size == (64, 128)
    with torch.no_grad():
        out = g(*_inputs(io), io["noise"], io["noise_ins"])
    torch.testing.assert_close(out, io["output_no_encoder"], atol=ATOL, rtol=0)


def test_folded_spectral_norm_gives_the_same_image(io: dict[str, torch.Tensor], nets) -> None:
    folded = fold_spectral_norm(copy.deepcopy(nets[0]))
    assert not any(k.endswith("weight_orig") for k in folded.state_dict())
    with torch.no_grad():
        out = folded(*_inputs(io), io["noise"], io["noise_ins"])
    torch.testing.assert_close(out, io["output_no_encoder"], atol=ATOL, rtol=0)


def test_encoder_matches_official(io: dict[str, torch.Tensor], nets) -> None:
    _, e = nets
    with torch.no_grad():
        style = e(io["image"], instance_onehot(io["instance"]))
    for name, ours, theirs in zip(InstanceStyle._fields, style, _style(io)):
        torch.testing.assert_close(ours, theirs, atol=ATOL, rtol=0, msg=name)


def test_generator_matches_official_with_encoder(io: dict[str, torch.Tensor], nets) -> None:
    g, e = nets
    onehot, instances = _inputs(io)
    with torch.no_grad():
        from_fixture = g(onehot, instances, remap_noise(io["noise"], _style(io)), io["noise_ins"])
        end_to_end = g(
            onehot, instances, remap_noise(io["noise"], e(io["image"], instances)), io["noise_ins"]
        )
    torch.testing.assert_close(from_fixture, io["output_with_encoder"], atol=ATOL, rtol=0)
    torch.testing.assert_close(end_to_end, io["output_with_encoder"], atol=ATOL, rtol=0)


def test_prior_style_leaves_noise_unchanged(io: dict[str, torch.Tensor]) -> None:
    zeros = torch.zeros(1, 28, 8)
    assert torch.equal(remap_noise(io["noise"], InstanceStyle(zeros, zeros, zeros, zeros)), io["noise"])


def test_generator_rejects_the_edge_channel(io: dict[str, torch.Tensor], nets) -> None:
    g, _ = nets
    with pytest.raises(ValueError, match="no edge channel"):
        g(io["input"].float(), instance_onehot(io["instance"]), io["noise"], io["noise_ins"])


def test_more_mode_adds_one_upsample_and_shrinks_fc(io: dict[str, torch.Tensor]) -> None:
    config = InadeGeneratorConfig.for_output(
        CLASSES, 64, 128, ngf=2, z_dim=32, noise_nc=8, num_upsampling="more"
    )
    assert config.latent_size == (1, 2) and config.output_size == (64, 128)
    g = InadeGenerator(config).eval()
    assert tuple(g.fc.weight.shape) == (32 * 1 * 2, 32)
    with torch.no_grad():
        out = g(*_inputs(io), io["noise"], io["noise_ins"])
    assert out.shape == (1, 3, 64, 128) and bool(out.abs().le(1).all())


@pytest.mark.parametrize("dataset", sorted(PAPER_DATASETS))
@pytest.mark.parametrize("net", ["G", "E"])
def test_paper_config_matches_release_manifest(dataset: str, net: str) -> None:
    manifest = json.loads((OFFICIAL / f"inade_{dataset}_{net}.json").read_text())
    config = InadeConfig.paper(dataset)
    opt = manifest["constructor_opt"]
    with torch.device("meta"):
        model = InadeGenerator(config.generator) if net == "G" else InadeEncoder(config.encoder)
    ours = [(k, list(v.shape)) for k, v in model.state_dict().items()]
    theirs = [(e["key"], e["shape"]) for e in manifest["state_dict"]]
    assert ours == theirs
    counts = manifest["param_counts"]
    assert sum(p.numel() for p in model.parameters()) == counts["parameters"]
    assert sum(b.numel() for b in model.buffers()) == counts["buffers"]
    if net == "G":
        g = config.generator
        assert g.semantic_nc == opt["semantic_nc"] - 1  # the edge channel is not an input
        assert list(g.latent_size) == manifest["latent_size_hw"]
        assert (g.ngf, g.z_dim, g.noise_nc) == (opt["ngf"], opt["z_dim"], opt["noise_nc"])
        assert g.num_upsampling == opt["num_upsampling_layers"]
        assert g.output_size[1] == opt["crop_size"]


def test_discriminator_layout_and_features() -> None:
    config = InadeConfig.small(CLASSES).discriminator
    d = InadeDiscriminator(config).eval()
    keys = list(d.state_dict())
    assert keys[:5] == [
        "discriminator_0.model0.0.weight",
        "discriminator_0.model0.0.bias",
        "discriminator_0.model1.0.weight_orig",
        "discriminator_0.model1.0.weight_u",
        "discriminator_0.model1.0.weight_v",
    ]
    assert "discriminator_1.model4.0.bias" in keys and "discriminator_0.model1.0.bias" not in keys
    labels = torch.zeros(2, CLASSES + 1, 64, 128)
    with torch.no_grad():
        out = d(labels, torch.zeros(2, 3, 64, 128))
    assert len(out) == config.num_d
    shapes = [[tuple(f.shape) for f in scale] for scale in out]
    assert shapes[0] == [(2, 4, 33, 65), (2, 8, 17, 33), (2, 16, 9, 17), (2, 32, 10, 18), (2, 1, 11, 19)]
    assert shapes[1][-1] == (2, 1, 7, 11)
    with torch.device("meta"):
        full = InadeDiscriminator(InadeConfig.paper("ade20k").discriminator)
    first = full.state_dict()["discriminator_0.model0.0.weight"]
    assert tuple(first.shape) == (64, 151 + 1 + 3, 4, 4)
    assert tuple(full.state_dict()["discriminator_0.model3.0.weight_orig"].shape) == (512, 256, 4, 4)


# ---------------------------------------------------------------------- importer
SEVEN = LabelSet.from_dict(
    {
        "name": "seven",
        "dontcare": 0,
        "classes": [{"id": i, "name": f"c{i}", "color": [i * 30, 0, 0], "thing": False} for i in range(7)],
    }
)


def _release_folder(tmp_path: Path, encoder_name: str = "best_net_IE.pth") -> Path:
    folder = tmp_path / "inade_seven"
    folder.mkdir()
    torch.save(_state("inade_G_small_state.safetensors"), folder / "best_net_G.pth")
    torch.save(_state("inade_E_small_state.safetensors"), folder / encoder_name)
    return folder


@pytest.mark.parametrize("encoder_name", ["best_net_IE.pth", "best_net_E.pth"])
def test_import_round_trip_reproduces_fixture(
    tmp_path: Path, io: dict[str, torch.Tensor], encoder_name: str
) -> None:
    out = import_inade(
        _release_folder(tmp_path, encoder_name),
        "custom",
        tmp_path / "w",
        label_set=SEVEN,
        image_size=(64, 128),
    )
    loaded = load_weights(out, family="inade", parts=("generator", "encoder"))
    g_cfg = loaded.spec.arch.generator
    assert (g_cfg.ngf, g_cfg.z_dim, g_cfg.noise_nc, g_cfg.latent_size) == (2, 32, 8, (2, 4))
    assert g_cfg.num_upsampling == "normal" and loaded.spec.image_size == (64, 128)
    assert loaded.spec.training["files"] == ["best_net_G.pth", encoder_name]
    onehot = loaded.spec.encoder.onehot(io["label"][:, 0].long())
    instances = instance_onehot(io["instance"])
    g, e = loaded.nets["generator"], loaded.nets["encoder"]
    with torch.no_grad():
        plain = g(onehot, instances, io["noise"], io["noise_ins"])
        styled = g(onehot, instances, remap_noise(io["noise"], e(io["image"], instances)), io["noise_ins"])
    torch.testing.assert_close(plain, io["output_no_encoder"], atol=ATOL, rtol=0)
    torch.testing.assert_close(styled, io["output_with_encoder"], atol=ATOL, rtol=0)


def test_import_rejects_a_truncated_file(tmp_path: Path) -> None:
    folder = _release_folder(tmp_path)
    path = folder / "best_net_G.pth"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(WeightsError, match=r"best_net_G\.pth") as err:
        import_inade(folder, "custom", tmp_path / "w", label_set=SEVEN, image_size=(64, 128))
    assert "Fix:" in str(err.value)
    assert not (tmp_path / "w").exists()


def test_import_rejects_wrong_files_and_dataset(tmp_path: Path) -> None:
    folder = _release_folder(tmp_path)
    with pytest.raises(WeightsError, match=r"(?s)best_net_G\.pth.*--dataset"):
        import_inade(folder, "ade20k", tmp_path / "w")  # 151 classes expected, the file has 7
    with pytest.raises(WeightsError, match=r"(?s)best_net_G\.pth.*latent grid"):
        import_inade(folder, "custom", tmp_path / "w", label_set=SEVEN, image_size=(64, 64))
    torch.save({"fc.weight": torch.zeros(3)}, folder / "best_net_IE.pth")
    with pytest.raises(WeightsError, match=r"best_net_IE\.pth"):
        import_inade(folder, "custom", tmp_path / "w", label_set=SEVEN, image_size=(64, 128))
    with pytest.raises(WeightsError, match="no built-in label set"):
        import_inade(folder, "celeba", tmp_path / "w")
    (folder / "best_net_G.pth").unlink()
    with pytest.raises(WeightsError, match=r"best_net_G\.pth"):
        import_inade(folder, "ade20k", tmp_path / "w")


def test_import_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from engine.train.cli import main

    labels = tmp_path / "seven.json"
    labels.write_text(json.dumps(SEVEN.to_dict()))
    args = ["import", "inade", str(_release_folder(tmp_path)), "--dataset", str(labels)]
    assert main([*args, "--size", "64x128", "--out", str(tmp_path / "w")]) == 0
    assert load_weights(tmp_path / "w", family="inade", parts=("generator", "encoder")).spec.family == "inade"
    assert main([*args, "--out", str(tmp_path / "w2")]) == 2  # 256×256 does not fit this fc
    assert "latent grid" in capsys.readouterr().err


def test_the_encoders_pooled_heads_equal_pooling_their_full_maps() -> None:
    """The heads are pooled per instance before their weights apply (linearity); the same
    numbers and gradients as pooling the full-resolution maps, an empty instance included."""
    from engine.networks.inade import _instance_aware_conv, _instance_pooled_conv

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 12, 10, generator=gen, requires_grad=True)
    weight = torch.randn(5, 3, 3, 3, generator=gen, requires_grad=True)
    bias = torch.randn(5, generator=gen, requires_grad=True)
    ids = torch.randint(0, 3, (2, 1, 12, 10), generator=gen)
    instances = F.one_hot(ids[:, 0], 4).permute(0, 3, 1, 2).float()  # instance 3 is empty
    ids = ids.float()
    full = torch.einsum("bchw,bkhw->bkc", _instance_aware_conv(x, ids, weight, bias, 1), instances)
    pooled = _instance_pooled_conv(x, ids, weight, bias, instances)
    torch.testing.assert_close(pooled, full, atol=1e-4, rtol=1e-5)
    assert torch.equal(pooled[:, 3], torch.zeros(2, 5))
    grads_full = torch.autograd.grad(full.square().sum(), (x, weight, bias))
    grads_pooled = torch.autograd.grad(pooled.square().sum(), (x, weight, bias))
    for a, b in zip(grads_pooled, grads_full, strict=True):
        torch.testing.assert_close(a, b, atol=1e-3, rtol=1e-4)
