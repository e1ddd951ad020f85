"""Test-wide setup: Qt renders offscreen, so tests run without a display."""

from __future__ import annotations

import os

# Must happen before anything imports Qt (pytest-qt included).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
