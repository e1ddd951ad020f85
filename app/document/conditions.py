"""ugen's inputs beside the label map: the condition mode, the line drawing, the depth map,
an edited proxy mask, and a style w taken from a photo.

A ugen model (Chae et al. 2023) turns one condition into a proxy mask — the label map, a
line drawing through its edges or sketch mapper, or a depth map through its depth mapper —
and a painter may also edit that mask directly (the paper's free-form manipulation). They
live here, beside the Document, and every change is one step on the document's own undo
stack, so Ctrl+Z walks back through label strokes, pen and depth strokes and mask edits in
the order they were made.

The line drawing and the depth map are two *layers* (``lines``: H×W bool, True = line;
``depth``: H×W uint16, 0 = nearest, 65535 = far and sky, the 16-bit file convention of
:mod:`engine.depth_image`, so a project stores it exactly). Both share one stroke,
undo and replace machinery; only what a stroke does to a pixel differs.

An edited proxy mask overrides the condition until the painter returns to the map: a
stroke on the layer that drives the image (the label map in labels mode, the drawing in
edges or sketch mode, the depth map in depth mode), a mode switch or "Back to the map"
drops it, in the same undo step. While such a stroke is live, the stroke drives the image
(:meth:`ConditionLayers.request_proxy`).

A style w (a photo inverted into the generator) stands in for the noise field's z until
the painter re-rolls: a new z asks for a new look, so any change of the noise drops the w
in the same undo step (:meth:`ConditionLayers.restyling`).

Qt-free of widgets (QUndoStack lives in QtGui), like the Document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from app.document.depth_map import as_float, blank_depth, mixed
from app.document.modes import DEPTH_LAYER, LABELS, LINE_MODES, LINES_LAYER, MODES, layer_of
from app.document.patches import BBox, MapPatch, union
from engine.depth_image import depth_to_uint16
from engine.errors import InputError

LAYERS = (LINES_LAYER, DEPTH_LAYER)
LAYER_TITLES = {LINES_LAYER: "drawing", DEPTH_LAYER: "depth map"}


@dataclass
class _Stroke:
    """A live pen or depth stroke: the layer it paints and what it looked like before."""

    layer: str
    before: np.ndarray
    box: BBox | None = None  # what it changed so far
    # Depth only: the strongest cover the brush gave each pixel in this stroke, so a soft
    # edge stays soft however often the stroke passes over it (no build-up).
    cover: np.ndarray | None = None


class _LayerCommand(QUndoCommand):
    def __init__(
        self, layers: ConditionLayers, layer: str, text: str, patch: MapPatch, applied: bool
    ) -> None:
        super().__init__(text)
        self.layers, self.layer, self.patch = layers, layer, patch
        self._skip_redo = applied  # a stroke already happened live

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        self.layers._patch_layer(self.layer, self.patch, forward=True)

    def undo(self) -> None:
        self.layers._patch_layer(self.layer, self.patch, forward=False)


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
    depth_changed = Signal(object)  # BBox of changed depth pixels
    proxy_changed = Signal()  # the edited proxy mask changed, appeared or was dropped
    mode_changed = Signal(str)
    style_changed = Signal()  # a style w was set or dropped

    def __init__(self, stack: QUndoStack, size: tuple[int, int], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stack = stack
        self.mode = LABELS
        self.lines = np.zeros(size, bool)  # True = line
        self.depth = blank_depth(size)  # uint16, 0 = nearest, 65535 = far and sky
        self.proxy: np.ndarray | None = None  # r×r cluster ids the painter edited, else None
        self.style_w: np.ndarray | None = None  # (w_dim,) float32 in place of z, else None
        self._stroke: _Stroke | None = None  # a live pen or depth stroke
        # A live mask stroke's start: the edited mask before it (or None) and the mask it began from.
        self._proxy_before: tuple[np.ndarray | None, np.ndarray] | None = None

    def reset(
        self,
        size: tuple[int, int],
        *,
        mode: str = LABELS,
        lines: np.ndarray | None = None,
        depth: np.ndarray | None = None,
        proxy: np.ndarray | None = None,
        style_w: np.ndarray | None = None,
    ) -> None:
        """New content (open, new, resize); the caller clears the undo stack. ``depth`` is
        uint16 (None: the blank ground plane)."""
        self._stroke = self._proxy_before = None
        self.mode = mode if mode in MODES else LABELS
        self.lines = np.zeros(size, bool) if lines is None else lines.astype(bool)
        self.depth = blank_depth(size) if depth is None else depth.astype(np.uint16)
        self.proxy = None if proxy is None else proxy.astype(np.int32)
        self.style_w = None if style_w is None else np.asarray(style_w, np.float32).copy()

    @property
    def editing(self) -> bool:
        """A pen, depth or mask stroke is in progress."""
        return self._stroke is not None or self._proxy_before is not None

    @property
    def driving_layer(self) -> str:
        """What the mode reads: "labels" (the Document's map), "lines" or "depth"."""
        return layer_of(self.mode)

    @property
    def drives_lines(self) -> bool:
        return self.mode in LINE_MODES

    def layer(self, name: str) -> np.ndarray:
        """The "lines" or "depth" layer itself (edited in place by strokes)."""
        if name not in LAYERS:
            raise ValueError(f"no condition layer {name!r}; the layers are {LAYERS}")
        return self.lines if name == LINES_LAYER else self.depth

    @property
    def depth_is_blank(self) -> bool:
        """The depth map is the blank ground plane (a project need not store it)."""
        return np.array_equal(self.depth, blank_depth(self.depth.shape))

    def depth_map(self) -> np.ndarray:
        """The depth map as a depth mapper reads it: H×W float32 in [0, 1], 0 = nearest."""
        return as_float(self.depth)

    def request_proxy(self, labels_editing: bool) -> np.ndarray | None:
        """The edited mask a new image should follow (a copy), or None when the condition
        should: also while a stroke on the driving layer is live, which will drop the mask."""
        driving = self.driving_layer
        live = self._stroke is not None and self._stroke.layer == driving
        live_map = (labels_editing and driving == LABELS) or live
        return None if self.proxy is None or live_map else self.proxy.copy()

    # ------------------------------------------------------------------ undo steps
    @contextmanager
    def returning_to_map(self, text: str, layer: str) -> Iterator[None]:
        """Push the commands made inside as one undo step ``text``; when ``layer`` ("labels",
        "lines" or "depth") drives the image, an edited proxy mask is dropped in the same step."""
        if self.proxy is None or layer != self.driving_layer:
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
        not the painting); the condition mode, the drawing and the depth map stay."""
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

    # ------------------------------------------------------------------ the drawing and the depth map
    def begin_stroke(self, layer: str) -> None:
        """Start a stroke on ``layer``: the paint calls until :meth:`end_stroke` are one step."""
        self.layer(layer)  # an unknown layer is refused before anything starts
        if self._stroke is not None and self._stroke.layer != layer:
            self.cancel_stroke()  # one stroke at a time; a pointer never paints two layers
        if self._stroke is None:
            self._stroke = _Stroke(layer, self.layer(layer).copy())

    def _painted(self, box: BBox) -> None:
        stroke = self._stroke
        assert stroke is not None
        stroke.box = union(stroke.box, box)
        self._emit(stroke.layer, box)

    def draw(self, box: BBox, mask: np.ndarray, on: bool) -> None:
        """Set (pen) or clear (eraser) the lines where the local ``mask`` of ``box`` is true."""
        self.begin_stroke(LINES_LAYER)
        y0, x0, y1, x1 = box
        self.lines[y0:y1, x0:x1][mask] = on
        self._painted(box)

    def paint_depth(self, box: BBox, cover: np.ndarray, value: int) -> None:
        """Move the depth inside ``box`` toward ``value`` (uint16, 0 = nearest) by ``cover``
        (float32 in [0, 1], shaped like ``box``; 1 = all the way, as a hard brush does)."""
        self.begin_stroke(DEPTH_LAYER)
        stroke = self._stroke
        assert stroke is not None
        if stroke.cover is None:
            stroke.cover = np.zeros(self.depth.shape, np.float32)
        y0, x0, y1, x1 = box
        held = stroke.cover[y0:y1, x0:x1]
        np.maximum(held, cover, out=held)
        self.depth[y0:y1, x0:x1] = mixed(stroke.before[y0:y1, x0:x1], held, value)
        self._painted(box)

    def end_stroke(self, text: str) -> bool:
        """Close a pen or depth stroke as one undo step; False when it changed nothing."""
        stroke, self._stroke = self._stroke, None
        if stroke is None or stroke.box is None:
            return False
        patch = MapPatch.between(stroke.before, self.layer(stroke.layer), stroke.box)
        if patch is None:
            return False
        with self.returning_to_map(text, stroke.layer):
            self.stack.push(_LayerCommand(self, stroke.layer, text, patch, applied=True))
        return True

    def cancel_stroke(self) -> None:
        stroke, self._stroke = self._stroke, None
        if stroke is not None and stroke.box is not None:
            self.layer(stroke.layer)[...] = stroke.before
            self._emit(stroke.layer, stroke.box)

    def set_layer(self, layer: str, values: np.ndarray, text: str) -> bool:
        """Replace the whole drawing or depth map (import, from a photo, clear) as one undo
        step; ``values`` in the layer's own type (bool lines, uint16 depth)."""
        current = self.layer(layer)
        if values.shape != current.shape:
            h, w = current.shape
            what = LAYER_TITLES[layer]
            raise InputError(
                f"the {what} is {values.shape[1]}×{values.shape[0]}, the canvas {w}×{h}",
                fix=f"make the {what} the canvas' size",
            )
        if layer == DEPTH_LAYER and values.dtype != np.uint16:
            raise ValueError(f"a depth map is stored as uint16 (0 = nearest), got {values.dtype}")
        self.cancel_stroke()
        patch = MapPatch.between(current, values.astype(current.dtype, copy=False))
        if patch is None:
            return False
        with self.returning_to_map(text, layer):
            self.stack.push(_LayerCommand(self, layer, text, patch, applied=False))
        return True

    def set_lines(self, lines: np.ndarray, text: str) -> bool:
        return self.set_layer(LINES_LAYER, lines.astype(bool), text)

    def set_depth(self, depth: np.ndarray, text: str) -> bool:
        """The whole depth map from float [0, 1] (0 = nearest), one undo step."""
        return self.set_layer(DEPTH_LAYER, depth_to_uint16(depth), text)

    def _patch_layer(self, layer: str, patch: MapPatch, forward: bool) -> None:
        self.cancel_stroke()
        patch.apply(self.layer(layer), forward)
        self._emit(layer, patch.bbox)

    def _emit(self, layer: str, box: BBox) -> None:
        (self.lines_changed if layer == LINES_LAYER else self.depth_changed).emit(box)

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
