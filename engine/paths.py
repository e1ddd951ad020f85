"""Where the project's bundled files live."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RESOURCES = REPO_ROOT / "resources"
LABELSETS = RESOURCES / "labelsets"
WEIGHTS = REPO_ROOT / "weights"
