"""Rendered landscape scenes and datasets: deterministic, complete (depth maps included),
readable as `landscapes:`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.data import TorchDataset, TrainTransform, make_batch, open_dataset
from engine.data.landscapes.classes import SKY
from engine.data.landscapes.generate import render_layout, render_scene, write_dataset
from engine.errors import DatasetError
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


def test_the_depth_map_is_written_and_follows_crops_and_flips(tmp_path: Path) -> None:
    out = write_dataset(tmp_path / "land", count=10, height=64, width=64, seed=100, workers=1)
    assert len(list((out / "train" / "depth").glob("*.png"))) == 8
    sample = open_dataset(out, split="train")[0]
    _, layout = render_layout(100, 64, 64)
    assert sample.depth is not None and sample.depth.dtype == np.float32
    assert np.abs(sample.depth - layout.depth).max() <= 0.5 / 65535 + 1e-7  # 16 bits, exact to rounding
    sky = layout.labels == SKY
    assert sky.any() and np.all(sample.depth[sky] == 1.0)  # the sky is the far end
    assert sample.depth[-1].mean() < 0.2  # the bottom row is near the viewer
    # The training crop cuts and mirrors the depth with the photo (no resize: load_size 64).
    data = open_dataset(out, split="train")
    torch_ds = TorchDataset(data, TrainTransform(size=(48, 40), load_size=64), seed=3)
    assert make_batch([data[0], data[1]])["depth"].shape == (2, 1, 64, 64)
    flips = set()
    for i in range(6):
        item, whole, rng = torch_ds[i], data[i], torch_ds.rng(0, i)
        top, left = int(rng.integers(0, 64 - 48 + 1)), int(rng.integers(0, 64 - 40 + 1))
        flip = bool(rng.random() < 0.5)  # the transform's own draws, in its order
        flips.add(flip)
        window = (slice(top, top + 48), slice(left, left + 40))
        depth, labels = whole.depth[window], whole.labels[window]
        if flip:
            depth, labels = depth[:, ::-1], labels[:, ::-1]
        assert item["depth"].shape == (1, 48, 40)
        assert np.array_equal(item["labels"].numpy(), labels)
        assert np.array_equal(item["depth"][0].numpy(), depth)
    assert flips == {True, False}


def test_depth_is_optional_but_complete(tmp_path: Path) -> None:
    out = write_dataset(tmp_path / "land", count=10, height=32, width=32, seed=0, workers=1)
    without = tmp_path / "plain"
    shutil.copytree(out, without)
    for split in ("train", "val", "test"):
        shutil.rmtree(without / split / "depth")
    assert open_dataset(without, split="train")[0].depth is None  # older datasets read as before
    assert "depth" not in make_batch([open_dataset(without, split="train")[0]])
    first = sorted((out / "train" / "depth").glob("*.png"))[0]
    first.unlink()
    with pytest.raises(DatasetError, match="image without a depth map") as info:
        open_dataset(out, split="train")
    assert first.name in str(info.value) and "--skip-bad" in str(info.value)
    assert len(open_dataset(out, split="train", skip_bad=True)) == 7
