"""The label canvas: the document's label map in palette colours, with the tools' feedback.

The shown RGB buffer is rebuilt only inside the rectangle a change reports, so a brush
dab on a 1024² canvas costs a few thousand pixels, not a million. Optional layers are
blended into the same buffer: a photo underlay (when the map came from a photo), the
generated image (to paint "over" the result), instance outlines and a hatch on locked
areas. The selection outline and the tool's own feedback are drawn on top.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

from app.canvas.image_view import ImageView
from app.canvas.view_state import ViewState
from app.document.document import Document
from app.document.patches import BBox
from app.tools.base import Tool


class LabelCanvas(ImageView):
    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.doc: Document | None = None
        self.tool: Tool | None = None
        self.underlay_alpha = 0.35  # how much of the photo shows through the labels
        self.output_alpha = 0.0  # >0: the generated image shows through the labels
        self.output: np.ndarray | None = None
        self.show_instances = False
        self.selection: np.ndarray | None = None
        self._selection_path = QPainterPath()
        self._display: np.ndarray | None = None
        self.overlays = [self._paint_selection, self._paint_tool]

    # ------------------------------------------------------------------ wiring
    def set_document(self, doc: Document) -> None:
        if self.doc is not None:
            for signal, slot in self._connections():
                signal.disconnect(slot)
        self.doc = doc
        for signal, slot in self._connections():
            signal.connect(slot)
        self.rebuild()

    def _connections(self) -> list:
        assert self.doc is not None
        return [
            (self.doc.labels_changed, self.redraw),
            (self.doc.lock_changed, self.rebuild),
            (self.doc.style_mask_changed, self.rebuild),
            (self.doc.reset, self.rebuild),
        ]

    def set_tool(self, tool: Tool | None) -> None:
        if self.tool is not None:
            self.tool.cancel()
        self.tool = tool
        self.handler = tool
        self.update()

    def set_output(self, rgb: np.ndarray | None) -> None:
        self.output = rgb
        if self.output_alpha > 0:
            self.rebuild()

    def set_selection(self, mask: np.ndarray | None) -> None:
        self.selection = mask
        self._selection_path = QPainterPath()
        if mask is not None and mask.any():
            contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
            for contour in contours:
                pts = contour[:, 0, :]
                self._selection_path.moveTo(float(pts[0, 0]), float(pts[0, 1]))
                for x, y in pts[1:]:
                    self._selection_path.lineTo(float(x), float(y))
                self._selection_path.closeSubpath()
        self.update()

    # ------------------------------------------------------------------ buffer
    def rebuild(self) -> None:
        if self.doc is None:
            return
        h, w = self.doc.size
        if self._display is None or self._display.shape[:2] != (h, w):
            self._display = np.zeros((h, w, 3), np.uint8)
            self.set_rgb(self._display)
        self.redraw((0, 0, h, w))

    def redraw(self, box: BBox) -> None:
        """Re-colour one rectangle of the shown buffer from the document."""
        doc, out = self.doc, self._display
        if doc is None:
            return
        if out is None or out.shape[:2] != doc.size:
            self.rebuild()
            return
        y0, x0, y1, x1 = box
        # Grow by one pixel so instance outlines at the rectangle's edge stay right.
        y0, x0, y1, x1 = max(y0 - 1, 0), max(x0 - 1, 0), min(y1 + 1, out.shape[0]), min(x1 + 1, out.shape[1])
        labels = doc.labels[y0:y1, x0:x1]
        rgb = doc.label_set.colorize(labels).astype(np.float32)
        for layer, alpha in ((doc.underlay, self.underlay_alpha), (self.output, self.output_alpha)):
            if layer is not None and alpha > 0 and layer.shape[:2] == doc.size:
                rgb = rgb * (1 - alpha) + layer[y0:y1, x0:x1].astype(np.float32) * alpha
        if self.show_instances:
            gy, gx = max(y0 - 1, 0), max(x0 - 1, 0)
            edge = _edges(doc.instances[gy : y1 + 1, gx : x1 + 1])
            edge = edge[y0 - gy : y0 - gy + (y1 - y0), x0 - gx : x0 - gx + (x1 - x0)]
            rgb[edge] = rgb[edge] * 0.2 + 255 * 0.8
        locked = doc.locked[y0:y1, x0:x1]
        if locked.any():
            yy, xx = np.mgrid[y0:y1, x0:x1]
            hatch = locked & (((yy + xx) % 8) < 2)
            rgb[hatch] = rgb[hatch] * 0.4
        styled = doc.style_mask[y0:y1, x0:x1]
        if styled.any():  # the other diagonal, tinted: where the second exemplar applies
            yy, xx = np.mgrid[y0:y1, x0:x1]
            stripe = styled & (((yy - xx) % 8) < 2)
            rgb[stripe] = rgb[stripe] * 0.3 + np.array((255.0, 170.0, 40.0)) * 0.7
        out[y0:y1, x0:x1] = rgb.clip(0, 255).astype(np.uint8)
        self.refresh((y0, x0, y1, x1))

    def cursor_radius_screen(self) -> float:
        return (self.tool.cursor_radius() if self.tool else 0.0) * self.state.zoom

    # ------------------------------------------------------------------ overlays
    def _paint_selection(self, painter: QPainter, view: ImageView) -> None:
        if self._selection_path.isEmpty():
            return
        painter.translate(self.to_screen(QPointF(0, 0)))
        painter.scale(self.state.zoom, self.state.zoom)
        for colour, style in (
            (QColor(0, 0, 0), Qt.PenStyle.SolidLine),
            (QColor(255, 255, 255), Qt.PenStyle.DashLine),
        ):
            pen = QPen(colour, 0, style)  # cosmetic: one screen pixel at any zoom
            painter.setPen(pen)
            painter.drawPath(self._selection_path)

    def _paint_tool(self, painter: QPainter, view: ImageView) -> None:
        if self.tool is not None:
            self.tool.paint_overlay(painter, self)


def _edges(instances: np.ndarray) -> np.ndarray:
    """Pixels of an instance whose right or lower neighbour belongs to another id."""
    edge = np.zeros(instances.shape, bool)
    diff_x = instances[:, 1:] != instances[:, :-1]
    diff_y = instances[1:, :] != instances[:-1, :]
    edge[:, :-1] |= diff_x
    edge[:, 1:] |= diff_x
    edge[:-1, :] |= diff_y
    edge[1:, :] |= diff_y
    return edge & (instances != 0)
