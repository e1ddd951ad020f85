"""Condition extractors for ugen's semantic mappers: an image → the line drawing a user
would draw for it. Used on generated images to make (condition, proxy mask) training
pairs, and by the studio to turn a photo into a condition.

* ``edges``: OpenCV's Canny on the grey image after a light blur — thin, binary edges.
  The paper uses HED for edges; Canny is what installs everywhere, and the mapper learns
  whichever edge style it is trained with, so the studio must extract with the same one.
* ``sketch``: an adaptive-threshold line drawing (pixels darker than their neighbourhood
  mean), the classic pencil-sketch filter: thicker, filled strokes where Canny draws two
  thin lines.

Both return (B, 1, H, W) float tensors, 1 on a line and 0 elsewhere.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

CANNY_THRESHOLDS = (60, 140)  # hysteresis thresholds on the 0–255 grey image
SKETCH_BLOCK = 9  # adaptive-threshold neighbourhood (odd, pixels)
SKETCH_OFFSET = 6  # how much darker than the local mean a line pixel is


def _grey_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) in [-1, 1] → (B, H, W) uint8 luma."""
    rgb = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).cpu().numpy()
    grey = 0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]
    return grey.round().astype(np.uint8)


def edge_map(images: torch.Tensor) -> torch.Tensor:
    """Canny edges of (B, 3, H, W) images in [-1, 1] → (B, 1, H, W) in {0, 1}."""
    out = [cv2.Canny(cv2.GaussianBlur(g, (3, 3), 0), *CANNY_THRESHOLDS) for g in _grey_uint8(images)]
    return torch.from_numpy(np.stack(out)[:, None] > 0).float().to(images.device)


def sketch_map(images: torch.Tensor) -> torch.Tensor:
    """Adaptive-threshold line drawing of (B, 3, H, W) images in [-1, 1] → (B, 1, H, W) in {0, 1}."""
    out = [
        cv2.adaptiveThreshold(
            cv2.GaussianBlur(g, (3, 3), 0),  # light: a median would erase 1-px strokes
            255,
            cv2.ADAPTIVE_THRESH_MEAN_C,
            cv2.THRESH_BINARY_INV,
            SKETCH_BLOCK,
            SKETCH_OFFSET,
        )
        for g in _grey_uint8(images)
    ]
    return torch.from_numpy(np.stack(out)[:, None] > 0).float().to(images.device)


EXTRACTORS = {"edges": edge_map, "sketch": sketch_map}
