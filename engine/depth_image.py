"""Depth maps as files: the 16-bit PNGs ``app-train data landscapes`` writes beside its
images, and the greyscale images a user gives ugen's depth mapper.

One convention everywhere (the landscapes renderer's own, :class:`~engine.data.landscapes.canvas.Layout`):
a depth map is H×W float32 in [0, 1], **0 = nearest** (the viewer's feet), growing with
distance and **1 = farthest** (the horizon and the sky). As an image: black is near, white
is far. On disk the value is stored as ``round(depth · 65535)`` in a 16-bit grey PNG;
8-bit grey images are read as ``value / 255``, so a depth painted in any editor works too.
The studio keeps its map as those uint16 values and exports them as they are
(:func:`write_depth_image`), so export then import gives the same map back.

A colour image whose three channels are equal everywhere is grey saved as RGB (editors do
that) and is read as grey; any other colour image is refused, since no channel of it is
the depth.

:func:`fit_depth` brings a map of the canvas' shape to the canvas' size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import InputError
from engine.fileio import atomic_write_bytes
from engine.limits import check_pixels

DEPTH_SCALE = 65535  # 16-bit PNG value of depth 1.0 (the sky)
NEAR_FAR = "black = near, white = far (the sky)"
_FIX = f"pass a greyscale PNG of the depth, {NEAR_FAR}: 16-bit as app-train data writes, or 8-bit"
_SIXTEEN = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})


def depth_to_uint16(depth: np.ndarray) -> np.ndarray:
    """H×W depth in [0, 1] → the uint16 values of its PNG."""
    return np.rint(np.clip(depth, 0.0, 1.0) * DEPTH_SCALE).astype(np.uint16)


def write_depth_png(path: Path | str, depth: np.ndarray) -> None:
    """Write H×W depth in [0, 1] as a 16-bit grey PNG (OpenCV: ~0.5 ms at 256², a tenth of PIL's)."""
    import cv2  # here: `app-train --help` reads NEAR_FAR from this module and must stay quick

    if not cv2.imwrite(str(path), depth_to_uint16(depth)):
        raise OSError(f"could not write the depth map {path}")


def write_depth_image(path: Path | str, depth: np.ndarray) -> Path:
    """Write an H×W uint16 depth map (0 = nearest, 65535 = far and sky) as the 16-bit grey
    PNG :func:`read_depth_image` reads back value for value. Atomic: a write that fails
    half-way leaves an older file of that name as it was."""
    import cv2

    path = Path(path)
    if depth.dtype != np.uint16 or depth.ndim != 2 or depth.size == 0:
        # A float map here would be a caller's slip (depth_to_uint16 converts it): refuse it
        # rather than guess its scale.
        raise ValueError(
            f"a depth image is written from an H×W uint16 map (0 = nearest, {DEPTH_SCALE} = far), "
            f"got {depth.dtype} of shape {depth.shape}"
        )
    if path.suffix.lower() != ".png":
        raise InputError(
            f"depth images are exported as 16-bit PNG, not '{path.suffix or 'no suffix'}'",
            source=path,
            fix="name the file *.png (JPEG has 8 bits and changes the depth between pixels)",
        )
    ok, png = cv2.imencode(".png", np.ascontiguousarray(depth))
    if not ok:
        raise OSError(f"could not encode the depth map {path}")
    return atomic_write_bytes(path, png.tobytes())


def _grey_values(im: Image.Image, path: Path) -> np.ndarray:
    """The depth of an opened image as float32 in [0, 1], or an InputError naming ``path``."""
    if im.mode in _SIXTEEN:
        return np.asarray(im, dtype=np.float32) / DEPTH_SCALE
    if im.mode == "I":  # 16-bit PNGs open as 32-bit grey in some Pillow versions
        values = np.asarray(im)
        if values.size and (values.min() < 0 or values.max() > DEPTH_SCALE):
            raise InputError(
                f"grey values {values.min()}–{values.max()} are outside the 16-bit range",
                source=path,
                fix=_FIX,
            )
        return values.astype(np.float32) / DEPTH_SCALE
    if im.mode in ("L", "LA"):
        return np.asarray(im.getchannel("L"), dtype=np.float32) / 255
    if im.mode in ("RGB", "RGBA", "P", "PA"):
        rgb = np.asarray(im.convert("RGB"))
        if not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])):
            raise InputError(
                "the depth image has colour; a depth map is one grey channel", source=path, fix=_FIX
            )
        return rgb[..., 0].astype(np.float32) / 255
    raise InputError(f"PIL mode {im.mode} is not a greyscale depth image", source=path, fix=_FIX)


def read_depth_image(path: Path | str) -> np.ndarray:
    """A depth image file → H×W float32 in [0, 1] (0 = near, 1 = far); errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", source=path, fix="check the path of the depth image")
    try:
        with Image.open(path) as im:
            check_pixels(*im.size, path)
            im.load()
            return _grey_values(im, path)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InputError(f"cannot read the depth image ({exc})", source=path, fix=_FIX) from exc


def fit_depth(depth: np.ndarray, size: tuple[int, int], source: Path | str) -> np.ndarray:
    """A depth map (H×W in [0, 1]) at the canvas ``size`` (h, w): a map of the canvas' shape
    but another size is resampled (area average when shrinking, linear when growing); another
    shape is refused, since stretching it would distort the scene's perspective."""
    import cv2

    h, w = size
    dh, dw = depth.shape
    if (dh, dw) == (h, w):
        return depth.astype(np.float32)
    if abs(dh * w - dw * h) > 0.02 * dw * h:
        raise InputError(
            f"the depth map is {dw}×{dh}, the canvas {w}×{h}: another shape",
            source=source,
            fix=f"crop the depth map to the canvas' shape ({w}:{h}), then import it again",
        )
    shrink = dh > h
    resized = cv2.resize(
        depth.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    )
    return np.clip(resized, 0.0, 1.0)
