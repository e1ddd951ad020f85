"""The shipped landscapes models load, follow a sample scene, re-roll locally and take styles."""

from __future__ import annotations

import itertools
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


def test_shipped_msca_takes_a_sunset_and_blends() -> None:
    """The issue's promise: a sunset exemplar on a painted scene gives a sunset; two
    exemplars blend continuously (global) and across the canvas (spatial)."""
    from engine.inference.gallery import gallery_exemplar
    from engine.inference.msca_synth import Exemplar, MscaSynthesizer, StyleMix
    from engine.metrics.style import class_colour_distance
    from engine.metrics.style_showcase import left_to_right

    synth = MscaSynthesizer.from_folder(REPO / "weights" / "landscapes-msca")
    label_set = synth.spec.label_set
    labels = read_label_png(REPO / "resources" / "scenes" / "painted.png", label_set)
    noon, sunset = gallery_exemplar("noon", label_set), gallery_exemplar("sunset", label_set)

    def to(exemplar: Exemplar, image: np.ndarray) -> float:
        return class_colour_distance(image, labels, exemplar.image, exemplar.labels)

    at_noon, at_sunset = synth.generate(labels, StyleMix(noon)), synth.generate(labels, StyleMix(sunset))
    assert to(sunset, at_sunset) < 0.7 * to(sunset, at_noon)
    assert to(noon, at_noon) < 0.7 * to(noon, at_sunset)

    steps = [
        to(sunset, synth.generate(labels, StyleMix(noon, sunset, g))) for g in (1.0, 0.75, 0.5, 0.25, 0.0)
    ]
    assert all(later < earlier + 0.005 for earlier, later in itertools.pairwise(steps)), steps
    assert steps[0] > steps[2] > steps[4], steps

    h, w = labels.shape
    both = synth.generate(labels, StyleMix(noon, sunset, left_to_right(h, w))).astype(float)
    left, right = np.s_[:, : w // 5], np.s_[:, -w // 5 :]
    assert np.abs(both[left] - at_noon[left]).mean() < np.abs(both[left] - at_sunset[left]).mean()
    assert np.abs(both[right] - at_sunset[right]).mean() < np.abs(both[right] - at_noon[right]).mean()
