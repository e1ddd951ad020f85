"""PNG bytes ↔ numpy maps for the files the studio writes (projects, OpenRaster layers).

Id maps are written losslessly as 16-bit grey PNGs, which every image tool can open; a
map whose ids do not fit 16 bits (only the noise region map can get there) falls back to
24 bits packed into RGB. Decoding checks the layout and names the file and member in
errors, because these bytes come from files the user handed us. Qt-free.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import InputError
from engine.limits import check_pixels

MAX_ID16 = 65535
MAX_ID24 = 2**24 - 1

# PIL modes whose pixel values are the stored numbers themselves.
_ID_MODES = frozenset({"1", "L", "P", "I", "I;16", "I;16L", "I;16B", "I;16N"})
_READ_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError)

# Level 1 of zlib is several times faster than the default 6 and only a little larger on
# label-like maps (long runs); autosave runs on the GUI thread, so speed wins.
_LEVEL = 1


def _png(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, format="PNG", compress_level=_LEVEL)
    return out.getvalue()


def _check_2d_int(ids: np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.ndim != 2 or arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{what} must be a 2-D integer map, got {arr.dtype} of shape {arr.shape}")
    return arr


def encode_ids16(ids: np.ndarray, what: str = "map") -> bytes:
    """A 16-bit grey PNG of ``ids`` (all in 0..65535; callers check the range with a clear message)."""
    arr = _check_2d_int(ids, what)
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) > MAX_ID16):
        raise ValueError(f"{what} values must be in 0..{MAX_ID16}")
    return _png(Image.fromarray(np.ascontiguousarray(arr, dtype=np.uint16)))


def encode_ids(ids: np.ndarray, what: str = "map") -> bytes:
    """16-bit grey when every id fits, else 24-bit ids packed as RGB (r = high byte)."""
    arr = _check_2d_int(ids, what)
    hi = int(arr.max()) if arr.size else 0
    if hi <= MAX_ID16:
        return encode_ids16(arr, what)
    if int(arr.min()) < 0 or hi > MAX_ID24:
        raise ValueError(f"{what} values must be in 0..{MAX_ID24}")
    v = arr.astype(np.uint32)
    rgb = np.stack([(v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF], axis=-1).astype(np.uint8)
    return _png(Image.fromarray(rgb))


def encode_mask(mask: np.ndarray) -> bytes:
    """A 1-bit PNG (tiny for the mostly empty lock masks)."""
    arr = np.asarray(mask)
    if arr.ndim != 2:
        raise ValueError(f"a mask must be 2-D, got shape {arr.shape}")
    return _png(Image.fromarray(arr.astype(bool)))


def encode_rgb(rgb: np.ndarray, what: str = "image") -> bytes:
    return _png(Image.fromarray(check_rgb(rgb, what)))


def check_rgb(rgb: np.ndarray, what: str = "image") -> np.ndarray:
    """``rgb`` as a contiguous H×W×3 uint8 array; anything else is a programming error."""
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8 or 0 in arr.shape:
        raise ValueError(f"{what} must be a non-empty H×W×3 uint8 array, got {arr.dtype} {arr.shape}")
    return np.ascontiguousarray(arr)


# ---------------------------------------------------------------------- decoding
def _open(data: bytes, what: str, source: str | Path) -> Image.Image:
    try:
        im = Image.open(io.BytesIO(data))
        check_pixels(*im.size, f"{source} ({what})")
        im.load()
    except _READ_ERRORS as exc:
        raise InputError(
            f"{what} is not a readable PNG ({exc})",
            source=source,
            fix="the file is damaged; open an autosave or an earlier copy",
        ) from None
    return im


def decode_ids(data: bytes, what: str, source: str | Path, *, allow_rgb24: bool = False) -> np.ndarray:
    """The stored numbers of a grey/indexed PNG (or 24-bit RGB when allowed) as a 2-D int64 array."""
    im = _open(data, what, source)
    if im.mode in _ID_MODES:
        arr = np.asarray(im).astype(np.int64)
    elif allow_rgb24 and im.mode == "RGB":
        v = np.asarray(im).astype(np.int64)
        arr = (v[..., 0] << 16) | (v[..., 1] << 8) | v[..., 2]
    else:
        raise InputError(
            f"{what} has PIL mode {im.mode}, not a grey or indexed id map",
            source=source,
            fix="the file is damaged or was edited with another program; save it again as a grey PNG",
        )
    if arr.ndim != 2:
        raise InputError(f"{what} is not a single-channel map (shape {arr.shape})", source=source)
    return arr


def decode_mask(data: bytes, what: str, source: str | Path) -> np.ndarray:
    """Any grey/indexed PNG as a boolean mask (non-zero = set)."""
    im = _open(data, what, source)
    arr = np.asarray(im if im.mode in _ID_MODES else im.convert("L"))
    return arr.astype(bool)


def decode_rgb(data: bytes, what: str, source: str | Path) -> np.ndarray:
    im = _open(data, what, source)
    return np.asarray(im if im.mode == "RGB" else im.convert("RGB")).copy()
