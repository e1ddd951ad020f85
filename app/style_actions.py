"""Style actions of the window: copy and paste a look, take one from a photo or a drop.

Looks live in the document's noise field; each action writes an explicit vector over
the selection (one undo step), leaving locked pixels alone. A ugen model's look from a
photo is a w found by inverting the photo into its generator (tens of seconds, with a
progress dialog that can cancel); it stands in for z until the next re-roll. Every
handler takes an optional path so tests and drag and drop can skip the dialogs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import torch
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.document.io import open_photo
from app.panels.exemplars import EXEMPLAR_MIME
from app.workers.background import Cancelled, Progress, Stopped, run_in_background, run_with_progress
from engine.errors import TesseraError
from engine.inference.msca_synth import Exemplar
from engine.inference.photo_style import cached_segmenter, find_segmenter, style_from_photo
from engine.inference.ugen_invert import DEFAULT_STEPS, InvertedStyle, invert_photo
from engine.inference.ugen_synth import UgenSynthesizer

if TYPE_CHECKING:
    from app.main_window import MainWindow

PHOTO_FILTER = "Images (*.png *.jpg *.jpeg)"
PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")  # what a drop may be


T = TypeVar("T")


class StyleActions:
    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self.copied: torch.Tensor | None = None

    def _ask_photo(self, title: str) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(self.w, title, "", PHOTO_FILTER)
        return Path(name) if name else None

    def _status(self, text: str, ms: int = 4000) -> None:
        self.w.statusBar().showMessage(text, ms)

    def _photo_job(self, title: str, run: Callable[[], T], cancelled: str | None = None) -> T | None:
        """A photo read in the background: its result, or None when the painter cancelled
        (``cancelled`` shown in the status bar if given) or it failed (a warning titled ``title``)."""
        try:
            return run()
        except Cancelled:
            if cancelled is not None:
                self._status(cancelled)
            return None
        except TesseraError as error:
            QMessageBox.warning(self.w, title, str(error))
            return None

    def copy(self) -> None:
        w = self.w
        if w.synth is None or w.selection is None:
            return
        self.copied = w.synth.style_of(w.doc.labels, w.doc.instances, w.doc.noise, w.selection)
        self._status("Copied the style: select another object and paste it")

    def paste(self) -> None:
        if self.w.selection is None or self.copied is None:
            self._status("Copy a style first: select an object, then Copy style.")
            return
        self._set(self.copied, "Paste style")

    def _set(self, vector: torch.Tensor, text: str, mask: np.ndarray | None = None) -> None:
        doc = self.w.doc
        noise = doc.noise.copy()
        where = self.w.selection if mask is None else mask
        noise.set_vector(where & ~doc.locked, vector)  # locked pixels keep their look
        doc.set_noise(noise, text)

    def _scene_from_photo(self, path: Path | None) -> bool:
        w = self.w
        path = path or self._ask_photo("Style from photo")
        if path is None:
            return False
        synth = w.synth
        vector = self._photo_job(
            "Style from photo",
            lambda: run_in_background(
                w, f"Reading the look of {path.name}…", lambda: synth.encode_photo(open_photo(path))
            ),
        )
        if vector is None or w.synth is not synth:  # the model changed while the photo was read
            return False
        # SPADE's style is one global z: a photo's look is always the whole scene's.
        everything = w.selection is None or synth.family == "spade"
        mask = np.ones(w.doc.labels.shape, bool) if everything else w.selection
        self._set(vector, f"Style from {path.name}", mask)
        self._status(
            f"Took the look of {path.name} for {'the scene' if everything else 'the selection'}", 5000
        )
        return True

    def from_photo(self, path: Path | None = None) -> bool:
        """Give the selected object the look its class has in a photo (INADE models), the
        selection / whole scene the photo's global look (OASIS models with a style encoder),
        or the scene the photo's z (SPADE models with their VAE encoder)."""
        w, synth = self.w, self.w.synth
        if isinstance(synth, UgenSynthesizer):
            return self.ugen_from_photo(path)
        if (
            synth is not None
            and synth.family in ("oasis", "spade")
            and getattr(synth, "style_encoder", None) is not None
        ):
            return self._scene_from_photo(path)
        if synth is None or synth.family != "inade" or w.selection is None:
            self._status("Select an object of an INADE model first.")
            return False
        path = path or self._ask_photo("Style from photo")
        if path is None:
            return False
        folder = find_segmenter(w.models.folders, synth.spec.label_set)
        if folder is None:
            name = synth.spec.label_set.name
            QMessageBox.warning(w, "Style from photo", f"No segmenter for '{name}' was found in weights/.")
            return False
        class_id = int(np.bincount(w.doc.labels[w.selection].astype(np.int64)).argmax())
        vector = self._photo_job(
            "Style from photo",
            lambda: run_in_background(
                w,
                f"Reading the {w.doc.label_set.by_id(class_id).name} of {path.name}…",
                lambda: style_from_photo(synth, cached_segmenter(folder), open_photo(path), class_id),
            ),
        )
        if vector is None or w.synth is not synth:  # the model changed while the photo was read
            return False
        self._set(vector, f"Style from {path.name}")
        self._status(f"Took the {w.doc.label_set.by_id(class_id).name} style of {path.name}", 5000)
        return True

    def ugen_from_photo(self, path: Path | None = None, steps: int = DEFAULT_STEPS) -> bool:
        """Invert a photo into the ugen model's generator; its w then paints the scene's
        layout in the photo's look (one undo step, until the next re-roll)."""
        w, synth = self.w, self.w.synth
        if not isinstance(synth, UgenSynthesizer):
            return False
        path = path or self._ask_photo("Style from photo")
        if path is None:
            return False

        def work(progress: Progress, stopped: Stopped) -> InvertedStyle:
            return invert_photo(synth, open_photo(path), steps, progress, stopped, source=str(path))

        style = self._photo_job(
            "Style from photo",
            lambda: run_with_progress(w, f"Finding the look of {path.name} in the generator…", work),
            cancelled="Style from photo cancelled; the painting keeps its look",
        )
        if style is None or w.synth is not synth:  # the model changed while the photo was inverted
            return False
        w.doc.conditions.set_style_w(style.w, f"Style from {path.name}")
        self._status(f"Painting in the look of {path.name} until the next re-roll", 6000)
        return True

    def drop_on_result(self, event: QDropEvent | QDragEnterEvent) -> bool:
        """With an MSCA model, a photo or gallery thumbnail dragged onto the result view is
        taken (on drop) as the exemplar (Shift: the second); False: not a drop for us."""
        synth = self.w.synth
        if synth is None or synth.family != "msca":
            return False
        data = event.mimeData()
        urls = [u for u in data.urls() if u.isLocalFile()]
        thumbnail = data.hasFormat(EXEMPLAR_MIME)
        photo = bool(urls) and Path(urls[0].toLocalFile()).suffix.lower() in PHOTO_SUFFIXES
        if not (thumbnail or photo):
            return False
        event.acceptProposedAction()
        if event.type() == QEvent.Type.Drop:
            second = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            if thumbnail:
                name = bytes(data.data(EXEMPLAR_MIME).data()).decode()
                self.w.exemplars.use(self.w.exemplars.by_name(name), second=second)
            else:
                self.exemplar_photo(Path(urls[0].toLocalFile()), second=second)
        return True

    def exemplar_photo(self, path: Path | None = None, *, second: bool = False) -> bool:
        """Any photo as an MSCA exemplar: segmented with the label set's segmenter first."""
        w = self.w
        path = path or self._ask_photo("Exemplar photo")
        if path is None:
            return False
        label_set = w.doc.label_set
        folder = find_segmenter(w.models.folders, label_set)
        if folder is None:
            QMessageBox.warning(
                w, "Exemplar photo", f"No segmenter for '{label_set.name}' was found in weights/."
            )
            return False

        def work() -> Exemplar:
            photo = open_photo(path)
            return Exemplar(photo, cached_segmenter(folder).segment(photo), path.stem)

        exemplar = self._photo_job(
            "Exemplar photo", lambda: run_in_background(w, f"Segmenting {path.name}…", work)
        )
        if exemplar is None:
            return False
        w.exemplars.use(exemplar, second=second)
        self._status(f"{path.name} is the {'second ' if second else ''}style now")
        return True
