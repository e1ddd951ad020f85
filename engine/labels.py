"""Label sets: class ids, names, colours and the dontcare id; label-map PNG I/O.

A label map is an H×W ``uint16`` array of class ids of one :class:`LabelSet`. The ids
are the values the datasets store in their PNGs (ADE20K 0..150 with 0 = "other",
Cityscapes labelIds 0..33, COCO-Stuff 0..181 with 255 = unlabeled), so official
annotations load without remapping; how ids become one-hot channels is the network
adapter's business (``engine.encoding``), never the label set's.

Colours matter twice: the canvas shows them, and colour PNGs painted elsewhere are mapped
back to ids through them. That is why every colour in a set must be unique, and why an
unknown colour is an error that names the colour, where it is and how many pixels have it,
rather than a silent nearest-colour guess that would change the user's map.
"""

from __future__ import annotations

import difflib
import functools
import json
import operator
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine import paths
from engine.errors import InputError
from engine.fileio import atomic_write
from engine.limits import check_pixels

MAX_LABEL_ID = 65535
"""Label maps are uint16, so ids must fit in 0..65535."""

MISSING_COLOR: tuple[int, int, int] = (255, 0, 255)
"""Colour shown for ids that are not in the set: loud, so a bad map is seen at once."""

_UNKNOWN_SHOWN = 8  # unknown colours named in an error message
_IDS_SHOWN = 10  # unknown ids named in an error message
_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")

# PIL modes whose pixel values are class ids (palette indices for "P").
_ID_MODES = frozenset({"1", "L", "LA", "P", "PA", "I", "I;16", "I;16L", "I;16B", "I;16N"})


@dataclass(frozen=True)
class LabelClass:
    """One class of a label set.

    ``thing`` marks countable objects (person, car, chair …) as opposed to stuff (sky,
    road, grass …): filling a thing class starts a new instance, and instance-aware
    models (INADE) treat each instance on its own.
    """

    id: int
    name: str
    color: tuple[int, int, int]
    thing: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored in the label-set files."""
        return {"id": self.id, "name": self.name, "color": list(self.color), "thing": self.thing}


def _norm_name(name: str) -> str:
    """Name key for look-ups: case, underscores and repeated blanks do not matter.

    The CLI and the UI let people type names, and "Traffic_Light" should find "traffic light".
    """
    return " ".join(name.replace("_", " ").lower().split())


def _hex(key: int) -> str:
    return f"#{key:06x}"


def _format_ids(ids: Iterable[int]) -> str:
    """Compact id list for messages: ``0..150`` or ``0..181, 255``."""
    out: list[str] = []
    run: list[int] = []
    for i in sorted(ids):
        if run and i == run[-1] + 1:
            run.append(i)
            continue
        if run:
            out.append(f"{run[0]}..{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)))
        run = [i]
    if run:
        out.append(f"{run[0]}..{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)))
    return ", ".join(out)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


class LabelSet:
    """An ordered, immutable set of label classes with an optional dontcare id.

    The constructor checks everything a label map relies on (unique ids, names and
    colours; ids that fit uint16; a dontcare id that is one of the classes) so that a
    bad user file fails once, on load, with a message naming the file — not later in
    the middle of painting or training. ``source`` is only used in those messages.
    Instances are immutable, so built-in sets can be shared and cached.
    """

    __slots__ = (
        "_by_id",
        "_by_name",
        "_classes",
        "_color_keys",
        "_color_to_id",
        "_dontcare",
        "_full_lut",
        "_lut",
        "_name",
        "_notes",
        "_title",
    )

    def __init__(
        self,
        name: str,
        classes: Iterable[LabelClass],
        *,
        title: str | None = None,
        dontcare: int | None = None,
        notes: str = "",
        source: str | Path | None = None,
    ) -> None:
        where = source if source is not None else f"label set '{name}'"
        if not isinstance(name, str) or not name.strip():
            raise InputError("the label set has no name", source=where, fix='add "name": "<short name>"')
        ordered = tuple(sorted((_plain(c) for c in classes), key=lambda c: c.id))
        if not ordered:
            raise InputError("the label set has no classes", source=where, fix="list at least one class")
        by_id: dict[int, LabelClass] = {}
        by_name: dict[str, LabelClass] = {}
        by_color: dict[tuple[int, int, int], LabelClass] = {}
        for c in ordered:
            if not 0 <= c.id <= MAX_LABEL_ID:
                raise InputError(
                    f"class '{c.name}' has id {c.id}, outside 0..{MAX_LABEL_ID}",
                    source=where,
                    fix=f"label maps are 16-bit: use ids 0..{MAX_LABEL_ID}",
                )
            if c.id in by_id:
                raise InputError(
                    f"id {c.id} is used twice ('{by_id[c.id].name}' and '{c.name}')",
                    source=where,
                    fix="give every class its own id",
                )
            key = _norm_name(c.name)
            if not key:
                raise InputError(f"class {c.id} has an empty name", source=where, fix="name every class")
            if key in by_name:
                raise InputError(
                    f"the name '{c.name}' is used twice (ids {by_name[key].id} and {c.id})",
                    source=where,
                    fix="give every class its own name (names are compared ignoring case)",
                )
            if len(c.color) != 3 or any(not 0 <= v <= 255 for v in c.color):
                raise InputError(
                    f"class '{c.name}' has colour {list(c.color)}, not three values 0..255",
                    source=where,
                    fix='write colours as "color": [r, g, b] with 0 <= r, g, b <= 255',
                )
            if c.color in by_color:
                raise InputError(
                    f"colour {_hex(_key(c.color))} is used by both '{by_color[c.color].name}' "
                    f"(id {by_color[c.color].id}) and '{c.name}' (id {c.id})",
                    source=where,
                    fix="give every class its own colour: colour PNGs are mapped back to ids by colour",
                )
            by_id[c.id] = c
            by_name[key] = c
            by_color[c.color] = c
        if dontcare is not None and dontcare not in by_id:
            raise InputError(
                f"dontcare id {dontcare} is not one of the classes",
                source=where,
                fix='add a class with that id (e.g. "unlabeled") or set "dontcare": null',
            )
        self._name = name
        self._title = title or name
        self._classes = ordered
        self._dontcare = dontcare
        self._notes = notes
        self._by_id = by_id
        self._by_name = by_name
        keys = np.array(sorted(_key(c.color) for c in ordered), dtype=np.uint32)
        keys.setflags(write=False)
        self._color_keys = keys
        self._color_to_id = np.array([by_color[_unkey(int(k))].id for k in keys], dtype=np.uint16)
        self._lut: np.ndarray | None = None
        self._full_lut: np.ndarray | None = None

    # ------------------------------------------------------------------ basics
    @property
    def name(self) -> str:
        """Short identifier (also the built-in file name and the value in config.json)."""
        return self._name

    @property
    def title(self) -> str:
        """Human-readable name for the UI."""
        return self._title

    @property
    def classes(self) -> tuple[LabelClass, ...]:
        """The classes in ascending id order."""
        return self._classes

    @property
    def dontcare(self) -> int | None:
        """The id meaning "unlabelled / ignore", or None when the set has none."""
        return self._dontcare

    @property
    def notes(self) -> str:
        """Provenance of names and colours, and deviations from the official tables."""
        return self._notes

    @property
    def ids(self) -> tuple[int, ...]:
        """Class ids, ascending."""
        return tuple(c.id for c in self._classes)

    @property
    def names(self) -> tuple[str, ...]:
        """Class names in id order."""
        return tuple(c.name for c in self._classes)

    @property
    def max_id(self) -> int:
        """Largest id: the size of id-indexed tables is ``max_id + 1``."""
        return self._classes[-1].id

    def __len__(self) -> int:
        return len(self._classes)

    def __iter__(self) -> Iterator[LabelClass]:
        return iter(self._classes)

    def __contains__(self, label_id: object) -> bool:
        try:
            return operator.index(label_id) in self._by_id  # type: ignore[arg-type]
        except TypeError:
            return False

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelSet):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self._name, self._classes, self._dontcare))

    def __repr__(self) -> str:
        ids = _format_ids(self.ids)
        return f"LabelSet({self._name!r}, {len(self)} classes, ids {ids}, dontcare={self._dontcare})"

    def by_id(self, label_id: int) -> LabelClass:
        """The class with this id; an id outside the set is an :class:`InputError`."""
        try:
            return self._by_id[operator.index(label_id)]
        except (KeyError, TypeError):
            raise InputError(
                f"id {label_id!r} is not in label set '{self._name}'",
                fix=f"use one of the ids {_format_ids(self.ids)}",
            ) from None

    def by_name(self, name: str) -> LabelClass:
        """The class with this name, ignoring case, underscores and extra blanks.

        Names are typed by people (CLI options, scripts), so an unknown name suggests the
        closest ones instead of only saying "not found".
        """
        key = _norm_name(str(name))
        found = self._by_name.get(key)
        if found is not None:
            return found
        keys = list(self._by_name)
        close = [k for k in keys if key and key in k][:3]
        close += [k for k in difflib.get_close_matches(key, keys, n=5, cutoff=0.6) if k not in close]
        if close:
            fix = "did you mean " + " or ".join(f"'{self._by_name[k].name}'" for k in close[:5]) + "?"
        else:
            shown = ", ".join(self.names[:12])
            more = f" … ({len(self)} classes)" if len(self) > 12 else ""
            fix = f"use one of the class names: {shown}{more}"
        raise InputError(f"no class named '{name}' in label set '{self._name}'", fix=fix)

    # ------------------------------------------------------------------ colours
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
        keys = self._color_keys
        pos = np.minimum(np.searchsorted(keys, flat), len(keys) - 1)
        found = keys[pos] == flat
        if not found.all():
            self._raise_unknown_colors(flat, found, w, source)
        return self._color_to_id[pos].reshape(h, w)

    def _raise_unknown_colors(
        self, flat: np.ndarray, found: np.ndarray, width: int, source: str | Path
    ) -> None:
        bad_at = np.flatnonzero(~found)
        colors, first, counts = np.unique(flat[bad_at], return_index=True, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        parts = []
        for i in order[:_UNKNOWN_SHOWN]:
            y, x = divmod(int(bad_at[first[i]]), width)
            parts.append(f"{_hex(int(colors[i]))} ({_plural(int(counts[i]), 'pixel')}, e.g. at x={x}, y={y})")
        more = len(colors) - _UNKNOWN_SHOWN
        listing = "; ".join(parts) + (f"; and {_plural(more, 'more colour')}" if more > 0 else "")
        fix = (
            f"paint those pixels with colours of label set '{self._name}' (its palette; "
            "antialiased brushes and JPEG compression create in-between colours, so use hard "
            "edges and PNG), or save the map as a grey or indexed PNG whose values are class ids"
        )
        r, g, b = colors >> 16, (colors >> 8) & 0xFF, colors & 0xFF
        if bool(np.all((r == g) & (g == b))):
            fix += "; the unknown colours are all grey, so this may be an id map saved as RGB"
        raise InputError(
            f"{_plural(len(colors), 'colour')} ({_plural(int(counts.sum()), 'pixel')}) "
            f"not in label set '{self._name}': {listing}",
            source=source,
            fix=fix,
        )

    # ------------------------------------------------------------------ validation
    def validate(self, labels: np.ndarray, source: str | Path) -> None:
        """Raise :class:`InputError` if the map holds values that are not ids of this set.

        The message names each offending id with its pixel count, so a map made for another
        label set (or a colour map saved as grey) is recognised at once.
        """
        arr = np.asarray(labels)
        if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
            raise InputError(
                f"the label map holds {arr.dtype} values, not integer class ids",
                source=source,
                fix="store label maps as 8/16-bit grey or indexed PNGs of class ids",
            )
        if arr.size == 0:
            return
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > MAX_LABEL_ID:
            bad = int(np.count_nonzero((arr < 0) | (arr > MAX_LABEL_ID)))
            raise InputError(
                f"values outside 0..{MAX_LABEL_ID} in {_plural(bad, 'pixel')} (min {lo}, max {hi})",
                source=source,
                fix=f"label maps hold class ids of label set '{self._name}' ({_format_ids(self.ids)})",
            )
        counts = np.bincount(arr.ravel(), minlength=self.max_id + 1)
        known = np.zeros(len(counts), dtype=bool)
        known[list(self.ids)] = True
        unknown = np.flatnonzero((counts > 0) & ~known)
        if unknown.size == 0:
            return
        order = unknown[np.argsort(-counts[unknown], kind="stable")]
        parts = [f"{int(i)} ({_plural(int(counts[i]), 'pixel')})" for i in order[:_IDS_SHOWN]]
        if unknown.size > _IDS_SHOWN:
            parts.append(f"and {unknown.size - _IDS_SHOWN} more")
        raise InputError(
            f"{_plural(int(unknown.size), 'id')} not in label set '{self._name}': " + ", ".join(parts),
            source=source,
            fix=(
                f"the set has ids {_format_ids(self.ids)}: relabel those pixels, or open the map "
                "with the label set it was made for"
            ),
        )

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; ``from_dict(to_dict())`` gives an equal set."""
        out: dict[str, Any] = {"name": self._name, "title": self._title, "dontcare": self._dontcare}
        if self._notes:
            out["notes"] = self._notes
        out["classes"] = [c.to_dict() for c in self._classes]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | Path | None = None) -> LabelSet:
        """Build a set from its JSON form; every structural problem is an :class:`InputError`.

        ``title``, ``dontcare``, ``notes`` and each class's ``thing`` are optional.
        """
        where = source if source is not None else "label set"
        if not isinstance(data, Mapping):
            raise InputError(
                f"a label set must be a JSON object, got {type(data).__name__}",
                source=where,
                fix='write {"name": ..., "dontcare": ..., "classes": [...]}',
            )
        missing = [k for k in ("name", "classes") if k not in data]
        if missing:
            raise InputError(
                f"missing field{'s' if len(missing) > 1 else ''} {', '.join(repr(k) for k in missing)}",
                source=where,
                fix='a label set needs "name" and "classes" (a list of {"id", "name", "color"})',
            )
        name = data["name"]
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise InputError(
                f"invalid name {name!r}",
                source=where,
                fix="use a short name of letters, digits, '-', '_' or '.'",
            )
        title = data.get("title")
        notes = data.get("notes", "")
        if title is not None and not isinstance(title, str):
            raise InputError(f"'title' must be text, got {title!r}", source=where, fix="quote the title")
        if not isinstance(notes, str):
            raise InputError(f"'notes' must be text, got {notes!r}", source=where, fix="quote the notes")
        dontcare = data.get("dontcare")
        if dontcare is not None and (isinstance(dontcare, bool) or not isinstance(dontcare, int)):
            raise InputError(
                f"'dontcare' must be a class id or null, got {dontcare!r}",
                source=where,
                fix='e.g. "dontcare": 0, or "dontcare": null when the set has none',
            )
        raw = data["classes"]
        if not isinstance(raw, list):
            raise InputError(
                f"'classes' must be a list, got {type(raw).__name__}",
                source=where,
                fix='write "classes": [{"id": 0, "name": "sky", "color": [r, g, b]}, ...]',
            )
        classes = [_class_from_dict(entry, i, where) for i, entry in enumerate(raw)]
        return cls(name, classes, title=title, dontcare=dontcare, notes=notes, source=where)

    @classmethod
    def load(cls, path: str | Path) -> LabelSet:
        """Read a user's label-set JSON file; any problem names the file."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError("file not found", source=p, fix="check the path of the label-set JSON") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(
                f"cannot read the file ({exc})", source=p, fix="pass a UTF-8 label-set JSON file"
            ) from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                source=p,
                fix="fix the JSON syntax (a JSON linter shows the spot)",
            ) from exc
        return cls.from_dict(data, source=p)

    @classmethod
    def builtin(cls, name: str) -> LabelSet:
        """A label set shipped in ``resources/labelsets`` (loaded once, then shared)."""
        key = str(name).strip().lower()
        available = builtin_names()
        if key not in available:
            raise InputError(
                f"no built-in label set named '{name}'",
                fix=f"use one of {', '.join(available)}, or load a label-set JSON file",
            )
        return _load_builtin(key)

    @staticmethod
    def builtin_names() -> tuple[str, ...]:
        """Names of the shipped label sets, sorted."""
        return builtin_names()


def _plain(c: LabelClass) -> LabelClass:
    """Copy with plain ints and a colour tuple, so colours hash and numpy scalars never reach JSON."""
    vals = [int(v) for v in c.color]
    if len(vals) != 3:
        raise InputError(
            f"class '{c.name}' has colour {list(c.color)}, not three values 0..255",
            fix='write colours as "color": [r, g, b]',
        )
    return LabelClass(int(c.id), str(c.name), (vals[0], vals[1], vals[2]), bool(c.thing))


def _key(color: tuple[int, int, int]) -> int:
    return (int(color[0]) << 16) | (int(color[1]) << 8) | int(color[2])


def _unkey(key: int) -> tuple[int, int, int]:
    return (key >> 16) & 0xFF, (key >> 8) & 0xFF, key & 0xFF


def _class_from_dict(entry: Any, index: int, where: str | Path) -> LabelClass:
    """One class entry of a label-set JSON, checked field by field."""
    label = f"class #{index}"
    if not isinstance(entry, Mapping):
        raise InputError(
            f"{label} is {type(entry).__name__}, not an object",
            source=where,
            fix='write each class as {"id": 0, "name": "sky", "color": [r, g, b]}',
        )
    for k in ("id", "name", "color"):
        if k not in entry:
            raise InputError(
                f"{label} ({entry.get('name', 'no name')!r}) has no {k!r}",
                source=where,
                fix='each class needs "id", "name" and "color" (and optionally "thing")',
            )
    cid, cname, color, thing = entry["id"], entry["name"], entry["color"], entry.get("thing", False)
    if isinstance(cid, bool) or not isinstance(cid, int):
        raise InputError(f"{label} has id {cid!r}, not an integer", source=where, fix="use integer ids")
    if not isinstance(cname, str):
        raise InputError(
            f"{label} (id {cid}) has name {cname!r}, not text", source=where, fix="quote the name"
        )
    if (
        not isinstance(color, list | tuple)
        or len(color) != 3
        or any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 255 for v in color)
    ):
        raise InputError(
            f"class '{cname}' (id {cid}) has colour {color!r}, not three integers 0..255",
            source=where,
            fix='write colours as "color": [r, g, b]',
        )
    if not isinstance(thing, bool):
        raise InputError(
            f"class '{cname}' (id {cid}) has thing {thing!r}, not true/false",
            source=where,
            fix='write "thing": true or "thing": false',
        )
    return LabelClass(cid, cname, (color[0], color[1], color[2]), thing)


def builtin_names() -> tuple[str, ...]:
    """Names of the shipped label sets (the JSON files in ``resources/labelsets``), sorted."""
    return tuple(sorted(p.stem for p in paths.LABELSETS.glob("*.json")))


@functools.cache
def _load_builtin(name: str) -> LabelSet:
    path = paths.LABELSETS / f"{name}.json"
    ls = LabelSet.load(path)
    if ls.name != name:
        raise InputError(
            f"the file declares name '{ls.name}'",
            source=path,
            fix=f'set "name": "{name}" to match the file name',
        )
    return ls


# ---------------------------------------------------------------------- PNG I/O
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
