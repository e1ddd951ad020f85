"""ugen's line drawing: black lines on white, the generated image faintly beneath.

The drawing is what the edges or sketch mapper reads (1 = line); the image under it lets
the painter trace over what the model made.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QWidget

from app.canvas.layer_canvas import LayerCanvas
from app.canvas.view_state import ViewState
from app.document.document import Document
from app.document.modes import LINES_LAYER

LINE = np.array((20, 20, 24), np.float32)
PAPER = 255.0


class LineCanvas(LayerCanvas):
    layer = LINES_LAYER

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.placeholder = "The line drawing of a ugen model's edges or sketch mode is drawn here."
        self.output_alpha = 0.25  # enough to trace the result, faint enough to see the lines

    def changed_signal(self, doc: Document) -> SignalInstance:
        return doc.conditions.lines_changed

    def colour(self, values: np.ndarray) -> np.ndarray:
        return np.full((*values.shape, 3), PAPER, np.float32)

    def _ink(self, rgb: np.ndarray, values: np.ndarray) -> np.ndarray:
        rgb[values] = LINE  # lines stay black over the traced image
        return super()._ink(rgb, values)
