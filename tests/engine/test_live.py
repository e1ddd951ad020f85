"""LiveSynthesis: the studio's incremental path gives the images a full pass gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.checkpoints import load_weights
from engine.errors import InputError
from engine.inference.backends import auto
from engine.inference.live import LiveSynthesis
from engine.inference.synthesizer import Synthesizer
from engine.noise import NoiseField
from tests.engine.test_backends import _calibrated, _scene


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _calibrated(tmp_path_factory.mktemp("weights") / "landscapes-tiny")


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TESSERA_CACHE", str(tmp_path / "cache"))
    auto.forget_in_memory()
    yield tmp_path / "cache"
    auto.forget_in_memory()


def test_edits_give_the_full_pass_image(model: Path) -> None:
    synth = Synthesizer.from_folder(model)
    live = LiveSynthesis(synth)
    labels, noise = _scene(synth, 64, 96)
    assert np.array_equal(live.generate(labels, noise), synth.generate(labels, noise))
    assert live.last_box is None and live.precision == "fp32"
    ids = synth.spec.channel_ids[1:]
    edits = [
        ("stroke", lambda: labels.__setitem__((slice(10, 18), slice(20, 40)), ids[0]), (10, 20, 18, 40)),
        ("re-roll", lambda: noise.resample(labels == ids[0], seed=5), None),
        ("nothing", lambda: None, (0, 0, 0, 0)),
        (
            "new vector",
            lambda: noise.set_vector(noise.region_map == noise.region_map[12, 25], [0.5] * 64),
            None,
        ),
    ]
    for name, edit, expected_box in edits:
        edit()
        image = live.generate(labels, noise)
        diff = np.abs(image.astype(int) - synth.generate(labels, noise).astype(int))
        assert diff.max() <= 1, name  # 1e-4 on [-1, 1] may flip a uint8 rounding
        if expected_box is not None:
            assert live.last_box == expected_box, name
        else:
            assert live.last_box is not None, f"{name}: should be incremental"


def test_new_size_and_reset_run_full_passes(model: Path) -> None:
    synth = Synthesizer.from_folder(model)
    live = LiveSynthesis(synth)
    live.generate(*_scene(synth, 64, 64))
    labels, noise = _scene(synth, 32, 64)
    live.generate(labels, noise)
    assert live.last_box is None
    live.reset()
    live.generate(labels, noise)
    assert live.last_box is None


def test_precision_follows_the_synthesizer(model: Path) -> None:
    assert LiveSynthesis(Synthesizer.from_folder(model, backend="gather-bf16")).generate(
        *_scene(Synthesizer.from_folder(model), 32, 32)
    ).shape == (32, 32, 3)
    live = LiveSynthesis(Synthesizer.from_folder(model, backend="bf16"))
    live.generate(*_scene(live.synth, 32, 32))
    assert live.precision == "bf16"
    synth = Synthesizer(load_weights(model), backend="auto", auto_runs=1)
    live = LiveSynthesis(synth)
    live.generate(*_scene(synth, 32, 32))
    decision = synth.decision_for(32, 32)
    assert decision is not None
    assert live.precision == ("bf16" if "bf16" in decision.backend else "fp32")


def test_bad_input_gets_the_synthesizers_error(model: Path) -> None:
    synth = Synthesizer.from_folder(model)
    live = LiveSynthesis(synth)
    labels, _ = _scene(synth, 64, 64)
    with pytest.raises(InputError, match="noise field"):
        live.generate(labels, NoiseField.uniform(32, 32, seed=0, z_dim=synth.z_dim))
    with pytest.raises(InputError, match="multiples"):
        live.generate(labels[:60], NoiseField.uniform(60, 64, seed=0, z_dim=synth.z_dim))
