"""A bad file met during training ends the run with its name, and --skip-bad skips it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import make_folder_dataset

REPO = Path(__file__).resolve().parents[2]


def _truncated_dataset(tmp_path: Path) -> tuple[Path, Path]:
    data = make_folder_dataset(tmp_path / "data", count=6)
    image = sorted((data / "train" / "images").glob("*"))[1]
    image.write_bytes(image.read_bytes()[: image.stat().st_size // 3])  # header intact, pixels cut
    return data, image


def _fit(data: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    args = ["fit", "--data", f"folder:{data}", "--out", str(out), "--size", "64", "--batch", "2"]
    args += ["--steps", "6", "--arch", "small", "--workers", "2", "--precision", "fp32", *extra]
    return subprocess.run(
        [sys.executable, "-m", "engine.train.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,  # the run used to hang here for ever: workers ignored SIGTERM
        env={"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.slow
def test_a_worker_error_ends_the_run_with_the_file_named(tmp_path: Path) -> None:
    data, image = _truncated_dataset(tmp_path)
    result = _fit(data, tmp_path / "run")
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"{image}: cannot read the image" in result.stderr
    assert "Original Traceback" not in result.stderr and "--skip-bad" in result.stderr


@pytest.mark.slow
def test_skip_bad_catches_a_file_cut_after_its_header(tmp_path: Path) -> None:
    data, image = _truncated_dataset(tmp_path)
    result = _fit(data, tmp_path / "run", "--skip-bad")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "skipped 1 bad entries" in result.stdout and image.name in result.stdout
