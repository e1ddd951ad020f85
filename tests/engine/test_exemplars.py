"""The exemplar gallery is rendered deterministically and shipped in resources/exemplars."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from engine.data.landscapes.exemplars import GALLERY, INDEX, render_exemplar, write_gallery
from engine.labels import LabelSet, read_label_png

SHIPPED = Path(__file__).resolve().parents[2] / "resources" / "exemplars"


def test_rendering_is_deterministic_and_styles_differ() -> None:
    a, labels, _ = render_exemplar("noon", (64, 64))
    b, labels2, _ = render_exemplar("noon", (64, 64))
    assert np.array_equal(a, b) and np.array_equal(labels, labels2)
    sunset, _, _ = render_exemplar("sunset", (64, 64))
    assert np.abs(a.astype(int) - sunset.astype(int)).mean() > 10


def test_the_shipped_gallery_matches_its_index(tmp_path: Path) -> None:
    index = json.loads((SHIPPED / INDEX).read_text())
    assert [e["name"] for e in index["exemplars"]] == list(GALLERY)
    landscapes = LabelSet.builtin(index["label_set"])
    for entry in index["exemplars"][:3]:
        image = np.asarray(Image.open(SHIPPED / entry["image"]))
        labels = read_label_png(SHIPPED / entry["labels"], landscapes)
        assert image.shape == (*labels.shape, 3)
    out = write_gallery(tmp_path / "g", size=(32, 32))
    assert len(list(out.glob("*.jpg"))) == len(GALLERY)
