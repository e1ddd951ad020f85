"""Class palette: colour swatches with names, a search field, and the recently used classes."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from engine.labels import LabelSet

RECENT = 9  # number keys 1–9


def swatch(color: tuple[int, int, int], size: int = 18) -> QIcon:
    pix = QPixmap(size, size)
    pix.fill(QColor(*color))
    return QIcon(pix)


class PalettePanel(QWidget):
    class_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label_set: LabelSet | None = None
        self.current: int | None = None
        self.recent: list[int] = []
        self.search = QLineEdit(placeholderText="Search classes…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.list = QListWidget()
        self.list.setIconSize(QSize(18, 18))
        self.list.currentItemChanged.connect(self._clicked)
        self.recent_label = QLabel()
        self.recent_label.setTextFormat(Qt.TextFormat.RichText)
        self.recent_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)  # every pixel goes to the class list
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.recent_label)

    def set_label_set(self, label_set: LabelSet, current: int | None = None) -> None:
        self.label_set = label_set
        self.recent = [c for c in self.recent if c in label_set]
        self.list.blockSignals(True)
        self.list.clear()
        for cls in label_set:
            item = QListWidgetItem(swatch(cls.color), cls.name + ("  ·  object" if cls.thing else ""))
            item.setData(Qt.ItemDataRole.UserRole, cls.id)
            item.setToolTip(f"{cls.name} (id {cls.id}){' — each object is an instance' if cls.thing else ''}")
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.choose(current if current is not None and current in label_set else label_set.classes[0].id)

    def choose(self, class_id: int) -> None:
        """Make ``class_id`` current (from the eyedropper, a number key, or a click)."""
        if self.label_set is None or class_id not in self.label_set:
            return
        self.current = class_id
        if class_id in self.recent:
            self.recent.remove(class_id)
        self.recent.insert(0, class_id)
        del self.recent[RECENT:]
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == class_id:
                self.list.blockSignals(True)
                self.list.setCurrentItem(item)
                self.list.blockSignals(False)
                break
        names = [f"<b>{i + 1}</b> {self.label_set.by_id(c).name}" for i, c in enumerate(self.recent)]
        self.recent_label.setText("Recent: " + " · ".join(names))
        self.class_chosen.emit(class_id)

    def choose_recent(self, index: int) -> None:
        if 0 <= index < len(self.recent):
            self.choose(self.recent[index])

    def _clicked(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.choose(int(item.data(Qt.ItemDataRole.UserRole)))

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setHidden(bool(needle) and needle not in item.text().lower())
