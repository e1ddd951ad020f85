"""The depth map's tool row: the brush's depth between near and far, its size and soft rim,
clear, import or export a depth image, take a photo's depth; and the depth under the pointer."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox, QWidget

from engine.depth_image import NEAR_FAR

MAX_BRUSH = 128
PERCENT = 100  # the slider's steps: a depth in whole percent is as fine as a brush needs


class DepthToolsBar(QWidget):
    depth_changed = Signal(float)  # 0 = nearest, 1 = far and sky
    size_changed = Signal(int)
    soft_toggled = Signal(bool)
    clear_requested = Signal()
    import_requested = Signal()
    export_requested = Signal()
    photo_requested = Signal()

    def __init__(self, depth: float, size: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        tip = f"The depth the brush paints: {NEAR_FAR}. Ctrl+click the map to pick a depth."
        self.near, self.far = QLabel("Near (black)"), QLabel("Far (white)")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, PERCENT)
        self.slider.setMinimumWidth(120)
        self.value = QSpinBox()
        self.value.setRange(0, PERCENT)
        self.value.setSuffix(" %")
        self.swatch = QLabel()
        self.swatch.setFixedSize(18, 18)
        for widget in (self.near, self.far, self.slider, self.value, self.swatch):
            widget.setToolTip(tip)
        self.slider.valueChanged.connect(self.value.setValue)
        self.value.valueChanged.connect(self.slider.setValue)
        self.value.valueChanged.connect(self._value_changed)
        self.size = QSpinBox()
        self.size.setRange(2, MAX_BRUSH)
        self.size.setValue(size)
        self.size.setSuffix(" px")
        self.size.setToolTip("Brush size")
        self.size.valueChanged.connect(self.size_changed)
        self.soft = QCheckBox("Soft edge")
        self.soft.setChecked(True)
        self.soft.setToolTip(
            "Blend the brush's rim into the depth around it, as a hill's foot meets the ground"
        )
        self.soft.toggled.connect(self.soft_toggled)
        self.clear = QPushButton("Clear")
        self.clear.setToolTip(
            "Start again from flat ground under the sky: near at the bottom, far at the horizon "
            "(one undo step)"
        )
        self.clear.clicked.connect(self.clear_requested)
        self.import_button = QPushButton("Import depth image…")
        self.import_button.setToolTip(f"A greyscale PNG of the canvas' shape, 16- or 8-bit: {NEAR_FAR}")
        self.import_button.clicked.connect(self.import_requested)
        self.export_button = QPushButton("Export depth image…")
        self.export_button.setToolTip(
            f"Save the depth map as a 16-bit greyscale PNG, {NEAR_FAR}: Import depth image… "
            "reads it back exactly"
        )
        self.export_button.clicked.connect(self.export_requested)
        self.photo = QPushButton("Depth from photo…")
        self.photo.setToolTip(
            "The depth of a photo (its centred square, at the model's size) seen by the depth "
            "estimator the model's depth mapper was trained with"
        )
        self.photo.clicked.connect(self.photo_requested)
        self.under = QLabel()
        self.under.setMinimumWidth(90)
        self.under.setToolTip("The depth under the pointer")
        self.set_depth(depth)

        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        for widget in (self.near, self.slider, self.far, self.value, self.swatch, self.size, self.soft):
            row.addWidget(widget)
        for widget in (self.clear, self.import_button, self.export_button, self.photo, self.under):
            row.addWidget(widget)
        row.addStretch(1)

    @property
    def depth(self) -> float:
        return self.value.value() / PERCENT

    def set_depth(self, depth: float) -> None:
        """Show ``depth`` (0–1), e.g. one picked from the map; emits depth_changed if it moved."""
        self.value.setValue(round(min(max(depth, 0.0), 1.0) * PERCENT))
        self._show_swatch()

    def _value_changed(self, percent: int) -> None:
        self._show_swatch()
        self.depth_changed.emit(percent / PERCENT)

    def _show_swatch(self) -> None:
        grey = round(self.depth * 255)
        self.swatch.setStyleSheet(f"background: rgb({grey}, {grey}, {grey}); border: 1px solid #888;")

    def show_under(self, depth: float | None) -> None:
        self.under.setText("" if depth is None else f"here: {round(depth * 100)} %")
