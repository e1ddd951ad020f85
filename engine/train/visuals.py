"""Sample grids for the run folder and TensorBoard."""

from __future__ import annotations

import numpy as np
import torch


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) in [-1, 1] → (B, H, W, 3) uint8."""
    return (
        ((images.detach().float().cpu().permute(0, 2, 3, 1).numpy() + 1) * 127.5)
        .clip(0, 255)
        .astype(np.uint8)
    )


def grid_rows(*rows: np.ndarray) -> np.ndarray:
    """Each argument a (B, H, W, 3) batch; one row per argument, images side by side."""
    return np.concatenate([np.concatenate(list(row), axis=1) for row in rows], axis=0)
