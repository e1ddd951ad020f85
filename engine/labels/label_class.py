"""One class of a label set: its id, name, colour and thing flag, and its JSON form.

:func:`class_from_dict` checks one class entry of a label-set file field by field, so a
bad entry is an :class:`InputError` that names the entry and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InputError

MAX_LABEL_ID = 65535
"""Label maps are uint16, so ids must fit in 0..65535."""


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


def plain_class(c: LabelClass) -> LabelClass:
    """Copy with plain ints and a colour tuple, so colours hash and numpy scalars never reach JSON."""
    vals = [int(v) for v in c.color]
    if len(vals) != 3:
        raise InputError(
            f"class '{c.name}' has colour {list(c.color)}, not three values 0..255",
            fix='write colours as "color": [r, g, b]',
        )
    return LabelClass(int(c.id), str(c.name), (vals[0], vals[1], vals[2]), bool(c.thing))


def class_from_dict(entry: Any, index: int, where: str | Path) -> LabelClass:
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
