"""Composing the guidance image from the chosen database segment of each query segment.

Supplement A.1, "Composition of Guidance Image": the retrieved crop Î_r and its mask M̂_r
are resized to the query segment's box, then pasted by four rules —

1. pixels in both M̂_r and the query mask M_i are kept;
2. a stuff segment's pixels in M̂_r but outside M_i are dropped;
3. a thing segment's pixels in M̂_r outside M_i that fall on *stuff* pixels of the map
   are kept (a retrieved tree keeps its own silhouette over the sky);
4. … and those that fall on *thing* pixels of the map are dropped.

"Dropped" pixels are not pasted, rather than pasted as zeros, so they cannot blank out
another segment. Stuff is pasted first and things after it, so a thing's overhang
(rule 3) wins over the stuff below it — the official code likewise restricts stuff to
the query mask minus the retrieved thing masks. Things go largest first, so a smaller
object's overhang lands on top. Pixels no segment covers stay 0 and are marked invalid.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from engine.retrieval.database import SegmentDatabase
from engine.retrieval.segments import Segment, sample_nearest


@dataclass(frozen=True)
class Guidance:
    """The guidance image I^r and where it holds retrieved pixels."""

    image: np.ndarray  # H×W×3 uint8, 0 where nothing was pasted
    valid: np.ndarray  # H×W bool


def fit_crop(rgb: np.ndarray, mask: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A source crop and its mask resized to ``height × width`` (bilinear / nearest)."""
    if rgb.shape[:2] == (height, width):
        return rgb, mask
    shrink = height * width < rgb.shape[0] * rgb.shape[1]
    resized = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return resized, sample_nearest(mask, height, width)


def compose_guidance(
    labels: np.ndarray,
    segments: Sequence[Segment],
    chosen: Sequence[int | tuple[np.ndarray, np.ndarray] | None],
    db: SegmentDatabase,
    thing_ids: Collection[int] | None = None,
) -> Guidance:
    """The guidance image of a map whose ``segments`` use database rows ``chosen`` (None: no
    match; an (RGB crop, mask) pair: pixels from elsewhere, e.g. the painter's own photo).

    ``thing_ids`` default to the database label set's things.
    """
    if len(segments) != len(chosen):
        raise ValueError(f"{len(segments)} segments but {len(chosen)} choices")
    things = db.thing_ids if thing_ids is None else frozenset(int(c) for c in thing_ids)
    h, w = labels.shape
    image = np.zeros((h, w, 3), np.uint8)
    valid = np.zeros((h, w), bool)
    on_thing = np.isin(labels, list(things)) if things else np.zeros((h, w), bool)
    picked = [(seg, row) for seg, row in zip(segments, chosen) if row is not None]
    order = sorted(range(len(picked)), key=lambda i: (picked[i][0].thing, -picked[i][0].area, i))
    for i in order:
        seg, row = picked[i]
        y0, x0, y1, x1 = seg.box
        crop = row if isinstance(row, tuple) else db.crop(row)
        rgb, mask = fit_crop(*crop, y1 - y0, x1 - x0)
        if seg.thing:
            paste = mask & (seg.mask | ~on_thing[y0:y1, x0:x1])  # rules 1, 3 and 4
        else:
            paste = mask & seg.mask  # rules 1 and 2
        image[y0:y1, x0:x1][paste] = rgb[paste]
        valid[y0:y1, x0:x1] |= paste
    return Guidance(image, valid)
