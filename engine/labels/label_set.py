"""The label set: an ordered, immutable set of classes with an optional dontcare id.

:class:`LabelSet` checks on construction everything a label map relies on, answers
look-ups by id and by typed name, validates id maps, and reads and writes its JSON form.
The shipped sets in ``resources/labelsets`` are loaded once and shared
(:meth:`LabelSet.builtin`). Colours are delegated to the set's
:class:`~engine.labels.colors.ColorTable`.
"""

from __future__ import annotations

import difflib
import functools
import json
import operator
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from engine import paths
from engine.errors import InputError
from engine.labels.colors import ColorTable, color_key
from engine.labels.label_class import MAX_LABEL_ID, LabelClass, class_from_dict, plain_class
from engine.labels.messages import format_ids, hex_color, norm_name, plural

_IDS_SHOWN = 10  # unknown ids named in an error message
_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")


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
        "_colors",
        "_dontcare",
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
        ordered = tuple(sorted((plain_class(c) for c in classes), key=lambda c: c.id))
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
            key = norm_name(c.name)
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
                    f"colour {hex_color(color_key(c.color))} is used by both '{by_color[c.color].name}' "
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
        self._colors = ColorTable(name, ordered)

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
        ids = format_ids(self.ids)
        return f"LabelSet({self._name!r}, {len(self)} classes, ids {ids}, dontcare={self._dontcare})"

    def by_id(self, label_id: int) -> LabelClass:
        """The class with this id; an id outside the set is an :class:`InputError`."""
        try:
            return self._by_id[operator.index(label_id)]
        except (KeyError, TypeError):
            raise InputError(
                f"id {label_id!r} is not in label set '{self._name}'",
                fix=f"use one of the ids {format_ids(self.ids)}",
            ) from None

    def by_name(self, name: str) -> LabelClass:
        """The class with this name, ignoring case, underscores and extra blanks.

        Names are typed by people (CLI options, scripts), so an unknown name suggests the
        closest ones instead of only saying "not found".
        """
        key = norm_name(str(name))
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

        Ids in the range that no class uses get :data:`~engine.labels.colors.MISSING_COLOR`.
        """
        return self._colors.palette_lut()

    def colorize(self, labels: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 image of a label map; ids not in the set show as magenta."""
        return self._colors.colorize(labels)

    def labels_from_colors(self, rgb: np.ndarray, source: str | Path) -> np.ndarray:
        """Map a colour image (H×W×3, or H×W×4 whose alpha is ignored) to a uint16 label map.

        Every colour must be a class colour exactly. Anything else is an error naming up to
        8 unknown colours with pixel counts and one position each, because antialiased
        edges and JPEG artefacts are the usual cause and the user needs to find them.
        """
        return self._colors.labels_from_colors(rgb, source)

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
                f"values outside 0..{MAX_LABEL_ID} in {plural(bad, 'pixel')} (min {lo}, max {hi})",
                source=source,
                fix=f"label maps hold class ids of label set '{self._name}' ({format_ids(self.ids)})",
            )
        counts = np.bincount(arr.ravel(), minlength=self.max_id + 1)
        known = np.zeros(len(counts), dtype=bool)
        known[list(self.ids)] = True
        unknown = np.flatnonzero((counts > 0) & ~known)
        if unknown.size == 0:
            return
        order = unknown[np.argsort(-counts[unknown], kind="stable")]
        parts = [f"{int(i)} ({plural(int(counts[i]), 'pixel')})" for i in order[:_IDS_SHOWN]]
        if unknown.size > _IDS_SHOWN:
            parts.append(f"and {unknown.size - _IDS_SHOWN} more")
        raise InputError(
            f"{plural(int(unknown.size), 'id')} not in label set '{self._name}': " + ", ".join(parts),
            source=source,
            fix=(
                f"the set has ids {format_ids(self.ids)}: relabel those pixels, or open the map "
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
        classes = [class_from_dict(entry, i, where) for i, entry in enumerate(raw)]
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
