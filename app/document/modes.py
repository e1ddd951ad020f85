"""The conditions a ugen model can be driven by (Qt-free: project files read them too)."""

from __future__ import annotations

LABELS = "labels"
LINE_MODES = ("edges", "sketch")  # line drawings, read by the edges or sketch mapper
MODES = (LABELS, *LINE_MODES)
