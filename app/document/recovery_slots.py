"""One recovery slot per running studio, locked while the studio lives.

Layout: ``<root>/<slot>/{autosave.tessera, autosave.json, session.lock}``. Each studio claims
a fresh slot and autosaves only there, so two studios at once never overwrite, delete or
relabel each other's autosave. A slot whose lock can be taken belongs to a session that
is gone (crashed, killed, power cut): only those are offered for recovery. The lock is a
:class:`QLockFile` holding the owner's PID and host, so a lock left by a dead process is
recognised at once, while a live studio's lock never goes stale with age.

Versions before slots wrote one autosave straight into ``<root>``; the root is read as a
slot of its own so such an autosave is still offered once.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path

from PySide6.QtCore import QLockFile

from app.document.recovery import INFO_NAME, PROJECT_NAME, RecoveryStore, default_recovery_folder

log = logging.getLogger(__name__)

LOCK_NAME = "session.lock"


def _lock_for(folder: Path) -> QLockFile:
    lock = QLockFile(str(folder / LOCK_NAME))
    # 0: never stale by age. A studio runs for hours; only a dead owner (checked by PID
    # and host) frees its slot.
    lock.setStaleLockTime(0)
    return lock


class Slot:
    """A recovery folder whose lock this process holds (or, if locking was impossible, none)."""

    def __init__(self, folder: Path, lock: QLockFile | None) -> None:
        self.folder = folder
        self.store = RecoveryStore(folder)
        self._lock = lock

    @property
    def locked(self) -> bool:
        return self._lock is not None and self._lock.isLocked()

    def release(self) -> None:
        """The session ends normally (or its autosave was dismissed): delete autosave, lock and folder."""
        self.store.discard()
        self._unlock()
        try:
            self.folder.rmdir()  # fails, harmlessly, for the legacy root that holds the other slots
        except OSError:
            pass

    def abandon(self) -> None:
        """Let go of the lock but keep the autosave, as a crash would: it is offered again later."""
        self._unlock()

    def _unlock(self) -> None:
        if self._lock is not None and self._lock.isLocked():
            self._lock.unlock()  # also removes the lock file
        self._lock = None


class RecoverySlots:
    """The recovery root: claim this session's slot, find the slots of sessions that are gone."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_recovery_folder()

    def claim(self) -> Slot:
        """A new slot for this session, locked. Never raises: if the folder cannot be made, the
        slot is unlocked and its autosaves fail with a message (the session still runs)."""
        for _ in range(5):
            folder = self.root / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
            try:
                folder.mkdir(parents=True)
            except FileExistsError:
                continue
            except OSError as exc:
                log.warning("no recovery slot in %s: %s", self.root, exc)
                return Slot(folder, None)
            lock = _lock_for(folder)
            if lock.tryLock(0):
                return Slot(folder, lock)
            # Another studio's sweep removed the folder between mkdir and lock: try a new name.
        log.warning("could not lock a recovery slot in %s", self.root)
        return Slot(folder, None)

    def orphans(self) -> list[Slot]:
        """Slots left by sessions that are gone and still holding an autosave, newest first.

        Each returned slot is now locked by this process (so a second studio starting at the
        same moment does not offer it too): :meth:`Slot.release` it once dismissed or
        recovered, :meth:`Slot.abandon` it to offer it again next time. Dead slots without an
        autosave are removed on the way.
        """
        if not self.root.is_dir():
            return []
        found: list[tuple[float, Slot]] = []
        for folder in self._candidates():
            lock = _lock_for(folder)
            if not lock.tryLock(0):
                continue  # a living studio's slot, or another studio is looking at it right now
            slot = Slot(folder, lock)
            info = slot.store.pending()
            if info is None:
                if folder != self.root:
                    slot.store.discard()
                    slot.abandon()
                    shutil.rmtree(folder, ignore_errors=True)
                else:
                    slot.abandon()
                continue
            found.append((info.saved_at.timestamp(), slot))
        found.sort(key=lambda pair: pair[0], reverse=True)
        return [slot for _, slot in found]

    def _candidates(self) -> list[Path]:
        # A folder counts once it has a lock file or an autosave: a folder with neither is a
        # slot being claimed right now (mkdir done, lock not yet taken) and must be left alone.
        marks = (LOCK_NAME, PROJECT_NAME, INFO_NAME)
        folders = [self.root] if (self.root / PROJECT_NAME).is_file() else []
        try:
            entries = sorted(self.root.iterdir())
        except OSError:
            return folders
        for entry in entries:
            if entry.is_dir() and any((entry / m).exists() for m in marks):
                folders.append(entry)
        return folders
