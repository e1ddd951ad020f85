"""The proxy-mask brush: paint one cluster straight into ugen's proxy mask (the paper's
free-form manipulation), one undo step per stroke.

The view shows the mask at image size; the brush works in mask cells (an r×r grid), so
its size is counted in cells and a stroke's path is scaled down to the grid.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter

from app.document.conditions import ConditionLayers
from app.tools.base import StrokePointer, stamp_segment
from app.tools.brushes import draw_brush_outline


class ProxyBrush(StrokePointer):
    def __init__(
        self,
        layers: Callable[[], ConditionLayers],
        shown: Callable[[], np.ndarray | None],  # the mask on screen (the latest image's)
        image_side: Callable[[], int],
        status: Callable[[str], None] = lambda text: None,
    ) -> None:
        self.layers, self.shown, self.image_side, self.status = layers, shown, image_side, status
        self.cluster = 0
        self.size = 1  # in mask cells

    def at(self, y: float, x: float) -> tuple[float, float]:
        proxy = self.layers().proxy
        r = proxy.shape[0] if proxy is not None else 1
        scale = r / max(self.image_side(), 1)
        return y * scale, x * scale

    def begin(self, modifiers: Qt.KeyboardModifier) -> bool:
        layers = self.layers()
        base = layers.proxy if layers.proxy is not None else self.shown()
        if base is None:
            self.status("No proxy mask yet: wait for the first image.")
            return False
        layers.begin_proxy(base)
        return True

    def end(self) -> None:
        self.layers().end_proxy(f"Paint cluster {self.cluster + 1} into the proxy mask")

    def abort(self) -> None:
        self.layers().cancel_proxy()

    def cursor_radius(self) -> float:
        """In image pixels: the size in cells times a cell's side."""
        proxy = self.layers().proxy if self.layers().proxy is not None else self.shown()
        r = proxy.shape[0] if proxy is not None else 1
        return self.size / 2 * self.image_side() / r

    def paint_overlay(self, painter: QPainter, view: object) -> None:
        draw_brush_outline(painter, view, self.cursor_radius())

    def stamp(self, p0: tuple[float, float], p1: tuple[float, float]) -> None:
        proxy = self.layers().proxy
        if proxy is None:
            return
        stamp = stamp_segment(proxy.shape, p0, p1, self.size)
        if stamp is not None:
            self.layers().paint_proxy(stamp[0], stamp[1], self.cluster)
