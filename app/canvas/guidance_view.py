"""The guidance view: the image RESAIL composed from retrieved segments, each region
outlined and marked with a thumbnail of the database segment that guides it.

It shares zoom and pan with the canvas and the result (one ViewState), so a region sits at
the same place in all three. Clicking a region picks it, as the region picker does on the
canvas. Rendering only: what it shows comes in as a RetrievalState.
"""

from __future__ import annotations

import cv2
import numpy as np
import qtawesome as qta
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

from app.actions import ICON_COLOR
from app.canvas.image_view import ImageView
from app.canvas.view_state import ViewState
from engine.retrieval import Patch, RetrievalState, SegmentDatabase

THUMB = 30  # screen pixels: the longer side of a region's source thumbnail
PICKED = QColor(255, 210, 40)


def segment_thumbnail(db: SegmentDatabase, row: int | Patch, side: int) -> QImage:
    """Database segment ``row`` (or a photo's patch) as RGBA, transparent outside its mask,
    longer side ``side``."""
    rgb, mask = (row.rgb, row.mask) if isinstance(row, Patch) else db.crop(row)
    h, w = mask.shape
    scale = side / max(h, w)
    size = (max(round(w * scale), 1), max(round(h * scale), 1))
    rgba = np.dstack((rgb, mask.astype(np.uint8) * 255))
    small = cv2.resize(rgba, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST)
    small = np.ascontiguousarray(small)
    image = QImage(
        small.data, small.shape[1], small.shape[0], 4 * small.shape[1], QImage.Format.Format_RGBA8888
    )
    return image.copy()  # owns its pixels: the array may go


def _outline(mask: np.ndarray, y0: int, x0: int) -> QPainterPath:
    path = QPainterPath()
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    for contour in contours:
        pts = contour[:, 0, :]
        path.moveTo(float(x0 + pts[0, 0]), float(y0 + pts[0, 1]))
        for x, y in pts[1:]:
            path.lineTo(float(x0 + x), float(y0 + y))
        path.closeSubpath()
    return path


class _Clicks:
    """A pointer handler for ImageView: a left click picks the region under it."""

    def __init__(self, view: GuidanceView) -> None:
        self.view = view

    def press(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        self.view.region_clicked.emit(int(y), int(x))

    def move(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        pass

    def release(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        pass


class GuidanceView(ImageView):
    region_clicked = Signal(int, int)  # image (y, x) of a left click

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent, smooth=False)
        self.placeholder = "The guidance image of a RESAIL model appears here."
        self.db: SegmentDatabase | None = None
        self.retrieval: RetrievalState | None = None
        self.picked: int | None = None  # segment index to highlight
        self._outlines: list[QPainterPath] = []
        self._thumbs: dict[int, QImage] = {}  # database row → thumbnail
        self._patch_thumbs: dict[int, tuple[Patch, QImage]] = {}  # id(patch) → (patch, thumbnail)
        self._pin = qta.icon("fa5s.thumbtack", color=ICON_COLOR).pixmap(14, 14)
        self.handler = _Clicks(self)
        self.overlays = [self._paint_outlines, self._paint_thumbnails]

    def set_database(self, db: SegmentDatabase | None) -> None:
        self.db, self._thumbs = db, {}
        self.show_state(None)

    def show_state(self, state: RetrievalState | None, picked: int | None = None) -> None:
        """Show ``state``'s guidance image (None: nothing), highlighting segment ``picked``."""
        if state is not self.retrieval:
            self.retrieval = state
            live = {id(p) for p in state.patches if p is not None} if state is not None else set()
            self._patch_thumbs = {k: v for k, v in self._patch_thumbs.items() if k in live}
            self._outlines = [] if state is None else [_outline(s.mask, *s.box[:2]) for s in state.segments]
            guidance = None if state is None else state.guidance
            self.set_rgb(None if guidance is None else guidance.image)
        self.picked = picked
        self.update()

    def thumbnail(self, row: int | Patch) -> QImage | None:
        if self.db is None:
            return None
        if isinstance(row, Patch):  # keyed by identity, holding the patch so the id stays its own
            if id(row) not in self._patch_thumbs:
                self._patch_thumbs[id(row)] = (row, segment_thumbnail(self.db, row, THUMB))
            return self._patch_thumbs[id(row)][1]
        if row not in self._thumbs:
            self._thumbs[row] = segment_thumbnail(self.db, row, THUMB)
        return self._thumbs[row]

    def thumbnail_rects(self) -> list[tuple[int, int | Patch, QRectF]]:
        """(segment index, database row or photo patch, screen rectangle) of every thumbnail
        drawn: at the top-left of the region's box, shrunk to fit a small region."""
        state, out = self.retrieval, []
        if state is None or self.db is None:
            return out
        for i, (segment, row, patch) in enumerate(zip(state.segments, state.rows, state.patches)):
            source = patch if patch is not None else row
            thumb = self.thumbnail(source) if source is not None else None
            if thumb is None or source is None:
                continue
            y0, x0, y1, x1 = segment.box
            corner, end = self.to_screen(QPointF(x0, y0)), self.to_screen(QPointF(x1, y1))
            room = min(end.x() - corner.x(), end.y() - corner.y()) - 4
            scale = min(1.0, max(room, 12) / THUMB)
            size = QPointF(thumb.width() * scale, thumb.height() * scale)
            top_left = corner + QPointF(2, 2)
            out.append((i, source, QRectF(top_left, top_left + size)))
        return out

    # ------------------------------------------------------------------ overlays
    def _paint_outlines(self, painter: QPainter, view: ImageView) -> None:
        painter.translate(self.to_screen(QPointF(0, 0)))
        painter.scale(self.state.zoom, self.state.zoom)
        for i, path in enumerate(self._outlines):
            if i == self.picked:
                continue
            painter.setPen(QPen(QColor(0, 0, 0), 0))  # cosmetic: one screen pixel at any zoom
            painter.drawPath(path)
            painter.setPen(QPen(QColor(255, 255, 255, 200), 0, Qt.PenStyle.DotLine))
            painter.drawPath(path)
        if self.picked is not None and self.picked < len(self._outlines):
            pen = QPen(PICKED, 2.5)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawPath(self._outlines[self.picked])

    def _paint_thumbnails(self, painter: QPainter, view: ImageView) -> None:
        state = self.retrieval
        if state is None:
            return
        for i, source, rect in self.thumbnail_rects():
            thumb = self.thumbnail(source)
            assert thumb is not None
            painter.fillRect(rect.adjusted(-1, -1, 1, 1), QColor(20, 20, 24, 220))
            painter.drawImage(rect, thumb)
            painter.setPen(QPen(PICKED if i == self.picked else QColor(230, 230, 230), 1))
            painter.drawRect(rect.adjusted(-1, -1, 1, 1))
            if state.pinned[i]:
                painter.drawPixmap(rect.topRight() + QPointF(2, 0), self._pin)
