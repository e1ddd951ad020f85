"""The depth brush of ugen's depth map: paints one depth (0 = nearest, 1 = far and sky),
one undo step per stroke; Ctrl+click picks the depth under the pointer instead.

A pointer handler for the depth canvas, not a label tool: it edits the document's
condition layers. Unlike the pen's hard lines, depth is continuous, so the brush may have a
soft rim that blends into the depth around it (the depth mapper was trained on the
renderer's smooth depth, where a hill's foot merges into the ground).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter

from app.document.conditions import ConditionLayers
from app.document.modes import DEPTH_LAYER
from app.tools.base import StrokePointer, segment_dist2
from app.tools.brushes import draw_brush_outline
from engine.depth_image import DEPTH_SCALE

# A hill or mountain a little before the horizon (the landscapes renderer's depth of
# things about 8 ground units away): the commonest shape painted on the blank ground plane.
DEFAULT_DEPTH = 0.8


def brush_cover(dist2: np.ndarray, diameter: float, soft: float) -> np.ndarray:
    """How strongly a round brush covers each pixel (float32 in [0, 1]) from its squared
    distance to the stroke: 1 within the hard core, falling smoothly to 0 at the rim over
    the outer ``soft`` share of the radius (0: a hard edge, 1: soft from the centre)."""
    r = max(diameter, 1) / 2
    if soft <= 0:
        return (dist2 <= r * r).astype(np.float32)
    core = r * (1 - soft)
    t = np.clip((r - np.sqrt(dist2)) / (r - core), 0, 1)
    return (t * t * (3 - 2 * t)).astype(np.float32)  # smoothstep: no visible ring at the core's edge


class DepthBrush(StrokePointer):
    def __init__(
        self,
        layers: Callable[[], ConditionLayers],
        picked: Callable[[float], None] = lambda depth: None,  # Ctrl+click: the depth found
        size: int = 16,
    ) -> None:
        self.layers, self.picked = layers, picked
        self.depth = DEFAULT_DEPTH  # what the brush paints: 0 = nearest, 1 = far and sky
        self.size = size
        self.soft = 0.5  # the share of the radius over which the rim fades

    def press(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            self.pick(y, x)
            return
        super().press(y, x, modifiers)

    def pick(self, y: float, x: float) -> float | None:
        """Take the depth under (y, x) as the brush's depth (no undo step: nothing painted)."""
        depth = self.layers().depth
        iy, ix = int(np.floor(y)), int(np.floor(x))
        if not (0 <= iy < depth.shape[0] and 0 <= ix < depth.shape[1]):
            return None
        self.depth = float(depth[iy, ix]) / DEPTH_SCALE
        self.picked(self.depth)
        return self.depth

    def begin(self, modifiers: Qt.KeyboardModifier) -> bool:
        self.layers().begin_stroke(DEPTH_LAYER)
        return True

    def end(self) -> None:
        self.layers().end_stroke(f"Paint depth {round(self.depth * 100)}%")

    def abort(self) -> None:
        self.layers().cancel_stroke()

    def cursor_radius(self) -> float:
        return self.size / 2

    def paint_overlay(self, painter: QPainter, view: object) -> None:
        draw_brush_outline(painter, view, self.cursor_radius())

    def stamp(self, p0: tuple[float, float], p1: tuple[float, float]) -> None:
        layers = self.layers()
        reach = segment_dist2(layers.depth.shape, p0, p1, self.size)
        if reach is None:
            return
        box, dist2 = reach
        cover = brush_cover(dist2, self.size, self.soft)
        if cover.any():
            layers.paint_depth(box, cover, round(self.depth * DEPTH_SCALE))
