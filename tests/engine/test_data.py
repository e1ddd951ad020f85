"""Dataset readers and transforms, on tiny copies of each layout built in tmp_path."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.data import (
    EvalTransform,
    Sample,
    TorchDataset,
    TrainTransform,
    open_dataset,
    to_tensors,
)
from engine.errors import DatasetError
from engine.labels import LabelSet

H, W = 32, 48
TINY = {
    "name": "tiny",
    "dontcare": 0,
    "classes": [
        {"id": 0, "name": "unknown", "color": [0, 0, 0]},
        {"id": 1, "name": "sky", "color": [110, 170, 240]},
        {"id": 2, "name": "grass", "color": [60, 160, 60]},
        {"id": 3, "name": "tree", "color": [20, 90, 30], "thing": True},
    ],
}


def _photo(seed: int, hw: tuple[int, int] = (H, W)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*hw, 3), dtype=np.uint8)


def _labels(seed: int, ids: list[int], hw: tuple[int, int] = (H, W)) -> np.ndarray:
    """Blocky random labels (4×4 cells), so resizing has regions to keep."""
    cells = np.random.default_rng(seed + 100).choice(ids, (hw[0] // 4, hw[1] // 4))
    return np.kron(cells, np.ones((4, 4), int)).astype(np.uint16)


def _save(path: Path, arr: np.ndarray, quality: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if arr.ndim == 2 and arr.max() > 255:
        Image.fromarray(arr.astype(np.uint16)).save(path)
    elif arr.ndim == 2:
        Image.fromarray(arr.astype(np.uint8), mode="L").save(path)
    elif quality is not None:
        Image.fromarray(arr).save(path, quality=quality)
    else:
        Image.fromarray(arr).save(path)


def make_folder(root: Path, n: int = 3, *, split: str | None = "train", label_set: object = TINY) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset.json").write_text(
        json.dumps({"format": "tessera-dataset", "version": 1, "label_set": label_set})
    )
    base = root / split if split else root
    for i in range(n):
        _save(base / "images" / f"img{i}.png", _photo(i))
        _save(base / "labels" / f"img{i}.png", _labels(i, [0, 1, 2, 3]))
        _save(base / "instances" / f"img{i}.png", np.full((H, W), 300 + i, np.uint16))
    return root


def make_ade20k(root: Path, n: int = 3) -> Path:
    for split, count in (("training", n), ("validation", 2)):
        for i in range(count):
            stem = f"ADE_{split[:5]}_{i:08d}"
            _save(root / "images" / split / f"{stem}.jpg", _photo(i), quality=90)
            _save(root / "annotations" / split / f"{stem}.png", _labels(i, [0, 1, 12, 150]))
    return root


def make_cityscapes(root: Path, n: int = 3) -> Path:
    for i in range(n):
        city = "aachen" if i < 2 else "bremen"
        stem = f"{city}_{i:06d}_000019"
        labels = _labels(i, [7, 8, 24, 26])
        inst = labels.astype(np.int64)  # stuff keeps its labelId (< 1000)
        inst[labels == 26] = 26001  # one car
        inst[labels == 24] = 24000  # one person
        _save(root / "leftImg8bit" / "train" / city / f"{stem}_leftImg8bit.png", _photo(i))
        gt = root / "gtFine" / "train" / city
        _save(gt / f"{stem}_gtFine_labelIds.png", labels)
        _save(gt / f"{stem}_gtFine_instanceIds.png", inst.astype(np.uint16))
        _save(gt / f"{stem}_gtFine_color.png", _photo(i + 50))  # present in the release; ignored
    return root


def make_cocostuff(root: Path, n: int = 3) -> Path:
    for i in range(n):
        stem = f"{i:012d}"
        _save(root / "images" / "train2017" / f"{stem}.jpg", _photo(i), quality=90)
        _save(root / "stuffthingmaps" / "train2017" / f"{stem}.png", _labels(i, [0, 91, 181, 255]))
    return root


# ---------------------------------------------------------------------- readers
def _check_samples(ds, n: int, allowed: set[int]) -> None:
    assert len(ds) == n
    for i in range(n):
        s = ds[i]
        assert isinstance(s, Sample)
        assert s.image.shape == (H, W, 3) and s.image.dtype == np.uint8
        assert s.labels.shape == (H, W) and s.labels.dtype == np.uint16
        assert set(np.unique(s.labels).tolist()) <= allowed
        assert s.instances is None or (s.instances.shape == (H, W) and s.instances.dtype == np.int32)


def test_folder_dataset(tmp_path):
    root = make_folder(tmp_path / "ds")
    ds = open_dataset(f"folder:{root}")
    assert ds.label_set.name == "tiny" and ds.split == "train" and ds.root == root
    _check_samples(ds, 3, {0, 1, 2, 3})
    assert [e.stem for e in ds.entries] == ["img0", "img1", "img2"]
    assert ds[1].instances is not None and int(ds[1].instances.max()) == 301
    assert np.array_equal(ds[2].labels, _labels(2, [0, 1, 2, 3]))


def test_folder_single_split_colour_labels_and_builtin_set(tmp_path):
    root = tmp_path / "flat"
    ls = LabelSet.from_dict(TINY)
    root.mkdir()
    (root / "dataset.json").write_text(
        json.dumps({"format": "tessera-dataset", "version": 1, "label_set": "ade20k"})
    )
    labels = _labels(0, [0, 2, 4])
    _save(root / "images" / "a.jpg", _photo(0), quality=90)
    _save(root / "labels" / "a.png", LabelSet.builtin("ade20k").colorize(labels))  # colour PNG
    ds = open_dataset(root)  # bare path: detected as folder, no <split>/ so ROOT is the split
    assert ds.label_set.name == "ade20k" and len(ds) == 1
    assert np.array_equal(ds[0].labels, labels) and ds[0].instances is None
    # keyword override beats the manifest
    assert open_dataset(root, label_set=ls).label_set.name == "tiny"


def test_folder_without_manifest_says_what_to_write(tmp_path):
    root = make_folder(tmp_path / "ds")
    (root / "dataset.json").unlink()
    with pytest.raises(DatasetError) as err:
        open_dataset(root)
    assert "dataset.json" in str(err.value) and "tessera-dataset" in str(err.value)
    assert len(open_dataset(root, label_set=LabelSet.from_dict(TINY))) == 3


def test_ade20k(tmp_path):
    root = make_ade20k(tmp_path / "ADEChallengeData2016")
    ds = open_dataset(f"ade20k:{root}")
    assert ds.label_set.name == "ade20k"
    _check_samples(ds, 3, {0, 1, 12, 150})
    assert ds[0].instances is None
    assert len(open_dataset(root, split="val")) == 2  # auto-detected, val → validation
    assert len(open_dataset(tmp_path, split="validation")) == 2  # parent of the unpacked zip


def test_cityscapes_instances(tmp_path):
    root = make_cityscapes(tmp_path / "cs")
    ds = open_dataset(root)
    assert type(ds).kind == "cityscapes" and ds.label_set.name == "cityscapes"
    _check_samples(ds, 3, {7, 8, 24, 26})
    assert ds.entries[0].stem == "aachen_000000_000019"
    s = ds[0]
    assert s.instances is not None
    assert set(np.unique(s.instances).tolist()) <= {0, 24000, 26001}
    assert np.all((s.instances == 26001) == (s.labels == 26))
    assert np.all((s.instances == 0) == np.isin(s.labels, [7, 8]))


def test_cocostuff(tmp_path):
    root = make_cocostuff(tmp_path / "coco")
    ds = open_dataset(root)
    assert type(ds).kind == "cocostuff" and ds.label_set.dontcare == 255
    _check_samples(ds, 3, {0, 91, 181, 255})
    assert 255 in np.unique(ds[0].labels)


def test_unknown_layout_kind_and_split(tmp_path):
    (tmp_path / "junk").mkdir()
    with pytest.raises(DatasetError, match="layout"):
        open_dataset(tmp_path / "junk")
    with pytest.raises(DatasetError, match="unknown dataset kind"):
        open_dataset(f"imagenet:{tmp_path}")
    root = make_folder(tmp_path / "ds")
    with pytest.raises(DatasetError, match="'test'") as err:
        open_dataset(root, split="test")
    assert "train" in str(err.value)


def test_empty_dataset_names_folder(tmp_path):
    root = make_folder(tmp_path / "ds", n=0)
    (root / "train" / "images").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no usable 'train' samples") as err:
        open_dataset(root)
    assert str(root) in str(err.value) and "labels" in str(err.value)


# ---------------------------------------------------------------------- bad entries
def test_missing_pair(tmp_path):
    root = make_folder(tmp_path / "ds")
    (root / "train" / "labels" / "img1.png").unlink()
    with pytest.raises(DatasetError) as err:
        open_dataset(root)
    msg = str(err.value)
    assert "img1.png" in msg and "--skip-bad" in msg
    ds = open_dataset(root, skip_bad=True)
    assert len(ds) == 2 and len(ds.skipped) == 1 and "img1" in ds.skipped[0][0]


def test_label_without_image(tmp_path):
    root = make_cocostuff(tmp_path / "coco")
    (root / "images" / "train2017" / "000000000000.jpg").unlink()
    with pytest.raises(DatasetError, match=r"000000000000\.png"):
        open_dataset(root)


def test_size_mismatch(tmp_path):
    root = make_folder(tmp_path / "ds")
    _save(root / "train" / "labels" / "img2.png", _labels(2, [1, 2], hw=(16, 48)))
    ds = open_dataset(root)  # pairing is fine; sizes are checked on load
    with pytest.raises(DatasetError) as err:
        ds[2]
    msg = str(err.value)
    assert "img2.png" in msg and "48×16" in msg and "--skip-bad" in msg
    ds = open_dataset(root, skip_bad=True)
    assert len(ds) == 2 and len(ds.skipped) == 1
    assert ds.skipped[0][0].endswith("img2.png") and "48×16" in ds.skipped[0][1]


def test_out_of_range_id(tmp_path):
    root = make_ade20k(tmp_path / "ade")
    bad = _labels(1, [0, 1])
    bad[0, 0] = 200
    _save(root / "annotations" / "training" / "ADE_train_00000001.png", bad)
    ds = open_dataset(f"ade20k:{root}")
    with pytest.raises(DatasetError) as err:
        ds[1]
    msg = str(err.value)
    assert "ADE_train_00000001.png" in msg and "200" in msg and "--skip-bad" in msg
    ds = open_dataset(root, skip_bad=True)
    assert len(ds) == 2 and len(ds.skipped) == 1 and "200" in ds.skipped[0][1]


def test_corrupt_image_is_named(tmp_path):
    root = make_folder(tmp_path / "ds", n=2)
    (root / "train" / "images" / "img0.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError, match=r"img0\.png"):
        open_dataset(root)[0]
    assert len(open_dataset(root, skip_bad=True)) == 1


# ---------------------------------------------------------------------- transforms
def _sample(hw: tuple[int, int] = (H, W)) -> Sample:
    labels = _labels(3, [0, 1, 2, 3], hw)
    return Sample("x", _photo(3, hw), labels, labels.astype(np.int32) * 1000)


@pytest.mark.parametrize(
    ("size", "load_size"), [((32, 32), None), ((64, 64), 72), ((64, 128), None), ((16, 32), 20)]
)
def test_train_transform_sizes_and_ids(size, load_size):
    t = TrainTransform(size=size, load_size=load_size)
    src = _sample()
    for seed in range(4):
        out = t(src, np.random.default_rng(seed))
        assert out.image.shape == (*size, 3) and out.image.dtype == np.uint8
        assert out.labels.shape == size and out.labels.dtype == np.uint16
        assert out.instances is not None and out.instances.shape == size
        assert set(np.unique(out.labels).tolist()) <= {0, 1, 2, 3}  # nearest: no new ids
        assert np.array_equal(out.instances, out.labels.astype(np.int32) * 1000)  # maps stay aligned
        assert out.image.flags.c_contiguous and out.labels.flags.c_contiguous


def test_eval_transform_and_tensors():
    out = EvalTransform((64, 128))(_sample())
    assert out.image.shape == (64, 128, 3) and out.labels.shape == (64, 128)
    t = to_tensors(out)
    assert t["image"].shape == (3, 64, 128) and t["image"].dtype == torch.float32
    assert -1.0 <= float(t["image"].min()) and float(t["image"].max()) <= 1.0
    assert t["labels"].dtype == torch.int64 and t["instances"].dtype == torch.int64
    no_inst = to_tensors(Sample("y", out.image, out.labels, None))
    assert no_inst["instances"].shape == (64, 128) and int(no_inst["instances"].abs().sum()) == 0


def test_torch_dataset_is_reproducible(tmp_path):
    ds = open_dataset(make_folder(tmp_path / "ds"))
    t = TrainTransform(size=(24, 24), load_size=28)
    a, b = TorchDataset(ds, t, seed=5), TorchDataset(ds, t, seed=5)
    a.set_epoch(3)
    b.set_epoch(3)
    for i in range(len(ds)):
        x, y = a[i], b[i]
        assert all(torch.equal(x[k], y[k]) for k in ("image", "labels", "instances"))
        assert torch.equal(b[(3, i)]["image"], x["image"])  # (epoch, i) keys give the same item
    # other epochs draw other crops (with 5×5 offsets and flips, 4 epochs cannot all match)
    epochs = [b[(e, 0)]["image"] for e in range(4)]
    assert not all(torch.equal(epochs[0], e) for e in epochs[1:])
    # DataLoader workers get a pickled copy
    c = pickle.loads(pickle.dumps(a))
    assert torch.equal(c[0]["labels"], a[0]["labels"])
