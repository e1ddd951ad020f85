"""Convolutions over a conditioning map [noise ‖ one-hot], windowed and with a per-class gather.

Helpers for :mod:`engine.inference.incremental`. A box is ``(y0, x0, y1, x1)``, half-open,
in the pixels of whatever map it refers to; it may reach outside the map, which then
reads as zeros — exactly the zero padding the network's own convs apply.

A k×k conv over a one-hot map is a gather: at each pixel only one channel per tap is 1,
so the output is the sum over the k² taps of that class's kernel column. For OASIS's
shared SPADE conv (64 noise + 151 class channels → 128) this replaces ~70 % of the
multiply-adds by k² row lookups (``embedding_bag``); the noise part stays a conv.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.inference.tokens import token_table

Box = tuple[int, int, int, int]

UNLABELLED = -1
"""Label index of a pixel whose one-hot vector is all zeros (and of padding)."""


def grow(box: Box, by: int) -> Box:
    y0, x0, y1, x1 = box
    return y0 - by, x0 - by, y1 + by, x1 + by


def clip(box: Box, height: int, width: int) -> Box:
    y0, x0, y1, x1 = box
    return max(y0, 0), max(x0, 0), min(y1, height), min(x1, width)


def area(box: Box) -> int:
    y0, x0, y1, x1 = box
    return max(0, y1 - y0) * max(0, x1 - x0)


def pads(inner: Box, outer: Box) -> tuple[int, int, int, int]:
    """F.pad amounts (left, right, top, bottom) that take ``inner`` to ``outer``."""
    return inner[1] - outer[1], outer[3] - inner[3], inner[0] - outer[0], outer[2] - inner[2]


def conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, pad: tuple) -> torch.Tensor:
    """A valid conv over ``x`` zero-padded by ``pad``; the conv's own padding when it is symmetric.

    The symmetric case (every full-map computation) avoids copying the input.
    """
    left, right, top, bottom = pad
    if left == right and top == bottom:
        return F.conv2d(x, weight, bias, padding=(top, left))
    return F.conv2d(F.pad(x, pad), weight, bias)


def take(x: torch.Tensor, rows: torch.Tensor | None, cols: torch.Tensor | None, box: Box) -> torch.Tensor:
    """The part of a full-resolution map that a nearest resize puts into ``box`` (clipped).

    ``rows``/``cols`` hold the source index of every row/column of the resized map (None:
    same size, so the box is a plain slice).
    """
    y0, x0, y1, x1 = box
    if rows is None:
        x = x[..., y0:y1, :]
    else:
        x = x.index_select(-2, rows[y0:y1])
    if cols is None:
        return x[..., x0:x1]
    return x.index_select(-1, cols[x0:x1])


def onehot_labels(onehot: torch.Tensor) -> torch.Tensor | None:
    """(B, C, H, W) → (B, H, W) class indices (UNLABELLED for all-zero pixels); None if not one-hot.

    Only exact 0/1 maps with at most one 1 per pixel qualify: soft or blended labels
    must take the conv path, or the gather would silently compute something else.
    """
    top, index = onehot.max(dim=1)
    total = onehot.sum(dim=1)
    exact = ((top == 1) & (total == 1)) | ((top == 0) & (total == 0))
    if not bool(exact.all()) or bool((onehot.amin(dim=1) < 0).any()):
        return None
    return torch.where(top == 1, index, torch.full_like(index, UNLABELLED))


def gather_table(weight: torch.Tensor) -> torch.Tensor:
    """(out, C, k, k) one-hot conv weights → (k²·C + 1, out): row tap·C + c, last row zeros."""
    return token_table(weight, torch.eye(weight.shape[1], dtype=weight.dtype, device=weight.device))


def gather_index(labels: torch.Tensor, stride: int, kernel: int) -> tuple[torch.Tensor, tuple[int, int, int]]:
    """Rows of a gather table for a valid k×k conv over ``labels`` (B, h+k-1, w+k-1).

    ``stride`` is the number of classes (or tokens) per tap in the table; negative labels
    (UNLABELLED, padding) index the table's last, all-zero row. Returns the (B·h·w, k²)
    index and (B, h, w).
    """
    window = labels.unfold(1, kernel, 1).unfold(2, kernel, 1)  # B, h, w, k, k
    taps = torch.arange(kernel * kernel, device=labels.device).view(kernel, kernel) * stride
    index = torch.where(window >= 0, window + taps, kernel * kernel * stride)
    return index.reshape(-1, kernel * kernel), tuple(window.shape[:3])


def gather_rows(index: torch.Tensor, shape: tuple[int, int, int], table: torch.Tensor) -> torch.Tensor:
    """Sum the table rows of each pixel → (B, out, h, w), channels-last in memory."""
    batch, h, w = shape
    out = F.embedding_bag(index, table, mode="sum")
    return out.view(batch, h, w, -1).permute(0, 3, 1, 2)


def gather_conv(labels: torch.Tensor, table: torch.Tensor, classes: int, kernel: int) -> torch.Tensor:
    """Valid k×k conv (no bias) over the one-hot of ``labels`` (B, h+k-1, w+k-1) → (B, out, h, w).

    UNLABELLED (all-zero or padding) pixels contribute nothing: they index the zero row.
    """
    index, shape = gather_index(labels, classes, kernel)
    return gather_rows(index, shape, table)
