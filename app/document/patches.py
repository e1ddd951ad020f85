"""Undo steps as diff patches: the bounding box of a change plus its old and new values.

A stroke on a 1024² canvas usually touches a few thousand pixels; storing whole maps per
step would make a long session grow by megabytes per stroke. A patch keeps only the
changed rectangle, so history memory follows what was actually painted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.scene import Scene

BBox = tuple[int, int, int, int]  # (y0, x0, y1, x1), half-open


def changed_bbox(before: np.ndarray, after: np.ndarray, within: BBox | None = None) -> BBox | None:
    """Tightest box where the two maps differ (searching only ``within`` when given)."""
    y0, x0, y1, x1 = within if within is not None else (0, 0, *before.shape[:2])
    box = Scene.bbox(before[y0:y1, x0:x1] != after[y0:y1, x0:x1])
    if box is None:
        return None
    return y0 + box[0], x0 + box[1], y0 + box[2], x0 + box[3]


def union(a: BBox | None, b: BBox | None) -> BBox | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def clip(box: BBox, h: int, w: int) -> BBox | None:
    y0, x0, y1, x1 = max(box[0], 0), max(box[1], 0), min(box[2], h), min(box[3], w)
    return (y0, x0, y1, x1) if y0 < y1 and x0 < x1 else None


@dataclass(frozen=True)
class MapPatch:
    """Old and new contents of one rectangle of a 2-D map."""

    bbox: BBox
    old: np.ndarray
    new: np.ndarray

    @classmethod
    def between(cls, before: np.ndarray, after: np.ndarray, within: BBox | None = None) -> MapPatch | None:
        box = changed_bbox(before, after, within)
        if box is None:
            return None
        y0, x0, y1, x1 = box
        return cls(box, before[y0:y1, x0:x1].copy(), after[y0:y1, x0:x1].copy())

    def apply(self, target: np.ndarray, forward: bool) -> None:
        y0, x0, y1, x1 = self.bbox
        target[y0:y1, x0:x1] = self.new if forward else self.old

    @property
    def nbytes(self) -> int:
        return self.old.nbytes + self.new.nbytes
