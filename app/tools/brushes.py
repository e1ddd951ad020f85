"""Round brushes: paint a class, erase to the background class, paint instances, brush a re-roll."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

from app.tools.base import Tool, stamp_segment


class BrushTool(Tool):
    name, title, shortcut, icon = "brush", "Brush", "B", "fa5s.paint-brush"
    tip = "Paint the selected class. [ and ] change the size."
    uses_size = True
    new_instance_per_stroke = False

    def __init__(self, ctx) -> None:  # noqa: ANN001
        super().__init__(ctx)
        self._last: tuple[float, float] | None = None
        self._class = 0
        self._instance = 0

    def paint_class(self) -> int:
        return self.ctx.class_id

    def press(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        doc = self.ctx.doc
        self._class = self.paint_class()
        start = self.inside(y, x)
        if self.new_instance_per_stroke and doc.label_set.by_id(self._class).thing:
            self._instance = doc.scene.new_instance_id()
        elif start is not None:
            self._instance = self.ctx.instance_for(self._class, *start)
        else:
            self._instance = self.ctx.instance_for(self._class)
        doc.begin_edit()
        self._last = (y, x)
        self._stamp((y, x), (y, x))

    def move(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        if self._last is None:
            return
        self._stamp(self._last, (y, x))
        self._last = (y, x)

    def release(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        if self._last is None:
            return
        self._last = None
        self.ctx.doc.end_edit(f"{self.title}: {self.ctx.doc.label_set.by_id(self._class).name}")

    def cancel(self) -> None:
        if self._last is not None:
            self._last = None
            self.ctx.doc.cancel_edit()

    def _stamp(self, p0: tuple[float, float], p1: tuple[float, float]) -> None:
        doc = self.ctx.doc
        stamp = stamp_segment(doc.size, p0, p1, self.ctx.brush_size)
        if stamp is not None:
            doc.paint(stamp[0], stamp[1], self._class, self._instance)

    def paint_overlay(self, painter: QPainter, view: object) -> None:
        draw_brush_outline(painter, view, self.cursor_radius())


class EraserTool(BrushTool):
    name, title, shortcut, icon = "eraser", "Eraser", "E", "fa5s.eraser"
    tip = "Paint the background class (chosen in Tool options)."

    def paint_class(self) -> int:
        chosen = self.ctx.eraser_class
        labels = self.ctx.doc.label_set
        return chosen if chosen is not None and chosen in labels else labels.classes[0].id


class InstanceBrushTool(BrushTool):
    name, title, shortcut, icon = "instance", "Instance brush", "N", "fa5s.tree"
    tip = "Every stroke paints a new object (instance) of a thing class: one tree, one rock."
    new_instance_per_stroke = True


class _AreaBrush(Tool):
    """Brush an area (shown as a translucent stroke); :meth:`apply` gets it on release."""

    uses_size = True

    def __init__(self, ctx) -> None:  # noqa: ANN001
        super().__init__(ctx)
        self._mask: np.ndarray | None = None
        self._last: tuple[float, float] | None = None
        self._path = QPainterPath()
        self._modifiers = Qt.KeyboardModifier.NoModifier

    def press(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        self._mask = np.zeros(self.ctx.doc.size, bool)
        self._last = (y, x)
        self._path = QPainterPath(QPointF(x, y))
        self._modifiers = modifiers
        self._add((y, x), (y, x))

    def move(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        if self._last is not None:
            self._add(self._last, (y, x))
            self._path.lineTo(x, y)
            self._last = (y, x)

    def release(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        mask, self._mask, self._last = self._mask, None, None
        self._path = QPainterPath()
        if mask is not None and mask.any():
            self.apply(mask, self._modifiers)

    def apply(self, mask: np.ndarray, modifiers: Qt.KeyboardModifier) -> None:
        raise NotImplementedError

    def cancel(self) -> None:
        self._mask, self._last, self._path = None, None, QPainterPath()

    def _add(self, p0: tuple[float, float], p1: tuple[float, float]) -> None:
        stamp = stamp_segment(self.ctx.doc.size, p0, p1, self.ctx.brush_size)
        if stamp is not None and self._mask is not None:
            (y0, x0, y1, x1), local = stamp
            self._mask[y0:y1, x0:x1] |= local

    def paint_overlay(self, painter: QPainter, view: object) -> None:
        if not self._path.isEmpty():
            zoom = view.state.zoom  # type: ignore[attr-defined]
            painter.translate(view.to_screen(QPointF(0, 0)))  # type: ignore[attr-defined]
            painter.scale(zoom, zoom)
            pen = QPen(QColor(255, 255, 255, 110), self.ctx.brush_size)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.drawPath(self._path)
            painter.resetTransform()
        draw_brush_outline(painter, view, self.cursor_radius())


class StyleBrushTool(_AreaBrush):
    """Example-guided models (MSCA): brush where the second exemplar's style applies."""

    name, title, shortcut, icon = "style", "Style brush", "K", "fa5s.swatchbook"
    tip = "Brush where the second exemplar's style applies (MSCA, two exemplars); Shift+brush erases."

    def apply(self, mask: np.ndarray, modifiers: Qt.KeyboardModifier) -> None:
        erase = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        self.ctx.doc.set_style_mask(mask, not erase, "Erase style area" if erase else "Style brush")
        self.ctx.status(
            "Second style removed there" if erase else "The second exemplar's style applies there"
        )


class RerollBrushTool(_AreaBrush):
    """Brush an area; on release that area gets new noise (OASIS local 3D noise)."""

    name, title, shortcut, icon = "reroll", "Re-roll brush", "J", "fa5s.dice"
    tip = "Brush over an area to give it a new look; the rest stays."

    def apply(self, mask: np.ndarray, modifiers: Qt.KeyboardModifier) -> None:
        seed = self.ctx.doc.reroll(mask, text="Re-roll brushed area")
        self.ctx.status(f"Re-rolled the brushed area (seed {seed})")


def draw_brush_outline(painter: QPainter, view: object, radius: float) -> None:
    """Two-tone circle (visible on any colour) at the hovered point."""
    hover = getattr(view, "hover", None)
    if hover is None or radius <= 0:
        return
    centre = view.to_screen(hover)  # type: ignore[attr-defined]
    r = max(radius * view.state.zoom, 1.5)  # type: ignore[attr-defined]
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(QColor(0, 0, 0, 200), 3))
    painter.drawEllipse(centre, r, r)
    painter.setPen(QPen(QColor(255, 255, 255, 230), 1))
    painter.drawEllipse(centre, r, r)
