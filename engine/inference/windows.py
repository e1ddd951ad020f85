"""Boxes for recomputing a translation-equivariant net only where its input changed.

A stack of stride-1 'same' convs, pointwise ops and ×2 upsamplings can be evaluated on a
crop of its input: the output is exact except within the stack's margin of the crop's
edges (where the crop's zero padding or edge replication stands in for pixels that were
cut off) — but not at edges that are the map's own, where the net pads the same way. So
a box of the output is recomputed exactly from the input cropped to the box grown by the
margin and clipped to the map. Boxes are ``(y0, x0, y1, x1)``, half-open
(:mod:`engine.inference.onehot_conv`).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from engine.inference.onehot_conv import Box, area, clip, grow


def full_box(height: int, width: int) -> Box:
    return 0, 0, height, width


def union(a: Box | None, b: Box | None) -> Box | None:
    """The bounding box of both (None is empty)."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def scaled(box: Box, factor: int) -> Box:
    return box[0] * factor, box[1] * factor, box[2] * factor, box[3] * factor


def grown(box: Box, by: int, height: int, width: int) -> Box:
    """``box`` grown by ``by`` on every side, clipped to the map."""
    return clip(grow(box, by), height, width)


def changed_box(new: torch.Tensor, old: torch.Tensor | None) -> Box | None:
    """Bounding box of the pixels (last two dims) where ``new`` differs from ``old``; the
    whole map when there is no ``old`` or its shape differs; None when nothing changed."""
    h, w = new.shape[-2:]
    if old is None or old.shape != new.shape:
        return full_box(h, w)
    differ = new != old
    while differ.ndim > 2:
        differ = differ.any(dim=0)
    rows = torch.nonzero(differ.any(dim=1)).flatten()
    if rows.numel() == 0:
        return None
    cols = torch.nonzero(differ.any(dim=0)).flatten()
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def changed_groups(new: torch.Tensor, old: torch.Tensor, grow_by: int) -> list[Box]:
    """Boxes to recompute where ``new`` differs from ``old`` (last two dims), for a stack
    whose work spreads ``grow_by`` pixels around each change. Scattered changes cost a few
    small boxes instead of their common bounding box: changes closer than ``grow_by`` start
    in one group, then two groups are merged while one box around both costs no more area
    (grown and clipped) than the two apart."""
    differ = new != old
    while differ.ndim > 2:
        differ = differ.any(dim=0)
    changed = differ.cpu().numpy().astype(np.uint8)
    if not changed.any():
        return []
    h, w = changed.shape
    near = cv2.dilate(changed, np.ones((grow_by + 1, grow_by + 1), np.uint8))
    count, groups = cv2.connectedComponents(near, connectivity=8)
    boxes: list[Box] = []
    for group in range(1, count):
        rows, cols = np.nonzero((groups == group) & (changed > 0))
        boxes.append((int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1))

    def cost(box: Box) -> int:
        return area(grown(box, grow_by, h, w))

    merged = True
    while merged and len(boxes) > 1:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                both = union(boxes[i], boxes[j])
                assert both is not None
                if cost(both) <= cost(boxes[i]) + cost(boxes[j]):
                    boxes[i] = both
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return boxes


def crop(x: torch.Tensor, box: Box) -> torch.Tensor:
    return x[..., box[0] : box[2], box[1] : box[3]]


def paste(target: torch.Tensor, values: torch.Tensor, box: Box, origin: Box) -> None:
    """Write the part of ``values`` (computed on the crop ``origin``) that lies in ``box``
    into ``target`` (both boxes in ``target``'s pixels, ``box`` inside ``origin``)."""
    inner = values[..., box[0] - origin[0] : box[2] - origin[0], box[1] - origin[1] : box[3] - origin[1]]
    target[..., box[0] : box[2], box[1] : box[3]] = inner
