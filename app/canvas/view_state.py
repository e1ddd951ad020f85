"""Zoom and pan shared by the label canvas and the output view, so they move together."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, Signal

ZOOM_STEPS = (0.125, 0.25, 0.33, 0.5, 0.67, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0)


class ViewState(QObject):
    """Zoom (screen px per image px) and the image point shown at the view centre."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.zoom = 1.0
        self.center = QPointF(0, 0)
        self.fit_pending = True  # fit once the first view knows its size
        self.views: list = []  # ImageViews sharing this state (they register themselves)

    def set(self, zoom: float, center: QPointF) -> None:
        zoom = min(max(zoom, ZOOM_STEPS[0]), ZOOM_STEPS[-1])
        if zoom != self.zoom or center != self.center:
            self.zoom, self.center = zoom, QPointF(center)
            self.changed.emit()

    def zoom_about(self, factor_steps: int, anchor_image: QPointF, anchor_offset: QPointF) -> None:
        """Step the zoom keeping ``anchor_image`` under the cursor (offset from the view centre)."""
        current = min(range(len(ZOOM_STEPS)), key=lambda i: abs(ZOOM_STEPS[i] - self.zoom))
        new = ZOOM_STEPS[min(max(current + factor_steps, 0), len(ZOOM_STEPS) - 1)]
        self.set(new, anchor_image - anchor_offset / new)

    def pan_screen(self, delta: QPointF) -> None:
        self.set(self.zoom, self.center - delta / self.zoom)

    def fit(self, image_w: int, image_h: int, view_w: int, view_h: int) -> None:
        zoom = min(view_w / max(image_w, 1), view_h / max(image_h, 1)) * 0.96
        self.fit_pending = False
        self.set(max(zoom, ZOOM_STEPS[0]), QPointF(image_w / 2, image_h / 2))

    def fit_views(self, image_w: int, image_h: int) -> None:
        """Fit the image into the smallest visible view, so every view shows all of it."""
        sizes = [(v.width(), v.height()) for v in self.views if v.isVisible() and v.width() > 1]
        if sizes:
            self.fit(image_w, image_h, min(w for w, _ in sizes), min(h for _, h in sizes))

    def actual_size(self) -> None:
        self.set(1.0, self.center)
