"""Style: re-roll, lock, seeds and the variations strip for the selected region."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.canvas.image_view import qimage_of
from engine.noise import MAX_SEED, NoiseField

THUMB = 96


class StylePanel(QWidget):
    variation_chosen = Signal(int)
    seed_edited = Signal(int, int)  # noise region id, new seed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selection_label = QLabel()
        self.selection_label.setWordWrap(True)
        self.reroll_all = QPushButton("Re-roll all")
        self.reroll_selection = QPushButton("Re-roll selection")
        self.lock = QPushButton("Lock")
        self.unlock = QPushButton("Unlock")
        self.variations_button = QPushButton("Variations")
        self.copy_style = QPushButton("Copy style")
        self.copy_style.setToolTip("Remember the look of the selected object or region")
        self.paste_style = QPushButton("Paste style")
        self.paste_style.setToolTip("Give the selection the look copied last")
        self.photo_style = QPushButton("Style from photo…")
        self.photo_style.setToolTip(
            "INADE models: give the selected object the look its class has in a photo (the photo is "
            "segmented, then encoded). OASIS models with a style encoder: give the selection, or the "
            "whole scene, the photo's light and time of day. ugen models: find the photo's look in the "
            "generator (some seconds) and paint the layout with it until the next re-roll"
        )
        self.count = QSpinBox()
        self.count.setRange(2, 12)
        self.count.setValue(6)
        self.count.setToolTip("How many variations to show")
        grid = QGridLayout()
        grid.addWidget(self.reroll_all, 0, 0)
        grid.addWidget(self.reroll_selection, 0, 1)
        grid.addWidget(self.lock, 1, 0)
        grid.addWidget(self.unlock, 1, 1)
        grid.addWidget(self.copy_style, 2, 0)
        grid.addWidget(self.paste_style, 2, 1)
        grid.addWidget(self.photo_style, 3, 0, 1, 2)
        row = QHBoxLayout()
        row.addWidget(self.variations_button, 1)
        row.addWidget(self.count)

        self.strip = QListWidget()
        self.strip.setViewMode(QListView.ViewMode.IconMode)
        self.strip.setFlow(QListView.Flow.LeftToRight)
        self.strip.setWrapping(True)
        self.strip.setResizeMode(QListView.ResizeMode.Adjust)
        self.strip.setIconSize(QSize(THUMB, THUMB))
        self.strip.setMovement(QListView.Movement.Static)
        self.strip.setMinimumHeight(THUMB + 36)
        self.strip.setToolTip("Click a variation to adopt it")
        self.strip.itemClicked.connect(lambda item: self.variation_chosen.emit(self.strip.row(item)))
        # Hidden while empty, so the class palette above gets the room it needs by default.
        self.strip.setVisible(False)

        self.seeds = QTableWidget(0, 2)
        self.seeds.setHorizontalHeaderLabels(["Seed", "Area"])
        self.seeds.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.seeds.verticalHeader().setVisible(False)
        self.seeds.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.seeds.setToolTip("Noise seeds in use; double-click a seed to type your own")
        self.seeds.itemChanged.connect(self._seed_changed)
        # Header and one row at least (a scene has one region until you re-roll parts of it);
        # the default minimum of a table is taller and took the palette's room.
        rows = self.seeds.verticalHeader().defaultSectionSize()
        self.seeds.setMinimumHeight(self.seeds.horizontalHeader().sizeHint().height() + rows + 2)
        self._filling = False
        self._has_selection = False
        self._photo_mode: str | None = None
        self._one_style = ""  # why the per-region controls are off (a model with one global style)
        self._tips = {b: b.toolTip() for b in self._region_buttons()}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.selection_label)
        layout.addLayout(grid)
        layout.addLayout(row)
        layout.addWidget(self.strip, 2)
        layout.addWidget(QLabel("Seeds"))
        layout.addWidget(self.seeds, 1)
        self.set_selection_text("")

    def set_selection_text(self, text: str) -> None:
        self._selection_text = text
        self._has_selection = bool(text)
        self.selection_label.setText(
            f"Selected: <b>{text}</b>" if text else "Nothing selected: click a region with the picker (V)."
        )
        # Variations work without a selection too (of everything not locked).
        for button in self._region_buttons():
            button.setEnabled(self._has_selection and not self._one_style)
            button.setToolTip(self._one_style or self._tips[button])
        self._update_photo_style()

    def _region_buttons(self) -> tuple[QPushButton, ...]:
        """The controls that act on the selected region alone."""
        return (self.reroll_selection, self.lock, self.unlock, self.copy_style, self.paste_style)

    def set_one_style(self, why: str) -> None:
        """``why`` (non-empty): the model has one style for the whole image, so the region
        controls stay off and say so; "" turns them back on."""
        self._one_style = why
        self.set_selection_text(self._selection_text)

    def set_photo_style(self, mode: str | None) -> None:
        """How a photo can lend a style: "instance" (INADE: per object, needs a selection),
        "scene" (OASIS with a style encoder: the selection or everything), or None."""
        self._photo_mode = mode
        self._update_photo_style()

    def _update_photo_style(self) -> None:
        mode = self._photo_mode
        self.photo_style.setEnabled(mode == "scene" or (mode == "instance" and self._has_selection))

    def show_variations(self, images: list[np.ndarray]) -> None:
        self.strip.clear()
        for i, rgb in enumerate(images):
            pix = QPixmap.fromImage(qimage_of(np.ascontiguousarray(rgb)).copy())
            pix = pix.scaled(
                THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            item = QListWidgetItem(QIcon(pix), f"{i + 1}")
            self.strip.addItem(item)
        self.strip.setVisible(bool(images))

    def clear_variations(self) -> None:
        self.strip.clear()
        self.strip.setVisible(False)

    def show_seeds(self, noise: NoiseField) -> None:
        self._filling = True
        _, meta = noise.to_state()
        regions = meta["regions"]
        counts = np.bincount(np.searchsorted(noise.region_ids, noise.region_map).ravel())
        total = noise.height * noise.width
        self.seeds.setRowCount(len(regions))
        for row, (key, entry) in enumerate(sorted(regions.items(), key=lambda kv: int(kv[0]))):
            seed = QTableWidgetItem(str(entry["seed"]) if "seed" in entry else "(vector)")
            seed.setData(Qt.ItemDataRole.UserRole, int(key))
            if "seed" not in entry:
                seed.setFlags(seed.flags() & ~Qt.ItemFlag.ItemIsEditable)
            area = QTableWidgetItem(f"{100 * counts[row] / total:.1f} %")
            area.setFlags(area.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.seeds.setItem(row, 0, seed)
            self.seeds.setItem(row, 1, area)
        self._filling = False

    def _seed_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != 0:
            return
        try:
            seed = int(item.text().strip())
        except ValueError:
            seed = -1
        if not 0 <= seed <= MAX_SEED:
            item.setText("?")  # the next show_seeds() restores the real value
            return
        self.seed_edited.emit(int(item.data(Qt.ItemDataRole.UserRole)), seed)
