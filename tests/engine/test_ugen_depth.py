"""ugen's depth condition in the synthesizer, on a tiny random ugen folder with a depth mapper:
a depth map → image (the fast path equals the plain one, the layout follows the map), a
photo → depth through the depth estimator the model names, and the errors for bad depth
maps, a model without a depth mapper and a missing depth estimator."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.conditions import photo_condition
from engine.errors import InputError, WeightsError
from engine.inference.ugen_synth import UgenSynthesizer
from engine.noise import NoiseField
from tests.helpers import tiny_depth, tiny_scene
from tests.ugen_helpers import PROXY, SIDE, write_tiny_ugen


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_ugen(tmp_path_factory.mktemp("ugen"), conditions=("labels", "depth"))


def _noise(seed: int, synth: UgenSynthesizer) -> NoiseField:
    return NoiseField.uniform(SIDE, SIDE, seed=seed, z_dim=synth.z_dim)


def test_depth_map_to_image(folder: Path) -> None:
    fast, plain = UgenSynthesizer.from_folder(folder), UgenSynthesizer.from_folder(folder)
    plain.fast = False
    assert fast.conditions == ("labels", "depth")
    depth = tiny_depth(tiny_scene(0)[0])
    a, b = fast.generate_depth(depth, _noise(0, fast)), plain.generate_depth(depth, _noise(0, plain))
    assert a.shape == (SIDE, SIDE, 3) and a.dtype == np.uint8
    assert np.array_equal(fast.last_proxy, plain.last_proxy) and np.abs(a.astype(int) - b).max() <= 1
    assert np.array_equal(a, fast.generate_condition("depth", depth, _noise(0, fast)))  # the one path
    first = fast.last_proxy.copy()
    flipped = fast.generate_depth(depth[::-1].copy(), _noise(0, fast))  # near at the top now
    assert not np.array_equal(fast.last_proxy, first) and not np.array_equal(flipped, a)
    other = fast.generate_depth(depth, _noise(3, fast))  # another z keeps the layout
    assert np.array_equal(fast.last_proxy, first) and not np.array_equal(other, a)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((32, SIDE), np.float32), f"paints {SIDE}×{SIDE}"),
        (np.zeros((SIDE, SIDE, 3), np.float32), "must be H×W"),
        (np.full((SIDE, SIDE), 2.0, np.float32), "0 = near, 1 = far"),
        (np.full((SIDE, SIDE), np.nan, np.float32), "0–1"),
    ],
)
def test_bad_depth_maps_say_what_to_fix(folder: Path, bad: np.ndarray, message: str) -> None:
    synth = UgenSynthesizer.from_folder(folder)
    with pytest.raises(InputError, match=message) as info:
        synth.generate_depth(bad, _noise(0, synth), source="my-depth.png")
    assert "my-depth.png" in str(info.value) and "Fix:" in str(info.value)


def test_the_line_path_stays_for_lines(folder: Path) -> None:
    synth = UgenSynthesizer.from_folder(folder)
    with pytest.raises(InputError, match="not a line condition"):
        synth.generate_lines("depth", np.zeros((SIDE, SIDE)), _noise(0, synth))


def test_a_photo_becomes_the_depth_the_model_was_trained_on(folder: Path) -> None:
    synth = UgenSynthesizer.from_folder(folder)
    estimator = synth.depth_estimator()
    assert estimator is synth.depth_estimator() and estimator.folder == folder.parent / "depth"
    photo = np.random.default_rng(0).integers(0, 255, (90, 140, 3), dtype=np.uint8)
    depth = photo_condition(photo, "depth", synth.arch.edge_extractor, SIDE, estimator)
    assert depth.shape == (SIDE, SIDE) and depth.dtype == np.float32
    assert 0 <= depth.min() and depth.max() <= 1
    assert synth.generate_depth(depth, _noise(0, synth)).shape == (SIDE, SIDE, 3)
    with pytest.raises(InputError, match="depth estimator"):
        photo_condition(photo, "depth", synth.arch.edge_extractor, SIDE)


def test_models_without_a_depth_mapper_or_its_estimator(tmp_path: Path) -> None:
    labels_only = UgenSynthesizer.from_folder(write_tiny_ugen(tmp_path / "a", conditions=("labels",)))
    depth = np.zeros((SIDE, SIDE), np.float32)
    with pytest.raises(InputError, match="no depth mapper") as info:
        labels_only.generate_depth(depth, _noise(0, labels_only))
    assert "--condition depth" in str(info.value)
    with pytest.raises(WeightsError, match="no depth mapper") as info:
        labels_only.depth_estimator()
    assert "--depth-net" in str(info.value)
    moved = write_tiny_ugen(tmp_path / "b", conditions=("depth",))
    shutil.rmtree(tmp_path / "b" / "depth")
    synth = UgenSynthesizer.from_folder(moved)
    assert synth.generate_depth(depth, _noise(0, synth)).shape == (SIDE, SIDE, 3)  # the mapper needs no net
    with pytest.raises(WeightsError, match="depth estimator") as info:
        synth.depth_estimator()
    assert str(moved) in str(info.value) and "put that depth weights folder at depth" in str(info.value)
    assert synth.last_proxy is not None and synth.last_proxy.shape == (PROXY, PROXY)
