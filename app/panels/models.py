"""Model picker: the weights folders in weights/ and the user's folder, refreshed when they change."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from engine.inference.catalog import CatalogEntry, scan


class ModelPanel(QWidget):
    model_chosen = Signal(object)  # CatalogEntry

    def __init__(self, folders: list[Path], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folders = folders
        self.entries: list[CatalogEntry] = []
        self.current: Path | None = None
        self.list = QListWidget()
        self.list.itemActivated.connect(self._activated)
        self.list.itemClicked.connect(self._activated)
        self.info = QLabel()
        self.info.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.info)
        # A run exported while the studio is open appears without a restart. Watching
        # fires once per file written; the short timer turns a burst into one rescan.
        self.watcher = QFileSystemWatcher(self)
        self._rescan = QTimer(self, singleShot=True, interval=300)
        self._rescan.timeout.connect(self.refresh)
        self.watcher.directoryChanged.connect(lambda _: self._rescan.start())
        self.refresh()

    def refresh(self) -> None:
        watched = self.watcher.directories()
        if watched:
            self.watcher.removePaths(watched)
        paths = [str(f) for f in self.folders if f.is_dir()]
        paths += [str(p) for f in self.folders if f.is_dir() for p in f.iterdir() if p.is_dir()]
        if paths:
            self.watcher.addPaths(paths)
        self.entries = scan(self.folders)
        self.list.clear()
        for entry in self.entries:
            if entry.spec is not None:
                text = f"{entry.name}  ·  {entry.spec.family}, {entry.spec.label_set.name}"
            else:
                text = entry.name
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, str(entry.folder))
            if not entry.usable:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                item.setToolTip(entry.problem)
            else:
                item.setToolTip(str(entry.folder))
            self.list.addItem(item)
        self.mark_current(self.current)

    def mark_current(self, folder: Path | None) -> None:
        self.current = folder
        for row in range(self.list.count()):
            item = self.list.item(row)
            font = item.font()
            font.setBold(folder is not None and Path(item.data(Qt.ItemDataRole.UserRole)) == folder)
            item.setFont(font)
        entry = self.entry_for(folder)
        if entry is None or entry.spec is None:
            self.info.setText("No model loaded." if folder is None else str(folder))
            return
        spec = entry.spec
        steps = spec.training.get("steps")
        self.info.setText(
            f"<b>{entry.name}</b><br>{spec.family} · {spec.label_set.title or spec.label_set.name} · "
            f"trained at {spec.image_size[1]}×{spec.image_size[0]}" + (f" for {steps} steps" if steps else "")
        )

    def entry_for(self, folder: Path | None) -> CatalogEntry | None:
        return next((e for e in self.entries if folder is not None and e.folder == Path(folder)), None)

    def _activated(self, item: QListWidgetItem) -> None:
        entry = self.entry_for(Path(item.data(Qt.ItemDataRole.UserRole)))
        if entry is not None and entry.usable and entry.folder != self.current:
            self.model_chosen.emit(entry)
