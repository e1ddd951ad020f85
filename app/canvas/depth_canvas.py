"""ugen's depth map in grey: black = nearest, white = far and sky.

The same convention as depth images on disk (:mod:`engine.depth_image`), so what the
painter sees is what an imported or exported depth PNG shows. Nothing is laid beneath:
every pixel's grey is a depth, and an image under it would make the greys lie.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QWidget

from app.canvas.layer_canvas import LayerCanvas
from app.canvas.view_state import ViewState
from app.document.document import Document
from app.document.modes import DEPTH_LAYER

# uint16 depth → grey 0–255 (65535 / 257 = 255 exactly).
GREY_STEP = np.float32(257.0)


class DepthCanvas(LayerCanvas):
    layer = DEPTH_LAYER

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.placeholder = "The depth map of a ugen model's depth mode is painted here."

    def changed_signal(self, doc: Document) -> SignalInstance:
        return doc.conditions.depth_changed

    def colour(self, values: np.ndarray) -> np.ndarray:
        grey = np.rint(values.astype(np.float32) / GREY_STEP)
        return np.repeat(grey[..., None], 3, axis=2)
