"""What every tool shares: the context it paints with, and the press → move → release contract."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter

from app.document.document import Document
from app.document.patches import BBox, clip


@dataclass
class ToolContext:
    """Shared by all tools; the window keeps it up to date and listens through the callbacks."""

    document: Callable[[], Document]
    class_id: int
    brush_size: int = 16
    eraser_class: int | None = None  # None: the label set's first class
    pick_class: Callable[[int], None] = lambda class_id: None
    select: Callable[[np.ndarray | None, str], None] = lambda mask, text: None
    status: Callable[[str], None] = lambda text: None
    # Whether the model styles each instance (INADE): then a class's pixels outside any
    # object are one "stuff" instance, and the picker selects all of them.
    per_instance: Callable[[], bool] = lambda: False
    # The region picker's pixel (None: clicked outside): RESAIL shows that region's matches.
    picked: Callable[[tuple[int, int] | None], None] = lambda at: None
    # Kept so the tool options panel can show what the current tool uses.
    extras: dict = field(default_factory=dict)

    @property
    def doc(self) -> Document:
        return self.document()

    def instance_for(self, class_id: int, y: int | None = None, x: int | None = None) -> int:
        """Stuff gets instance 0; a thing continues the instance under (y, x) or starts a new one."""
        doc = self.doc
        if not doc.label_set.by_id(class_id).thing:
            return 0
        if y is not None and x is not None and int(doc.labels[y, x]) == class_id:
            current = int(doc.instances[y, x])
            if current:
                return current
        return doc.scene.new_instance_id()


class Tool:
    """A tool gets image coordinates (floats) from the label canvas."""

    name = "tool"
    title = "Tool"
    shortcut = ""
    icon = "fa5s.question"
    tip = ""
    uses_size = False

    def __init__(self, ctx: ToolContext) -> None:
        self.ctx = ctx

    def press(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None: ...

    def move(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None: ...

    def release(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None: ...

    def cancel(self) -> None:
        """Escape: drop whatever is in progress."""

    def paint_overlay(self, painter: QPainter, view: object) -> None:
        """Draw feedback (outline, path in progress) over the canvas."""

    def cursor_radius(self) -> float:
        return self.ctx.brush_size / 2 if self.uses_size else 0.0

    # helpers ---------------------------------------------------------------
    def inside(self, y: float, x: float) -> tuple[int, int] | None:
        h, w = self.ctx.doc.size
        iy, ix = int(np.floor(y)), int(np.floor(x))
        return (iy, ix) if 0 <= iy < h and 0 <= ix < w else None


def segment_dist2(
    size: tuple[int, int], p0: tuple[float, float], p1: tuple[float, float], diameter: float
) -> tuple[BBox, np.ndarray] | None:
    """The box of pixels a round brush of ``diameter`` dragged from p0 to p1 (both (y, x))
    can reach, and the squared distance of each pixel centre in it to the segment (local,
    float32); None when the box lies off the canvas."""
    h, w = size
    r = max(diameter, 1) / 2
    (ya, xa), (yb, xb) = p0, p1
    box = clip(
        (
            # pixel i is reachable when its centre i + 0.5 is within r of the extent
            int(np.ceil(min(ya, yb) - r - 0.5)),
            int(np.ceil(min(xa, xb) - r - 0.5)),
            int(np.floor(max(ya, yb) + r - 0.5)) + 1,
            int(np.floor(max(xa, xb) + r - 0.5)) + 1,
        ),
        h,
        w,
    )
    if box is None:
        return None
    y0, x0, y1, x1 = box
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] + 0.5
    dy, dx = yb - ya, xb - xa
    length2 = dy * dy + dx * dx
    # Position of each pixel centre's projection along the segment, clamped to its ends.
    t = (
        np.zeros((1, 1), np.float32)
        if length2 == 0
        else np.clip(((ys - ya) * dy + (xs - xa) * dx) / length2, 0, 1)
    )
    dist2 = (ys - (ya + t * dy)) ** 2 + (xs - (xa + t * dx)) ** 2
    return box, dist2.astype(np.float32, copy=False)


def stamp_segment(
    size: tuple[int, int], p0: tuple[float, float], p1: tuple[float, float], diameter: int
) -> tuple[BBox, np.ndarray] | None:
    """A hard-edged round brush dragged from p0 to p1 (both (y, x)): (box, local mask) or None.

    Label maps must stay crisp (one class per pixel), so no antialiasing: a pixel is in
    when its centre lies within diameter/2 of the segment — a capsule, exact at any size
    (OpenCV's thick lines round their width differently for short segments).
    """
    reach = segment_dist2(size, p0, p1, diameter)
    if reach is None:
        return None
    box, dist2 = reach
    y0, x0, y1, x1 = box
    r = max(diameter, 1) / 2
    mask = dist2 <= r * r
    if diameter <= 1 and not mask.any():  # a 1-px brush always marks the pixel it is on
        iy, ix = int(np.floor(p1[0])), int(np.floor(p1[1]))
        if y0 <= iy < y1 and x0 <= ix < x1:
            mask[iy - y0, ix - x0] = True
    return box, mask


class StrokePointer:
    """The bookkeeping of a stroke that is one undo step (press, drag, release or cancel),
    for pointer handlers outside the label tools. Subclasses say how a stroke starts
    (:meth:`begin`, False: none now), where a pointer lands (:meth:`at`), what one
    segment does (:meth:`stamp`) and how the stroke ends or is abandoned."""

    _last: tuple[float, float] | None = None  # the stroke's latest point; None: no stroke

    def begin(self, modifiers: Qt.KeyboardModifier) -> bool:
        return True

    def at(self, y: float, x: float) -> tuple[float, float]:
        return y, x

    def stamp(self, p0: tuple[float, float], p1: tuple[float, float]) -> None:
        raise NotImplementedError

    def end(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def press(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        if not self.begin(modifiers):
            return
        self._last = self.at(y, x)  # after begin: where a point lands may depend on it
        self.stamp(self._last, self._last)

    def move(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        if self._last is not None:
            point = self.at(y, x)
            self.stamp(self._last, point)
            self._last = point

    def release(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        if self._last is not None:
            self._last = None
            self.end()

    def cancel(self) -> None:
        if self._last is not None:
            self._last = None
            self.abort()
