"""UgenSynthesizer on a tiny random ugen folder: label maps, edge maps and proxy masks →
images; seeds, re-rolls, the proxy mask it exposes; its errors; fast path == plain path."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.errors import InputError
from engine.inference.open import open_synthesizer
from engine.inference.ugen_synth import UgenSynthesizer
from engine.networks.proxy import ProxyClusters
from engine.noise import NoiseField
from tests.helpers import tiny_scene
from tests.ugen_helpers import PROXY, SIDE, K, write_tiny_ugen


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_ugen(tmp_path_factory.mktemp("ugen"))


@pytest.fixture
def synth(folder: Path) -> UgenSynthesizer:
    s = open_synthesizer(folder)
    assert isinstance(s, UgenSynthesizer)
    return s


def _noise(seed: int, synth: UgenSynthesizer) -> NoiseField:
    return NoiseField.uniform(SIDE, SIDE, seed=seed, z_dim=synth.z_dim)


def test_labels_to_image(synth: UgenSynthesizer, folder: Path) -> None:
    labels, _ = tiny_scene(0)
    image = synth.generate(labels, _noise(0, synth))
    assert image.shape == (SIDE, SIDE, 3) and image.dtype == np.uint8
    assert synth.last_proxy is not None and synth.last_proxy.shape == (PROXY, PROXY)
    assert 0 <= synth.last_proxy.min() and synth.last_proxy.max() < K
    again = UgenSynthesizer.from_folder(folder).generate(labels, _noise(0, synth))
    assert np.array_equal(image, again)  # same seed, same image
    other = synth.generate(labels, _noise(1, synth))
    assert np.abs(other.astype(int) - image).mean() > 1  # a re-roll restyles …
    assert synth.conditions == ("labels", "edges") and "incremental" in synth.backend_name


def test_reroll_keeps_the_proxy_layout(synth: UgenSynthesizer) -> None:
    proxy = np.random.default_rng(0).integers(0, K, (PROXY, PROXY))
    proxy[4:12, 4:12] = 1  # a free-form square, the paper's manipulation
    first = synth.generate_proxy(proxy, _noise(0, synth))
    assert np.array_equal(synth.last_proxy, proxy)
    second = synth.generate_proxy(proxy, _noise(5, synth))
    assert np.array_equal(synth.last_proxy, proxy)
    assert np.abs(second.astype(int) - first).mean() > 1
    # Rendering the labels' own proxy mask gives the labels' image.
    labels, _ = tiny_scene(3)
    from_labels = synth.generate(labels, _noise(2, synth))
    assert np.array_equal(synth.generate_proxy(synth.last_proxy, _noise(2, synth)), from_labels)


def test_fast_path_equals_the_plain_path(folder: Path) -> None:
    fast = UgenSynthesizer.from_folder(folder)
    plain = UgenSynthesizer.from_folder(folder)
    plain.fast = False
    labels, _ = tiny_scene(1)
    for step, seed in enumerate((0, 0, 0, 4)):
        if step == 1:
            labels[10:18, 30:40] = 3  # a stroke
        if step == 2:
            labels[40:, :20] = 4  # a bigger one
        noise = _noise(seed, fast)
        a, b = fast.generate(labels, noise), plain.generate(labels, noise)
        assert np.array_equal(fast.last_proxy, plain.last_proxy), step
        assert np.abs(a.astype(int) - b).max() <= 1, step  # uint8 rounding of ≤ 1e-4 apart
    edges = np.zeros((SIDE, SIDE), bool)
    edges[20, :] = edges[:, 33] = True
    a, b = fast.generate_edges(edges, _noise(0, fast)), plain.generate_edges(edges, _noise(0, fast))
    assert np.abs(a.astype(int) - b).max() <= 1


def test_edges(synth: UgenSynthesizer) -> None:
    edges = np.zeros((SIDE, SIDE), np.float32)
    edges[30, 5:60] = 1
    image = synth.generate_edges(edges, _noise(0, synth))
    assert image.shape == (SIDE, SIDE, 3) and synth.last_proxy.shape == (PROXY, PROXY)
    with pytest.raises(InputError, match="0–1"):
        synth.generate_edges(edges * 3, _noise(0, synth))
    with pytest.raises(InputError, match=f"paints {SIDE}×{SIDE}"):
        synth.generate_edges(np.zeros((32, 64)), _noise(0, synth))


def test_missing_mapper_names_the_folder_and_the_fix(synth: UgenSynthesizer, folder: Path) -> None:
    with pytest.raises(InputError) as err:
        synth.generate_sketch(np.zeros((SIDE, SIDE)), _noise(0, synth))
    assert str(folder) in str(err.value) and "--condition sketch" in str(err.value)
    assert "mappers trained: labels, edges" in str(err.value)


def test_labels_need_the_label_mapper(tmp_path: Path) -> None:
    edges_only = UgenSynthesizer.from_folder(write_tiny_ugen(tmp_path, conditions=("edges",)))
    with pytest.raises(InputError, match="no labels mapper"):
        edges_only.generate(tiny_scene(0)[0], _noise(0, edges_only))


def test_missing_stylegan2_folder(tmp_path: Path) -> None:
    folder = write_tiny_ugen(tmp_path)
    shutil.rmtree(tmp_path / "sg2")
    with pytest.raises(InputError) as err:
        open_synthesizer(folder)
    assert "StyleGAN2" in str(err.value) and str(folder) in str(err.value) and "sg2" in str(err.value)


def test_bad_inputs(synth: UgenSynthesizer) -> None:
    labels, _ = tiny_scene(0)
    with pytest.raises(InputError, match=f"paints {SIDE}×{SIDE}"):
        synth.generate(np.pad(labels, ((0, 32), (0, 0))), NoiseField.uniform(96, 64, 0, synth.z_dim))
    with pytest.raises(InputError, match="noise field"):
        synth.generate(labels, NoiseField.uniform(SIDE, SIDE, 0, 7))
    with pytest.raises(InputError, match=f"{PROXY}×{PROXY} integer"):
        synth.generate_proxy(np.zeros((8, 8), int), _noise(0, synth))
    with pytest.raises(InputError, match=f"0–{K - 1}"):
        synth.generate_proxy(np.full((PROXY, PROXY), K), _noise(0, synth))
    with pytest.raises(InputError, match="GAN inversion"):
        synth.encode_photo(np.zeros((SIDE, SIDE, 3), np.uint8))


def test_swatches_come_from_the_folder_or_are_measured_once(folder: Path, tmp_path: Path) -> None:
    stored = open_synthesizer(folder)
    assert isinstance(stored, UgenSynthesizer)
    known = stored.known_swatches
    assert known is not None and known.shape == (K, 3)
    assert stored.cluster_swatches() is known  # no generator pass
    # A folder written before the swatches were stored: none known until asked for, then
    # measured from the same frozen generator — the same colours.
    older = open_synthesizer(write_tiny_ugen(tmp_path, swatches=False))
    assert isinstance(older, UgenSynthesizer) and older.known_swatches is None
    measured = older.cluster_swatches()
    assert np.array_equal(measured, known) and older.known_swatches is measured
    # The clusters' file itself round-trips them.
    older.clusters.save(tmp_path / "proxy.safetensors")
    again = ProxyClusters.load(tmp_path / "proxy.safetensors")
    assert np.array_equal(again.known_swatches, known)


def test_swatches_and_proxy_pictures(synth: UgenSynthesizer) -> None:
    swatches = synth.cluster_swatches()
    assert swatches.shape == (K, 3) and swatches.dtype == np.uint8
    assert synth.cluster_swatches() is swatches  # cached
    with pytest.raises(InputError, match="generate first"):
        synth.proxy_image()
    synth.generate(tiny_scene(0)[0], _noise(0, synth))
    picture = synth.proxy_image()
    assert picture.shape == (SIDE, SIDE, 3) and picture.dtype == np.uint8
