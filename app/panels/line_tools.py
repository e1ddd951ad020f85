"""The line drawing's tool row: pen or eraser and its size, clear, import a drawing, draw
one from a photo."""

from __future__ import annotations

import qtawesome as qta
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QPushButton, QSpinBox, QToolButton, QWidget

from app.actions import ICON_COLOR

MAX_PEN = 32


class LineToolsBar(QWidget):
    eraser_toggled = Signal(bool)
    size_changed = Signal(int)
    clear_requested = Signal()
    import_requested = Signal()
    photo_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pen = self._tool("fa5s.pen", "Pen", "Draw lines (hold Shift to erase)")
        self.eraser = self._tool("fa5s.eraser", "Eraser", "Erase lines")
        self.pen.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.pen)
        group.addButton(self.eraser)
        self.eraser.toggled.connect(self.eraser_toggled)
        self.size = QSpinBox()
        self.size.setRange(1, MAX_PEN)
        self.size.setValue(2)
        self.size.setSuffix(" px")
        self.size.setToolTip("Pen and eraser size")
        self.size.valueChanged.connect(self.size_changed)
        self.clear = QPushButton("Clear")
        self.clear.setToolTip("Erase the whole drawing (one undo step)")
        self.clear.clicked.connect(self.clear_requested)
        self.import_button = QPushButton("Import line image…")
        self.import_button.setToolTip(
            "A PNG of a drawing of the canvas' shape: black lines on white, or white lines on black"
        )
        self.import_button.clicked.connect(self.import_requested)
        self.photo = QPushButton("Edges from photo…")
        self.photo.clicked.connect(self.photo_requested)
        self.set_mode("edges")

        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        for widget in (self.pen, self.eraser, self.size, self.clear, self.import_button, self.photo):
            row.addWidget(widget)
        row.addStretch(1)

    def _tool(self, icon: str, text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setIcon(qta.icon(icon, color=ICON_COLOR))
        button.setText(text)
        button.setToolTip(tip)
        button.setCheckable(True)
        button.setAutoRaise(True)
        return button

    def set_mode(self, mode: str) -> None:
        """The photo button draws what the mode's mapper reads: edges, or a sketch."""
        what = "Sketch" if mode == "sketch" else "Edges"
        self.photo.setText(f"{what} from photo…")
        self.photo.setToolTip(
            f"Draw the {what.lower()} of a photo (its centred square, at the model's size) with the "
            "extractor the model was trained with"
        )
