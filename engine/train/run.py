"""The run folder: resolved options, the resumable checkpoint, logs and sample grids.

    RUN/options.json     every option, resolved (what --resume reads back)
    RUN/model.json       the model spec (family, label set, architecture)
    RUN/checkpoint.pt    latest training state (G, D, EMA, optimisers, step); the
    RUN/checkpoint.prev.pt  one before it, kept in case the latest is damaged
    RUN/log.csv          losses and throughput every --log-every steps
    RUN/events.out.tfevents.*  the same for TensorBoard, plus sample grids
    RUN/samples/step_XXXXXXX.png

Checkpoints are our own files but are still read with ``weights_only=True``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from engine.errors import InputError
from engine.fileio import atomic_write_bytes

CHECKPOINT_FORMAT = "tessera-run"
CHECKPOINT_VERSION = 1
BASE_FIELDS = ["step", "elapsed_s", "images_per_s"]


class RunFolder:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.checkpoint = self.path / "checkpoint.pt"
        self.previous = self.path / "checkpoint.prev.pt"
        self.options = self.path / "options.json"
        self.model = self.path / "model.json"
        self.log = self.path / "log.csv"
        self.samples = self.path / "samples"

    def has_checkpoint(self) -> bool:
        return self.checkpoint.is_file() or self.previous.is_file()

    def write_json(self, path: Path, data: dict) -> None:
        atomic_write_bytes(path, (json.dumps(data, indent=2) + "\n").encode())

    def read_options(self) -> dict:
        if not self.options.is_file():
            raise InputError(
                "no options.json: not a run folder",
                source=self.path,
                fix="pass the --out folder of an earlier `app-train fit`",
            )
        try:
            options = json.loads(self.options.read_text())
        except (ValueError, RecursionError) as exc:
            raise InputError(
                f"options.json is not valid JSON ({str(exc)[:120]})",
                source=self.options,
                fix="restore it from a backup, or start a new run",
            ) from None
        if not isinstance(options, dict):
            raise InputError(
                f"options.json holds a JSON {type(options).__name__}, not the run's options",
                source=self.options,
                fix="restore it from a backup, or start a new run",
            )
        return options

    def save_checkpoint(self, state: dict) -> None:
        buffer = io.BytesIO()
        torch.save({"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **state}, buffer)
        if self.checkpoint.is_file():
            self.checkpoint.replace(self.previous)
        atomic_write_bytes(self.checkpoint, buffer.getvalue())

    def load_checkpoint(self, map_location: str | torch.device = "cpu") -> tuple[dict, list[str]]:
        """The latest readable checkpoint, and warnings about any that were not readable."""
        warnings = []
        for path in (self.checkpoint, self.previous):
            if not path.is_file():
                continue
            try:
                state = torch.load(path, map_location=map_location, weights_only=True)
            except Exception as exc:  # truncated/corrupt: fall back to the previous one
                warnings.append(f"{path}: unreadable ({type(exc).__name__}); trying the previous checkpoint")
                continue
            if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
                warnings.append(f"{path}: not a Tessera training checkpoint")
                continue
            return state, warnings
        raise InputError(
            "no readable checkpoint",
            source=self.path,
            fix="start a new run without --resume (" + "; ".join(warnings) + ")"
            if warnings
            else "start a new run without --resume",
        )


class RunLogger:
    """CSV + TensorBoard, written by rank 0 only."""

    def __init__(self, run: RunFolder, enabled: bool, loss_names: list[str], start_step: int = 0) -> None:
        self.run, self.enabled = run, enabled
        self.fields = BASE_FIELDS + loss_names
        self.writer = None
        if not enabled:
            return
        # A resumed run replays the steps after its checkpoint: drop their old rows.
        kept = []
        if run.log.is_file():
            with run.log.open(newline="") as f:
                kept = [
                    r
                    for r in csv.DictReader(f)
                    if r.get("step", "").isdigit() and int(r["step"]) <= start_step
                ]
        self._csv = run.log.open("w", newline="")
        self._rows = csv.DictWriter(self._csv, fieldnames=self.fields)
        self._rows.writeheader()
        self._rows.writerows({k: r.get(k, "") for k in self.fields} for r in kept)
        self._csv.flush()
        from torch.utils.tensorboard import SummaryWriter

        # purge_step hides events a killed run wrote after its last checkpoint.
        self.writer = SummaryWriter(log_dir=str(run.path), purge_step=start_step + 1 if start_step else None)

    def log(self, step: int, row: dict[str, float]) -> None:
        if not self.enabled:
            return
        self._rows.writerow({k: row.get(k, "") for k in self.fields} | {"step": step})
        self._csv.flush()
        for key, value in row.items():
            if key.startswith("loss") or key == "images_per_s":
                self.writer.add_scalar(f"train/{key}", value, step)

    def image(self, step: int, grid: np.ndarray) -> None:
        if not self.enabled:
            return
        self.run.samples.mkdir(parents=True, exist_ok=True)
        Image.fromarray(grid).save(self.run.samples / f"step_{step:07d}.png")
        self.writer.add_image("samples", grid, step, dataformats="HWC")

    def close(self) -> None:
        if self.enabled:
            self._csv.close()
            self.writer.close()
