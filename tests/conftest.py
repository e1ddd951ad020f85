"""Test-wide setup: Qt renders offscreen, so tests run without a display."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Must happen before anything imports Qt (pytest-qt included).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def fid_inception_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One random-weights FID Inception file (≈ 95 MB) shared by the tests that need it."""
    from tests.helpers import write_fid_inception

    return write_fid_inception(tmp_path_factory.mktemp("inception") / "pt_inception-random.pth")
