"""Saving and loading a segment database: a folder with ``index.json`` and ``segments.safetensors``.

``index.json`` holds the format name and version, the label set, the build options, the
command that recreates the database, the source stems and the SHA-256 of the tensor file;
``segments.safetensors`` holds the arrays. Nothing is pickled, so loading runs no code.
Every check a damaged, foreign or mismatched folder could fail is a
:class:`~engine.retrieval.database.DatabaseError` naming the file and the fix.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as load_tensors
from safetensors.numpy import save as save_tensors

from engine.errors import InputError
from engine.fileio import atomic_write_bytes
from engine.labels import LabelSet
from engine.retrieval.database import DatabaseError, SegmentDatabase, SegmentTable, SourceImages

FORMAT = "tessera-retrieval"
VERSION = 1
INDEX = "index.json"
WEIGHTS_SUBFOLDER = "retrieval"  # where a RESAIL weights folder keeps its database
TENSORS = "segments.safetensors"
BUILD = "`app-train retrieval build --data KIND:PATH --out FOLDER`"
REBUILD = f"build it again with {BUILD}"

# name → dtype; the per-segment arrays have one row per segment.
_SEGMENT_ARRAYS = {"classes": np.uint16, "sources": np.int32, "local_ids": np.uint16,
                   "boxes": np.uint16, "areas": np.int32, "grids": np.uint8}  # fmt: skip
_SOURCE_ARRAYS = {"sizes": np.int32, "jpeg": np.uint8, "jpeg_offsets": np.int64,
                  "segmap": np.uint8, "segmap_offsets": np.int64}  # fmt: skip


def save_database(db: SegmentDatabase, folder: Path | str) -> Path:
    """Write ``db`` into ``folder`` (created if needed); returns the folder.

    The tensor file is written first and the index last, each atomically, so an
    interrupted save leaves an index whose checksum does not match: caught on load.
    """
    folder = Path(folder)
    if folder.is_file():
        raise InputError("is a file, not a folder", source=folder, fix="pass a folder path for the database")
    t, s = db.table, db.sources
    arrays = {name: getattr(t, name) for name in _SEGMENT_ARRAYS}
    arrays |= {name: getattr(s, name) for name in _SOURCE_ARRAYS}
    blob = save_tensors({k: np.ascontiguousarray(v) for k, v in arrays.items()}, metadata={"format": FORMAT})
    counts = np.bincount(t.classes, minlength=db.label_set.max_id + 1)
    index = {
        "format": FORMAT,
        "version": VERSION,
        "label_set": db.label_set.to_dict(),
        "grid": db.grid,
        "segments": len(t),
        "images": len(s),
        "per_class": {c.name: int(counts[c.id]) for c in db.label_set if counts[c.id]},
        "info": db.info,
        "tensors": TENSORS,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "stems": list(s.stems),
    }
    atomic_write_bytes(folder / TENSORS, blob)
    atomic_write_bytes(folder / INDEX, (json.dumps(index, indent=1) + "\n").encode())
    return folder


def _read_index(folder: Path) -> dict[str, Any]:
    path = folder / INDEX
    if not path.is_file():
        raise DatabaseError(
            f"no {INDEX}: this is not a retrieval database",
            source=folder,
            fix=f"pass the folder written by app-train retrieval build, or build one with {BUILD}",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatabaseError(f"not valid JSON ({exc}): the file is damaged", source=path, fix=REBUILD) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        what = f"a '{found}' file" if isinstance(found, str) else "not a Tessera file"
        raise DatabaseError(
            f"{what}, not a retrieval database (format '{FORMAT}')",
            source=path,
            fix=f"pass the folder written by `app-train retrieval build`, or {REBUILD}",
        )
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise DatabaseError(f"version {version!r} is not a format version", source=path, fix=REBUILD)
    if version > VERSION:
        raise DatabaseError(
            f"written by a newer Tessera (format version {version}; this one reads up to {VERSION})",
            source=path,
            fix=f"update Tessera, or {REBUILD}",
        )
    return data


def _check(ok: bool, problem: str, path: Path) -> None:
    if not ok:
        raise DatabaseError(problem + ": the file is damaged or from another build", source=path, fix=REBUILD)


def _read_tensors(path: Path, digest: object) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise DatabaseError("the database's tensor file is missing", source=path, fix=REBUILD)
    blob = path.read_bytes()
    _check(hashlib.sha256(blob).hexdigest() == digest, f"its SHA-256 does not match {INDEX}", path)
    try:
        arrays = load_tensors(blob)
    except (SafetensorError, ValueError) as exc:
        raise DatabaseError(f"not a readable safetensors file ({exc})", source=path, fix=REBUILD) from exc
    for name, dtype in (_SEGMENT_ARRAYS | _SOURCE_ARRAYS).items():
        _check(name in arrays, f"no '{name}' array", path)
        _check(arrays[name].dtype == dtype, f"'{name}' is {arrays[name].dtype}, not {np.dtype(dtype)}", path)
    return arrays


def load_database(path: Path | str) -> SegmentDatabase:
    """A database folder (or its ``index.json``), checked from the index to every array."""
    folder = Path(path)
    if folder.is_file() and folder.name in (INDEX, TENSORS):
        folder = folder.parent
    if not folder.exists():
        raise DatabaseError("no such folder", source=folder, fix=f"check the path, or build one with {BUILD}")
    data = _read_index(folder)
    index_path = folder / INDEX
    try:
        label_set = LabelSet.from_dict(data.get("label_set") or {}, source=index_path)
    except InputError as exc:
        raise DatabaseError(
            f"its label set is unusable: {exc.problem}", source=index_path, fix=REBUILD
        ) from exc
    grid, stems = data.get("grid"), data.get("stems")
    _check(
        isinstance(grid, int) and grid >= 8 and grid % 8 == 0,
        f"grid {grid!r} is not a multiple of 8",
        index_path,
    )
    _check(isinstance(stems, list) and all(isinstance(s, str) for s in stems), "no list of stems", index_path)
    tensor_path = folder / TENSORS
    a = _read_tensors(tensor_path, data.get("sha256"))
    n, m = len(a["classes"]), len(stems)
    _check(data.get("segments") == n and data.get("images") == m, f"counts differ from {INDEX}", tensor_path)
    _check(
        all(a[k].shape[0] == n for k in _SEGMENT_ARRAYS),
        "per-segment arrays of different lengths",
        tensor_path,
    )
    _check(
        a["boxes"].shape == (n, 4) and a["grids"].shape == (n, grid * grid // 8),
        "bad box or grid shape",
        tensor_path,
    )
    _check(a["sizes"].shape == (m, 2), "bad image sizes", tensor_path)
    for blob, offsets in (("jpeg", "jpeg_offsets"), ("segmap", "segmap_offsets")):
        o = a[offsets]
        ok = o.shape == (m + 1,) and o[0] == 0 and o[-1] == len(a[blob]) and bool(np.all(np.diff(o) > 0))
        _check(ok, f"'{offsets}' do not cut '{blob}' into {m} images", tensor_path)
    _check(
        n == 0 or (a["sources"].min() >= 0 and a["sources"].max() < m),
        "segments of unknown images",
        tensor_path,
    )
    _check(bool(np.isin(a["classes"], label_set.ids).all()), "class ids outside the label set", tensor_path)
    if n:
        b, hw = a["boxes"], a["sizes"][a["sources"]]
        inside = (b[:, 2:] <= hw).all(1) & (b[:, :2] < b[:, 2:]).all(1)  # unsigned: never below 0
        _check(bool(inside.all() and (a["areas"] >= 1).all()), "boxes outside their images", tensor_path)
    table = SegmentTable(**{k: a[k] for k in _SEGMENT_ARRAYS})
    sources = SourceImages(stems=tuple(stems), **{k: a[k] for k in _SOURCE_ARRAYS})
    db = SegmentDatabase(
        label_set, grid, table, sources, data.get("info") if isinstance(data.get("info"), dict) else {}
    )
    db.path = str(folder)
    return db
