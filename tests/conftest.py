"""Test-wide setup: Qt renders offscreen, so tests run without a display."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Must happen before anything imports Qt (pytest-qt included).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from tests.helpers import write_tiny_oasis


@pytest.fixture(scope="session")
def fid_inception_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One random-weights FID Inception file (≈ 95 MB) shared by the tests that need it."""
    from tests.helpers import write_fid_inception

    return write_fid_inception(tmp_path_factory.mktemp("inception") / "pt_inception-random.pth")


# ---------------------------------------------------------------- studio fixtures


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
