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


def load_gallery(folder: Path, label_set: LabelSet) -> list[Exemplar]:
    """The exemplars listed in ``folder``'s index (empty if there is none or it is for another set)."""
    try:
        index = json.loads((folder / INDEX).read_text())
    except (OSError, ValueError):
        return []
    if index.get("label_set") != label_set.name:
        return []
    out = []
    for entry in index.get("exemplars", []):
        image = np.asarray(Image.open(folder / entry["image"]).convert("RGB"))
        labels = read_label_png(folder / entry["labels"], label_set)
        out.append(Exemplar(image, labels, entry["name"]))
    return out


def gallery_exemplar(name: str, label_set: LabelSet, folder: Path = GALLERY_FOLDER) -> Exemplar:
    """One named gallery exemplar, or an error that lists the names there are."""
    found = {e.name: e for e in load_gallery(folder, label_set)}
    if name not in found:
        raise InputError(
            f"no exemplar named {name!r}",
            source=str(folder),
            fix=f"use one of {', '.join(found) or '(none: run app-train data exemplars)'}",
        )
    return found[name]
