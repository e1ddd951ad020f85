"""A contact sheet of a ugen model on the sample scenes (for its card and the README).

Each row: the label map, the proxy mask its semantic mapper made (one fixed colour per
cluster), and the images of two z's (seeds 0 and 1) — the same layout in two styles, as a
re-roll gives. ugen paints at its StyleGAN2's size only, so a scene of another size is
resized to it (nearest, which keeps the label ids).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from engine.inference.ugen_synth import UgenSynthesizer
from engine.labels import read_label_png
from engine.noise import NoiseField


def ugen_showcase(weights: Path | str, out: Path | str, scenes: list[Path]) -> Path:
    synth = UgenSynthesizer.from_folder(weights)
    label_set, side = synth.spec.label_set, synth.image_side
    rows = []
    for path in scenes:
        labels = read_label_png(path, label_set)
        if labels.shape != (side, side):
            labels = cv2.resize(labels, (side, side), interpolation=cv2.INTER_NEAREST)
        images = [
            synth.generate(labels, NoiseField.uniform(side, side, seed, synth.z_dim)) for seed in (0, 1)
        ]
        rows.append(np.concatenate([label_set.colorize(labels), synth.proxy_image(), *images], axis=1))
    sheet = np.concatenate(rows, axis=0)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(out, quality=90)
    return out
