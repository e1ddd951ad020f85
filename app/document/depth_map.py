"""ugen's depth map as the document holds it: H×W uint16, 0 = nearest, 65535 = far and sky
(the 16-bit file convention of :mod:`engine.depth_image`, so a project stores it exactly).
The blank map a canvas starts from, the float map a depth mapper reads, and how a brush
stroke mixes a depth in. Qt-free."""

from __future__ import annotations

import numpy as np

from engine.data.landscapes.canvas import plane_depth
from engine.depth_image import DEPTH_SCALE, depth_to_uint16

# Where a blank depth map's horizon lies, as a share of the height from the top: inside the
# landscapes renderer's range for natural scenes (0.55–0.78 for most of its layouts).
BLANK_HORIZON = 0.6


def blank_depth(size: tuple[int, int]) -> np.ndarray:
    """The depth map of a new or cleared canvas (uint16): flat ground seen in perspective
    (nearest at the bottom row, far at the horizon) under the sky, with the landscapes
    renderer's own ground profile — every scene the depth mapper learnt from is this plane
    with things on it, so a painter adds hills and trees as nearer shapes. An all-far map
    would be all sky, a scene the mapper never saw."""
    h, w = size
    horizon = int(np.clip(round(BLANK_HORIZON * h), 1, max(h - 1, 1)))
    return depth_to_uint16(np.repeat(plane_depth(h, horizon), w, axis=1))


def as_float(depth: np.ndarray) -> np.ndarray:
    """uint16 depth → float32 in [0, 1] (0 = nearest), what a depth mapper reads."""
    return depth.astype(np.float32) / np.float32(DEPTH_SCALE)


def mixed(start: np.ndarray, cover: np.ndarray, value: int) -> np.ndarray:
    """``start`` (uint16) moved toward ``value`` by ``cover`` (float32 in [0, 1]; 1 = all the
    way). A stroke mixes from the depth it began with and the strongest cover so far, so
    passing over a pixel twice never builds up more than the brush's cover."""
    base = start.astype(np.float32)
    return np.rint(np.clip(base + (np.float32(value) - base) * cover, 0, DEPTH_SCALE)).astype(np.uint16)
