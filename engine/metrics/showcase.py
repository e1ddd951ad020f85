"""A contact sheet of what a model does with the sample scenes (for cards and the README).

Each row: the label map, noise seed 0, noise seed 1, and seed 0 with one thing re-rolled
— the largest ``prefer`` object (each connected region of a "thing" class such as a tree
is made an instance), else the largest object, else the ``fallback`` class — and the same
image with that area outlined so the eye finds it. Example-guided (MSCA) weights get
:mod:`engine.metrics.style_showcase` instead, RESAIL :mod:`engine.metrics.guided_showcase`
and ugen :mod:`engine.metrics.ugen_showcase`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from engine.checkpoints import read_spec
from engine.errors import InputError
from engine.inference.open import open_synthesizer
from engine.labels import read_label_png
from engine.metrics.guided_showcase import guided_showcase
from engine.metrics.showcase_draw import outline
from engine.metrics.style_showcase import style_showcase
from engine.metrics.ugen_showcase import ugen_showcase
from engine.noise import NoiseField
from engine.scene import thing_instances

SCENES = Path(__file__).resolve().parents[2] / "resources" / "scenes"


def showcase(
    weights: Path | str,
    out: Path | str,
    scenes: list[Path] | None = None,
    fallback: str = "water",
    prefer: str = "tree",
) -> Path:
    scenes = scenes or sorted(p for p in SCENES.glob("*.png") if p.stem != "panorama")
    if not scenes:
        raise InputError("no sample scenes", source=str(SCENES), fix="pass label maps with --scenes")
    family = read_spec(weights).family
    if family == "msca":  # example-guided: styles, not noise seeds
        return style_showcase(weights, out, scenes)
    if family == "resail":  # retrieval-guided: guidance images and another match, not seeds
        return guided_showcase(weights, out, scenes)
    if family == "ugen":  # one global z: the proxy mask and two styles, no local re-roll
        return ugen_showcase(weights, out, scenes)
    synth = open_synthesizer(weights)
    label_set = synth.spec.label_set
    rows = []
    for path in scenes:
        labels = read_label_png(path, label_set)
        h, w = labels.shape
        instances = thing_instances(labels, label_set)
        noise = NoiseField.uniform(h, w, seed=0, z_dim=synth.z_dim)
        first = synth.generate(labels, noise, instances=instances)
        second = synth.generate(
            labels, NoiseField.uniform(h, w, seed=1, z_dim=synth.z_dim), instances=instances
        )
        # The largest ``prefer`` object big enough to see (0.5 % of the image), else the largest object.
        objects = instances
        if prefer in label_set.names:
            preferred = instances * (labels == label_set.by_name(prefer).id)
            if preferred.any() and np.bincount(preferred[preferred > 0]).max() >= 0.005 * h * w:
                objects = preferred
        if objects.any():
            mask = instances == np.bincount(objects[objects > 0]).argmax()
        else:
            mask = labels == label_set.by_name(fallback).id
        rerolled = noise.copy()
        rerolled.resample(mask, seed=7)
        third = synth.generate(labels, rerolled, instances=instances)
        rows.append(
            np.concatenate([label_set.colorize(labels), first, second, third, outline(third, mask)], 1)
        )
    sheet = np.concatenate(rows, 0)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(out, quality=90)
    return out
