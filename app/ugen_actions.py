"""ugen in the studio: the condition switch, the line drawing, the depth map and the proxy mask.

A ugen model (Chae et al. 2023) turns a condition — the label map, a line drawing read by
its edges or sketch mapper, or a depth map read by its depth mapper — into a proxy mask,
and renders the mask with z's look. The centre of the window holds three tabs: the label
map; the condition drawn on a layer of its own — the line drawing (pen, eraser, import,
edges or sketch from a photo) or the depth map (:mod:`app.ugen_depth`), whichever the mode
reads; and the proxy mask of the image on screen, which the painter can edit cluster by
cluster. The toolbar's Condition box says which condition drives the image; it lists only
the modes the model has mappers for. Every edit is one undo step on the document's stack
(:mod:`app.document.conditions`). For other families the ugen tabs and the switch are off
and say why.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.canvas.line_canvas import LineCanvas
from app.canvas.proxy_view import ProxyView
from app.document.io import open_photo
from app.document.modes import DEPTH, IMAGE_MODES, LABELS, LINE_MODES, MODES
from app.panels.line_tools import LineToolsBar
from app.panels.proxy_palette import ProxyPalette
from app.tools.line_pen import LinePen
from app.tools.proxy_brush import ProxyBrush
from app.ugen_depth import DepthPage
from app.workers.background import Cancelled, run_in_background
from engine.conditions import photo_condition
from engine.errors import TesseraError
from engine.inference.ugen_synth import UgenSynthesizer
from engine.line_image import fit_lines, read_line_image

if TYPE_CHECKING:
    from app.main_window import MainWindow
    from app.synthesis_controller import AnySynthesizer

LABEL_TAB, LINES_TAB, PROXY_TAB = 0, 1, 2  # LINES_TAB holds the line drawing or the depth map
TITLES = {"labels": "Labels", "edges": "Edges", "sketch": "Sketch", "depth": "Depth"}
DRIVER = {"labels": "label map", "edges": "edge drawing", "sketch": "sketch", "depth": "depth map"}
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.webp)"
NOT_UGEN = (
    "Line drawings, depth maps and proxy masks belong to ugen models (semantic image synthesis "
    "with an unconditional generator): pick one in the Model panel"
)
NO_LINES = (
    "This ugen model has no edges, sketch or depth mapper: train one into it "
    "(app-train fit --family ugen --condition edges|depth --init-from …) to draw lines or depth"
)


def _page(*widgets: QWidget) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    for widget in widgets:
        layout.addWidget(widget, 1 if widgets.index(widget) == len(widgets) - 1 else 0)
    return page


class UgenActions(QObject):
    def __init__(self, window: MainWindow, toolbar: QToolBar) -> None:
        super().__init__(window)
        self.w = window
        self.synth: UgenSynthesizer | None = None
        layers = lambda: window.doc.conditions  # noqa: E731  (the document is replaced in place)
        self.pen = LinePen(layers)
        self.brush = ProxyBrush(layers, lambda: window.synthesis.proxy, self._side, self._status)

        self.line_canvas = LineCanvas(window.view_state)
        self.line_canvas.handler = self.pen
        self.line_canvas.set_document(window.doc)
        self.line_tools = LineToolsBar()
        self.line_tools.eraser_toggled.connect(lambda on: setattr(self.pen, "erase", on))
        self.line_tools.size_changed.connect(lambda size: setattr(self.pen, "size", size))
        self.line_tools.clear_requested.connect(self.clear_lines)
        self.line_tools.import_requested.connect(lambda: self.import_lines())
        self.line_tools.photo_requested.connect(lambda: self.lines_from_photo())
        self.depth = DepthPage(window)

        # The second tab shows the layer the mode reads: the line drawing or the depth map.
        self.drawing = QStackedWidget()
        self.line_page = _page(self.line_tools, self.line_canvas)
        self.depth_page = _page(self.depth.tools, self.depth.canvas)
        self.drawing.addWidget(self.line_page)
        self.drawing.addWidget(self.depth_page)

        self.proxy_view = ProxyView(window.view_state)
        self.proxy_view.handler = self.brush
        self.palette = ProxyPalette()
        self.palette.cluster_chosen.connect(lambda k: setattr(self.brush, "cluster", k))
        self.palette.size_changed.connect(lambda size: setattr(self.brush, "size", size))
        self.palette.back_requested.connect(self.back_to_map)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(window.canvas, "Label map")
        self.tabs.addTab(self.drawing, "Lines")
        self.tabs.addTab(_page(self.palette, self.proxy_view), "Proxy mask")
        self.tabs.currentChanged.connect(self._tab_changed)

        self.mode = QComboBox()
        self.mode.activated.connect(lambda i: self.set_mode(str(self.mode.itemData(i))))
        toolbar.addSeparator()
        self.mode_label = QLabel(" Condition ")
        toolbar.addWidget(self.mode_label)
        toolbar.addWidget(self.mode)

        doc = window.doc
        doc.conditions.mode_changed.connect(self._show_mode)
        doc.conditions.proxy_changed.connect(self.show_proxy)
        doc.reset.connect(self._doc_reset)
        window.synthesis.proxy_ready.connect(lambda _: self.show_proxy())
        window.synthesis.image_ready.connect(lambda image, *_: self.line_canvas.set_output(image))
        self.model_changed(None)

    def _tab_changed(self, index: int) -> None:
        self.w.fit_views()
        synthesis = self.w.synthesis
        synthesis.want_swatches = index == PROXY_TAB
        if synthesis.want_swatches and synthesis.swatches is None and self.synth is not None:
            synthesis.schedule(0)  # a model without stored swatches measures them now, once

    # ------------------------------------------------------------------ following the model
    def _side(self) -> int:
        return self.synth.image_side if self.synth is not None else max(self.w.doc.size)

    def _status(self, text: str, ms: int = 5000) -> None:
        self.w.statusBar().showMessage(text, ms)

    @property
    def modes(self) -> tuple[str, ...]:
        """The conditions the model reads that the studio can paint, in the switch's order."""
        return tuple(m for m in self.synth.conditions if m in MODES) if self.synth is not None else ()

    def model_changed(self, synth: AnySynthesizer | None) -> None:
        """The switch lists the model's modes; the ugen tabs work for ugen only, else say why."""
        self.synth = synth if isinstance(synth, UgenSynthesizer) else None
        self.depth.set_model(self.synth)
        modes, on = self.modes, self.synth is not None
        drawn = any(m in IMAGE_MODES for m in modes)
        self.mode.blockSignals(True)
        self.mode.clear()
        for mode in modes or (LABELS,):
            self.mode.addItem(TITLES[mode], mode)
        self.mode.blockSignals(False)
        self.mode.setEnabled(len(modes) > 1)
        tip = "What drives the image: the label map, a line drawing or a depth map (the model's mappers)"
        self.mode.setToolTip(tip if len(modes) > 1 else NO_LINES if on else NOT_UGEN)
        self.mode_label.setToolTip(self.mode.toolTip())
        self.tabs.setTabEnabled(LINES_TAB, drawn)
        self.tabs.setTabToolTip(LINES_TAB, "" if drawn else NO_LINES if on else NOT_UGEN)
        self.tabs.setTabEnabled(PROXY_TAB, on)
        self.tabs.setTabToolTip(
            PROXY_TAB, "The proxy mask of the image: see and edit the layout ugen renders" if on else NOT_UGEN
        )
        conditions = self.w.doc.conditions
        conditions.forget_model_inputs()
        if on and modes and conditions.mode not in modes:
            conditions.adopt_mode(modes[0])
        elif not on:
            self.tabs.setCurrentIndex(LABEL_TAB)
        self._show_mode(conditions.mode)
        self.show_proxy()

    def _doc_reset(self) -> None:
        self._show_mode(self.w.doc.conditions.mode)
        self.show_proxy()

    def cancel_strokes(self) -> None:
        """Escape: drop a pen, depth or proxy-mask stroke in progress (no undo step)."""
        for handler in (self.pen, self.depth.brush, self.brush):
            handler.cancel()

    # ------------------------------------------------------------------ the condition
    def set_mode(self, mode: str) -> bool:
        """Let ``mode`` drive the image (one undo step); its page comes to the front."""
        if mode not in self.modes:
            return False
        changed = self.w.doc.conditions.set_mode(mode)
        self._show_mode(mode)
        return changed

    def _show_mode(self, mode: str) -> None:
        index = self.mode.findData(mode)
        if index >= 0:
            self.mode.setCurrentIndex(index)
        drawing = mode in IMAGE_MODES
        # In labels mode the tab keeps a page the model can use: lines first, else depth.
        lines = mode in LINE_MODES or (not drawing and any(m in LINE_MODES for m in self.modes))
        depth = mode == DEPTH or (not drawing and not lines and DEPTH in self.modes)
        self.drawing.setCurrentWidget(self.depth_page if depth else self.line_page)
        self.tabs.setTabText(LINES_TAB, TITLES[mode] if drawing else "Depth" if depth else "Lines")
        self.line_tools.set_mode(mode)
        if self.synth is not None and self.tabs.currentIndex() != PROXY_TAB:
            self.tabs.setCurrentIndex(LINES_TAB if drawing else LABEL_TAB)
        self.show_proxy()

    # ------------------------------------------------------------------ the line drawing
    def clear_lines(self) -> bool:
        layers = self.w.doc.conditions
        return layers.set_lines(np.zeros_like(layers.lines), "Clear lines")

    def _set_lines(self, lines: np.ndarray, text: str) -> bool:
        try:
            changed = self.w.doc.conditions.set_lines(lines, text)
        except TesseraError as error:
            QMessageBox.warning(self.w, "Line drawing", str(error))
            return False
        if not self.w.doc.conditions.drives_lines:
            self._status("The drawing is kept; switch Condition to Edges or Sketch to paint with it.")
        return changed

    def import_lines(self, path: Path | None = None) -> bool:
        """A drawing from an image file (black on white or white on black) as one undo step;
        a file that cannot be read says why in a dialog and leaves the painting as it was."""
        if path is None:
            name, _ = QFileDialog.getOpenFileName(self.w, "Import line image", "", IMAGE_FILTER)
            if not name:
                return False
            path = Path(name)
        try:
            lines = fit_lines(read_line_image(path), self.w.doc.size, path)
        except TesseraError as error:
            QMessageBox.warning(self.w, "Cannot import line image", str(error))
            return False
        return self._set_lines(lines, f"Import {path.name}")

    def lines_from_photo(self, path: Path | None = None) -> bool:
        """Draw a photo's edges (with the extractor the model's edges mapper was trained
        with) or its sketch, by the current mode, as one undo step."""
        synth = self.synth
        lines_modes = [m for m in self.modes if m in LINE_MODES]
        if synth is None or not lines_modes:
            self._status(NOT_UGEN if synth is None else NO_LINES)
            return False
        mode = self.w.doc.conditions.mode if self.w.doc.conditions.drives_lines else lines_modes[0]
        if path is None:
            name, _ = QFileDialog.getOpenFileName(self.w, f"{TITLES[mode]} from photo", "", IMAGE_FILTER)
            if not name:
                return False
            path = Path(name)
        extractor, side = synth.arch.edge_extractor, synth.image_side

        def work() -> np.ndarray:
            return photo_condition(open_photo(path), mode, extractor, side)

        try:
            lines = run_in_background(self.w, f"Drawing the {mode} of {path.name}…", work)
        except Cancelled:
            return False
        except TesseraError as error:
            QMessageBox.warning(self.w, f"{TITLES[mode]} from photo", str(error))
            return False
        if self.synth is not synth:  # the model changed while the photo was read
            return False
        return self._set_lines(lines, f"{TITLES[mode]} of {path.name}")

    # ------------------------------------------------------------------ the proxy mask
    def show_proxy(self) -> None:
        """The edited mask if there is one, else the mask of the image on screen."""
        synth, layers = self.synth, self.w.doc.conditions
        if synth is None:
            self.proxy_view.show_mask(None, None, 0, False)
            return
        edited = layers.proxy is not None
        proxy = layers.proxy if edited else self.w.synthesis.proxy
        swatches = self.w.synthesis.swatches
        self.palette.set_swatches(swatches)
        self.proxy_view.show_mask(proxy, swatches, synth.image_side, edited)
        self.palette.set_state(edited, DRIVER.get(layers.mode, "label map"))
        self.tabs.setTabText(PROXY_TAB, "Proxy mask (edited)" if edited else "Proxy mask")

    def back_to_map(self) -> bool:
        """Drop the edited mask: the condition drives the image again (one undo step)."""
        return self.w.doc.conditions.back_to_map()
