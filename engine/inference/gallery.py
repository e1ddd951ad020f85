"""The exemplar gallery on disk (``resources/exemplars/``): styles with their label maps.

Read by the studio's Exemplars panel, the MSCA contact sheet and the shipped-weights
tests; written by ``app-train data exemplars`` (:mod:`engine.data.landscapes.exemplars`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from engine.data.landscapes.exemplars import INDEX
from engine.errors import InputError
from engine.inference.msca_synth import Exemplar
from engine.labels import LabelSet, read_label_png
from engine.paths import RESOURCES

GALLERY_FOLDER = RESOURCES / "exemplars"


def _entries(folder: Path, label_set: LabelSet) -> list[dict]:
    """The index's entries (none if there is no index or it is for another label set)."""
    try:
        index = json.loads((folder / INDEX).read_text())
    except (OSError, ValueError):
        return []
    return index.get("exemplars", []) if index.get("label_set") == label_set.name else []


def _load(folder: Path, entry: dict, label_set: LabelSet) -> Exemplar:
    image = np.asarray(Image.open(folder / entry["image"]).convert("RGB"))
    labels = read_label_png(folder / entry["labels"], label_set)
    return Exemplar(image, labels, entry["name"])


def load_gallery(folder: Path, label_set: LabelSet) -> list[Exemplar]:
    """The exemplars listed in ``folder``'s index (empty if there is none or it is for another set)."""
    return [_load(folder, entry, label_set) for entry in _entries(folder, label_set)]


def gallery_exemplar(name: str, label_set: LabelSet, folder: Path = GALLERY_FOLDER) -> Exemplar:
    """One named gallery exemplar (only its files are read), or an error that lists the names there are."""
    entries = {entry["name"]: entry for entry in _entries(folder, label_set)}
    if name not in entries:
        raise InputError(
            f"no exemplar named {name!r}",
            source=str(folder),
            fix=f"use one of {', '.join(entries) or '(none: run app-train data exemplars)'}",
        )
    return _load(folder, entries[name], label_set)
