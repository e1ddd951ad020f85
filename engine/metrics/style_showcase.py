"""A contact sheet of what an example-guided (MSCA) model does with the sample scenes.

Top row: the two gallery exemplars over the columns that use them. Each further row is
one sample scene: its label map, the scene in the first style, in the second, the two
blended half and half (global), and blended across the image — first style on the left,
second on the right (spatial, as the studio's style brush paints it).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from engine.inference.gallery import GALLERY_FOLDER, gallery_exemplar
from engine.inference.msca_synth import MscaSynthesizer, StyleMix
from engine.labels import read_label_png

COLUMNS = ("label map", "first style", "second style", "50 % blend", "left → right blend")


def _fit(image: np.ndarray, h: int, w: int) -> np.ndarray:
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


def left_to_right(h: int, w: int) -> np.ndarray:
    """A blend map: 1 (first style) over the left quarter, 0 over the right quarter, a ramp between."""
    ramp = np.clip((np.arange(w, dtype=np.float32) / max(1, w - 1) - 0.25) * 2, 0, 1)
    return np.broadcast_to(1 - ramp, (h, w)).copy()


def style_showcase(
    weights: Path | str,
    out: Path | str,
    scenes: list[Path],
    first: str = "noon",
    second: str = "sunset",
    gallery: Path = GALLERY_FOLDER,
) -> Path:
    synth = MscaSynthesizer.from_folder(weights)
    label_set = synth.spec.label_set
    a = gallery_exemplar(first, label_set, gallery)
    b = gallery_exemplar(second, label_set, gallery)
    rows = []
    for path in scenes:
        labels = read_label_png(path, label_set)
        h, w = labels.shape
        if not rows:  # the header: each exemplar above the column that uses it alone
            blank = np.full((h, w, 3), 255, np.uint8)
            rows.append(np.concatenate([blank, _fit(a.image, h, w), _fit(b.image, h, w), blank, blank], 1))
        outputs = [
            synth.generate(labels, StyleMix(a)),
            synth.generate(labels, StyleMix(b)),
            synth.generate(labels, StyleMix(a, b, 0.5)),
            synth.generate(labels, StyleMix(a, b, left_to_right(h, w))),
        ]
        rows.append(np.concatenate([label_set.colorize(labels), *outputs], 1))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, 0)).save(out, quality=90)
    return out
