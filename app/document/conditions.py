"""ugen's inputs beside the label map: the condition mode, the line drawing, an edited
proxy mask, and a style w taken from a photo.

A ugen model (Chae et al. 2023) turns one condition into a proxy mask — the label map, or
a line drawing through its edges or sketch mapper — and a painter may also edit that mask
directly (the paper's free-form manipulation). The three live here, beside the Document,
and every change is one step on the document's own undo stack, so Ctrl+Z walks back
through label strokes, pen strokes and mask edits in the order they were made.

An edited proxy mask overrides the condition until the painter returns to the map: a
stroke on the layer that drives the image (the label map in labels mode, the drawing in
edges or sketch mode), a mode switch or "Back to the map" drops it, in the same undo step.
While such a stroke is live, the stroke drives the image (:meth:`ConditionLayers.request_proxy`).

A style w (a photo inverted into the generator) stands in for the noise field's z until
the painter re-rolls: a new z asks for a new look, so any change of the noise drops the w
in the same undo step (:meth:`ConditionLayers.restyling`).

Qt-free of widgets (QUndoStack lives in QtGui), like the Document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from app.document.modes import LABELS, LINE_MODES, MODES
from app.document.patches import BBox, MapPatch, union
from engine.errors import InputError


class _LinesCommand(QUndoCommand):
    def __init__(self, layers: ConditionLayers, text: str, patch: MapPatch, applied: bool) -> None:
        super().__init__(text)
        self.layers, self.patch = layers, patch
        self._skip_redo = applied  # a stroke already happened live

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        self.layers._patch_lines(self.patch, forward=True)

    def undo(self) -> None:
        self.layers._patch_lines(self.patch, forward=False)


class _SwapCommand(QUndoCommand):
    """One value of the layers (the proxy mask, the mode or the style w) before and after,
    put back by ``put``: each is small (a proxy mask is r×r, e.g. 64×64 int32 = 16 KB)."""

    def __init__(self, text: str, put: Callable[[Any], None], before: object, after: object) -> None:
        super().__init__(text)
        self.put, self.before, self.after = put, before, after

    def redo(self) -> None:
        self.put(self.after)

    def undo(self) -> None:
        self.put(self.before)


class ConditionLayers(QObject):
    lines_changed = Signal(object)  # BBox of changed line pixels
    proxy_changed = Signal()  # the edited proxy mask changed, appeared or was dropped
    mode_changed = Signal(str)
    style_changed = Signal()  # a style w was set or dropped

    def __init__(self, stack: QUndoStack, size: tuple[int, int], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stack = stack
        self.mode = LABELS
        self.lines = np.zeros(size, bool)  # True = line
        self.proxy: np.ndarray | None = None  # r×r cluster ids the painter edited, else None
        self.style_w: np.ndarray | None = None  # (w_dim,) float32 in place of z, else None
        self._lines_before: np.ndarray | None = None  # a live pen stroke's starting drawing
        self._lines_box: BBox | None = None
        # A live mask stroke's start: the edited mask before it (or None) and the mask it began from.
        self._proxy_before: tuple[np.ndarray | None, np.ndarray] | None = None

    def reset(
        self,
        size: tuple[int, int],
        *,
        mode: str = LABELS,
        lines: np.ndarray | None = None,
        proxy: np.ndarray | None = None,
        style_w: np.ndarray | None = None,
    ) -> None:
        """New content (open, new, resize); the caller clears the undo stack."""
        self._lines_before = self._lines_box = self._proxy_before = None
        self.mode = mode if mode in MODES else LABELS
        self.lines = np.zeros(size, bool) if lines is None else lines.astype(bool)
        self.proxy = None if proxy is None else proxy.astype(np.int32)
        self.style_w = None if style_w is None else np.asarray(style_w, np.float32).copy()

    @property
    def editing(self) -> bool:
        """A pen stroke or a mask stroke is in progress."""
        return self._lines_before is not None or self._proxy_before is not None

    @property
    def drives_lines(self) -> bool:
        return self.mode in LINE_MODES

    def request_proxy(self, labels_editing: bool) -> np.ndarray | None:
        """The edited mask a new image should follow (a copy), or None when the condition
        should: also while a stroke on the driving layer is live, which will drop the mask."""
        live_map = (labels_editing and not self.drives_lines) or (
            self._lines_before is not None and self.drives_lines
        )
        return None if self.proxy is None or live_map else self.proxy.copy()

    # ------------------------------------------------------------------ undo steps
    @contextmanager
    def returning_to_map(self, text: str, layer: str) -> Iterator[None]:
        """Push the commands made inside as one undo step ``text``; when ``layer`` ("labels"
        or "lines") drives the image, an edited proxy mask is dropped in the same step."""
        drives = (layer == LABELS) != self.drives_lines
        if self.proxy is None or not drives:
            yield
            return
        self.stack.beginMacro(text)
        try:
            self.stack.push(_SwapCommand("Back to the map", self._put_proxy, self.proxy, None))
            yield
        finally:
            self.stack.endMacro()

    def set_mode(self, mode: str) -> bool:
        """Which condition drives the image; drops an edited proxy mask (one undo step)."""
        if mode not in MODES:
            raise InputError(f"unknown condition '{mode}'", fix=f"use one of {MODES}")
        if mode == self.mode:
            return False
        text = f"Condition: {mode}"
        self.stack.beginMacro(text)
        if self.proxy is not None:
            self.stack.push(_SwapCommand("Back to the map", self._put_proxy, self.proxy, None))
        self.stack.push(_SwapCommand(text, self._put_mode, self.mode, mode))
        self.stack.endMacro()
        return True

    def forget_model_inputs(self) -> None:
        """Another model: an edited mask and a style w were the last model's cluster ids and
        latent, meaningless to this one. Dropped without an undo step (the model changed,
        not the painting); the condition mode and the drawing stay."""
        self.cancel_proxy()
        if self.proxy is not None:
            self._put_proxy(None)
        if self.style_w is not None:
            self._put_style(None)

    def adopt_mode(self, mode: str) -> None:
        """A mode the model decides, not the painter (it lacks the current one's mapper):
        no undo step, nothing dropped."""
        if mode in MODES and mode != self.mode:
            self._put_mode(mode)

    # ------------------------------------------------------------------ the line drawing
    def begin_lines(self) -> None:
        if self._lines_before is None:
            self._lines_before, self._lines_box = self.lines.copy(), None

    def draw(self, box: BBox, mask: np.ndarray, on: bool) -> None:
        """Set (pen) or clear (eraser) the lines where the local ``mask`` of ``box`` is true."""
        self.begin_lines()
        y0, x0, y1, x1 = box
        self.lines[y0:y1, x0:x1][mask] = on
        self._lines_box = union(self._lines_box, box)
        self.lines_changed.emit(box)

    def end_lines(self, text: str) -> bool:
        """Close a pen stroke as one undo step; False when it changed nothing."""
        before, box = self._lines_before, self._lines_box
        self._lines_before = self._lines_box = None
        if before is None or box is None:
            return False
        patch = MapPatch.between(before, self.lines, box)
        if patch is None:
            return False
        with self.returning_to_map(text, "lines"):
            self.stack.push(_LinesCommand(self, text, patch, applied=True))
        return True

    def cancel_lines(self) -> None:
        before, box = self._lines_before, self._lines_box
        self._lines_before = self._lines_box = None
        if before is not None and box is not None:
            self.lines[...] = before
            self.lines_changed.emit(box)

    def set_lines(self, lines: np.ndarray, text: str) -> bool:
        """Replace the whole drawing (import, from a photo, clear) as one undo step."""
        if lines.shape != self.lines.shape:
            h, w = self.lines.shape
            raise InputError(
                f"the drawing is {lines.shape[1]}×{lines.shape[0]}, the canvas {w}×{h}",
                fix="make the drawing the canvas' size",
            )
        self.cancel_lines()
        patch = MapPatch.between(self.lines, lines.astype(bool))
        if patch is None:
            return False
        with self.returning_to_map(text, "lines"):
            self.stack.push(_LinesCommand(self, text, patch, applied=False))
        return True

    def _patch_lines(self, patch: MapPatch, forward: bool) -> None:
        self.cancel_lines()
        patch.apply(self.lines, forward)
        self.lines_changed.emit(patch.bbox)

    # ------------------------------------------------------------------ the proxy mask
    def begin_proxy(self, base: np.ndarray) -> None:
        """Start a mask stroke from ``base`` (the edited mask, or the one on screen)."""
        if self._proxy_before is None:
            start = np.array(base, dtype=np.int32, copy=True)
            self._proxy_before = (None if self.proxy is None else self.proxy.copy(), start)
            self.proxy = start.copy()

    def paint_proxy(self, box: BBox, mask: np.ndarray, cluster: int) -> None:
        if self.proxy is None:
            return  # no stroke was begun
        y0, x0, y1, x1 = box
        self.proxy[y0:y1, x0:x1][mask] = cluster
        self.proxy_changed.emit()

    def end_proxy(self, text: str) -> bool:
        """Close a mask stroke as one undo step; False when it changed nothing."""
        start, self._proxy_before = self._proxy_before, None
        if start is None or self.proxy is None:
            return False
        before, base = start
        if np.array_equal(base, self.proxy):  # a click with the cluster already there
            self._put_proxy(before)
            return False
        # Pushing redoes the command, which puts the same mask again: harmless.
        self.stack.push(_SwapCommand(text, self._put_proxy, before, self.proxy.copy()))
        return True

    def cancel_proxy(self) -> None:
        start, self._proxy_before = self._proxy_before, None
        if start is not None:
            self._put_proxy(start[0])

    def back_to_map(self) -> bool:
        """Drop the edited proxy mask: the condition drives the image again (one undo step)."""
        self.cancel_proxy()
        if self.proxy is None:
            return False
        self.stack.push(_SwapCommand("Back to the map", self._put_proxy, self.proxy, None))
        return True

    def _put_proxy(self, proxy: np.ndarray | None) -> None:
        self.proxy = None if proxy is None else proxy.copy()
        self.proxy_changed.emit()

    # ------------------------------------------------------------------ the style w
    def set_style_w(self, w: np.ndarray | None, text: str) -> bool:
        """Paint with ``w`` (w_dim,) instead of the noise's z (None: z again), one undo step."""
        if w is None and self.style_w is None:
            return False
        after = None if w is None else np.asarray(w, np.float32).copy()
        self.stack.push(_SwapCommand(text, self._put_style, self.style_w, after))
        return True

    @contextmanager
    def restyling(self, text: str) -> Iterator[None]:
        """Push the noise change made inside as one undo step ``text``, dropping a style w
        in the same step (a new z asks for a new look, which the w would hide)."""
        if self.style_w is None:
            yield
            return
        self.stack.beginMacro(text)
        try:
            self.stack.push(_SwapCommand("Drop the photo's style", self._put_style, self.style_w, None))
            yield
        finally:
            self.stack.endMacro()

    def _put_style(self, w: np.ndarray | None) -> None:
        self.style_w = None if w is None else w.copy()
        self.style_changed.emit()

    def _put_mode(self, mode: str) -> None:
        self.mode = mode
        self.mode_changed.emit(mode)
