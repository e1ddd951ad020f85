"""The placeholder studio window opens and points to the command line."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence

from app.main_window import MainWindow


def test_main_window_opens(qtbot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.windowTitle() == "Tessera"
    assert "app-train" in window.welcome.text()
    assert window.quit_action.shortcut() == QKeySequence("Ctrl+Q")


def test_quit_closes_window(qtbot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.quit_action.trigger()
    assert not window.isVisible()
