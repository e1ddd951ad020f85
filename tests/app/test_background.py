"""Slow calls off the GUI thread: the GUI keeps running, results and errors come back, Cancel works."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog, QPushButton, QWidget

from app.workers.background import Cancelled, run_in_background
from engine.errors import InputError


@pytest.fixture
def parent(qtbot) -> QWidget:
    w = QWidget()
    qtbot.addWidget(w)
    w.show()
    return w


def test_the_gui_thread_runs_while_the_call_works_elsewhere(parent: QWidget) -> None:
    gui = QThread.currentThread()
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    seen: list[object] = []

    def slow() -> int:
        seen.append(QThread.currentThread())
        time.sleep(0.3)
        return 42

    assert run_in_background(parent, "working", slow) == 42
    timer.stop()
    assert seen and seen[0] is not gui
    assert len(ticks) >= 5  # a blocking call would have starved the timer


def test_errors_come_back_as_they_were(parent: QWidget) -> None:
    def broken() -> None:
        raise InputError("bad photo", source="x.png", fix="pick another")

    with pytest.raises(InputError, match="bad photo"):
        run_in_background(parent, "working", broken)


def test_cancel_returns_at_once_and_drops_the_result(qtbot, parent: QWidget) -> None:
    release = threading.Event()

    def stuck() -> str:
        release.wait(10)
        return "late"

    def press_cancel() -> None:
        for dialog in parent.findChildren(QProgressDialog):
            if dialog.isVisible():
                dialog.findChild(QPushButton).click()  # what the user presses
                return
        QTimer.singleShot(20, press_cancel)  # not shown yet

    QTimer.singleShot(0, press_cancel)
    start = time.perf_counter()
    with pytest.raises(Cancelled):
        run_in_background(parent, "stuck", stuck, show_after_ms=50)
    assert time.perf_counter() - start < 5
    release.set()
    qtbot.waitUntil(lambda: QApplication.overrideCursor() is None, timeout=1000)


def test_a_quick_call_shows_no_dialog(parent: QWidget) -> None:
    assert run_in_background(parent, "quick", lambda: "done") == "done"
    assert not any(d.isVisible() for d in parent.findChildren(QProgressDialog))
