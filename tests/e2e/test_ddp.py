"""The DistributedDataParallel path, on CPU with gloo and two processes (torchrun)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.helpers import make_folder_dataset

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_process_training_then_single_process_resume(tmp_path: Path) -> None:
    data = make_folder_dataset(tmp_path / "data", count=8)
    run = tmp_path / "run"
    common = ["--out", str(run), "--precision", "fp32", "--workers", "0", "--log-every", "2"]
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    ddp = subprocess.run(
        [
            sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
            "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
            "-m", "engine.train.cli", "fit", "--data", f"folder:{data}", "--size", "64", "--batch", "4",
            "--steps", "4", "--arch", "small", "--ckpt-every", "2", "--ema-bn-batches", "1", *common,
        ],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert ddp.returncode == 0, ddp.stdout + ddp.stderr
    assert "2 process(es)" in ddp.stdout
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    assert state["step"] == 4

    # The checkpoint of a 2-process run continues on one process.
    single = subprocess.run(
        [sys.executable, "-m", "engine.train.cli", "fit", "--resume", "--steps", "6", *common],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert single.returncode == 0, single.stderr
    assert torch.load(run / "checkpoint.pt", weights_only=True)["step"] == 6
