"""Shared helpers for the engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# shared/ sits beside the repository (../shared) in every checkout, CI included.
OFFICIAL = REPO.parent / "shared" / "fixtures" / "official"


@pytest.fixture(scope="session")
def official_dir() -> Path:
    if not OFFICIAL.is_dir():
        pytest.fail(f"official fixtures not found at {OFFICIAL}: shared/ must sit beside the repo")
    return OFFICIAL
