"""The conditions a ugen model can be driven by (Qt-free: project files read them too)."""

from __future__ import annotations

LABELS = "labels"
DEPTH = "depth"
LINE_MODES = ("edges", "sketch")  # line drawings, read by the edges or sketch mapper
IMAGE_MODES = (*LINE_MODES, DEPTH)  # conditions drawn on a layer of their own, not the label map
MODES = (LABELS, *IMAGE_MODES)

# The document layer each image condition is drawn on: both line mappers read one drawing.
LINES_LAYER, DEPTH_LAYER = "lines", "depth"
LAYER_OF = {"edges": LINES_LAYER, "sketch": LINES_LAYER, DEPTH: DEPTH_LAYER}


def layer_of(mode: str) -> str:
    """The layer that drives the image in ``mode``: "labels", "lines" or "depth"."""
    return LAYER_OF.get(mode, LABELS)
