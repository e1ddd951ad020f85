"""Move a label map from one label set to another by class name (switching models)."""

from __future__ import annotations

import numpy as np

from engine.labels import LabelSet


def remap_by_name(labels: np.ndarray, source: LabelSet, target: LabelSet) -> tuple[np.ndarray, list[str]]:
    """Ids of ``source`` → ids of ``target`` with the same class name (case-insensitive).

    Classes without a namesake become the target's first class; their names are returned
    so the studio can ask before it loses them.
    """
    by_name = {c.name.lower(): c.id for c in target}
    fallback = target.classes[0].id
    lut = np.full(int(labels.max(initial=0)) + 1, fallback, np.uint16)
    lost: list[str] = []
    for cls in source:
        if cls.id >= lut.size:
            continue
        match = by_name.get(cls.name.lower())
        if match is None and (labels == cls.id).any():
            lost.append(cls.name)
        lut[cls.id] = fallback if match is None else match
    return lut[labels], lost
