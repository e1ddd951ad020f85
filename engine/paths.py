"""Where the project's bundled files live."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RESOURCES = REPO_ROOT / "resources"
LABELSETS = RESOURCES / "labelsets"
WEIGHTS = REPO_ROOT / "weights"


def user_cache_dir() -> Path:
    """Per-user cache for derived files (exported ONNX models, backend choices), never the repo.

    ``TESSERA_CACHE`` overrides it (tests, shared machines, read-only homes). Everything
    in it can be deleted; it is rebuilt on demand.
    """
    override = os.environ.get("TESSERA_CACHE")
    if override:
        return Path(override)
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "Tessera" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "Tessera"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tessera"


def portable(text: str) -> str:
    """``text`` with absolute paths inside the project (or the working folder) made relative,
    for files that are committed (cards, configs, eval reports) and must not name the
    machine they were made on."""
    for root in (REPO_ROOT, Path.cwd()):
        prefix = str(root.resolve()).rstrip("/") + "/"
        text = text.replace(prefix, "")
    return text
