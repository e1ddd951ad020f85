"""RESAIL in the studio: the Guidance tab, the picked region's strip, choose / pin / re-roll.

The result dock holds two tabs — the image and the guidance it was made from — above the
strip of the picked region's retrieved segments. What they show is the RetrievalState the
worker handed back with the image on screen; what they change is the document's guidance
choices, one undo step each, so a choice is undone, redone and saved like a stroke.
Re-roll draws another of the region's top-k matches: as in the other families, it keeps
the region and draws its look again. A photo dropped onto a region (on the Result or the
Guidance tab) is segmented, and its segment of the region's class guides the region.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QDropEvent, QImage
from PySide6.QtWidgets import QMessageBox, QTabWidget, QVBoxLayout, QWidget

from app.canvas.guidance_view import GuidanceView, segment_thumbnail
from app.document.io import open_photo
from app.panels.guidance import HINT, GuidanceStrip
from app.panels.guidance import THUMB as STRIP_THUMB
from app.style_actions import PHOTO_SUFFIXES
from app.workers.background import Cancelled, run_in_background
from engine.errors import TesseraError
from engine.inference.photo_style import cached_segmenter, find_segmenter
from engine.inference.resail_synth import ResailSynthesizer
from engine.retrieval import Patch, RetrievalState, SegmentDatabase, photo_patch, with_choice

if TYPE_CHECKING:
    from app.main_window import MainWindow
    from app.synthesis_controller import AnySynthesizer

RESULT_TAB, GUIDANCE_TAB = 0, 1
NOT_RESAIL = (
    "Guidance comes from retrieval-guided models: pick a RESAIL model (e.g. landscapes-resail) "
    "in the Model panel to see and choose the segments that guide each region"
)


class GuidanceActions(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.view = GuidanceView(window.view_state)
        self.strip = GuidanceStrip()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(window.result_view, "Result")
        self.tabs.addTab(self.view, "Guidance")
        self.tabs.currentChanged.connect(lambda _: window.fit_views())
        # The dock's widget: the tabs above the strip.
        self.panel = QWidget()
        layout = QVBoxLayout(self.panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.strip)
        self.db: SegmentDatabase | None = None
        self.state: RetrievalState | None = None
        self.point: tuple[int, int] | None = None  # the picked pixel; its region follows repaints
        self._rng = random.Random()
        self.view.region_clicked.connect(lambda y, x: self.pick((y, x)))
        self.strip.rank_chosen.connect(self.choose)
        self.strip.pin_toggled.connect(self.pin)
        self.strip.reroll_requested.connect(self.reroll)
        window.synthesis.guidance_ready.connect(self.show_state)
        window.doc.reset.connect(self._doc_reset)
        # Installed after the window's own filter, so a RESAIL photo drop is seen first.
        for view in (window.result_view, self.view):
            view.setAcceptDrops(True)
            view.installEventFilter(self)
        self._split = (0.9, 16)  # how the model's retriever decomposes maps: coverage, min area
        self.model_changed(None)

    # ------------------------------------------------------------------ following the model
    @property
    def active(self) -> bool:
        return self.db is not None

    def model_changed(self, synth: AnySynthesizer | None) -> None:
        """The tab and strip work for RESAIL only; otherwise they are off and say why."""
        self.db = synth.db if isinstance(synth, ResailSynthesizer) else None
        if isinstance(synth, ResailSynthesizer):
            self._split = (synth.retriever.coverage, synth.retriever.min_area)
        self._thumbs: dict[int, QImage] = {}  # database row → strip thumbnail
        self.view.set_database(self.db)
        self.state, self.point = None, None
        on = self.active
        self.tabs.setTabEnabled(GUIDANCE_TAB, on)
        self.tabs.setTabToolTip(GUIDANCE_TAB, "" if on else NOT_RESAIL)
        if not on:
            self.tabs.setCurrentIndex(RESULT_TAB)
        self.strip.setVisible(on)
        self.strip.show_nothing(HINT)

    def _doc_reset(self) -> None:
        self.state, self.point = None, None
        self.view.show_state(None)
        self.strip.show_nothing(HINT)

    # ------------------------------------------------------------------ showing
    @property
    def index(self) -> int | None:
        """The picked region's segment index in the state shown."""
        if self.state is None or self.point is None:
            return None
        return self.state.segment_at(*self.point)

    def show_state(self, state: RetrievalState | None) -> None:
        if not self.active:
            return
        self.state = state
        self.view.show_state(state, self.index)
        self._fill_strip()

    def pick(self, point: tuple[int, int] | None) -> None:
        """A click of the region picker (or in the Guidance view): show that region's matches."""
        if not self.active:
            return
        h, w = self.w.doc.size
        self.point = point if point is not None and 0 <= point[0] < h and 0 <= point[1] < w else None
        self.view.show_state(self.state, self.index)
        self._fill_strip()

    def _thumb(self, row: int) -> QImage:
        if row not in self._thumbs:
            assert self.db is not None
            self._thumbs[row] = segment_thumbnail(self.db, row, STRIP_THUMB)
        return self._thumbs[row]

    def _name(self, index: int) -> str:
        assert self.state is not None
        return self.w.doc.label_set.by_id(self.state.segments[index].class_id).name

    def _fill_strip(self) -> None:
        state, i, db = self.state, self.index, self.db
        if state is None or db is None:
            self.strip.show_nothing(HINT)
            return
        if i is None:
            text = (
                HINT if self.point is None else "No segment here: too small to retrieve, or being repainted."
            )
            self.strip.show_nothing(text)
            return
        matches, row, patch = state.matches[i], state.rows[i], state.patches[i]
        name = self._name(i)
        pinned = " · pinned" if state.pinned[i] else ""
        if not len(matches) and patch is None:
            self.strip.show_nothing(
                f"<b>{name}</b>: no database segment matches its shape; drop a photo onto it to guide it."
            )
            return
        rows = [int(r) for r in matches.rows]
        if patch is not None:
            by = f"guided by your photo {patch.source}"
        else:
            rank = rows.index(row) + 1 if row in rows else None
            by = f"guided by #{rank} ({db.describe(row)['source'] if row is not None else ''})"
        text = f"<b>{name}</b>: {len(rows)} matches · {by}{pinned}"
        thumbs = [self._thumb(r) for r in rows]
        tips = [
            f"#{k + 1}: {db.describe(r)['source']} · σ {float(s):.3f}"
            for k, (r, s) in enumerate(zip(rows, matches.scores))
        ]
        self.strip.show_matches(text, rows, thumbs, tips, row, state.pinned[i], patch is not None)

    # ------------------------------------------------------------------ choosing
    def _fresh(self) -> RetrievalState | None:
        """The state shown, if it still describes the canvas (choices name its segments)."""
        state, doc = self.state, self.w.doc
        if state is None or self.db is None:
            return None
        fresh = np.array_equal(state.labels, doc.labels) and (
            state.instances is None or np.array_equal(state.instances, doc.instances)
        )
        if not fresh:
            self.w.statusBar().showMessage("The map changed: choose again once the new image is shown.", 4000)
            return None
        return state

    def _target(self) -> tuple[RetrievalState, int] | None:
        """The state and picked segment a choice applies to."""
        i = self.index
        state = self._fresh() if i is not None else None
        return None if state is None or i is None else (state, i)

    def _set(
        self, state: RetrievalState, i: int, row: int, pinned: bool, text: str, patch: Patch | None = None
    ) -> bool:
        assert self.db is not None
        doc = self.w.doc
        choices = with_choice(doc.guidance, state.segments, i, row, pinned, self.db.table.classes, patch)
        return doc.set_guidance(choices, text)

    def choose(self, rank: int) -> bool:
        """Guide the picked region by its ``rank``-th match (0 = best): one undo step."""
        target = self._target()
        if target is None:
            return False
        state, i = target
        rows = state.matches[i].rows
        if not 0 <= rank < len(rows) or int(rows[rank]) == state.rows[i]:
            return False
        return self._set(
            state, i, int(rows[rank]), state.pinned[i], f"Guide {self._name(i)} by match {rank + 1}"
        )

    def pin(self, on: bool) -> bool:
        """Keep (or stop keeping) the picked region's segment when the region is repainted."""
        target = self._target()
        if target is None or (target[0].rows[target[1]] is None and target[0].patches[target[1]] is None):
            self._fill_strip()  # the button goes back to what the state says
            return False
        state, i = target
        row, patch = state.rows[i], state.patches[i]
        what = "Pin" if on else "Unpin"
        return self._set(state, i, -1 if row is None else row, on, f"{what} {self._name(i)} guidance", patch)

    def _draw(self, state: RetrievalState, i: int) -> int | None:
        """Another of segment ``i``'s top-k matches, at random (None: it has no other)."""
        others = [int(r) for r in state.matches[i].rows if int(r) != state.rows[i]]
        return self._rng.choice(others) if others else None

    def reroll(self) -> bool:
        """Guide the picked region by another of its top-k matches, drawn at random."""
        target = self._target()
        if target is None:
            if self.point is None:
                self.w.statusBar().showMessage("Pick a region first: region picker (V), then click.", 4000)
            return False
        state, i = target
        row = self._draw(state, i)
        if row is None:
            self.w.statusBar().showMessage("This region has no other match to draw.", 4000)
            return False
        return self._set(state, i, row, state.pinned[i], f"Re-roll {self._name(i)} guidance")

    def reroll_all(self) -> bool:
        """Every region not pinned draws another of its matches: one undo step (pins are
        RESAIL's locks)."""
        state = self._fresh()
        if state is None or self.db is None:
            return False
        choices = self.w.doc.guidance
        for i in range(len(state.segments)):
            row = None if state.pinned[i] else self._draw(state, i)
            if row is not None:
                choices = with_choice(choices, state.segments, i, row, False, self.db.table.classes)
        return self.w.doc.set_guidance(choices, "Re-roll guidance everywhere not pinned")

    def take_rerolls(self, everything: QAction, region: QAction) -> None:
        """With RESAIL the Generate menu's re-rolls draw other matches (noise means nothing
        to it): a re-roll redraws a region's look in every family."""
        if not self.active:
            return
        everything.setEnabled(True)
        everything.setToolTip("Guide every region not pinned by another of its top matches (Ctrl+R)")
        region.setEnabled(True)
        region.setToolTip("Guide the picked region by another of its top matches (R)")

    # ------------------------------------------------------------------ a photo of one's own
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A photo dragged onto the result or the guidance (RESAIL only) guides the region under it."""
        if event.type() not in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            return super().eventFilter(watched, event)
        if not self.active or watched not in (self.view, self.w.result_view):
            return False
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]  # type: ignore[attr-defined]
        if not urls or Path(urls[0].toLocalFile()).suffix.lower() not in PHOTO_SUFFIXES:
            return False
        event.acceptProposedAction()  # type: ignore[attr-defined]
        if event.type() == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            at = watched.to_image(event.position())  # type: ignore[attr-defined]
            self.photo_onto((int(at.y()), int(at.x())), Path(urls[0].toLocalFile()))
        return True

    def photo_onto(self, point: tuple[int, int], path: Path) -> bool:
        """Segment the photo at ``path``; its segment of the class under ``point`` (the one
        shaped most like the region) guides that region: one undo step."""
        self.pick(point)
        target = self._target()
        if target is None or self.db is None:
            self.w.statusBar().showMessage("Drop the photo onto a painted region.", 4000)
            return False
        state, i = target
        segment, db, (coverage, min_area) = state.segments[i], self.db, self._split
        name = self._name(i)
        folder = find_segmenter(self.w.models.folders, self.w.doc.label_set)
        if folder is None:
            label_set = self.w.doc.label_set.name
            QMessageBox.warning(
                self.w, "Guide by photo", f"No segmenter for '{label_set}' was found in weights/."
            )
            return False

        def work() -> Patch | None:
            photo = open_photo(path)
            labels = cached_segmenter(folder).segment(photo)
            things = sorted(db.thing_ids)
            return photo_patch(
                photo, labels, segment, things, path.name, coverage=coverage, min_area=min_area
            )

        try:
            patch = run_in_background(self.w, f"Finding the {name} of {path.name}…", work)
        except Cancelled:
            return False
        except TesseraError as error:
            QMessageBox.warning(self.w, "Guide by photo", str(error))
            return False
        if patch is None:
            QMessageBox.warning(
                self.w, "Guide by photo", f"{path.name} has no {name} the segmenter can find."
            )
            return False
        again = self._target()  # the painter may have painted while the photo was read
        if again is None or again[0].segments[again[1]].key != segment.key:
            return False
        state, i = again
        return self._set(state, i, -1, state.pinned[i], f"Guide {name} by {path.name}", patch)
