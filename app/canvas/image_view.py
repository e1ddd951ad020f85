"""A zoomable, pannable view of one RGB image, sharing its zoom and pan through a ViewState.

Navigation: wheel zooms about the cursor, middle-drag or Space+drag pans. Left-button
events in image coordinates go to an optional ``PointerHandler`` (the label canvas'
tools); everything else is painting. The image is a numpy RGB buffer wrapped without a
copy, so a stroke only re-colours its rectangle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.canvas.view_state import ViewState

BACKDROP = QColor(38, 38, 42)


class PointerHandler(Protocol):
    def press(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None: ...
    def move(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None: ...
    def release(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None: ...


def qimage_of(rgb: np.ndarray) -> QImage:
    """Wrap an H×W×3 uint8 C-contiguous array; the caller keeps the array alive."""
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)


class ImageView(QWidget):
    hovered = Signal(float, float)  # image (y, x) under the cursor
    left = Signal()

    def __init__(self, state: ViewState, parent: QWidget | None = None, *, smooth: bool = False) -> None:
        super().__init__(parent)
        self.state = state
        self.smooth = smooth
        self.handler: PointerHandler | None = None
        self.overlays: list[Callable[[QPainter, ImageView], None]] = []
        self._rgb: np.ndarray | None = None
        self._image: QImage | None = None
        self._pan_from: QPointF | None = None
        self._space = False
        self._pointer_down = False
        self.hover: QPointF | None = None
        self.placeholder = ""
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        state.changed.connect(self.update)
        state.views.append(self)

    # ------------------------------------------------------------------ content
    def set_rgb(self, rgb: np.ndarray | None) -> None:
        """Show this H×W×3 uint8 array (kept by reference; call :meth:`refresh` after edits)."""
        self._rgb = None if rgb is None else np.ascontiguousarray(rgb)
        self._image = None if self._rgb is None else qimage_of(self._rgb)
        if self._rgb is not None and self.state.fit_pending and self.width() > 1:
            self.fit()
        self.update()

    @property
    def rgb(self) -> np.ndarray | None:
        return self._rgb

    def image_size(self) -> tuple[int, int]:
        return (0, 0) if self._rgb is None else self._rgb.shape[:2]

    def refresh(self, box: tuple[int, int, int, int] | None = None) -> None:
        if box is None:
            self.update()
            return
        y0, x0, y1, x1 = box
        a, b = self.to_screen(QPointF(x0, y0)), self.to_screen(QPointF(x1, y1))
        self.update(QRectF(a, b).toAlignedRect().adjusted(-2, -2, 2, 2))

    # ------------------------------------------------------------------ geometry
    def to_screen(self, p: QPointF) -> QPointF:
        c = QPointF(self.width() / 2, self.height() / 2)
        return (p - self.state.center) * self.state.zoom + c

    def to_image(self, p: QPointF) -> QPointF:
        c = QPointF(self.width() / 2, self.height() / 2)
        return (p - c) / self.state.zoom + self.state.center

    def image_rect(self) -> QRectF:
        h, w = self.image_size()
        return QRectF(self.to_screen(QPointF(0, 0)), self.to_screen(QPointF(w, h)))

    def fit(self) -> None:
        h, w = self.image_size()
        if w and self.width() > 1:
            self.state.fit_views(w, h)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKDROP)
        if self._image is None:
            painter.setPen(QColor(170, 170, 170))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            return
        if self.smooth and self.state.zoom < 2:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(self.image_rect(), self._image)
        for overlay in self.overlays:
            painter.save()
            overlay(painter, self)
            painter.restore()

    def resizeEvent(self, event) -> None:  # noqa: ANN001
        if self.state.fit_pending and self._image is not None:
            self.fit()
        super().resizeEvent(event)

    # ------------------------------------------------------------------ input
    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = 1 if event.angleDelta().y() > 0 else -1 if event.angleDelta().y() < 0 else 0
        if steps:
            pos = event.position()
            offset = pos - QPointF(self.width() / 2, self.height() / 2)
            self.state.zoom_about(steps, self.to_image(pos), offset)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.unsetCursor()
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space):
            self._pan_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if button == Qt.MouseButton.LeftButton and self.handler is not None and self._image is not None:
            self._pointer_down = True
            p = self.to_image(event.position())
            self.handler.press(p.y(), p.x(), event.modifiers())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self.state.pan_screen(event.position() - self._pan_from)
            self._pan_from = event.position()
            return
        p = self.to_image(event.position())
        old = self.hover
        self.hover = p
        self.hovered.emit(p.y(), p.x())
        if self._pointer_down and self.handler is not None:
            self.handler.move(p.y(), p.x(), event.modifiers())
        if self.overlays:  # brush outline follows the cursor: repaint where it was and is
            for q in (old, p):
                if q is not None:
                    s = self.to_screen(q)
                    r = int(self.cursor_radius_screen()) + 4
                    self.update(QRect(int(s.x()) - r, int(s.y()) - r, 2 * r, 2 * r))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None and event.button() in (
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.LeftButton,
        ):
            self._pan_from = None
            self.setCursor(Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.ArrowCursor)
            return
        if event.button() == Qt.MouseButton.LeftButton and self._pointer_down and self.handler is not None:
            self._pointer_down = False
            p = self.to_image(event.position())
            self.handler.release(p.y(), p.x(), event.modifiers())

    def leaveEvent(self, event) -> None:  # noqa: ANN001
        self.hover = None
        self.left.emit()
        self.update()
        super().leaveEvent(event)

    def cursor_radius_screen(self) -> float:
        """Radius of the tool outline in screen pixels (views with tools override)."""
        return 0.0
