"""The shipped landscapes model loads, follows a sample scene and re-rolls locally."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.inference.synthesizer import Synthesizer
from engine.labels import read_label_png
from engine.noise import NoiseField

REPO = Path(__file__).resolve().parents[2]
WEIGHTS = REPO / "weights" / "landscapes-oasis"
SCENE = REPO / "resources" / "scenes" / "mountain_lake.png"


@pytest.fixture(scope="module")
def synth() -> Synthesizer:
    return Synthesizer.from_folder(WEIGHTS, segmenter=True)


def test_sample_scene_renders(synth: Synthesizer) -> None:
    labels = read_label_png(SCENE, synth.spec.label_set)
    image = synth.generate(labels, NoiseField.uniform(*labels.shape, seed=0, z_dim=synth.z_dim))
    assert image.shape == (*labels.shape, 3)
    assert image.std() > 10, "a landscape, not a flat colour"


def test_rerolling_one_class_changes_mostly_that_class(synth: Synthesizer) -> None:
    labels = read_label_png(SCENE, synth.spec.label_set)
    noise = NoiseField.uniform(*labels.shape, seed=0, z_dim=synth.z_dim)
    before = synth.generate(labels, noise).astype(float)
    water = labels == synth.spec.label_set.by_name("water").id
    noise.resample(water, seed=123)
    after = synth.generate(labels, noise).astype(float)
    diff = np.abs(after - before).mean(-1)
    inside, outside = diff[water].mean(), diff[~water].mean()
    assert inside > 2 * outside, (inside, outside)


def test_discriminator_segments_a_rendered_photo(synth: Synthesizer) -> None:
    from engine.data.landscapes.generate import render_scene

    image, labels, _ = render_scene(123_456, 128, 128, painted_fraction=0.0)
    pred = synth.segment(image)
    assert pred.shape == labels.shape
    assert (pred == labels).mean() > 0.3


def test_shipped_inade_rerolls_one_tree() -> None:
    from engine.inference.inade_synth import InadeSynthesizer
    from engine.scene import thing_instances

    synth = InadeSynthesizer.from_folder(REPO / "weights" / "landscapes-inade")
    labels = read_label_png(REPO / "resources" / "scenes" / "valley_river.png", synth.spec.label_set)
    instances = thing_instances(labels, synth.spec.label_set)
    noise = NoiseField.uniform(*labels.shape, seed=0, z_dim=synth.z_dim)
    before = synth.generate(labels, noise, instances=instances).astype(float)
    tree = synth.spec.label_set.by_name("tree").id
    ids, counts = np.unique(instances[labels == tree], return_counts=True)
    mask = instances == ids[counts.argmax()]
    noise.resample(mask, seed=5)
    diff = np.abs(synth.generate(labels, noise, instances=instances).astype(float) - before).mean(-1)
    assert diff[mask].mean() > 3 * diff[~mask].mean(), (diff[mask].mean(), diff[~mask].mean())
