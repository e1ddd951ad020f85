"""The studio's status bar: messages on the left; cursor, work, latency and model on the right."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget


class StudioStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate: "working"
        self.busy.setMaximumWidth(80)
        self.busy.setMaximumHeight(12)
        self.busy.setVisible(False)
        self.time_label = QLabel("—")
        # Wide enough for "9999 ms" from the start: a label that grows with its first text
        # is clipped until the status bar lays out again.
        self.time_label.setMinimumWidth(self.time_label.fontMetrics().horizontalAdvance("9999 ms") + 4)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.time_label.setToolTip("Time of the last synthesis")
        self.backend_label = QLabel("no model")
        self.cursor_label = QLabel("")
        for widget in (self.cursor_label, self.busy, self.time_label, self.backend_label):
            self.addPermanentWidget(widget)

    def show_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)

    def show_latency(self, ms: float, latency_ms: float) -> None:
        """What the painter feels (change → pixels), with the synthesis alone in the tooltip."""
        self.time_label.setText(f"{latency_ms:.0f} ms")
        self.time_label.setToolTip(
            f"From your last change to this image: {latency_ms:.0f} ms (synthesis {ms:.0f} ms)"
        )

    def show_model(self, text: str | None) -> None:
        """Which model runs where ("folder · backend · DEVICE"); None keeps what is shown."""
        if text is not None:
            self.backend_label.setText(text)

    def show_cursor(self, text: str) -> None:
        self.cursor_label.setText(text)
