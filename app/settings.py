"""Where the studio keeps per-user things (recent files, user models, crash recovery)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths


def user_data_folder() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".tessera")


def user_weights_folder() -> Path:
    """Models the user exported or imported; listed beside the shipped ones."""
    return user_data_folder() / "weights"
