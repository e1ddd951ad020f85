"""The guidance strip: a picked region's top-k retrieved segments, Pin and Re-roll.

One thumbnail per match, best first; the one guiding the region is selected. Clicking
another asks for it (``rank_chosen``); the window turns that into one undo step. The
strip says which region it shows and why it may be empty.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

THUMB = 56

HINT = (
    "Click a region with the region picker (V), or in the Guidance tab, to see its retrieved "
    "segments; drop a photo onto a region to guide it by the photo's segment of its class."
)


class GuidanceStrip(QWidget):
    rank_chosen = Signal(int)  # the match (0 = best) the painter clicked
    pin_toggled = Signal(bool)
    reroll_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(HINT)
        self.title.setWordWrap(True)
        self.pin = QPushButton("Pin")
        self.pin.setCheckable(True)
        self.pin.setToolTip("Keep this region's segment when you repaint the region")
        self.reroll = QPushButton("Re-roll")
        self.reroll.setToolTip("Guide this region by another of its top matches, drawn at random")
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setMovement(QListView.Movement.Static)
        self.list.setFixedHeight(THUMB + 40)
        self.list.setToolTip("Click a retrieved segment to guide the region with it")
        self.list.itemClicked.connect(self._clicked)
        self._rows: list[int] = []  # database rows shown, best first
        self._filling = False
        self.pin.toggled.connect(lambda on: None if self._filling else self.pin_toggled.emit(on))
        self.reroll.clicked.connect(self.reroll_requested)

        buttons = QHBoxLayout()
        buttons.addWidget(self.title, 1)
        buttons.addWidget(self.pin)
        buttons.addWidget(self.reroll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(buttons)
        layout.addWidget(self.list)
        self.show_nothing(HINT)

    @property
    def rows(self) -> list[int]:
        return list(self._rows)

    def show_nothing(self, text: str) -> None:
        self._rows = []
        self.list.clear()
        self.title.setText(text)
        self._set_controls(None, False, False)

    def show_matches(
        self,
        text: str,
        rows: list[int],
        thumbs: list[QImage],
        tips: list[str],
        current: int | None,
        pinned: bool,
        own: bool = False,
    ) -> None:
        """``rows`` best first with their thumbnails; ``current`` the row guiding the region
        (``own``: the painter's photo guides it, no row is current)."""
        self.title.setText(text)
        if rows != self._rows:  # a new region: rebuild; the same one: only the selection moves
            self._rows = list(rows)
            self.list.clear()
            for rank, (thumb, tip) in enumerate(zip(thumbs, tips)):
                pix = QPixmap.fromImage(thumb)
                item = QListWidgetItem(QIcon(pix), f"#{rank + 1}")
                item.setToolTip(tip)
                self.list.addItem(item)
        self._set_controls(current, pinned, bool(rows) or own)

    def _set_controls(self, current: int | None, pinned: bool, any_match: bool) -> None:
        self._filling = True
        rank = self._rows.index(current) if current in self._rows else -1
        self.list.setCurrentRow(rank)
        self.pin.setChecked(pinned)
        self.pin.setEnabled(any_match)
        self.reroll.setEnabled(len(self._rows) > 1 or (any_match and rank < 0 and bool(self._rows)))
        self._filling = False

    def _clicked(self, item: QListWidgetItem) -> None:
        self.rank_chosen.emit(self.list.row(item))
