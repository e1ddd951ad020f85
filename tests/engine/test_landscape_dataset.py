"""Rendered landscape scenes and datasets: deterministic, complete, readable as `landscapes:`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine.data import open_dataset
from engine.data.landscapes.generate import render_scene, write_dataset
from engine.labels import LabelSet


def test_render_scene_is_a_pure_function_of_the_seed() -> None:
    a, b, c = render_scene(5, 64, 96), render_scene(5, 64, 96), render_scene(6, 64, 96)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    assert not np.array_equal(a[0], c[0])
    image, labels, instances = a
    assert image.shape == (64, 96, 3) and image.dtype == np.uint8
    assert labels.dtype == np.uint16 and instances.dtype == np.int32
    LabelSet.builtin("landscapes").validate(labels, "render")


def test_write_dataset_splits_and_reads_back(tmp_path: Path) -> None:
    out = write_dataset(tmp_path / "land", count=10, height=64, width=64, seed=100, workers=1)
    manifest = json.loads((out / "dataset.json").read_text())
    assert manifest["label_set"] == "landscapes" and manifest["source"]["seeds"] == [100, 109]
    train = open_dataset(f"landscapes:{out}", split="train")
    assert len(train) == 8 and len(open_dataset(out, split="val")) == 1
    assert len(open_dataset(out, split="test")) == 1
    sample = train[0]
    image, labels, instances = render_scene(100, 64, 64)
    assert np.array_equal(sample.labels, labels)
    assert np.array_equal(sample.instances, instances)
    assert np.abs(sample.image.astype(int) - image).mean() < 4  # JPEG, quality 95
