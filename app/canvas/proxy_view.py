"""ugen's proxy mask at image size: each cluster in its swatch colour, thin dark lines
where two clusters meet, and an amber frame while an edited mask drives the image.

A cluster's swatch is the mean colour the generator paints under it, so the mask reads as
a rough sketch of the image; the lines keep neighbouring clusters of similar swatches
apart. Rendering only: the proxy brush is a pointer handler.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

from app.canvas.image_view import ImageView
from app.canvas.view_state import ViewState

EDITED = QColor(255, 176, 40)


def mask_picture(proxy: np.ndarray, swatches: np.ndarray, side: int) -> np.ndarray:
    """r×r cluster ids → side×side×3 uint8 in the clusters' swatch colours, borders darkened."""
    scale = max(side // proxy.shape[0], 1)
    ids = proxy.repeat(scale, axis=0).repeat(scale, axis=1)
    rgb = swatches[np.clip(ids, 0, len(swatches) - 1)].astype(np.float32)
    border = np.zeros(ids.shape, bool)
    border[:, 1:] |= ids[:, 1:] != ids[:, :-1]
    border[1:, :] |= ids[1:, :] != ids[:-1, :]
    rgb[border] *= 0.45
    return rgb.astype(np.uint8)


class ProxyView(ImageView):
    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent, smooth=False)
        self.placeholder = "The proxy mask of a ugen model's image appears here."
        self.proxy: np.ndarray | None = None  # the mask shown
        self.edited = False
        self.overlays = [self._paint_frame, self._paint_brush]

    def show_mask(
        self, proxy: np.ndarray | None, swatches: np.ndarray | None, side: int, edited: bool
    ) -> None:
        self.proxy, self.edited = proxy, edited and proxy is not None
        if proxy is None or swatches is None:
            self.set_rgb(None)
            return
        self.set_rgb(mask_picture(proxy, swatches, side))

    def cursor_radius_screen(self) -> float:
        radius = getattr(self.handler, "cursor_radius", lambda: 0.0)()
        return radius * self.state.zoom

    def _paint_frame(self, painter: QPainter, view: ImageView) -> None:
        if self.edited:
            pen = QPen(EDITED, 3)
            painter.setPen(pen)
            painter.drawRect(self.image_rect().adjusted(-2, -2, 2, 2))

    def _paint_brush(self, painter: QPainter, view: ImageView) -> None:
        if self.handler is not None:
            self.handler.paint_overlay(painter, self)  # type: ignore[attr-defined]
