"""Tool options: brush size, the eraser's class, and what the canvas shows."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QSlider, QSpinBox, QWidget

from app.panels.palette import swatch
from engine.labels import LabelSet

MAX_BRUSH = 256


class ToolOptionsPanel(QWidget):
    size_changed = Signal(int)
    eraser_changed = Signal(int)
    underlay_changed = Signal(float)  # photo underlay opacity 0..1
    output_overlay_changed = Signal(float)  # generated image through the labels 0..1
    instances_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(1, MAX_BRUSH)
        self.size_spin = QSpinBox()
        self.size_spin.setRange(1, MAX_BRUSH)
        self.size_spin.setSuffix(" px")
        self.size_slider.valueChanged.connect(self.size_spin.setValue)
        self.size_spin.valueChanged.connect(self.size_slider.setValue)
        self.size_spin.valueChanged.connect(self.size_changed)
        size_row = QHBoxLayout()
        size_row.addWidget(self.size_slider, 1)
        size_row.addWidget(self.size_spin)

        self.eraser = QComboBox()
        self.eraser.currentIndexChanged.connect(
            lambda i: self.eraser_changed.emit(int(self.eraser.itemData(i))) if i >= 0 else None
        )
        self.underlay = QSlider(Qt.Orientation.Horizontal)
        self.underlay.setRange(0, 100)
        self.underlay.setValue(35)
        self.underlay.setToolTip("How much of an opened photo shows under the labels")
        self.underlay.valueChanged.connect(lambda v: self.underlay_changed.emit(v / 100))
        self.overlay = QSlider(Qt.Orientation.Horizontal)
        self.overlay.setRange(0, 100)
        self.overlay.setToolTip("Show the generated image through the labels, to paint over the result")
        self.overlay.valueChanged.connect(lambda v: self.output_overlay_changed.emit(v / 100))
        self.instances = QCheckBox("Show object outlines")
        self.instances.setToolTip("Outline each instance (object) of thing classes")
        self.instances.toggled.connect(self.instances_toggled)

        form = QFormLayout(self)
        form.addRow("Size", size_row)
        form.addRow("Eraser paints", self.eraser)
        form.addRow("Photo underlay", self.underlay)
        form.addRow("Result overlay", self.overlay)
        form.addRow(self.instances)

    def set_size(self, size: int) -> None:
        self.size_spin.setValue(max(1, min(MAX_BRUSH, size)))

    def size(self) -> int:
        return self.size_spin.value()

    def set_label_set(self, label_set: LabelSet, eraser: int | None = None) -> None:
        self.eraser.blockSignals(True)
        self.eraser.clear()
        for cls in label_set:
            self.eraser.addItem(swatch(cls.color, 14), cls.name, cls.id)
        self.eraser.blockSignals(False)
        index = self.eraser.findData(eraser) if eraser is not None else 0
        self.eraser.setCurrentIndex(max(index, 0))
        self.eraser_changed.emit(int(self.eraser.currentData()))
