"""app/document/ uses QtCore/QtGui only, so documents can be opened and saved headless."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, json, pkgutil, sys
import app.document as pkg
for info in pkgutil.walk_packages(pkg.__path__, "app.document."):
    importlib.import_module(info.name)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("PySide6.Qt"))))
"""


def test_document_package_never_imports_widgets() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    modules = json.loads(result.stdout.strip().splitlines()[-1])
    assert "PySide6.QtCore" in modules
    assert "PySide6.QtWidgets" not in modules, modules
