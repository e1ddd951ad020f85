"""Crash recovery: an autosaved project in a recovery folder, and the timer that writes it.

:class:`RecoveryStore` is one slot's folder (``autosave.tessera`` + ``autosave.json`` with the
original path and time); :class:`Autosaver` watches a Document and saves a few seconds
after changes, so a crash loses at most that much painting. Which folder a studio uses,
and which are left by dead sessions, is :mod:`app.document.recovery_slots`. Only QtCore is used.
"""

from __future__ import annotations

import json
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal
from shiboken6 import isValid

from app.document.document import Document
from app.document.project import ProjectState, apply_to, load_project, save_project, state_of
from engine.fileio import atomic_write_bytes

log = logging.getLogger(__name__)

PROJECT_NAME = "autosave.tessera"
INFO_NAME = "autosave.json"


def default_recovery_folder() -> Path:
    """``<AppDataLocation>/recovery`` (per user; follows the application name Qt was given)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".tessera") / "recovery"


@dataclass(frozen=True)
class RecoveryInfo:
    """What a pending autosave is: its file, the project it came from and when it was written."""

    project: Path
    original: Path | None
    saved_at: datetime


class RecoveryStore:
    """One autosave slot in ``folder`` (created on the first save)."""

    def __init__(self, folder: Path | str | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_recovery_folder()

    @property
    def project_path(self) -> Path:
        return self.folder / PROJECT_NAME

    @property
    def info_path(self) -> Path:
        return self.folder / INFO_NAME

    def save(
        self, doc_state: ProjectState, render: np.ndarray | None = None, original: Path | None = None
    ) -> Path:
        """Write the autosave (project first, then its info, each atomically)."""
        path = save_project(self.project_path, doc_state, render)
        info = {"original": None if original is None else str(original), "saved_at": time.time()}
        atomic_write_bytes(self.info_path, json.dumps(info).encode("utf-8"))
        return path

    def pending(self) -> RecoveryInfo | None:
        """The autosave left behind, or None. A missing or damaged info file still offers the project."""
        if not self.project_path.is_file():
            return None
        original: Path | None = None
        saved_at = 0.0
        try:
            saved_at = self.project_path.stat().st_mtime
            info = json.loads(self.info_path.read_text(encoding="utf-8"))
            if isinstance(info, dict):
                if isinstance(info.get("original"), str):
                    original = Path(info["original"])
                if isinstance(info.get("saved_at"), (int, float)):
                    saved_at = float(info["saved_at"])
        except (OSError, ValueError):
            pass  # the project is what matters; the info only labels it
        try:
            when = datetime.fromtimestamp(saved_at, timezone.utc)
        except (OverflowError, OSError, ValueError):
            when = datetime.fromtimestamp(0, timezone.utc)
        return RecoveryInfo(self.project_path, original, when)

    def load(self) -> ProjectState:
        """The autosaved project (InputError naming the file if it is damaged)."""
        return load_project(self.project_path)

    def discard(self) -> None:
        for path in (self.project_path, self.info_path):
            path.unlink(missing_ok=True)


def restore(doc: Document, store: RecoveryStore) -> ProjectState:
    """Load the pending autosave into ``doc``, marked as modified (it is not saved anywhere else).

    The document keeps the original path, so Save writes back where the user was working.
    Exemplars, settings and render are in the returned state for the caller.
    """
    info = store.pending()
    state = store.load()
    apply_to(doc, state, info.original if info is not None else None)
    doc.undo_stack.resetClean()  # modified until saved, with no undo step to undo "into" the file
    return state


class Autosaver(QObject):
    """Saves ``doc`` to ``store`` at most every ``interval_s`` seconds while it has unsaved changes.

    Changes are what the undo stack sees (paint, noise, locks); call :meth:`note_change`
    for edits kept outside it (exemplars, settings). When the document becomes clean
    (saved, or undone back to the saved state) the autosave this object wrote is deleted.
    A pending autosave from an earlier run is left alone until this object writes its own,
    so a recovery dialog can still offer it.
    """

    saved = Signal(object)  # Path of the autosave
    failed = Signal(str)  # message; the session goes on, the next change retries

    def __init__(
        self,
        doc: Document,
        store: RecoveryStore,
        render: Callable[[], np.ndarray | None],
        *,
        interval_s: float = 5.0,
        snapshot: Callable[[Document], ProjectState] = state_of,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent if parent is not None else doc)
        self.doc, self.store, self._render, self._snapshot = doc, store, render, snapshot
        self._dirty = False
        self._wrote = False  # an autosave of ours exists in the store
        self._superseded: list[Callable[[], None]] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(max(1, round(interval_s * 1000)))
        self._timer.timeout.connect(self.flush)
        # A plain function, not a bound slot: the document's stack emits while the
        # document (and this child of it) is being destroyed, and PySide then fails to
        # find a slot on the half-deleted receiver. The function checks first.
        me = weakref.ref(self)

        def forward(*_: object) -> None:
            target = me()
            if target is not None and isValid(target):
                target.note_change()

        doc.undo_stack.indexChanged.connect(forward)
        doc.modified_changed.connect(forward)

    @property
    def interval_s(self) -> float:
        return self._timer.interval() / 1000

    def supersede(self, release: Callable[[], None]) -> None:
        """Call ``release`` (drop an older autosave, e.g. the crashed session's just restored)
        once this object holds the painting: after its first autosave, or when the
        document becomes clean (saved). Until then a second crash still finds the old one."""
        self._superseded.append(release)

    def _release_superseded(self) -> None:
        pending, self._superseded = self._superseded, []
        for release in pending:
            try:
                release()
            except OSError:
                log.exception("could not remove an old autosave")

    def note_change(self, *_: object) -> None:
        if not isValid(self.doc.undo_stack):  # the stack emits while the document is destroyed
            return
        if not self.doc.modified:
            self._dirty = False
            self._timer.stop()
            if self._wrote:
                self.store.discard()
                self._wrote = False
            self._release_superseded()
            return
        self._dirty = True
        # A single-shot timer started by the first change of a burst: later changes ride
        # along, so saves are at least interval_s apart however fast the user paints.
        if not self._timer.isActive():
            self._timer.start()

    def stop(self) -> None:
        """Normal shutdown: no more autosaves from this session."""
        self._timer.stop()
        self._dirty = False

    def flush(self) -> bool:
        """Save now if there are unsaved changes since the last autosave; True if written."""
        self._timer.stop()
        if not self._dirty or not self.doc.modified:
            return False
        try:
            path = self.store.save(self._snapshot(self.doc), self._render(), original=self.doc.path)
        except Exception as exc:  # autosave must never take the session down
            log.exception("autosave failed")
            self.failed.emit(f"Autosave failed: {exc}")
            return False
        self._dirty = False
        self._wrote = True
        self._release_superseded()
        self.saved.emit(path)
        return True
