"""Thin lines from a soft edge-probability map: non-maximum suppression across each ridge.

HED's output is a blurred ridge a few pixels wide around every edge; a user draws one thin
line. As in the edge NMS that goes with HED evaluations (Dollár & Zitnick's structured-edge
toolbox), a pixel stays only if it is at least as strong as its two neighbours across the
ridge. The across direction is the eigenvector of the smoothed map's Hessian with the most
negative curvature, quantised to the four pixel directions (0°, 45°, 90°, 135°) so the
neighbours are whole pixels, not interpolated.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

# Unit steps (row, column) for the four quantised directions 0°, 45°, 90°, 135°, with the
# angle measured from the column axis towards increasing rows.
_STEPS = ((0, 1), (1, 1), (1, 0), (1, -1))


def _smoothed(prob: Tensor) -> Tensor:
    """A 3×3 [1, 2, 1]² blur: steadier second derivatives on 1-pixel-wide ridges."""
    k = torch.tensor([1.0, 2.0, 1.0], device=prob.device, dtype=prob.dtype)
    kernel = (k[:, None] * k[None, :] / 16).view(1, 1, 3, 3)
    return F.conv2d(F.pad(prob, (1, 1, 1, 1), mode="replicate"), kernel)


def _across_direction(prob: Tensor) -> Tensor:
    """(B, 1, H, W) long in 0…3: the index in ``_STEPS`` that points across the ridge."""
    p = F.pad(_smoothed(prob), (1, 1, 1, 1), mode="replicate")
    centre = p[..., 1:-1, 1:-1]
    dxx = p[..., 1:-1, 2:] - 2 * centre + p[..., 1:-1, :-2]
    dyy = p[..., 2:, 1:-1] - 2 * centre + p[..., :-2, 1:-1]
    dxy = (p[..., 2:, 2:] - p[..., 2:, :-2] - p[..., :-2, 2:] + p[..., :-2, :-2]) / 4
    # The eigenvector of the largest eigenvalue is at ½·atan2(2dxy, dxx − dyy); across a
    # bright ridge the curvature is most negative, 90° from it.
    angle = 0.5 * torch.atan2(2 * dxy, dxx - dyy) + math.pi / 2
    return torch.round(angle / (math.pi / 4)).long() % 4


def _shifted(prob: Tensor, dy: int, dx: int) -> Tensor:
    """``prob`` at (row + dy, column + dx); 0 outside the image."""
    p = F.pad(prob, (1, 1, 1, 1))
    h, w = prob.shape[-2:]
    return p[..., 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]


def thin_ridges(prob: Tensor, threshold: float) -> Tensor:
    """(B, 1, H, W) probabilities → (B, 1, H, W) bool: the ridge pixels above ``threshold``.

    Ties go to the first pixel of a flat top (strictly above the one behind, at least the
    one ahead), so a saturated two-pixel-wide ridge still gives one line."""
    direction = _across_direction(prob)
    keep = torch.zeros_like(prob, dtype=torch.bool)
    for k, (dy, dx) in enumerate(_STEPS):
        peak = (prob > _shifted(prob, -dy, -dx)) & (prob >= _shifted(prob, dy, dx))
        keep |= peak & (direction == k)
    return keep & (prob > threshold)
