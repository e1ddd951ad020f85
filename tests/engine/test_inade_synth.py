"""INADE inference: instance noise from the noise field, local re-rolls, styles from photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import InputError
from engine.inference.inade_noise import instance_layout, instance_noise
from engine.inference.inade_synth import InadeSynthesizer
from engine.inference.open import open_synthesizer
from engine.inference.synthesizer import Synthesizer
from engine.noise import NoiseField
from tests.helpers import write_tiny_inade, write_tiny_oasis


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> InadeSynthesizer:
    return InadeSynthesizer.from_folder(write_tiny_inade(tmp_path_factory.mktemp("w") / "tiny-inade"))


def _scene(synth: InadeSynthesizer) -> tuple[np.ndarray, np.ndarray]:
    """Sky over grass with two trees (instances 1 and 2) of one class."""
    ls = synth.spec.label_set
    labels = np.full((64, 64), ls.by_name("sky").id, np.uint16)
    labels[32:] = ls.by_name("grass").id
    tree = ls.by_name("tree").id
    instances = np.zeros((64, 64), np.int32)
    labels[20:44, 8:24], instances[20:44, 8:24] = tree, 1
    labels[20:44, 40:56], instances[20:44, 40:56] = tree, 2
    return labels, instances


def test_layout_numbers_objects_and_stuff(synth: InadeSynthesizer) -> None:
    labels, instances = _scene(synth)
    layout = instance_layout(labels, instances)
    tree = synth.spec.label_set.by_name("tree").id
    assert sorted(layout.keys) == sorted([
        (synth.spec.label_set.by_name("sky").id, 0), (synth.spec.label_set.by_name("grass").id, 0),
        (tree, 1), (tree, 2),
    ])  # fmt: skip
    assert layout.keys[layout.index_at(30, 10)] == (tree, 1)


def test_noise_rows_per_instance(synth: InadeSynthesizer) -> None:
    labels, instances = _scene(synth)
    layout = instance_layout(labels, instances)
    noise = NoiseField.uniform(64, 64, seed=1, z_dim=synth.z_dim)
    rows, z = instance_noise(layout, noise, synth.noise_nc, synth.generator.config.z_dim)
    assert rows.shape == (1, 4, 2, synth.noise_nc) and z.shape == (1, synth.generator.config.z_dim)
    one, two = layout.index_at(30, 10), layout.index_at(30, 45)
    assert not torch.equal(rows[0, one], rows[0, two])  # two trees under one region still differ
    # Re-rolling one tree changes its row only, and not the global vector.
    noise.resample(layout.mask(one), seed=99)
    rows2, z2 = instance_noise(layout, noise, synth.noise_nc, synth.generator.config.z_dim)
    changed = [k for k in range(4) if not torch.equal(rows[0, k], rows2[0, k])]
    assert changed == [one] and torch.equal(z, z2)
    # An explicit vector on an instance is used exactly (copy style / style from a photo).
    vector = torch.arange(synth.z_dim, dtype=torch.float32)
    noise.set_vector(layout.mask(two), vector)
    rows3, _ = instance_noise(layout, noise, synth.noise_nc, synth.generator.config.z_dim)
    assert torch.equal(rows3[0, two].reshape(-1), vector)
    noise.resample_all(5)
    assert not torch.equal(instance_noise(layout, noise, synth.noise_nc, synth.generator.config.z_dim)[1], z)


def test_rerolling_one_tree_changes_mostly_that_tree(synth: InadeSynthesizer) -> None:
    labels, instances = _scene(synth)
    noise = NoiseField.uniform(64, 64, seed=3, z_dim=synth.z_dim)
    before = synth.generate(labels, noise, instances=instances).astype(float)
    assert before.shape == (64, 64, 3) and before.std() > 1
    tree = instances == 1
    noise.resample(tree, seed=1234)
    after = synth.generate(labels, noise, instances=instances).astype(float)
    diff = np.abs(after - before).mean(-1)
    assert diff[tree].mean() > 2 * diff[~tree].mean(), (diff[tree].mean(), diff[~tree].mean())
    assert np.array_equal(after, synth.generate(labels, noise, instances=instances))  # deterministic


def test_style_from_a_photo(synth: InadeSynthesizer) -> None:
    labels, instances = _scene(synth)
    photo = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    styles = synth.encode_style(photo, labels, instances)
    tree = synth.spec.label_set.by_name("tree").id
    assert set(styles) >= {(tree, 1), (tree, 2)}
    assert all(v.shape == (synth.z_dim,) for v in styles.values())
    noise = NoiseField.uniform(64, 64, seed=3, z_dim=synth.z_dim)
    noise.set_vector(instances == 2, styles[(tree, 1)])  # tree 2 takes tree 1's style from the photo
    assert synth.generate(labels, noise, instances=instances).shape == (64, 64, 3)
    with pytest.raises(InputError, match="multiples"):
        synth.encode_style(photo[:60], labels[:60], instances[:60])


def test_bad_inputs_are_named(synth: InadeSynthesizer) -> None:
    labels, _ = _scene(synth)
    with pytest.raises(InputError, match="noise field"):
        synth.generate(labels, NoiseField.uniform(64, 64, seed=0, z_dim=64 if synth.z_dim != 64 else 32))
    with pytest.raises(InputError, match="multiples of 32"):
        synth.generate(labels[:48], NoiseField.uniform(48, 64, seed=0, z_dim=synth.z_dim))
    with pytest.raises(InputError, match="cannot turn a photo"):
        synth.segment(np.zeros((64, 64, 3), np.uint8))


def test_open_synthesizer_picks_the_family(tmp_path: Path, synth: InadeSynthesizer) -> None:
    assert isinstance(open_synthesizer(write_tiny_oasis(tmp_path / "o")), Synthesizer)
    assert isinstance(open_synthesizer(synth.weights.folder), InadeSynthesizer)


def test_samples_sheet(tmp_path: Path, synth: InadeSynthesizer) -> None:
    from PIL import Image

    from engine.labels import read_label_png
    from engine.metrics.showcase import SCENES, thing_instances
    from engine.train.cli import main

    labels = read_label_png(SCENES / "mountain_lake.png", synth.spec.label_set)
    instances = thing_instances(labels, synth.spec.label_set)
    things = [c.id for c in synth.spec.label_set.classes if c.thing]
    assert np.array_equal(instances > 0, np.isin(labels, things))
    tree = synth.spec.label_set.by_name("tree").id
    assert len(np.unique(instances[labels == tree])) >= 2  # each tree its own instance
    out = tmp_path / "sheet.jpg"
    assert main(["samples", "--weights", str(synth.weights.folder), "--out", str(out), "--scenes",
                 str(SCENES / "mountain_lake.png"), str(SCENES / "painted.png")]) == 0  # fmt: skip
    assert Image.open(out).size == (5 * labels.shape[1], 2 * labels.shape[0])


def test_ilade_gather_equals_the_official_products() -> None:
    from engine.networks.inade import Ilade, Pairs, instance_onehot

    torch.manual_seed(0)
    layer = Ilade(norm_nc=6, classes=5, noise_nc=4).eval()
    torch.nn.init.normal_(layer.bias)
    classes = torch.randint(0, 5, (2, 9, 7))
    onehot = torch.zeros(2, 5, 9, 7).scatter_(1, classes[:, None], 1.0)
    inst = instance_onehot(torch.randint(0, 3, (2, 9, 7)), 3)
    x, noise = torch.randn(2, 6, 9, 7), torch.randn(2, 3, 2, 4)
    pairs = Pairs.of(onehot, inst)
    assert pairs is not None and Pairs.of(onehot * 0.5, inst) is None
    with torch.no_grad():
        torch.testing.assert_close(
            layer(x, pairs, None, noise), layer(x, onehot, inst, noise), atol=1e-6, rtol=0
        )


def test_photo_segmenters_are_loaded_once_until_their_file_changes(tmp_path) -> None:
    import os

    from engine.inference.photo_style import cached_segmenter
    from tests.helpers import write_tiny_segmenter

    folder = write_tiny_segmenter(tmp_path / "seg")
    first = cached_segmenter(folder)
    assert cached_segmenter(folder) is first
    weights = folder / "segmenter.safetensors"
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    assert cached_segmenter(folder) is not first  # retrained in place: read again
