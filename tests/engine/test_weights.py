"""Weights folders: save → load, official import, and clear errors for bad folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from engine.checkpoints import load_weights, save_weights
from engine.encoding import default_channel_ids
from engine.errors import WeightsError
from engine.importers import import_oasis
from engine.labels import LabelSet
from engine.networks.oasis import OasisConfig, OasisDiscriminator, OasisGenerator, expand_noise
from engine.registry import ModelSpec
from tests.helpers import TINY_SET, write_tiny_oasis

from .conftest import OFFICIAL


def _spec() -> ModelSpec:
    ls = LabelSet.from_dict(TINY_SET)
    ids = default_channel_ids(ls.ids, ls.dontcare)
    return ModelSpec("oasis", ls, ids, 0, (64, 64), OasisConfig.small(len(ids)))


def _save(folder: Path) -> Path:
    spec = _spec()
    torch.manual_seed(0)
    states = {
        "generator": OasisGenerator(spec.arch.generator).state_dict(),
        "discriminator": OasisDiscriminator(spec.arch.discriminator).state_dict(),
    }
    return save_weights(folder, spec, states, "# card\n")


def test_save_load_round_trip(tmp_path: Path) -> None:
    folder = _save(tmp_path / "w")
    loaded = load_weights(folder, family="oasis", parts=("generator", "discriminator"))
    assert loaded.spec.to_dict() == _spec().to_dict()
    onehot = loaded.spec.encoder.onehot(torch.ones(1, 64, 64, dtype=torch.long))
    z = expand_noise(torch.randn(1, 64), 64, 64)
    g = loaded.nets["generator"]
    assert torch.equal(g(onehot, z), g(onehot, z)), "eval-mode G must be deterministic"
    assert (folder / "CARD.md").read_text() == "# card\n"


def test_missing_folder_and_config(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="not found"):
        load_weights(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(WeightsError, match=r"no config\.json"):
        load_weights(tmp_path / "empty")


def test_other_family_is_named(tmp_path: Path) -> None:
    folder = _save(tmp_path / "w")
    config = json.loads((folder / "config.json").read_text())
    with pytest.raises(WeightsError, match="'inade' model is needed"):
        load_weights(folder, family="inade")
    config["family"] = "martian"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(WeightsError, match="unknown family 'martian'"):
        load_weights(folder)


def test_truncated_file_is_named(tmp_path: Path) -> None:
    folder = _save(tmp_path / "w")
    path = folder / "generator.safetensors"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(WeightsError) as err:
        load_weights(folder)
    assert "generator.safetensors" in str(err.value) and "truncated" in str(err.value)


def test_wrong_shapes_are_listed(tmp_path: Path) -> None:
    folder = _save(tmp_path / "w")
    config = json.loads((folder / "config.json").read_text())
    config["architecture"]["generator"]["channels_g"] = 4
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(WeightsError, match="shape"):
        load_weights(folder)


def _official_folder(tmp_path: Path) -> Path:
    """An official-style checkpoint folder built from the fixture states, saved with the
    legacy (non-zip) torch format that the 2021 releases used."""
    models = tmp_path / "oasis_tiny_pretrained" / "models"
    models.mkdir(parents=True)
    for name, suffix in (
        ("oasis_G_small_state", "EMA"),
        ("oasis_G_small_state", "G"),
        ("oasis_D_small_state", "D"),
    ):
        state = {
            k: v.float() if v.is_floating_point() else v
            for k, v in load_file(OFFICIAL / f"{name}.safetensors").items()
        }
        torch.save(state, models / f"latest_{suffix}.pth", _use_new_zipfile_serialization=False)
    return models.parent


def test_import_official_oasis_reproduces_fixture(tmp_path: Path) -> None:
    label_set = LabelSet.from_dict(
        {
            "name": "seven",
            "dontcare": 0,
            "classes": [
                {"id": i, "name": f"c{i}", "color": [i * 30, 0, 0], "thing": False} for i in range(7)
            ],
        }
    )
    out = import_oasis(
        _official_folder(tmp_path),
        "custom",
        tmp_path / "w",
        label_set=label_set,
        image_size=(64, 128),
    )
    loaded = load_weights(out, family="oasis", parts=("generator", "discriminator", "generator_live"))
    assert loaded.spec.arch.generator.channels_g == 2
    assert loaded.spec.arch.discriminator.widths == (8, 8, 16, 16, 32, 32)
    io = load_file(OFFICIAL / "oasis_G_small_io.safetensors")
    onehot = loaded.spec.encoder.onehot(io["label"][:, 0].long())
    with torch.no_grad():
        out_img = loaded.nets["generator"](onehot, expand_noise(io["z"], 64, 128))
    torch.testing.assert_close(out_img, io["output"], atol=1e-5, rtol=0)
    d_io = load_file(OFFICIAL / "oasis_D_small_io.safetensors")
    with torch.no_grad():
        torch.testing.assert_close(
            loaded.nets["discriminator"](d_io["image"]), d_io["output"], atol=1e-5, rtol=0
        )


def test_import_rejects_wrong_dataset(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="--dataset"):
        import_oasis(_official_folder(tmp_path), "ade20k", tmp_path / "w")


def test_import_rejects_pickled_code(tmp_path: Path) -> None:
    models = tmp_path / "ck" / "models"
    models.mkdir(parents=True)

    class Evil:
        def __reduce__(self) -> tuple:
            return (print, ("pwned",))

    torch.save({"x": Evil()}, models / "best_EMA.pth")
    with pytest.raises(WeightsError, match="safely"):
        import_oasis(tmp_path / "ck", "ade20k", tmp_path / "w")


def test_import_cli_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from engine.train.cli import main

    (tmp_path / "empty").mkdir()
    assert (
        main(
            [
                "import",
                "oasis",
                str(tmp_path / "empty"),
                "--dataset",
                "ade20k",
                "--out",
                str(tmp_path / "w"),
            ]
        )
        == 2
    )
    assert "best_EMA.pth" in capsys.readouterr().err


def test_nan_weights_are_refused_by_name(tmp_path: Path) -> None:
    folder = write_tiny_oasis(tmp_path / "nan")
    state = load_file(str(folder / "generator.safetensors"))
    key = next(k for k, v in state.items() if v.is_floating_point() and v.numel() > 1)
    state[key].view(-1)[0] = float("nan")
    save_file(state, str(folder / "generator.safetensors"))
    with pytest.raises(WeightsError, match="NaN or infinite") as info:
        load_weights(folder, family="oasis")
    assert "generator.safetensors" in str(info.value) and key in str(info.value)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda ids: ids[:-1], "entries, the architecture has"),
        (lambda ids: [*ids[:-1], 999], "not ids of label set"),
        (lambda ids: [*ids[:-1], ids[0]], "an id twice"),
    ],
)
def test_wrong_channel_ids_are_refused(tmp_path: Path, edit, message: str) -> None:
    folder = write_tiny_oasis(tmp_path / "ids")
    config = json.loads((folder / "config.json").read_text())
    config["channel_ids"] = edit(config["channel_ids"])
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(WeightsError, match=message) as info:
        load_weights(folder, family="oasis")
    assert "config.json" in str(info.value)
