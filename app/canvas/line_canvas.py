"""ugen's line drawing: black lines on white, the generated image faintly beneath.

The drawing is what the edges or sketch mapper reads (1 = line); the image under it lets
the painter trace over what the model made. Like the label canvas, only the rectangle a
stroke reports is re-coloured. Rendering only: the pen is a pointer handler.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget

from app.canvas.image_view import ImageView
from app.canvas.view_state import ViewState
from app.document.document import Document
from app.document.patches import BBox

LINE = np.array((20, 20, 24), np.float32)
PAPER = 255.0


class LineCanvas(ImageView):
    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.placeholder = "The line drawing of a ugen model's edges or sketch mode is drawn here."
        self.doc: Document | None = None
        self.output: np.ndarray | None = None
        self.output_alpha = 0.25  # enough to trace the result, faint enough to see the lines
        self._display: np.ndarray | None = None
        self.overlays = [self._paint_pen]

    def set_document(self, doc: Document) -> None:
        self.doc = doc
        doc.conditions.lines_changed.connect(self.redraw)
        doc.reset.connect(self._reset)
        self.rebuild()

    def _reset(self) -> None:
        self.output = None
        self.rebuild()

    def set_output(self, rgb: np.ndarray | None) -> None:
        self.output = rgb
        self.rebuild()

    def rebuild(self) -> None:
        if self.doc is None:
            return
        h, w = self.doc.conditions.lines.shape
        if self._display is None or self._display.shape[:2] != (h, w):
            self._display = np.zeros((h, w, 3), np.uint8)
            self.set_rgb(self._display)
        self.redraw((0, 0, h, w))

    def redraw(self, box: BBox) -> None:
        out, doc = self._display, self.doc
        if out is None or doc is None:
            return
        lines = doc.conditions.lines
        if out.shape[:2] != lines.shape:
            self.rebuild()
            return
        y0, x0, y1, x1 = box
        rgb = np.full((y1 - y0, x1 - x0, 3), PAPER, np.float32)
        if self.output is not None and self.output.shape[:2] == lines.shape:
            under = self.output[y0:y1, x0:x1].astype(np.float32)
            rgb = rgb * (1 - self.output_alpha) + under * self.output_alpha
        rgb[lines[y0:y1, x0:x1]] = LINE
        out[y0:y1, x0:x1] = rgb.astype(np.uint8)
        self.refresh(box)

    def cursor_radius_screen(self) -> float:
        radius = getattr(self.handler, "cursor_radius", lambda: 0.0)()
        return radius * self.state.zoom

    def _paint_pen(self, painter: QPainter, view: ImageView) -> None:
        if self.handler is not None:
            self.handler.paint_overlay(painter, self)  # type: ignore[attr-defined]
