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

The package, by concern:

- :mod:`engine.labels.label_class`: one class (id, name, colour, thing) and its JSON form;
- :mod:`engine.labels.label_set`: :class:`LabelSet` (checks, look-ups, id validation,
  label-set JSON files, the built-in sets);
- :mod:`engine.labels.colors`: colour ↔ id conversion (palette, colourising, colour PNGs);
- :mod:`engine.labels.png`: reading and writing label-map PNGs;
- :mod:`engine.labels.messages`: how ids, counts and colours are worded in errors.
"""

from engine.labels.colors import MISSING_COLOR
from engine.labels.label_class import MAX_LABEL_ID, LabelClass
from engine.labels.label_set import LabelSet, builtin_names
from engine.labels.png import read_label_png, write_label_png

__all__ = [
    "MAX_LABEL_ID",
    "MISSING_COLOR",
    "LabelClass",
    "LabelSet",
    "builtin_names",
    "read_label_png",
    "write_label_png",
]
