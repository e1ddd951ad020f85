"""Exemplars for example-guided models (MSCA): pick a style photo, blend a second one.

The gallery is ``resources/exemplars/`` (rendered landscapes in named styles, each with
its label map). *Use* makes the chosen one the style; *Blend with* adds it as the second
style and the *Mix* slider sets how much of the first shows (100 % = only the first).
*Photo…* asks the window for any photo, which it segments first. The choice travels in
project files (``exemplars/`` in the zip) and comes back when they are opened.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from PySide6.QtCore import QByteArray, QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.canvas.image_view import qimage_of
from app.document import pngmaps
from engine.errors import InputError
from engine.inference.gallery import GALLERY_FOLDER, load_gallery
from engine.inference.msca_synth import Exemplar, StyleMix
from engine.labels import LabelSet

THUMB = 72
ROLES = ("first", "second")
# Drag payload of a gallery thumbnail: the exemplar's name (utf-8).
EXEMPLAR_MIME = "application/x-tessera-exemplar"


def _thumb(rgb: np.ndarray) -> QIcon:
    pix = QPixmap.fromImage(qimage_of(np.ascontiguousarray(rgb)).copy())
    return QIcon(
        pix.scaled(
            THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    )


class _GalleryList(QListWidget):
    """The gallery's thumbnails; dragging one onto the result uses it (Shift: as the second)."""

    def mimeData(self, items: list[QListWidgetItem]) -> QMimeData:
        data = QMimeData()
        if items:
            data.setData(EXEMPLAR_MIME, QByteArray(items[0].text().encode()))
        return data

    def mimeTypes(self) -> list[str]:
        return [EXEMPLAR_MIME]


class ExemplarPanel(QWidget):
    style_changed = Signal()
    photo_requested = Signal(bool)  # True: as the second style

    def __init__(self, gallery: Path = GALLERY_FOLDER, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gallery_folder = gallery
        self.gallery: list[Exemplar] = []
        self.first: Exemplar | None = None
        self.second: Exemplar | None = None
        self.list = _GalleryList()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setDragDropMode(QListView.DragDropMode.DragOnly)
        self.list.setToolTip(
            "Double-click, or drag onto the result: use as the style (Shift+drop: as the second)"
        )
        self.list.itemDoubleClicked.connect(lambda item: self.use(self._chosen(item)))
        self.use_button = QPushButton("Use")
        self.use_button.setToolTip("The selected exemplar becomes the style")
        self.blend_button = QPushButton("Blend with")
        self.blend_button.setToolTip(
            "Add the selected exemplar as a second style; the Mix slider blends them"
        )
        self.clear_button = QPushButton("One style")
        self.clear_button.setToolTip("Drop the second style")
        self.photo_button = QPushButton("Photo…")
        self.photo_button.setToolTip("Use any photo as the style (it is segmented first)")
        self.use_button.clicked.connect(lambda: self.use(self._chosen()))
        self.blend_button.clicked.connect(lambda: self.use(self._chosen(), second=True))
        self.clear_button.clicked.connect(lambda: self.use(None, second=True))
        self.photo_button.clicked.connect(lambda: self.photo_requested.emit(False))
        self.mix = QSlider(Qt.Orientation.Horizontal)
        self.mix.setRange(0, 100)
        self.mix.setValue(50)
        self.mix.setToolTip("How much of the first style shows (100 % = only the first)")
        self.mix.valueChanged.connect(self._mix_changed)
        self.status = QLabel()
        self.status.setWordWrap(True)
        grid = QGridLayout()
        grid.addWidget(self.use_button, 0, 0)
        grid.addWidget(self.blend_button, 0, 1)
        grid.addWidget(self.clear_button, 1, 0)
        grid.addWidget(self.photo_button, 1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        layout.addLayout(grid)
        layout.addWidget(QLabel("Mix"))
        layout.addWidget(self.mix)
        self._show()

    # ---------------------------------------------------------------- state
    @property
    def gamma(self) -> float:
        return self.mix.value() / 100

    def style(self) -> StyleMix | None:
        if self.first is None:
            return None
        return StyleMix(self.first, self.second, self.gamma if self.second is not None else 1.0)

    def set_label_set(self, label_set: LabelSet) -> None:
        """Load the gallery of ``label_set`` and start with its first exemplar (if none is chosen)."""
        self.gallery = load_gallery(self.gallery_folder, label_set)
        self.list.clear()
        for ex in self.gallery:
            self.list.addItem(QListWidgetItem(_thumb(ex.image), ex.name))
        keep = self.first is not None and self.first.labels.max() <= label_set.max_id
        if not keep:
            self.first, self.second = (self.gallery[0] if self.gallery else None), None
        self._show()
        self.style_changed.emit()

    def use(self, exemplar: Exemplar | None, *, second: bool = False) -> None:
        if second:
            self.second = exemplar
        elif exemplar is not None:
            self.first = exemplar
        self._show()
        self.style_changed.emit()

    def by_name(self, name: str) -> Exemplar | None:
        return next((ex for ex in self.gallery if ex.name == name), None)

    def _chosen(self, item: QListWidgetItem | None = None) -> Exemplar | None:
        row = self.list.row(item) if item is not None else self.list.currentRow()
        return self.gallery[row] if 0 <= row < len(self.gallery) else None

    def _mix_changed(self) -> None:
        self._show()
        if self.second is not None:
            self.style_changed.emit()

    def _show(self) -> None:
        if self.first is None:
            self.status.setText("No exemplar: pick one below.")
        elif self.second is None:
            self.status.setText(f"Style: <b>{self.first.name}</b>")
        else:
            pct = self.mix.value()
            self.status.setText(
                f"Style: <b>{self.first.name}</b> {pct} % · <b>{self.second.name}</b> {100 - pct} %"
            )
        self.mix.setEnabled(self.second is not None)
        self.clear_button.setEnabled(self.second is not None)

    # ---------------------------------------------------------------- project files
    def project_parts(self) -> tuple[list[dict[str, Any]], dict[str, bytes], dict[str, Any]]:
        """(references, files, settings) for ``state_of``: the exemplars in full, and the mix."""
        refs, files = [], {}
        for role, ex in zip(ROLES, (self.first, self.second)):
            if ex is None:
                continue
            buf = io.BytesIO()
            Image.fromarray(ex.image).save(buf, format="PNG")
            files[f"{role}.png"] = buf.getvalue()
            files[f"{role}_labels.png"] = pngmaps.encode_ids16(ex.labels.astype(np.uint16), "exemplar labels")
            refs.append(
                {"role": role, "name": ex.name, "file": f"{role}.png", "labels_file": f"{role}_labels.png"}
            )
        return refs, files, {"exemplar_mix": self.gamma}

    @staticmethod
    def decode(refs: list[dict[str, Any]], files: dict[str, bytes], source: Path) -> dict[str, Exemplar]:
        """The exemplars a project names, decoded — or an InputError, before anything changes."""
        chosen: dict[str, Exemplar] = {}
        for ref in refs:
            role, labels_file = ref.get("role"), ref.get("labels_file")
            if role not in ROLES or labels_file not in files or ref.get("file") not in files:
                raise InputError(
                    f"exemplar reference {ref!r} is incomplete", source=source, fix="the file is damaged"
                )
            try:
                with Image.open(io.BytesIO(files[ref["file"]])) as im:
                    image = np.asarray(im.convert("RGB"))
            except (OSError, ValueError, Image.DecompressionBombError) as exc:
                raise InputError(
                    f"exemplar {ref['file']} is not a readable image ({exc})",
                    source=source,
                    fix="the file is damaged",
                ) from None
            labels = pngmaps.decode_ids(files[labels_file], labels_file, source)
            chosen[role] = Exemplar(image, labels.astype(np.uint16), str(ref.get("name", role)))
        return chosen

    def restore(
        self,
        refs: list[dict[str, Any]],
        files: dict[str, bytes],
        settings: dict[str, Any],
        source: Path,
        decoded: dict[str, Exemplar] | None = None,
    ) -> None:
        """Take back what :meth:`project_parts` wrote (a project without exemplars keeps the current ones)."""
        chosen = decoded if decoded is not None else self.decode(refs, files, source)
        if "first" in chosen:
            self.first, self.second = chosen["first"], chosen.get("second")
        mix = settings.get("exemplar_mix")
        if isinstance(mix, (int, float)):
            self.mix.blockSignals(True)
            self.mix.setValue(round(float(mix) * 100))
            self.mix.blockSignals(False)
        self._show()
        self.style_changed.emit()
