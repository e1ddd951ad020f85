"""File I/O stays Qt-free, and nothing in app/document pulls in QtWidgets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, json, sys
qt = {}
for name in sys.argv[1:]:
    importlib.import_module(name)
    qt[name] = sorted(m for m in sys.modules if m.startswith(("PySide6", "shiboken")))
print(json.dumps(qt))
"""


def _qt_modules(*modules: str) -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *modules], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_file_io_is_qt_free() -> None:
    found = _qt_modules("app.document.pngmaps", "app.document.project", "app.document.io")
    assert found["app.document.io"] == []


def test_document_package_avoids_qtwidgets() -> None:
    found = _qt_modules("app.document.document", "app.document.recovery")
    assert not any("QtWidgets" in m for m in found["app.document.recovery"])
