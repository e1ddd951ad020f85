"""Tessera's own dataset layout: a dataset.json naming the label set, then images/labels folders.

```
ROOT/dataset.json          {"format": "tessera-dataset", "version": 1, "label_set": "ade20k" | {...}}
ROOT/<split>/images/*.png|jpg|jpeg
ROOT/<split>/labels/*.png  id PNGs (8/16-bit grey or indexed) or colour PNGs of the label set
ROOT/<split>/instances/*.png   optional, 8/16-bit instance ids (0 = no instance)
ROOT/<split>/depth/*.png       optional, depth maps (engine.depth_image: 16-bit grey, 0 = near,
                               65535 = far/sky); once there, every image needs one
```

Files pair by stem. A folder with ``images/`` directly under ROOT (and no ``<split>/``) is a
single-split dataset, which is what people make by hand most often.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from engine.data.base import (
    IMAGE_SUFFIXES,
    Entry,
    Problem,
    SegmentationDataset,
    attach_depth,
    index_by_stem,
    list_files,
    pair_by_stem,
)
from engine.errors import DatasetError, InputError
from engine.labels import LabelSet

FORMAT = "tessera-dataset"
VERSION = 1
MANIFEST = "dataset.json"
_EXAMPLE = '{"format": "tessera-dataset", "version": 1, "label_set": "ade20k"}'


def read_manifest(root: Path) -> LabelSet:
    """The label set named by ROOT/dataset.json; every problem names the file and the fix."""
    path = root / MANIFEST
    fix = (
        f"write {_EXAMPLE} there (label_set: a built-in name such as "
        f"{', '.join(LabelSet.builtin_names())}, or an inline label-set object), or pass a label set"
    )
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError("the dataset has no dataset.json", source=path, fix=fix) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read the file ({exc})", source=path, fix=fix) from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", source=path, fix=fix
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        got = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise DatasetError(f"'format' is {got!r}, not '{FORMAT}'", source=path, fix=fix)
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= VERSION:
        raise DatasetError(
            f"unsupported version {version!r}",
            source=path,
            fix=f"this Tessera reads version {VERSION}; update Tessera or rewrite the file",
        )
    spec = data.get("label_set")
    try:
        if isinstance(spec, str):
            if spec.strip().lower() in LabelSet.builtin_names():
                return LabelSet.builtin(spec)
            if spec.lower().endswith(".json"):  # a label-set file beside the manifest
                return LabelSet.load(root / spec)
            return LabelSet.builtin(spec)  # raises with the list of built-in names
        if isinstance(spec, dict):
            return LabelSet.from_dict(spec, source=f"{path} (label_set)")
    except DatasetError:
        raise
    except InputError as exc:
        raise DatasetError(exc.problem, source=exc.source or path, fix=exc.fix) from exc
    raise DatasetError(f"'label_set' is {spec!r}", source=path, fix=fix)


class FolderDataset(SegmentationDataset):
    """The generic layout: any label set, any image size, optional instances."""

    kind: ClassVar[str] = "folder"
    layout: ClassVar[str] = (
        "ROOT/dataset.json + ROOT/<split>/images/*.png|jpg, ROOT/<split>/labels/*.png "
        "(optional ROOT/<split>/instances/*.png and depth/*.png), or images/ and labels/ directly in ROOT"
    )

    @classmethod
    def detect(cls, root: Path) -> bool:
        # Without dataset.json it is still ours if it has our folders: opening it then says
        # what the manifest must hold, which beats "unknown layout".
        if (root / MANIFEST).is_file():
            return True
        if (root / "images").is_dir() and (root / "labels").is_dir():
            return True
        return any((d / "images").is_dir() and (d / "labels").is_dir() for d in _subdirs(root))

    def default_label_set(self) -> LabelSet:
        return read_manifest(self.root)

    def split_root(self) -> Path:
        """ROOT/<split>, or ROOT itself for a single-split dataset."""
        nested = self.root / self.split
        if nested.is_dir():
            return nested
        if (self.root / "images").is_dir():
            return self.root
        splits = sorted(d.name for d in _subdirs(self.root) if (d / "images").is_dir())
        raise DatasetError(
            f"no '{self.split}' split: {nested} does not exist",
            source=self.root,
            fix=(
                f"use one of the splits {', '.join(splits)}"
                if splits
                else f"put the images in {nested / 'images'} and the label maps in {nested / 'labels'}"
            ),
        )

    def scan(self) -> tuple[list[Entry], list[Problem]]:
        base = self.split_root()
        images, p1 = index_by_stem(list_files(base / "images", IMAGE_SUFFIXES))
        labels, p2 = index_by_stem(list_files(base / "labels", (".png",)))
        instances, p3 = index_by_stem(list_files(base / "instances", (".png",)))
        entries, p4 = pair_by_stem(
            images,
            labels,
            instances,
            expected_label=lambda s: base / "labels" / f"{s}.png",
            expected_image=lambda s: base / "images" / f"{s}.png",
        )
        depths, p5 = index_by_stem(list_files(base / "depth", (".png",)))
        entries, p6 = attach_depth(entries, depths, base / "depth")
        return entries, p1 + p2 + p3 + p4 + p5 + p6


def _subdirs(root: Path) -> list[Path]:
    try:
        return [d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")]
    except OSError:
        return []
