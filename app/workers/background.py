"""Run one slow call (segment a photo, encode its style) off the GUI thread, and wait for it.

The studio's window keeps repainting while the call runs; after a short delay a
window-modal progress dialog with *Cancel* appears (so quick calls never flash a dialog,
and slow ones can be abandoned). Cancelling returns at once; the call finishes on its own
thread and its result is dropped. The call must not touch Qt widgets.

A long call that counts its steps and can stop between them (a photo inversion) runs with
:func:`run_with_progress` instead: the dialog shows steps done, and Cancel asks the call to
stop, waiting the one step it takes rather than leaving it to burn a core.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from PySide6.QtCore import QEventLoop, QObject, Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import QApplication, QProgressDialog, QWidget

T = TypeVar("T")

SHOW_AFTER_MS = 250

# Cancelled calls still running: their QThread must outlive the call that started it.
_abandoned: set[QThread] = set()


def _abandon(call: QThread) -> None:
    """Keep a cancelled call's thread object alive until its thread has really ended."""
    _abandoned.add(call)

    def forget() -> None:
        # Queued to the GUI thread: ``finished`` is emitted from the worker thread just
        # before it ends, and dropping the last reference there would destroy a running QThread.
        call.wait()
        _abandoned.discard(call)

    call.finished.connect(forget, Qt.ConnectionType.QueuedConnection)


@atexit.register
def _wait_for_abandoned() -> None:
    # A QThread destroyed while its thread runs aborts the process: let cancelled calls end.
    for call in list(_abandoned):
        call.wait(10_000)


class Cancelled(Exception):
    """The user cancelled the wait; the call's result (or error) is dropped."""


class _Call(QThread, Generic[T]):
    def __init__(self, fn: Callable[[], T]) -> None:
        super().__init__()
        self._fn = fn
        self.result: T | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._fn()
        except BaseException as exc:  # handed to the GUI thread, which re-raises it
            self.error = exc


def run_in_background(
    parent: QWidget, label: str, fn: Callable[[], T], *, show_after_ms: int = SHOW_AFTER_MS
) -> T:
    """``fn()`` on a worker thread while the GUI stays live; its result, or its exception
    re-raised here, or :class:`Cancelled` if the user pressed Cancel."""
    call: _Call[T] = _Call(fn)
    dialog = QProgressDialog(label, "Cancel", 0, 0, parent)  # 0..0: a busy bar, no percentage
    dialog.setWindowTitle("Tessera")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setAutoClose(False)
    # Its own show-after timer only starts once a value is set (a busy bar never has one),
    # so it would pop up after 4 s: stop it and show the dialog with a timer of ours.
    dialog.reset()
    show = QTimer()
    show.setSingleShot(True)
    show.timeout.connect(dialog.show)
    show.start(show_after_ms)
    loop = QEventLoop()
    call.finished.connect(loop.quit)
    dialog.canceled.connect(loop.quit)
    QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
    call.start()
    try:
        if not call.isFinished():
            loop.exec()
    finally:
        show.stop()
        QApplication.restoreOverrideCursor()
        cancelled = dialog.wasCanceled()
        dialog.canceled.disconnect(loop.quit)
        dialog.reset()
        dialog.deleteLater()
    if not call.isFinished():
        if not cancelled:  # the loop quit some other way (application closing): wait it out
            call.wait()
        else:
            _abandon(call)
            raise Cancelled(label)
    if cancelled:
        raise Cancelled(label)
    if call.error is not None:
        raise call.error
    return call.result  # type: ignore[return-value]  # fn returned it (T may include None)


Progress = Callable[[int, int], None]  # (steps done, steps in all), from the worker thread
Stopped = Callable[[], bool]  # True once the painter pressed Cancel


class _Steps(QObject):
    """Carries progress from the worker thread to the dialog (a queued signal)."""

    step = Signal(int, int)


def run_with_progress(parent: QWidget, label: str, fn: Callable[[Progress, Stopped], T]) -> T:
    """``fn(progress, stopped)`` on a worker thread behind a window-modal progress dialog;
    its result, or its exception re-raised here, or :class:`Cancelled` after Cancel (``fn``
    sees ``stopped()`` turn True and returns early; its result is dropped)."""
    stop = threading.Event()
    steps = _Steps()
    call: _Call[T] = _Call(lambda: fn(steps.step.emit, stop.is_set))
    dialog = QProgressDialog(label, "Cancel", 0, 0, parent)
    dialog.setWindowTitle("Tessera")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setMinimumDuration(0)

    def cancel() -> None:
        stop.set()
        dialog.setLabelText("Stopping…")

    def show_step(done: int, total: int) -> None:
        if dialog.wasCanceled():  # cancel() and Escape do not emit canceled: ask at every step
            cancel()
        if not stop.is_set():
            dialog.setMaximum(total)
            dialog.setValue(done)

    steps.step.connect(show_step)
    dialog.canceled.connect(cancel)
    dialog.rejected.connect(cancel)
    loop = QEventLoop()
    call.finished.connect(loop.quit)
    QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
    call.start()
    dialog.show()
    try:
        if not call.isFinished():
            loop.exec()
        call.wait()  # the loop quit on finished (or the application is closing): it is done
    finally:
        QApplication.restoreOverrideCursor()
        dialog.canceled.disconnect(cancel)
        dialog.rejected.disconnect(cancel)
        dialog.hide()
        dialog.deleteLater()
    if stop.is_set():
        raise Cancelled(label)
    if call.error is not None:
        raise call.error
    return call.result  # type: ignore[return-value]
