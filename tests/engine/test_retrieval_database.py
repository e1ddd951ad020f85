"""The segment database: built from a tiny dataset, saved, loaded, and refused when damaged."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save as save_tensors

from engine.data import open_dataset
from engine.errors import InputError
from engine.labels import LabelSet
from engine.retrieval import (
    BuildOptions,
    DatabaseError,
    RetrievalParams,
    SegmentDatabase,
    build_database,
    decompose,
    load_database,
    save_database,
)
from tests.helpers import COLOURS, make_folder_dataset

OPTIONS = BuildOptions(grid=16, quality=100, min_area=4)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory):
    return open_dataset(make_folder_dataset(tmp_path_factory.mktemp("tiny"), count=6), split="train")


@pytest.fixture(scope="module")
def db(dataset) -> SegmentDatabase:
    return build_database((dataset[i] for i in range(len(dataset))), dataset.label_set, OPTIONS)


@pytest.fixture(scope="module")
def saved(db: SegmentDatabase, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_database(db, tmp_path_factory.mktemp("db") / "retrieval")


def _segments(dataset, i: int, options: BuildOptions = OPTIONS) -> list:
    s = dataset[i]
    things = [c.id for c in dataset.label_set if c.thing]
    return decompose(s.labels, s.instances, things, min_area=options.min_area, ignore=(0,))


def test_every_kept_segment_is_a_row_with_its_exact_mask_and_pixels(dataset, db: SegmentDatabase) -> None:
    expected = [seg for i in range(len(dataset)) for seg in _segments(dataset, i)]
    assert len(db) == len(expected) > 0
    assert 0 not in db.table.classes  # the dontcare pixel is no segment
    for row, seg in enumerate(expected):
        assert db.table.classes[row] == seg.class_id and tuple(db.table.boxes[row]) == seg.box
        rgb, mask = db.crop(row)
        assert np.array_equal(mask, seg.mask)  # segment-id maps are lossless
        y0, x0, y1, x1 = seg.box
        photo = dataset[int(db.table.sources[row])].image[y0:y1, x0:x1]
        assert rgb.shape == photo.shape
        # JPEG's half-resolution chroma bleeds across the edges of 5-px trees, so the test
        # is that the crop's colour is nearest to its own class's colour.
        mean = rgb[mask].mean(0)
        nearest = min(COLOURS, key=lambda c: np.abs(mean - COLOURS[c]).sum())
        assert nearest == seg.class_id
    assert db.describe(0)["source"] == dataset.entries[0].stem


def test_a_training_map_finds_itself_unless_its_image_is_excluded(dataset, db: SegmentDatabase) -> None:
    segs = _segments(dataset, 2)
    shape = dataset[2].labels.shape
    own = db.retrieve(segs, shape)
    assert all(len(m) and m.scores[0] == 0 for m in own)
    others = db.retrieve(segs, shape, RetrievalParams(threshold=5.0), exclude_source=2)
    assert all((db.table.sources[m.rows] != 2).all() for m in others)


def test_save_load_round_trip(db: SegmentDatabase, saved: Path, dataset) -> None:
    back = load_database(saved)
    assert back.label_set == db.label_set and back.grid == db.grid and len(back) == len(db)
    for name in ("classes", "sources", "local_ids", "boxes", "areas", "grids"):
        assert np.array_equal(getattr(back.table, name), getattr(db.table, name)), name
    assert back.sources.stems == db.sources.stems
    assert back.info["options"] == {**OPTIONS.__dict__}
    segs = _segments(dataset, 1)
    for a, b in zip(db.retrieve(segs, (64, 64)), back.retrieve(segs, (64, 64))):
        assert a.rows.tolist() == b.rows.tolist()
    for row in (0, len(db) - 1):
        assert all(np.array_equal(x, y) for x, y in zip(db.crop(row), back.crop(row)))
    assert load_database(saved / "index.json").grid == db.grid  # the index file names its folder


@pytest.fixture
def copy(saved: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(saved, tmp_path / "copy"))


def _rewrite_index(folder: Path, **changes: object) -> None:
    index = json.loads((folder / "index.json").read_text())
    index.update(changes)
    (folder / "index.json").write_text(json.dumps(index))


def _refused(path: Path, *words: str) -> DatabaseError:
    with pytest.raises(DatabaseError) as info:
        load_database(path)
    text = str(info.value)
    assert "Fix:" in text and all(w in text for w in words), text
    return info.value


def test_missing_and_foreign_folders_are_refused(tmp_path: Path, copy: Path) -> None:
    _refused(tmp_path / "nowhere", "no such folder", "app-train retrieval build")
    _refused(tmp_path, "no index.json", "app-train retrieval build")
    (copy / "index.json").write_text('{"format": "tessera-weights", "version": 1}')
    _refused(copy, "index.json", "'tessera-weights' file, not a retrieval database")
    (copy / "index.json").write_text("[1, 2]")
    _refused(copy, "not a Tessera file")


def test_damaged_index_is_refused(copy: Path) -> None:
    text = (copy / "index.json").read_text()
    (copy / "index.json").write_text(text[: len(text) // 2])
    _refused(copy, "index.json", "not valid JSON", "build it again")


def test_newer_and_broken_versions_are_refused(copy: Path) -> None:
    _rewrite_index(copy, version=99)
    _refused(copy, "newer Tessera", "update Tessera")
    _rewrite_index(copy, version="one")
    _refused(copy, "not a format version")


def test_truncated_or_swapped_tensor_file_is_refused(copy: Path, saved: Path) -> None:
    blob = (copy / "segments.safetensors").read_bytes()
    (copy / "segments.safetensors").write_bytes(blob[:-100])
    _refused(copy, "segments.safetensors", "SHA-256 does not match", "build it again")
    (copy / "segments.safetensors").unlink()
    _refused(copy, "segments.safetensors", "missing")


def _replace_arrays(folder: Path, arrays: dict[str, np.ndarray]) -> None:
    blob = save_tensors(arrays)
    (folder / "segments.safetensors").write_bytes(blob)
    _rewrite_index(folder, sha256=hashlib.sha256(blob).hexdigest())


def test_arrays_are_checked_even_when_the_checksum_fits(copy: Path, db: SegmentDatabase) -> None:
    _replace_arrays(copy, {"classes": db.table.classes})
    _refused(copy, "no 'sources' array")
    arrays = {n: getattr(db.table, n) for n in ("classes", "sources", "local_ids", "boxes", "areas", "grids")}
    arrays |= {
        n: getattr(db.sources, n) for n in ("sizes", "jpeg", "jpeg_offsets", "segmap", "segmap_offsets")
    }
    _replace_arrays(copy, {**arrays, "areas": arrays["areas"].astype(np.int64)})
    _refused(copy, "'areas' is int64")
    boxes = arrays["boxes"].copy()
    boxes[0, 2] = 60000
    _replace_arrays(copy, {**arrays, "boxes": boxes})
    _refused(copy, "boxes outside their images")
    segmap = arrays["segmap"].copy()
    segmap[3:20] = 0  # the zlib stream of the first image
    _replace_arrays(copy, {**arrays, "segmap": segmap})
    damaged = load_database(copy)  # pixels are decoded on demand: the crop names the folder
    with pytest.raises(DatabaseError, match="do not decode") as info:
        damaged.crop(0)
    assert str(copy) in str(info.value)


def test_build_options_are_checked() -> None:
    with pytest.raises(InputError, match="--grid"):
        BuildOptions(grid=12)
    with pytest.raises(InputError, match="--quality"):
        BuildOptions(quality=0)
    with pytest.raises(InputError, match="no images"):
        build_database([], LabelSet.builtin("landscapes"))
