"""A contact sheet of a RESAIL model on the sample scenes (for its card and the README).

Each row: the label map, the guidance image composed from the top-1 retrieved segments,
the image made from it, then the same with the largest region guided by its second match
instead (RESAIL's re-roll: another of its retrieved segments), outlined so the eye finds it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from engine.errors import InputError
from engine.inference.resail_synth import ResailSynthesizer
from engine.labels import read_label_png
from engine.metrics.showcase_draw import outline
from engine.noise import NoiseField
from engine.retrieval import Retriever
from engine.scene import thing_instances


def guided_showcase(weights: Path | str, out: Path | str, scenes: list[Path]) -> Path:
    synth = ResailSynthesizer.from_folder(weights)
    label_set = synth.spec.label_set
    rows = []
    for path in scenes:
        labels = read_label_png(path, label_set)
        h, w = labels.shape
        instances = thing_instances(labels, label_set)
        noise = NoiseField.uniform(h, w, seed=0, z_dim=synth.z_dim)
        synth.retriever = Retriever(synth.db, synth.params)  # no choice carried over from another scene
        first = synth.generate(labels, noise, instances=instances)
        guidance = synth.last_guidance
        assert guidance is not None
        # The largest region that has a second match gets it.
        retriever = synth.retriever
        candidates = [i for i, m in enumerate(retriever.matches) if len(m) > 1]
        if not candidates:
            raise InputError(
                "no region of this scene has two retrieved segments",
                source=path,
                fix="use a scene with larger regions, or a model trained with a higher --retrieval-threshold",
            )
        index = max(candidates, key=lambda i: retriever.segments[i].area)
        segment = retriever.segments[index]
        retriever.choose(segment.key, 1)
        second = synth.generate(labels, noise, instances=instances)
        mask = np.zeros((h, w), bool)
        y0, x0, y1, x1 = segment.box
        mask[y0:y1, x0:x1] = segment.mask
        rows.append(
            np.concatenate([label_set.colorize(labels), guidance.image, first, outline(second, mask)], axis=1)
        )
    sheet = np.concatenate(rows, 0)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(out, quality=90)
    return out
