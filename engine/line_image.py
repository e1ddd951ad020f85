"""Reading a line drawing (an edge map or a sketch) for ugen's edge and sketch mappers.

Both polarities are accepted: black lines on white (a drawing) and white lines on black
(what an edge detector writes). Lines are thin, so the rarer of the two tones is taken as
the lines: pixels darker than mid-grey are lines when they are at most half the image,
else the lighter ones are. Colour and grey images are reduced to luma first; a
transparent background counts as white.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import InputError
from engine.limits import check_pixels


def lines_of(grey: np.ndarray) -> np.ndarray:
    """H×W luma in 0–1 → H×W float32, 1 on a line (the rarer tone), 0 elsewhere."""
    dark = grey < 0.5
    lines = dark if dark.mean() <= 0.5 else ~dark
    return lines.astype(np.float32)


def read_line_image(path: Path | str) -> np.ndarray:
    """A line-drawing image file → H×W float32 in {0, 1} (1 = line); errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", source=path, fix="check the path of the line image")
    try:
        with Image.open(path) as im:
            check_pixels(*im.size, path)
            if "A" in im.getbands():
                im = Image.alpha_composite(Image.new("RGBA", im.size, "white"), im.convert("RGBA"))
            grey = np.asarray(im.convert("L"), dtype=np.float32) / 255.0
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise InputError(
            f"cannot read the line image ({exc})",
            source=path,
            fix="pass a PNG of the drawing: black lines on white, or white lines on black",
        ) from exc
    return lines_of(grey)


def fit_lines(lines: np.ndarray, size: tuple[int, int], source: Path | str) -> np.ndarray:
    """A line drawing (H×W, 1 = line) at the canvas ``size`` (h, w), as bool. A drawing of
    the canvas' shape but another size is rescaled: shrinking keeps every line (a cell a
    line crosses is a line, as a pen at that size would draw it), growing repeats pixels.
    Another shape is refused: stretching a drawing would move its lines."""
    h, w = size
    lh, lw = lines.shape
    if (lh, lw) == (h, w):
        return lines > 0.5
    if abs(lh * w - lw * h) > 0.02 * lw * h:
        raise InputError(
            f"the drawing is {lw}×{lh}, the canvas {w}×{h}: another shape",
            source=source,
            fix=f"crop the drawing to the canvas' shape ({w}:{h}), then import it again",
        )
    grid = lines.astype(np.float32)
    if lh > h:
        return cv2.resize(grid, (w, h), interpolation=cv2.INTER_AREA) > 0
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_NEAREST) > 0.5
