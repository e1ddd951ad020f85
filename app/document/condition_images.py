"""ugen's condition layers as pictures for a layered export: the line drawing black on white,
the depth map in 8-bit grey (black = near, white = far and sky), as the studio's canvases
show them. Qt-free.

Only layers that hold something are pictured: an empty drawing and the blank ground plane
are every document's defaults, and an export of a labels-only painting stays as it was.
"""

from __future__ import annotations

import numpy as np

from app.document.depth_map import blank_depth

LINES_NAME, DEPTH_NAME = "Lines", "Depth"
INK, PAPER = 0, 255  # pure black and white: Import line image… reads them back exactly
GREY_STEP = np.float32(257.0)  # uint16 depth → 0–255 grey (65535 / 257 = 255 exactly)


def lines_rgb(lines: np.ndarray) -> np.ndarray:
    """H×W bool drawing (True = line) → H×W×3 uint8, black lines on white."""
    grey = np.where(lines, np.uint8(INK), np.uint8(PAPER))
    return np.repeat(grey[..., None], 3, axis=2)


def depth_rgb(depth: np.ndarray) -> np.ndarray:
    """H×W uint16 depth (0 = nearest) → H×W×3 uint8 grey, black = near. Three equal channels
    rather than a grey PNG, so every OpenRaster reader stacks it with the RGB layers (and
    Import depth image… reads it back as an 8-bit map)."""
    grey = np.rint(depth.astype(np.float32) / GREY_STEP).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def condition_pictures(lines: np.ndarray, depth: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(name, H×W×3 uint8) for the drawing when it has lines and the depth map when it is
    not the blank ground plane, top first: lines above depth."""
    pictures = []
    if lines.any():
        pictures.append((LINES_NAME, lines_rgb(lines)))
    if not np.array_equal(depth, blank_depth(depth.shape)):
        pictures.append((DEPTH_NAME, depth_rgb(depth)))
    return pictures
