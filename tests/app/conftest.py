"""Studio fixtures: a tiny random model, and windows that never block on a dialog."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from tests.helpers import write_tiny_oasis


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_oasis(tmp_path_factory.mktemp("weights") / "landscapes-tiny")


class Dialogs:
    """Stands in for QMessageBox: records what was shown, answers with ``answer``."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []
        self.answer = QMessageBox.StandardButton.Discard

    def warning(self, parent, title: str, text: str, *args, **kwargs):
        self.shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    information = warning

    def question(self, parent, title: str, text: str, *args, **kwargs):
        self.shown.append((title, text))
        return self.answer


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> Dialogs:
    d = Dialogs()
    for name in ("warning", "information", "question"):
        monkeypatch.setattr(QMessageBox, name, getattr(d, name))
    return d


@pytest.fixture
def make_window(qtbot, tiny_model: Path, tmp_path: Path, dialogs: Dialogs):
    from app.main_window import MainWindow

    def make(**kwargs):
        options = {
            "weights_folders": [tiny_model.parent],
            "settings": QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
            "recovery_folder": tmp_path / "recovery",
            "restore_session": False,
            "model": tiny_model,
        } | kwargs
        window = MainWindow(**options)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    return make


@pytest.fixture
def window(make_window):
    w = make_window()
    yield w
    w.doc.undo_stack.setClean()
    w.close()
