"""File menu of the studio: new, open, save, import, export, recent files and crash recovery.

Every handler takes an optional path so tests (and drag and drop) can skip the dialogs.
Errors from bad files are shown as messages naming the file and the fix; the painting in
the window is never touched by a load that fails.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QMessageBox

from app.actions import make_action
from app.document.condition_images import condition_pictures
from app.document.io import export_image, export_label_map, export_ora, import_label_map, open_photo
from app.document.project import ProjectState, apply_to, load_project, save_project, state_of
from app.document.recovery import Autosaver, restore
from app.document.recovery_slots import RecoverySlots, Slot
from app.workers.background import Cancelled, run_in_background
from engine.errors import TesseraError
from engine.inference.photo_style import cached_segmenter, find_segmenter
from engine.paths import RESOURCES
from engine.scene import Scene, thing_instances

if TYPE_CHECKING:
    from app.document.document import Document
    from app.main_window import MainWindow

PROJECT_FILTER = "Tessera project (*.tessera)"
LABEL_FILTER = "Label maps (*.png)"
PHOTO_FILTER = "Photos (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)"
IMAGE_FILTER = "PNG image (*.png);;JPEG image (*.jpg *.jpeg)"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
SIZE_PRESETS = {
    "256 × 256": (256, 256),
    "512 × 512": (512, 512),
    "256 × 512 (wide)": (256, 512),
    "256 × 1024 (panorama)": (256, 1024),
    "384 × 384": (384, 384),
    "768 × 768": (768, 768),
    "1024 × 1024": (1024, 1024),
}
MAX_RECENT = 8
PHOTO_SHORT_SIDE = 256  # canvas size a photo is segmented at (the shipped model's scale)
PHOTO_LONG_MAX = 1024


class FileActions(QObject):
    def __init__(self, window: MainWindow, recovery_folder: Path | None = None) -> None:
        super().__init__(window)
        self.w = window
        # This studio's own recovery slot: another studio running at the same time has its own.
        self.slots = RecoverySlots(recovery_folder)
        self.slot = self.slots.claim()
        self._recovered: list[Slot] = []  # dead sessions' slots restored here, kept until superseded
        # Parented to the document (the default) so both go away together.
        self.autosaver = Autosaver(window.doc, self.slot.store, lambda: self.w.output, snapshot=self.snapshot)
        self.autosaver.failed.connect(lambda msg: self.w.statusBar().showMessage(msg, 8000))

    # ------------------------------------------------------------------ menu
    def populate(self, menu: QMenu) -> None:
        a = partial(make_action, self.w)
        self.new_action = a("&New…", lambda: self.new(), QKeySequence.StandardKey.New, "fa5s.file")
        self.open_action = a(
            "&Open…", lambda: self.open_any(), QKeySequence.StandardKey.Open, "fa5s.folder-open"
        )
        self.save_action = a("&Save", lambda: self.save(), QKeySequence.StandardKey.Save, "fa5s.save")
        self.save_as_action = a("Save &As…", lambda: self.save_as(), "Ctrl+Shift+S")
        self.import_action = a("&Import label map…", lambda: self.import_label_map(), "Ctrl+Shift+I")
        self.photo_action = a(
            "Open &photo as labels…",
            lambda: self.open_photo(),
            "Ctrl+Shift+O",
            "fa5s.image",
            "Segment a photo into an editable label map",
        )
        self.export_image_action = a(
            "&Export image…", lambda: self.export_image(), "Ctrl+E", "fa5s.file-export"
        )
        self.export_labels_action = a("Export &label map…", lambda: self.export_labels())
        self.export_ora_action = a(
            "Export &layers (.ora)…", lambda: self.export_ora(), tip="OpenRaster for GIMP/Krita"
        )
        self.recent_menu = QMenu("Open &Recent", menu)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        menu.addActions([self.new_action, self.open_action])
        menu.addMenu(self.recent_menu)
        menu.addActions([self.save_action, self.save_as_action])
        menu.addSeparator()
        menu.addActions([self.import_action, self.photo_action])
        menu.addSeparator()
        menu.addActions([self.export_image_action, self.export_labels_action, self.export_ora_action])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent():
            action = QAction(str(path), self.recent_menu)
            action.triggered.connect(lambda _=False, p=path: self.open_any(p))
            self.recent_menu.addAction(action)
        if not self.recent():
            self.recent_menu.addAction("(none)").setEnabled(False)

    def recent(self) -> list[Path]:
        value = self.w.settings.value("recent", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [Path(p) for p in items if Path(p).is_file()]

    def _remember(self, path: Path) -> None:
        items = [str(path)] + [str(p) for p in self.recent() if p != path]
        self.w.settings.setValue("recent", items[:MAX_RECENT])

    def _error(self, title: str, error: Exception) -> None:
        QMessageBox.warning(self.w, title, str(error))
        self.w.statusBar().showMessage(str(error).split("\n")[0], 10000)

    # ------------------------------------------------------------------ unsaved changes
    def confirm_discard(self) -> bool:
        """True when it is fine to drop the current document (saved, or the user said so)."""
        if not self.w.doc.modified:
            return True
        answer = QMessageBox.question(
            self.w,
            "Unsaved changes",
            f"Save the changes to {self.w.doc.path.name if self.w.doc.path else 'this painting'}?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # ------------------------------------------------------------------ new / open
    def new(self, size: tuple[int, int] | None = None) -> bool:
        if size is None:
            presets = dict(SIZE_PRESETS)
            side = getattr(self.w.synth, "image_side", None)  # ugen paints at one size only
            if side is not None:
                presets = {f"{side} × {side}": (side, side)}
            m = self.w.synth.size_multiple if self.w.synth else 1
            names = [n for n, (h, w) in presets.items() if h % m == 0 and w % m == 0]
            name, ok = QInputDialog.getItem(self.w, "New painting", "Canvas size", names, 0, False)
            if not ok:
                return False
            size = presets[name]
        if not self.confirm_discard():
            return False
        self.w.new_document(size)
        return True

    def open_any(self, path: Path | None = None) -> bool:
        """Open a project, a label map or a photo, by its kind."""
        if path is None:
            name, _ = QFileDialog.getOpenFileName(
                self.w, "Open", str(self._folder()), f"{PROJECT_FILTER};;{LABEL_FILTER};;{PHOTO_FILTER}"
            )
            if not name:
                return False
            path = Path(name)
        suffix = path.suffix.lower()
        if suffix == ".tessera":
            return self.open_project(path)
        if suffix in PHOTO_SUFFIXES:
            return self.open_photo(path)
        try:
            return self.import_label_map(path, as_new=True, quiet=True)
        except TesseraError as error:
            # A PNG that is not a label map of this set is most likely a photo.
            if "colour" in str(error) or "color" in str(error):
                return self.open_photo(path)
            self._error("Cannot open", error)
            return False

    def open_welcome_scene(self) -> None:
        """A new user sees a landscape at once: the sample scene, untitled, ready to paint over."""
        scene_file = RESOURCES / "scenes" / "mountain_lake.png"
        if scene_file.is_file() and self.w.doc.label_set.name == "landscapes":
            try:
                self.import_label_map(scene_file, as_new=True, title=False)
            except TesseraError:
                pass

    def open_project(self, path: Path) -> bool:
        try:
            state = load_project(path)
        except TesseraError as error:
            self._error("Cannot open project", error)
            return False
        # Everything is decoded before the document is replaced: a damaged exemplar must not
        # leave a half-opened project behind. The painting opens without it, with a message.
        decoded, damaged = None, None
        try:
            decoded = self.w.exemplars.decode(state.exemplars, state.exemplar_files, path)
        except TesseraError as error:
            damaged = error
        if not self.confirm_discard():
            return False
        model = self._model_for(state.model)
        if model is not None and model != self.w.synthesis.model_folder:
            self.w.load_model(model)
        apply_to(self.w.doc, state, path)
        if damaged is not None:
            self._error("Exemplars not restored", damaged)
        elif state.exemplars:
            self.w.exemplars.restore(state.exemplars, state.exemplar_files, state.settings, path, decoded)
        self._remember(path)
        return True

    def snapshot(self, doc: Document) -> ProjectState:
        """The document plus what lives outside it (the exemplars and their mix)."""
        refs, files, settings = self.w.exemplars.project_parts()
        return state_of(doc, exemplars=refs, exemplar_files=files, settings=settings)

    def _restore_exemplars(self, state: ProjectState, path: Path) -> None:
        if state.exemplars:
            try:
                self.w.exemplars.restore(state.exemplars, state.exemplar_files, state.settings, path)
            except TesseraError as error:
                self._error("Exemplars not restored", error)

    def _model_for(self, name: str | None) -> Path | None:
        for entry in self.w.models.entries:
            if name and entry.name == name and entry.usable:
                return entry.folder
        return None

    def import_label_map(
        self, path: Path | None = None, *, as_new: bool = False, title: bool = True, quiet: bool = False
    ) -> bool:
        """Read a label map; same size as the canvas → one undo step, else a new document."""
        if path is None:
            name, _ = QFileDialog.getOpenFileName(
                self.w, "Import label map", str(self._folder()), LABEL_FILTER
            )
            if not name:
                return False
            path = Path(name)
        doc = self.w.doc
        try:
            labels = import_label_map(path, doc.label_set)
            if self.w.synth is not None:
                self.w.synth.check_size(*labels.shape, source=str(path))
        except TesseraError as error:
            if quiet:
                raise
            self._error("Cannot import label map", error)
            return False
        # A label map has no instance map: every connected tree, rock … becomes one object,
        # so per-instance models (INADE) can restyle each on its own.
        instances = thing_instances(labels, doc.label_set)
        if not as_new and labels.shape == doc.size:
            doc.set_maps(f"Import {path.name}", labels=labels, instances=instances)
            return True
        if title and not self.confirm_discard():
            return False
        doc.start(Scene(labels, instances))
        return True

    def open_photo(self, path: Path | None = None) -> bool:
        """Segment a photo into an editable label map, shown faintly under the labels."""
        if path is None:
            name, _ = QFileDialog.getOpenFileName(self.w, "Open photo", str(self._folder()), PHOTO_FILTER)
            if not name:
                return False
            path = Path(name)
        synth = self.w.synth
        segment = self._photo_segmenter()
        if synth is None or segment is None:
            QMessageBox.information(
                self.w,
                "Open photo",
                "Load an OASIS model (its discriminator segments photos), or put a segmenter for "
                "this label set in weights/.",
            )
            return False

        def work() -> tuple[np.ndarray, np.ndarray]:
            photo = open_photo(path)
            h, w = photo_canvas_size(photo.shape[:2], synth.size_multiple)
            photo = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)
            return photo, segment(photo)

        try:
            photo, labels = run_in_background(self.w, f"Segmenting {path.name}…", work)
        except Cancelled:
            return False
        except TesseraError as error:
            self._error("Cannot open photo", error)
            return False
        if self.w.synth is not synth:  # the model changed while the photo was being segmented
            return False
        if not self.confirm_discard():
            return False
        self.w.doc.start(Scene(labels), underlay=photo)
        self.w.statusBar().showMessage(f"Segmented {path.name}; paint over it to change it.", 6000)
        return True

    def _photo_segmenter(self) -> Callable[[np.ndarray], np.ndarray] | None:
        """What turns a photo into labels: the model's discriminator (OASIS), else a
        segmenter weights folder of the model's label set (INADE, MSCA)."""
        synth = self.w.synth
        if synth is None:
            return None
        if getattr(synth, "discriminator", None) is not None:
            return synth.segment
        folder = find_segmenter(self.w.models.folders, synth.spec.label_set)
        return cached_segmenter(folder).segment if folder is not None else None

    # ------------------------------------------------------------------ save
    def save(self) -> bool:
        if self.w.doc.path is None:
            return self.save_as()
        return self._write(self.w.doc.path)

    def save_as(self, path: Path | None = None) -> bool:
        if path is None:
            name, _ = QFileDialog.getSaveFileName(
                self.w, "Save painting", str(self._folder() / "painting.tessera"), PROJECT_FILTER
            )
            if not name:
                return False
            path = Path(name)
        if path.suffix.lower() != ".tessera":
            path = path.with_suffix(".tessera")
        return self._write(path)

    def _write(self, path: Path) -> bool:
        try:
            save_project(path, self.snapshot(self.w.doc), self.w.output)
        except (TesseraError, OSError) as error:
            self._error("Cannot save", error)
            return False
        self.w.doc.mark_saved(path)
        self._remember(path)
        self.w.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    # ------------------------------------------------------------------ export
    def export_path(self, title: str, ending: str, filters: str) -> Path | None:
        """Ask where to export; the dialog proposes the painting's name + ``ending`` beside it."""
        default = self._folder() / f"{self._stem()}{ending}"
        name, _ = QFileDialog.getSaveFileName(self.w, title, str(default), filters)
        return Path(name) if name else None

    def _stem(self) -> str:
        return self.w.doc.path.stem if self.w.doc.path else "painting"

    def export_image(self, path: Path | None = None) -> bool:
        if self.w.output is None:
            self.w.statusBar().showMessage("Nothing to export yet: no image has been generated.", 5000)
            return False
        path = path or self.export_path("Export image", ".png", IMAGE_FILTER)
        return path is not None and self._try(
            "Cannot export image", lambda: export_image(path, self.w.output)
        )

    def export_labels(self, path: Path | None = None) -> bool:
        doc = self.w.doc
        path = path or self.export_path("Export label map", "-labels.png", LABEL_FILTER)
        return path is not None and self._try(
            "Cannot export label map", lambda: export_label_map(path, doc.labels, doc.label_set)
        )

    def export_ora(self, path: Path | None = None) -> bool:
        doc = self.w.doc
        if self.w.output is None:
            self.w.statusBar().showMessage("Nothing to export yet: no image has been generated.", 5000)
            return False
        path = path or self.export_path("Export layers", ".ora", "OpenRaster (*.ora)")
        # ugen's drawing and depth map ride along as hidden layers when they hold something.
        hidden = condition_pictures(doc.conditions.lines, doc.conditions.depth)
        return path is not None and self._try(
            "Cannot export layers",
            lambda: export_ora(
                path, doc.label_set.colorize(doc.labels), self.w.output, self._stem(), hidden_layers=hidden
            ),
        )

    def _try(self, title: str, job) -> bool:  # noqa: ANN001
        try:
            path = job()
        except (TesseraError, OSError) as error:
            self._error(title, error)
            return False
        self.w.statusBar().showMessage(f"Wrote {path}", 4000)
        return True

    def _folder(self) -> Path:
        return self.w.doc.path.parent if self.w.doc.path else Path.home()

    # ------------------------------------------------------------------ recovery
    def offer_recovery(self) -> bool:
        """Offer the newest autosave of a studio session that is gone (never a running one's)."""
        orphans = self.slots.orphans()
        if not orphans:
            return False
        slot, later = orphans[0], orphans[1:]
        for other in later:
            other.abandon()  # one painting per window: the others are offered at the next start
        info = slot.store.pending()
        if info is None:  # removed between the scan and now
            slot.release()
            return False
        when = info.saved_at.strftime("%Y-%m-%d %H:%M")
        more = f"\n\n{len(later)} more unsaved painting(s) will be offered next time." if later else ""
        answer = QMessageBox.question(
            self.w,
            "Restore unsaved work?",
            f"Tessera closed without saving a painting ({info.original or 'untitled'}, autosaved {when}). "
            f"Restore it?{more}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            slot.release()
            return False
        try:
            state = restore(self.w.doc, slot.store)
        except TesseraError as error:
            slot.abandon()  # kept: a later version or a manual copy may still rescue it
            self._error("Cannot restore", error)
            return False
        self._restore_exemplars(state, slot.store.project_path)
        # The dead session's copy goes once this session's autosave (or a save) holds the painting.
        self._recovered.append(slot)
        self.autosaver.supersede(slot.release)
        return True

    def shutdown(self) -> None:
        """Normal exit: nothing to recover, from this session or the ones it restored."""
        self.autosaver.stop()
        for slot in (*self._recovered, self.slot):
            slot.release()
        self._recovered.clear()


def photo_canvas_size(shape: tuple[int, int], multiple: int) -> tuple[int, int]:
    """Canvas for a photo: short side about PHOTO_SHORT_SIDE, long side capped, sides multiples."""
    h, w = shape
    scale = min(PHOTO_SHORT_SIDE / min(h, w), PHOTO_LONG_MAX / max(h, w))
    m = max(multiple, 1)
    return max(m, round(h * scale / m) * m), max(m, round(w * scale / m) * m)
