"""The dataset kinds, and opening a dataset from "KIND:PATH" or a bare folder.

This is the one module that knows every reader. The readers import
:mod:`engine.data.base` and never this module, so the interface knows no concrete layout
(an import contract in ``pyproject.toml`` keeps it so). A new layout is a
:class:`~engine.data.base.SegmentationDataset` subclass added to :data:`READERS`.
"""

from __future__ import annotations

import re
from pathlib import Path

from engine.data.ade20k import ADE20KDataset
from engine.data.base import SegmentationDataset
from engine.data.cityscapes import CityscapesDataset
from engine.data.cocostuff import CocoStuffDataset
from engine.data.folder import FolderDataset
from engine.data.landscapes.dataset import LandscapesDataset
from engine.errors import DatasetError
from engine.labels import LabelSet

READERS: tuple[type[SegmentationDataset], ...] = (
    FolderDataset,
    CityscapesDataset,
    ADE20KDataset,
    CocoStuffDataset,
    LandscapesDataset,
)
"""Every reader, in the order a bare path's layout is detected."""

_KINDS: dict[str, type[SegmentationDataset]] = {c.kind: c for c in READERS}
_SPEC_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_\-]+):(.*)$")  # 2+ letters: "C:\data" stays a path


def dataset_kinds() -> tuple[str, ...]:
    """Names accepted as ``KIND:`` in a dataset spec."""
    return tuple(_KINDS)


def resolve_label_set(value: LabelSet | str | Path, source: str = "--label-set") -> LabelSet:
    """A label set from an object, a built-in name or a label-set JSON path."""
    if isinstance(value, LabelSet):
        return value
    text = str(value)
    if isinstance(value, str) and text.strip().lower() in LabelSet.builtin_names():
        return LabelSet.builtin(text)
    path = Path(text)
    if path.suffix.lower() == ".json" or path.exists():
        return LabelSet.load(path)
    raise DatasetError(
        f"'{text}' is neither a built-in label set nor a file",
        source=source,
        fix=f"use one of {', '.join(LabelSet.builtin_names())}, or the path of a label-set JSON file",
    )


def parse_spec(spec: str | Path) -> tuple[str | None, Path]:
    """Split "KIND:PATH" into (kind, path); a bare path gives (None, path)."""
    if isinstance(spec, Path):
        return None, spec
    m = _SPEC_RE.match(spec)
    if m is None or Path(spec).exists():
        return None, Path(spec)
    kind = m.group(1).lower()
    if kind not in dataset_kinds():
        raise DatasetError(
            f"unknown dataset kind '{m.group(1)}'",
            source=spec,
            fix=f"write KIND:PATH with KIND one of {', '.join(dataset_kinds())}, or just the folder path",
        )
    return kind, Path(m.group(2))


def detect_kind(root: Path) -> str:
    """The layout of ``root``; an unrecognised folder is an error listing the layouts we read."""
    if not root.is_dir():
        raise DatasetError(
            "dataset folder not found" if not root.exists() else "not a folder",
            source=root,
            fix="pass the dataset's root folder (or KIND:PATH)",
        )
    for kind, cls in _KINDS.items():
        if cls.detect(root):
            return kind
    layouts = "; ".join(f"{k}: {c.layout}" for k, c in _KINDS.items())
    raise DatasetError(
        "cannot tell which dataset layout this folder has",
        source=root,
        fix=f"pass KIND:PATH, or arrange the folder as one of these layouts — {layouts}",
    )


def open_dataset(
    spec: str | Path,
    *,
    split: str = "train",
    skip_bad: bool = False,
    kind: str | None = None,
    label_set: LabelSet | str | Path | None = None,
) -> SegmentationDataset:
    """Open one split of a dataset given as "KIND:PATH" or a bare path (layout auto-detected).

    ``label_set`` overrides the layout's own (a built-in name, a JSON path or a LabelSet).
    With ``skip_bad`` every entry is validated once and bad ones are dropped and listed in
    ``dataset.skipped`` as (file, reason); otherwise the first problem raises.
    """
    spec_kind, root = parse_spec(spec)
    if kind is not None and spec_kind is not None and kind != spec_kind:
        raise DatasetError(
            f"the spec says '{spec_kind}' but kind='{kind}' was asked for",
            source=str(spec),
            fix="give the kind once",
        )
    chosen = (kind or spec_kind or detect_kind(root)).lower()
    if chosen not in _KINDS:
        raise DatasetError(
            f"unknown dataset kind '{chosen}'", source=str(spec), fix=f"use one of {', '.join(_KINDS)}"
        )
    ls = resolve_label_set(label_set) if label_set is not None else None
    return _KINDS[chosen](root, split=split, label_set=ls, skip_bad=skip_bad)
