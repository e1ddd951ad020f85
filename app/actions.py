"""Menu and toolbar actions of the studio: an icon, a tooltip that names the shortcut."""

from __future__ import annotations

from collections.abc import Callable

import qtawesome as qta
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

ICON_COLOR = "#dddddd"  # quiet chrome on the dark theme


def make_action(
    owner: QWidget,
    text: str,
    slot: Callable[..., object],
    shortcut: str | QKeySequence | QKeySequence.StandardKey | None = None,
    icon: str | None = None,
    tip: str = "",
) -> QAction:
    """An action of ``owner`` that runs ``slot``; its shortcut works even with the menu bar hidden."""
    action = QAction(text, owner)
    if icon:
        action.setIcon(qta.icon(icon, color=ICON_COLOR))
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    label = tip or text.replace("&", "")
    keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    action.setToolTip(f"{label} ({keys})" if keys else label)
    action.setStatusTip(label)
    action.triggered.connect(slot)
    owner.addAction(action)
    return action
