"""Open the Tessera studio: ``app`` or ``python -m app`` (optionally with a file to open)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from app.main_window import MainWindow
from app.theme import apply_dark_theme


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Tessera")
    app.setOrganizationName("Tessera")
    apply_dark_theme(app)
    window = MainWindow(backend="auto")  # the fastest backend that matches eager, measured once
    window.show()
    if len(sys.argv) > 1:
        window.files.open_any(Path(sys.argv[1]))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
