"""Area tools: fill bucket, lasso fill and rectangle — each one undo step."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from app.tools.base import Tool


def _fill(tool: Tool, box: tuple[int, int, int, int], mask: np.ndarray, what: str) -> None:
    """Paint ``mask`` (local to ``box``) with the current class; a thing class becomes one new instance."""
    if not mask.any():
        return
    doc, class_id = tool.ctx.doc, tool.ctx.class_id
    instance = doc.scene.new_instance_id() if doc.label_set.by_id(class_id).thing else 0
    doc.begin_edit()
    doc.paint(box, mask, class_id, instance)
    doc.end_edit(f"{what}: {doc.label_set.by_id(class_id).name}")


class FillTool(Tool):
    name, title, shortcut, icon = "fill", "Fill", "G", "fa5s.fill-drip"
    tip = "Fill the connected region under the click with the selected class."

    def press(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        at = self.inside(y, x)
        if at is None:
            return
        doc = self.ctx.doc
        region = doc.scene.region_at(*at, kind="component")
        box = doc.scene.bbox(region)
        if box is None:
            return
        y0, x0, y1, x1 = box
        _fill(self, box, region[y0:y1, x0:x1], "Fill")


class LassoTool(Tool):
    name, title, shortcut, icon = "lasso", "Lasso fill", "L", "fa5s.draw-polygon"
    tip = "Drag around an area; it fills with the selected class when you let go."

    def __init__(self, ctx) -> None:  # noqa: ANN001
        super().__init__(ctx)
        self.points: list[tuple[float, float]] = []

    def press(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        self.points = [(y, x)]

    def move(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        if self.points:
            self.points.append((y, x))

    def release(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        points, self.points = [*self.points, (y, x)], []
        if len(points) < 3:
            return
        h, w = self.ctx.doc.size
        poly = np.array([[px, py] for py, px in points], np.float64)
        x0, y0 = np.floor(poly.min(0)).astype(int)
        x1, y1 = np.ceil(poly.max(0)).astype(int) + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x0 >= x1 or y0 >= y1:
            return
        local = np.zeros((y1 - y0, x1 - x0), np.uint8)
        shifted = np.round(poly - [x0 + 0.5, y0 + 0.5]).astype(np.int32)
        cv2.fillPoly(local, [shifted], 1, cv2.LINE_8)
        _fill(self, (y0, x0, y1, x1), local.astype(bool), "Lasso fill")

    def cancel(self) -> None:
        self.points = []

    def paint_overlay(self, painter: QPainter, view: object) -> None:
        if len(self.points) < 2:
            return
        poly = QPolygonF([view.to_screen(QPointF(x, y)) for y, x in self.points])  # type: ignore[attr-defined]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(0, 0, 0, 200), 3))
        painter.drawPolygon(poly)
        painter.setPen(QPen(QColor(255, 255, 255), 1, Qt.PenStyle.DashLine))
        painter.drawPolygon(poly)


class RectangleTool(Tool):
    name, title, shortcut, icon = "rectangle", "Rectangle", "U", "fa5s.vector-square"
    tip = "Drag a rectangle; it fills with the selected class."

    def __init__(self, ctx) -> None:  # noqa: ANN001
        super().__init__(ctx)
        self.start: tuple[float, float] | None = None
        self.end: tuple[float, float] | None = None

    def press(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        self.start = self.end = (y, x)

    def move(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        if self.start is not None:
            self.end = (y, x)

    def release(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        if self.start is None:
            return
        (ya, xa), (yb, xb) = self.start, (y, x)
        self.start = self.end = None
        h, w = self.ctx.doc.size
        y0, y1 = max(int(np.floor(min(ya, yb))), 0), min(int(np.ceil(max(ya, yb))), h)
        x0, x1 = max(int(np.floor(min(xa, xb))), 0), min(int(np.ceil(max(xa, xb))), w)
        if y0 < y1 and x0 < x1:
            _fill(self, (y0, x0, y1, x1), np.ones((y1 - y0, x1 - x0), bool), "Rectangle")

    def cancel(self) -> None:
        self.start = self.end = None

    def paint_overlay(self, painter: QPainter, view: object) -> None:
        if self.start is None or self.end is None:
            return
        a = view.to_screen(QPointF(self.start[1], self.start[0]))  # type: ignore[attr-defined]
        b = view.to_screen(QPointF(self.end[1], self.end[0]))  # type: ignore[attr-defined]
        painter.setPen(QPen(QColor(0, 0, 0, 200), 3))
        painter.drawRect(QRectF(a, b).normalized())
        painter.setPen(QPen(QColor(255, 255, 255), 1, Qt.PenStyle.DashLine))
        painter.drawRect(QRectF(a, b).normalized())
