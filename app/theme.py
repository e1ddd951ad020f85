"""A dark theme: the painting and the result carry the colour, the chrome stays quiet."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

ROLES = {
    QPalette.ColorRole.Window: (45, 45, 48),
    QPalette.ColorRole.WindowText: (220, 220, 220),
    QPalette.ColorRole.Base: (32, 32, 34),
    QPalette.ColorRole.AlternateBase: (45, 45, 48),
    QPalette.ColorRole.ToolTipBase: (60, 60, 64),
    QPalette.ColorRole.ToolTipText: (230, 230, 230),
    QPalette.ColorRole.Text: (220, 220, 220),
    QPalette.ColorRole.Button: (55, 55, 58),
    QPalette.ColorRole.ButtonText: (220, 220, 220),
    QPalette.ColorRole.BrightText: (255, 90, 90),
    QPalette.ColorRole.Link: (90, 160, 255),
    QPalette.ColorRole.Highlight: (58, 120, 200),
    QPalette.ColorRole.HighlightedText: (255, 255, 255),
    QPalette.ColorRole.PlaceholderText: (140, 140, 140),
}


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    for role, rgb in ROLES.items():
        palette.setColor(role, QColor(*rgb))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 120))
    app.setPalette(palette)
