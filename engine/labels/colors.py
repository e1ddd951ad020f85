"""Colour ↔ id conversion for one label set: the palette, colourising maps, and reading
colour images back to ids.

Colours matter twice: the canvas shows them, and colour PNGs painted elsewhere are mapped
back to ids through them. The mapping is exact — an unknown colour is an error that names
the colour, where it is and how many pixels have it, never a silent nearest-colour guess
that would change the user's map. The label set checks that its colours are unique before
it builds its :class:`ColorTable`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.errors import InputError
from engine.labels.label_class import MAX_LABEL_ID, LabelClass
from engine.labels.messages import hex_color, plural

MISSING_COLOR: tuple[int, int, int] = (255, 0, 255)
"""Colour shown for ids that are not in the set: loud, so a bad map is seen at once."""

_UNKNOWN_SHOWN = 8  # unknown colours named in an error message


def color_key(color: tuple[int, int, int]) -> int:
    """A colour packed as ``0xRRGGBB`` (the key colour images are matched by)."""
    return (int(color[0]) << 16) | (int(color[1]) << 8) | int(color[2])


class ColorTable:
    """The colours of one label set's classes, both ways: id → colour and colour → id.

    ``classes`` are in ascending id order with unique colours; ``name`` is the set's name,
    used in messages. Look-up tables are built on first use and are read-only, so a table
    can be shared like the label set that owns it.
    """

    __slots__ = ("_classes", "_full_lut", "_key_ids", "_keys", "_lut", "_name")

    def __init__(self, name: str, classes: Sequence[LabelClass]) -> None:
        self._name = name
        self._classes = tuple(classes)
        id_of = {color_key(c.color): c.id for c in self._classes}
        keys = np.array(sorted(id_of), dtype=np.uint32)
        keys.setflags(write=False)
        self._keys = keys
        self._key_ids = np.array([id_of[int(k)] for k in keys], dtype=np.uint16)
        self._lut: np.ndarray | None = None
        self._full_lut: np.ndarray | None = None

    @property
    def max_id(self) -> int:
        return self._classes[-1].id

    def palette_lut(self) -> np.ndarray:
        """Colour per id: a read-only uint8 array of shape (max_id + 1, 3).

        Ids in the range that no class uses get :data:`MISSING_COLOR`.
        """
        if self._lut is None:
            lut = np.empty((self.max_id + 1, 3), dtype=np.uint8)
            lut[:] = MISSING_COLOR
            for c in self._classes:
                lut[c.id] = c.color
            lut.setflags(write=False)
            self._lut = lut
        return self._lut

    def _lut_65536(self) -> np.ndarray:
        """Colour for every possible uint16 value, so colourising is one gather."""
        if self._full_lut is None:
            full = np.empty((MAX_LABEL_ID + 1, 3), dtype=np.uint8)
            full[:] = MISSING_COLOR
            lut = self.palette_lut()
            full[: len(lut)] = lut
            full.setflags(write=False)
            self._full_lut = full
        return self._full_lut

    def colorize(self, labels: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 image of a label map; ids not in the set show as magenta."""
        arr = np.asarray(labels)
        if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"colorize needs an integer label map, got dtype {arr.dtype}")
        if arr.dtype in (np.uint8, np.uint16):
            return self._lut_65536()[arr]
        idx = arr.astype(np.int64, copy=False)
        idx = np.where((idx < 0) | (idx > MAX_LABEL_ID), MAX_LABEL_ID, idx)
        out = self._lut_65536()[idx]
        if self.max_id == MAX_LABEL_ID:  # 65535 is a real class: mark true overflow again
            out[(arr < 0) | (arr > MAX_LABEL_ID)] = MISSING_COLOR
        return out

    def labels_from_colors(self, rgb: np.ndarray, source: str | Path) -> np.ndarray:
        """Map a colour image (H×W×3, or H×W×4 whose alpha is ignored) to a uint16 label map.

        Every colour must be a class colour exactly. Anything else is an error naming up to
        8 unknown colours with pixel counts and one position each, because antialiased
        edges and JPEG artefacts are the usual cause and the user needs to find them.
        """
        arr = np.asarray(rgb)
        if arr.ndim != 3 or arr.shape[2] not in (3, 4):
            raise InputError(
                f"expected an RGB image, got an array of shape {arr.shape}",
                source=source,
                fix="save the label map as an RGB PNG, or as a grey/indexed PNG of class ids",
            )
        if arr.dtype != np.uint8:
            if not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() > 255:
                raise InputError(
                    f"colour values must be 8-bit (0..255); this image has dtype {arr.dtype}",
                    source=source,
                    fix="save the colour label map as an 8-bit-per-channel PNG",
                )
            arr = arr.astype(np.uint8)
        h, w = arr.shape[:2]
        flat = (
            (arr[..., 0].astype(np.uint32) << 16)
            | (arr[..., 1].astype(np.uint32) << 8)
            | arr[..., 2].astype(np.uint32)
        ).ravel()
        keys = self._keys
        pos = np.minimum(np.searchsorted(keys, flat), len(keys) - 1)
        found = keys[pos] == flat
        if not found.all():
            self._raise_unknown_colors(flat, found, w, source)
        return self._key_ids[pos].reshape(h, w)

    def _raise_unknown_colors(
        self, flat: np.ndarray, found: np.ndarray, width: int, source: str | Path
    ) -> None:
        bad_at = np.flatnonzero(~found)
        colors, first, counts = np.unique(flat[bad_at], return_index=True, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        parts = []
        for i in order[:_UNKNOWN_SHOWN]:
            y, x = divmod(int(bad_at[first[i]]), width)
            parts.append(
                f"{hex_color(int(colors[i]))} ({plural(int(counts[i]), 'pixel')}, e.g. at x={x}, y={y})"
            )
        more = len(colors) - _UNKNOWN_SHOWN
        listing = "; ".join(parts) + (f"; and {plural(more, 'more colour')}" if more > 0 else "")
        fix = (
            f"paint those pixels with colours of label set '{self._name}' (its palette; "
            "antialiased brushes and JPEG compression create in-between colours, so use hard "
            "edges and PNG), or save the map as a grey or indexed PNG whose values are class ids"
        )
        r, g, b = colors >> 16, (colors >> 8) & 0xFF, colors & 0xFF
        if bool(np.all((r == g) & (g == b))):
            fix += "; the unknown colours are all grey, so this may be an id map saved as RGB"
        raise InputError(
            f"{plural(len(colors), 'colour')} ({plural(int(counts.sum()), 'pixel')}) "
            f"not in label set '{self._name}': {listing}",
            source=source,
            fix=fix,
        )
