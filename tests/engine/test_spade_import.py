"""``app-train import spade``: official-layout checkpoints → weights folder → images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from engine.checkpoints import load_weights
from engine.errors import InputError, WeightsError
from engine.inference.open import open_synthesizer
from engine.inference.spade_synth import SpadeSynthesizer
from engine.inference.synthesizer import to_uint8_image
from engine.labels import LabelSet, write_label_png
from engine.networks.blocks import instance_edges
from engine.networks.spade import (
    PAPER_DATASETS,
    SpadeConfig,
    SpadeEncoder,
    SpadeEncoderConfig,
    SpadeGenerator,
    SpadeGeneratorConfig,
)
from engine.noise import NoiseField
from engine.spade_import import LABEL_SETS, import_spade, infer_spade_generator, spade_channels

from .conftest import OFFICIAL

ATOL = 1e-5
# The fixture's classes: ids 0–5 and unknown 6, which SPADE's dataset code puts last.
SEVEN = LabelSet.from_dict(
    {
        "name": "seven",
        "dontcare": 6,
        "classes": [{"id": i, "name": f"c{i}", "color": [i * 30, 0, 0], "thing": False} for i in range(7)],
    }
)


def _fixture_state() -> dict[str, torch.Tensor]:
    raw = load_file(OFFICIAL / "spade_G_small_state.safetensors")
    return {k: v.float() if v.is_floating_point() else v for k, v in raw.items()}


def _folder(tmp_path: Path, g: dict[str, torch.Tensor], e: dict[str, torch.Tensor] | None = None) -> Path:
    folder = tmp_path / "seven_pretrained"
    folder.mkdir()
    torch.save(g, folder / "latest_net_G.pth")
    if e is not None:
        torch.save(e, folder / "latest_net_E.pth")
    return folder


@pytest.mark.parametrize("mode", ["normal", "more"])
def test_import_reproduces_the_fixture(tmp_path: Path, mode: str) -> None:
    out = import_spade(
        _folder(tmp_path, _fixture_state()),
        "custom",
        tmp_path / "w",
        label_set=SEVEN,
        image_size=(64, 128),
        num_upsampling=mode,
    )
    loaded = load_weights(out, family="spade")
    g = loaded.spec.arch.generator
    assert (g.ngf, g.semantic_nc, g.instance_edges, g.use_vae, g.num_upsampling) == (1, 7, True, False, mode)
    assert loaded.spec.channel_ids == list(range(7)) and loaded.spec.dontcare_channel == 6
    assert loaded.spec.training["files"] == ["latest_net_G.pth"]
    assert "deterministic" in (out / "CARD.md").read_text()
    io = load_file(OFFICIAL / "spade_G_small_io.safetensors")
    onehot = loaded.spec.encoder.onehot(io["label"][:, 0].long())
    cond = torch.cat((onehot, instance_edges(io["instance"])), dim=1)
    with torch.no_grad():
        image = loaded.nets["generator"](cond)
    torch.testing.assert_close(image, io[f"output_{mode}"], atol=ATOL, rtol=0)


@pytest.mark.parametrize("dataset", sorted(PAPER_DATASETS))
def test_release_shapes_give_the_release_config(dataset: str) -> None:
    """The importer reads each released generator's architecture off its shapes."""
    config = SpadeConfig.paper(dataset).generator
    with torch.device("meta"):
        state = SpadeGenerator(config).state_dict()
    label_set = LabelSet.builtin(LABEL_SETS[dataset])
    ids, dontcare = spade_channels(label_set, dataset)
    assert len(ids) == config.semantic_nc
    _, size, mode, edges = PAPER_DATASETS[dataset]
    inferred = infer_spade_generator(
        state, len(ids), size, Path("latest_net_G.pth"), num_upsampling=mode, instance_edges=edges
    )
    assert inferred == config
    # Fact 1 and the COCO convention (fixtures README): ADE20K "other" first, COCO unknown last.
    where = {"ade20k": (0, ids[0]), "cityscapes": (None, None), "coco": (182, ids[-1])}[dataset]
    assert (dontcare, label_set.dontcare) == where


def _tiny(**kwargs: object) -> SpadeGenerator:
    torch.manual_seed(3)
    g = SpadeGenerator(SpadeGeneratorConfig.for_output(7, 64, 128, ngf=1, spade_hidden=8, **kwargs))
    with torch.no_grad():  # BN statistics away from identity, as a trained net has
        for name, buf in g.named_buffers():
            if name.endswith("running_mean"):
                buf.normal_(0, 0.3)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 2.0)
    return g.eval()


def test_import_cli_then_generate_matches_the_in_memory_net(tmp_path: Path) -> None:
    from engine.train.cli import main

    g = _tiny()
    labels_json = tmp_path / "seven.json"
    labels_json.write_text(json.dumps(SEVEN.to_dict()))
    folder = _folder(tmp_path, g.state_dict())
    weights = tmp_path / "weights" / "seven-spade"
    args = ["import", "spade", str(folder), "--dataset", str(labels_json), "--size", "64x128"]
    assert main([*args, "--out", str(weights)]) == 0
    labels = np.zeros((64, 128), np.uint16)
    labels[:, 40:] = 3
    labels[20:50, 60:100] = 5
    labels[:8, :8] = 6
    write_label_png(tmp_path / "map.png", labels)
    out = tmp_path / "out.png"
    assert (
        main(
            ["generate", "--weights", str(weights), "--labels", str(tmp_path / "map.png"), "--out", str(out)]
        )
        == 0
    )
    again = tmp_path / "again.png"
    seed = ["--seed", "7"]
    assert (
        main(
            [
                "generate",
                "--weights",
                str(weights),
                "--labels",
                str(tmp_path / "map.png"),
                "--out",
                str(again),
                *seed,
            ]
        )
        == 0
    )
    written = np.asarray(Image.open(out).convert("RGB"))
    assert np.array_equal(
        written, np.asarray(Image.open(again).convert("RGB"))
    )  # no noise: seeds change nothing
    onehot = torch.zeros(1, 7, 64, 128).scatter_(
        1, torch.from_numpy(labels.astype(np.int64))[None, None], 1.0
    )
    cond = torch.cat((onehot, instance_edges(torch.from_numpy(labels.astype(np.int64))[None])), dim=1)
    with torch.no_grad():
        expected = to_uint8_image(g(cond))
    # The CLI runs the folded net: equal up to one step of rounding on a few pixels.
    diff = np.abs(written.astype(int) - expected.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01
    assert expected.std() > 5  # a real image, not a constant


def test_vae_checkpoint_with_encoder(tmp_path: Path) -> None:
    g = _tiny(use_vae=True, z_dim=16)
    e = SpadeEncoder(SpadeEncoderConfig(ndf=2, z_dim=16, layers=4)).eval()
    out = import_spade(
        _folder(tmp_path, g.state_dict(), e.state_dict()),
        "custom",
        tmp_path / "w",
        label_set=SEVEN,
        image_size=(64, 128),
    )
    synth = open_synthesizer(out)
    assert isinstance(synth, SpadeSynthesizer) and not synth.deterministic and synth.z_dim == 16
    assert synth.style_encoder is not None and synth.style_encoder.config.layers == 4
    photo = np.random.default_rng(0).integers(0, 256, (64, 128, 3), dtype=np.uint8)
    z = synth.encode_photo(photo)
    assert z.shape == (16,)
    labels = np.full((64, 128), 2, np.uint16)
    noise = NoiseField.uniform(64, 128, seed=1, z_dim=16)
    styled = NoiseField.from_vector(64, 128, z)
    a, b = synth.generate(labels, noise), synth.generate(labels, styled)
    assert a.shape == (64, 128, 3) and not np.array_equal(a, b)
    assert np.array_equal(b, synth.generate(labels, NoiseField.from_vector(64, 128, z)))
    cond = synth.condition(labels)
    with torch.no_grad():
        expected = to_uint8_image(g(cond, z[None]))
    assert np.abs(b.astype(int) - expected.astype(int)).max() <= 1


def test_deterministic_synth_ignores_noise_and_reads_instances(tmp_path: Path) -> None:
    out = import_spade(
        _folder(tmp_path, _tiny().state_dict()),
        "custom",
        tmp_path / "w",
        label_set=SEVEN,
        image_size=(64, 128),
    )
    synth = open_synthesizer(out)
    assert isinstance(synth, SpadeSynthesizer) and synth.deterministic and synth.z_dim == 1
    labels = np.full((64, 128), 1, np.uint16)
    instances = np.zeros((64, 128), np.int32)
    instances[10:30, 10:50] = 1
    first = synth.generate(labels, NoiseField.uniform(64, 128, seed=1, z_dim=1))
    assert np.array_equal(first, synth.generate(labels, NoiseField.uniform(64, 128, seed=2, z_dim=1)))
    assert not np.array_equal(
        first, synth.generate(labels, NoiseField.uniform(64, 128, 1, 1), instances=instances)
    )
    assert synth.condition(labels, instances)[0, 7].sum() > 0 and synth.condition(labels)[0, 7].sum() == 0
    with pytest.raises(InputError, match="multiples of 32"):
        synth.generate(labels[:50], NoiseField.uniform(50, 128, seed=1, z_dim=1))
    with pytest.raises(InputError, match="cannot take a photo"):
        synth.encode_photo(np.zeros((64, 64, 3), np.uint8))


def test_import_refusals_name_the_file_and_the_fix(tmp_path: Path) -> None:
    folder = _folder(tmp_path, _fixture_state())
    with pytest.raises(WeightsError, match=r"(?s)latest_net_G\.pth.*input channels.*--dataset"):
        import_spade(folder, "ade20k", tmp_path / "w")  # 151 channels expected, the file reads 8
    with pytest.raises(WeightsError, match=r"(?s)multiples of 32.*--size"):
        import_spade(folder, "custom", tmp_path / "w", label_set=SEVEN, image_size=(64, 100))
    torch.save(_tiny(use_vae=True, z_dim=16).state_dict(), folder / "x.pth")
    torch.save(
        SpadeEncoder(SpadeEncoderConfig(ndf=2, z_dim=16, layers=4)).state_dict(), folder / "latest_net_E.pth"
    )
    with pytest.raises(WeightsError, match=r"(?s)latest_net_E\.pth.*no use_vae"):
        import_spade(folder, "custom", tmp_path / "w", label_set=SEVEN, image_size=(64, 128))
    (folder / "latest_net_E.pth").unlink()
    path = folder / "latest_net_G.pth"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(WeightsError, match=r"latest_net_G\.pth") as err:
        import_spade(folder, "custom", tmp_path / "w", label_set=SEVEN, image_size=(64, 128))
    assert "Fix:" in str(err.value)
    torch.save({"fc.weight": torch.zeros(3)}, path)
    with pytest.raises(WeightsError, match=r"(?s)head_0\.conv_0\.weight_orig.*latest_net_G\.pth"):
        import_spade(folder, "custom", tmp_path / "w", label_set=SEVEN, image_size=(64, 128))
    path.unlink()
    with pytest.raises(WeightsError, match=r"no latest_net_G\.pth"):
        import_spade(folder, "coco", tmp_path / "w")
    with pytest.raises(WeightsError, match="unknown dataset"):
        import_spade(folder, "facades", tmp_path / "w")
    assert not (tmp_path / "w").exists()
