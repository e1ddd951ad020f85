"""Label-map files: reading PNGs of ids or colours into uint16 ids, and writing them.

The PIL mode decides how a file is read (grey and indexed images hold ids, RGB images
hold colours of the label set), every map is validated against its label set on the way
in, and saves are atomic, so an interrupted save never leaves a half-written map.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import InputError
from engine.fileio import atomic_write
from engine.labels.label_class import MAX_LABEL_ID
from engine.labels.label_set import LabelSet
from engine.limits import check_pixels

# PIL modes whose pixel values are class ids (palette indices for "P").
_ID_MODES = frozenset({"1", "L", "LA", "P", "PA", "I", "I;16", "I;16L", "I;16B", "I;16N"})


def _refuse_lossy_png(path: Path) -> None:
    """Pillow reads a 16-bit grey+alpha PNG as 8-bit RGBA, keeping only each id's low byte:
    every map would silently get other ids. Such files are refused by their header."""
    try:
        with path.open("rb") as fh:
            head = fh.read(26)
    except OSError:
        return  # the reader below reports a missing or unreadable file
    if len(head) == 26 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        depth, colour_type = head[24], head[25]
        if depth == 16 and colour_type == 4:
            raise InputError(
                "a 16-bit grey+alpha PNG: the image library reads only the low byte of each id",
                source=path,
                fix="save the label map as 16-bit grey without alpha (or 8-bit grey / indexed)",
            )


def read_label_png(path: str | Path, label_set: LabelSet) -> np.ndarray:
    """Read a label map as H×W uint16 ids of ``label_set``.

    The PIL mode decides how pixels are read: grey (8-bit ``L``, 16-bit ``I;16``/``I``)
    and palette (``P``) images hold ids — a palette image's *indices* are the ids, as in
    PASCAL/COCO-style annotations; RGB/RGBA images are colour maps matched exactly against
    the set's palette (alpha ignored). Ids are validated, so a map made for another label
    set is rejected here rather than rendered wrongly. One fallback: a palette image whose
    indices are not ids of the set but whose colours all are (a colour map that an editor
    saved as indexed PNG) is read by colour.
    """
    p = Path(path)
    palette_rgb: np.ndarray | None = None
    _refuse_lossy_png(p)
    try:
        with Image.open(p) as im:
            check_pixels(*im.size, p)
            im.load()
            mode, fmt = im.mode, im.format
            if mode in _ID_MODES:
                ids_im = im.getchannel(0) if mode in ("LA", "PA") else im
                arr = np.asarray(ids_im)
                if mode in ("P", "PA"):
                    palette_rgb = np.asarray(im.convert("RGB"))
                is_color = False
            else:
                arr = np.asarray(im if mode in ("RGB", "RGBA") else im.convert("RGB"))
                is_color = True
    except FileNotFoundError:
        raise InputError("file not found", source=p, fix="check the path of the label map") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InputError(
            f"cannot read the image ({exc})",
            source=p,
            fix="pass a PNG label map (8/16-bit grey or indexed ids, or RGB colours of the label set)",
        ) from exc
    if is_color:
        if fmt == "JPEG":
            raise InputError(
                "a JPEG cannot hold a label map: compression changes the colours at every edge",
                source=p,
                fix="export the label map as PNG",
            )
        return label_set.labels_from_colors(arr, p)
    if arr.ndim != 2:
        raise InputError(
            f"unexpected image layout {arr.shape} for mode {mode}",
            source=p,
            fix="save the label map as a single-channel grey or indexed PNG",
        )
    if mode == "1":
        arr = arr.astype(np.uint8)
    try:
        label_set.validate(arr, p)
    except InputError:
        if palette_rgb is None:
            raise
        try:
            return label_set.labels_from_colors(palette_rgb, p)
        except InputError:
            pass
        raise
    return arr.astype(np.uint16, copy=False)


def write_label_png(path: str | Path, labels: np.ndarray, *, palette: LabelSet | None = None) -> Path:
    """Write ids as a PNG: 8-bit grey when every id is below 256, else 16-bit grey.

    With ``palette`` (and ids below 256) the file is an indexed PNG whose indices are the
    ids and whose colours are the set's, so image viewers show colours while
    :func:`read_label_png` still reads ids. The file is written to a temporary name and
    renamed, so an interrupted save never leaves a half-written map.
    """
    p = Path(path)
    arr = np.asarray(labels)
    if arr.ndim != 2:
        raise ValueError(f"a label map is 2-D, got shape {arr.shape}")
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"a label map holds integer ids, got dtype {arr.dtype}")
    lo = int(arr.min()) if arr.size else 0
    hi = int(arr.max()) if arr.size else 0
    if lo < 0 or hi > MAX_LABEL_ID:
        raise ValueError(f"label ids must be in 0..{MAX_LABEL_ID}, got {lo}..{hi}")
    if hi < 256:
        a8 = np.ascontiguousarray(arr, dtype=np.uint8)
        im = Image.fromarray(a8)
        if palette is not None:
            im = Image.frombytes("P", (a8.shape[1], a8.shape[0]), a8.tobytes())
            lut = palette.palette_lut()[:256]
            flat = np.zeros((256, 3), dtype=np.uint8)
            flat[: len(lut)] = lut
            im.putpalette(flat.ravel().tobytes())
    else:
        im = Image.fromarray(arr.astype(np.uint16))
    return atomic_write(p, lambda fh: im.save(fh, format="PNG"))
