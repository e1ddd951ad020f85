"""A view of one of ugen's condition layers (the line drawing, the depth map): the document
layer coloured into an RGB buffer, re-coloured only in the rectangle a stroke reports.

Subclasses say which layer they show and how its pixels look (:meth:`LayerCanvas.colour`);
the generated image may show faintly beneath (``output_alpha``) so the painter can trace
over what the model made. Rendering only: the pen or brush is a pointer handler.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import SignalInstance
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget

from app.canvas.image_view import ImageView
from app.canvas.view_state import ViewState
from app.document.document import Document
from app.document.patches import BBox


class LayerCanvas(ImageView):
    layer = ""  # the ConditionLayers layer shown: "lines" or "depth"

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.doc: Document | None = None
        self.output: np.ndarray | None = None
        self.output_alpha = 0.0  # how much of the generated image shows beneath (0: none)
        self._display: np.ndarray | None = None
        self.overlays = [self._paint_tool]

    def changed_signal(self, doc: Document) -> SignalInstance:
        """The document's signal for this layer's changed rectangles."""
        raise NotImplementedError

    def colour(self, values: np.ndarray) -> np.ndarray:
        """The layer's values in a rectangle → their float32 RGB (0–255) on screen."""
        raise NotImplementedError

    def set_document(self, doc: Document) -> None:
        self.doc = doc
        self.changed_signal(doc).connect(self.redraw)
        doc.reset.connect(self._reset)
        self.rebuild()

    def _reset(self) -> None:
        self.output = None
        self.rebuild()

    def set_output(self, rgb: np.ndarray | None) -> None:
        self.output = rgb
        if self.output_alpha > 0:
            self.rebuild()

    def values(self) -> np.ndarray | None:
        return None if self.doc is None else self.doc.conditions.layer(self.layer)

    def rebuild(self) -> None:
        values = self.values()
        if values is None:
            return
        h, w = values.shape
        if self._display is None or self._display.shape[:2] != (h, w):
            self._display = np.zeros((h, w, 3), np.uint8)
            self.set_rgb(self._display)
        self.redraw((0, 0, h, w))

    def redraw(self, box: BBox) -> None:
        out, values = self._display, self.values()
        if out is None or values is None:
            return
        if out.shape[:2] != values.shape:
            self.rebuild()
            return
        y0, x0, y1, x1 = box
        rgb = self.colour(values[y0:y1, x0:x1])
        if self.output_alpha > 0 and self.output is not None and self.output.shape[:2] == values.shape:
            under = self.output[y0:y1, x0:x1].astype(np.float32)
            rgb = rgb * (1 - self.output_alpha) + under * self.output_alpha
        out[y0:y1, x0:x1] = self._ink(rgb, values[y0:y1, x0:x1])
        self.refresh(box)

    def _ink(self, rgb: np.ndarray, values: np.ndarray) -> np.ndarray:
        """What lies over the underlay (the lines, for the line drawing); as is by default."""
        return np.clip(rgb, 0, 255).astype(np.uint8)

    def cursor_radius_screen(self) -> float:
        radius = getattr(self.handler, "cursor_radius", lambda: 0.0)()
        return radius * self.state.zoom

    def _paint_tool(self, painter: QPainter, view: ImageView) -> None:
        if self.handler is not None:
            self.handler.paint_overlay(painter, self)  # type: ignore[attr-defined]
