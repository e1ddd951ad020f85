"""Pen and eraser of ugen's line drawing (edges or sketch mode): one undo step per stroke.

A pointer handler for the line canvas, not a label tool: it edits the document's
condition layers, never the label map. Lines are hard (one bit per pixel), as the
mappers were trained on thresholded edge and sketch maps.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter

from app.document.conditions import ConditionLayers
from app.document.modes import LINES_LAYER
from app.tools.base import StrokePointer, stamp_segment
from app.tools.brushes import draw_brush_outline


class LinePen(StrokePointer):
    def __init__(self, layers: Callable[[], ConditionLayers], size: int = 2) -> None:
        self.layers = layers
        self.size = size
        self.erase = False  # the eraser clears lines; Shift while drawing erases too
        self._erasing = False

    def begin(self, modifiers: Qt.KeyboardModifier) -> bool:
        self._erasing = self.erase or bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        self.layers().begin_stroke(LINES_LAYER)
        return True

    def end(self) -> None:
        self.layers().end_stroke("Erase lines" if self._erasing else "Draw lines")

    def abort(self) -> None:
        self.layers().cancel_stroke()

    def cursor_radius(self) -> float:
        return self.size / 2

    def paint_overlay(self, painter: QPainter, view: object) -> None:
        draw_brush_outline(painter, view, self.cursor_radius())

    def stamp(self, p0: tuple[float, float], p1: tuple[float, float]) -> None:
        layers = self.layers()
        stamp = stamp_segment(layers.lines.shape, p0, p1, self.size)
        if stamp is not None:
            layers.draw(stamp[0], stamp[1], not self._erasing)
