"""ugen's depth map in the studio: the depth canvas, its brush and tool row, the three ways
to fill it — Clear (flat ground under the sky), a depth image, a photo's depth — and the
export of the map as the same kind of depth image.

A ugen model with a depth mapper (trained with ``app-train fit --family ugen --condition
depth``) turns a depth map (0 = nearest, 1 = far and sky) into a proxy mask; the map lives
in the document's condition layers, so every edit is one undo step and projects keep it.
A photo's depth comes from the depth estimator the mapper was trained with (the model's
``depth_net``), run off the GUI thread behind a cancellable progress dialog.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.canvas.depth_canvas import DepthCanvas
from app.document.depth_map import blank_depth
from app.document.io import open_photo
from app.document.modes import DEPTH, DEPTH_LAYER
from app.panels.depth_tools import DepthToolsBar
from app.tools.depth_brush import DEFAULT_DEPTH, DepthBrush
from app.workers.background import Cancelled, run_in_background
from engine.conditions import photo_condition
from engine.depth_image import DEPTH_SCALE, fit_depth, read_depth_image, write_depth_image
from engine.errors import TesseraError
from engine.inference.ugen_synth import UgenSynthesizer

if TYPE_CHECKING:
    from app.main_window import MainWindow

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.webp)"
DEPTH_FILTER = "16-bit PNG (*.png)"
NO_DEPTH = (
    "This model has no depth mapper: train one into it (app-train fit --family ugen "
    "--condition depth --depth-net FOLDER --init-from …) to paint depth"
)


class DepthPage(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.synth: UgenSynthesizer | None = None
        layers = lambda: window.doc.conditions  # noqa: E731  (the document is replaced in place)
        self.brush = DepthBrush(layers)
        self.tools = DepthToolsBar(DEFAULT_DEPTH, self.brush.size)
        self.brush.picked = self.tools.set_depth
        self.tools.depth_changed.connect(lambda depth: setattr(self.brush, "depth", depth))
        self.tools.size_changed.connect(lambda size: setattr(self.brush, "size", size))
        self.tools.soft_toggled.connect(lambda on: setattr(self.brush, "soft", 0.5 if on else 0.0))
        self.tools.clear_requested.connect(self.clear)
        self.tools.import_requested.connect(lambda: self.import_depth())
        self.tools.export_requested.connect(lambda: self.export_depth())
        self.tools.photo_requested.connect(lambda: self.depth_from_photo())

        self.canvas = DepthCanvas(window.view_state)
        self.canvas.handler = self.brush
        self.canvas.set_document(window.doc)
        self.canvas.hovered.connect(self._show_under)
        self.canvas.left.connect(lambda: self.tools.show_under(None))

    def set_model(self, synth: UgenSynthesizer | None) -> None:
        self.synth = synth if synth is not None and DEPTH in synth.conditions else None
        self.tools.photo.setEnabled(self.synth is not None)

    def _show_under(self, y: float, x: float) -> None:
        depth = self.w.doc.conditions.depth
        iy, ix = int(np.floor(y)), int(np.floor(x))
        inside = 0 <= iy < depth.shape[0] and 0 <= ix < depth.shape[1]
        self.tools.show_under(float(depth[iy, ix]) / DEPTH_SCALE if inside else None)

    def _status(self, text: str, ms: int = 5000) -> None:
        self.w.statusBar().showMessage(text, ms)

    # ------------------------------------------------------------------ filling the map
    def clear(self) -> bool:
        """Back to flat ground under the sky (one undo step)."""
        layers = self.w.doc.conditions
        return layers.set_layer(DEPTH_LAYER, blank_depth(layers.depth.shape), "Clear depth")

    def _set_depth(self, depth: np.ndarray, text: str) -> bool:
        layers = self.w.doc.conditions
        try:
            changed = layers.set_depth(depth, text)
        except TesseraError as error:
            QMessageBox.warning(self.w, "Depth map", str(error))
            return False
        if layers.mode != DEPTH:
            self._status("The depth map is kept; switch Condition to Depth to paint with it.")
        return changed

    def import_depth(self, path: Path | None = None) -> bool:
        """A greyscale depth image (16- or 8-bit; black = near) as one undo step; a file that
        cannot be used says why in a dialog and leaves the painting as it was."""
        if path is None:
            name, _ = QFileDialog.getOpenFileName(self.w, "Import depth image", "", IMAGE_FILTER)
            if not name:
                return False
            path = Path(name)
        try:
            depth = fit_depth(read_depth_image(path), self.w.doc.size, path)
        except TesseraError as error:
            QMessageBox.warning(self.w, "Cannot import depth image", str(error))
            return False
        return self._set_depth(depth, f"Import {path.name}")

    def depth_from_photo(self, path: Path | None = None) -> bool:
        """A photo's depth, seen by the model's own depth estimator, as one undo step."""
        synth = self.synth
        if synth is None:
            self._status(NO_DEPTH)
            return False
        if path is None:
            name, _ = QFileDialog.getOpenFileName(self.w, "Depth from photo", "", IMAGE_FILTER)
            if not name:
                return False
            path = Path(name)
        extractor, side = synth.arch.edge_extractor, synth.image_side

        def work() -> np.ndarray:
            # Loading the estimator (first use) and running it both stay off the GUI thread.
            return photo_condition(open_photo(path), DEPTH, extractor, side, synth.depth_estimator())

        try:
            depth = run_in_background(self.w, f"Seeing the depth of {path.name}…", work)
        except Cancelled:
            self._status("Depth from photo cancelled: the depth map is as it was.")
            return False
        except TesseraError as error:
            QMessageBox.warning(self.w, "Depth from photo", str(error))
            return False
        if self.synth is not synth:  # the model changed while the photo was read
            return False
        return self._set_depth(depth, f"Depth of {path.name}")

    # ------------------------------------------------------------------ exporting the map
    def export_depth(self, path: Path | None = None) -> bool:
        """The depth map as a 16-bit greyscale PNG (black = near), value for value what Import
        depth image… reads back. A write that fails says why in a dialog naming the file;
        the map and the undo history are never touched either way."""
        if path is None:
            path = self.w.files.export_path("Export depth image", "-depth.png", DEPTH_FILTER)
            if path is None:
                return False
        try:
            written = write_depth_image(path, self.w.doc.conditions.depth)
        except TesseraError as error:
            QMessageBox.warning(self.w, "Cannot export depth image", str(error))
            return False
        except OSError as error:  # an unwritable folder, a full disk, a folder of that name …
            QMessageBox.warning(
                self.w,
                "Cannot export depth image",
                f"{path}: could not write the depth image ({error})\n"
                "Fix: choose a folder you can write to; the depth map is as it was",
            )
            return False
        self._status(f"Wrote {written}", 4000)
        return True
