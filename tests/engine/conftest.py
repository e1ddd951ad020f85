"""Shared helpers for the engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# A copy of shared/fixtures/official (data only: manifests and tiny random nets with the
# official code's outputs), kept in the repo so the tests do not depend on where shared/ is.
OFFICIAL = REPO / "tests" / "fixtures" / "official"


@pytest.fixture(scope="session")
def official_dir() -> Path:
    if not OFFICIAL.is_dir():
        pytest.fail(f"official fixtures not found at {OFFICIAL}: copy shared/fixtures/official there")
    return OFFICIAL
