"""engine/ never imports Qt: import every engine module in a clean interpreter and look."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, json, pkgutil, sys
import engine

def fail(name):
    raise ImportError(f"cannot import {name}")

names = ["engine"]
for info in pkgutil.walk_packages(engine.__path__, "engine.", onerror=fail):
    importlib.import_module(info.name)
    names.append(info.name)
qt = sorted(m for m in sys.modules if m.startswith(("PySide6", "PyQt", "qtpy", "shiboken")))
print(json.dumps({"modules": names, "qt": qt}))
"""


def test_engine_imports_no_qt() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "engine.scene" in report["modules"] and "engine.noise" in report["modules"]
    assert report["qt"] == [], f"engine modules pulled in Qt: {report['qt']}"
