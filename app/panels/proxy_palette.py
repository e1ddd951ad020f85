"""The proxy mask's controls: one swatch per cluster to paint with, the brush size in mask
cells, a note on what drives the image, and "Back to the map"."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.panels.palette import swatch

FOLLOWS = (
    "The mask follows your {condition}. Paint a cluster into it to move what the model draws "
    "there (free-form editing); the edit then drives the image."
)
EDITED = (
    "<b>Your edited mask drives the image.</b> It stays until you paint the {condition} again, "
    "switch condition, or press Back to the map."
)


class ProxyPalette(QWidget):
    cluster_chosen = Signal(int)
    size_changed = Signal(int)
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.swatches: np.ndarray | None = None
        self.buttons: list[QToolButton] = []
        self.group = QButtonGroup(self)
        self.group.idClicked.connect(self.cluster_chosen)
        self.swatch_row = QHBoxLayout()
        self.swatch_row.setSpacing(2)
        self.size = QSpinBox()
        self.size.setRange(1, 16)
        self.size.setSuffix(" cell")
        self.size.setToolTip("Brush size, in cells of the proxy mask")
        self.size.valueChanged.connect(lambda v: self.size.setSuffix(" cell" if v == 1 else " cells"))
        self.size.valueChanged.connect(self.size_changed)
        self.back = QPushButton("Back to the map")
        self.back.setToolTip("Drop the edited mask: the label map or drawing drives the image again")
        self.back.clicked.connect(self.back_requested)
        self.note = QLabel()
        self.note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Cluster"))
        row.addLayout(self.swatch_row)
        row.addStretch(1)
        row.addWidget(self.size)
        row.addWidget(self.back)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.note)
        self.set_state(False, "label map")

    def set_swatches(self, swatches: np.ndarray | None) -> None:
        """One checkable button per cluster in its swatch colour; the first is chosen."""
        if swatches is not None and self.swatches is not None and np.array_equal(swatches, self.swatches):
            return
        self.swatches = swatches
        for button in self.buttons:
            self.group.removeButton(button)
            button.deleteLater()
        self.buttons = []
        for k, colour in enumerate(swatches if swatches is not None else []):
            button = QToolButton()
            button.setIcon(swatch(tuple(int(c) for c in colour), 16))
            button.setIconSize(QSize(16, 16))
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setToolTip(f"Cluster {k + 1}: paint it into the mask")
            self.group.addButton(button, k)
            self.swatch_row.addWidget(button)
            self.buttons.append(button)
        if self.buttons:
            self.buttons[0].setChecked(True)
            self.cluster_chosen.emit(0)

    def choose(self, cluster: int) -> None:
        if 0 <= cluster < len(self.buttons):
            self.buttons[cluster].setChecked(True)
            self.cluster_chosen.emit(cluster)

    def set_state(self, edited: bool, condition: str) -> None:
        """Say what drives the image: the ``condition`` ("label map", "edge drawing" …) or the edit."""
        self.note.setText((EDITED if edited else FOLLOWS).format(condition=condition))
        self.back.setEnabled(edited)
