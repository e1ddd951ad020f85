"""Training throughput: images per second of one training step, per family.

Runs each family's real training step (``engine.train.families.TRAINERS``) on random
128² landscapes batches of 4 with the shipped models' architecture (OASIS: channels_G
16, SPADE hidden 32, D widths 32–128 — `weights/landscapes-oasis/config.json`), in the
precision ``app-train fit`` would pick here (smoke runs: the small architecture, 64²
batches of 2, one timed step). Data loading is not included.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.settings import SMOKE_SIZE, Settings
from benchmarks.timing import percentiles
from engine.data import Batch, Sample, make_batch

SIZE, BATCH = (128, 128), 4
SHIPPED = {"channels_g": 16, "spade_hidden": 32, "d_widths": (32, 32, 64, 64, 128, 128), "d_last_width": 32}


def _batch(label_ids: list[int], seed: int, size: tuple[int, int], batch: int) -> Batch:
    """Blocky random layouts with noise images, through the trainers' own batch builder."""
    rng = np.random.default_rng(seed)
    h, w = size
    samples = []
    for i in range(batch):
        cells = rng.integers(0, len(label_ids), (h // 16, w // 16))
        labels = np.asarray(label_ids, np.uint16)[cells].repeat(16, 0).repeat(16, 1)
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        instances = (cells * 16 + (np.arange(w // 16) % 3)).repeat(16, 0).repeat(16, 1).astype(np.int32)
        samples.append(Sample(f"bench{seed}_{i}", image, labels, instances))
    return make_batch(samples)


def bench_training(
    settings: Settings,
    *,
    size: tuple[int, int] | None = None,
    batch: int | None = None,
    arch: str | None = None,
    steps: int | None = None,
) -> list[dict]:
    """One row per family of ``engine.train.families.TRAINERS``; the keywords override
    what ``settings`` picks."""
    from engine.encoding import default_channel_ids
    from engine.labels import LabelSet
    from engine.registry import ModelSpec
    from engine.train.families import TRAINERS
    from engine.train.options import FitOptions

    label_set = LabelSet.builtin("landscapes")
    ids = default_channel_ids(label_set.ids, label_set.dontcare)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    size = size or settings.pick(SIZE, SIZE, SMOKE_SIZE)
    batch = batch or settings.pick(BATCH, BATCH, 2)
    arch = arch or settings.pick("shipped", "shipped", "small")
    steps = steps or settings.pick(10, 3, 1)
    widths = SHIPPED if arch == "shipped" else {"arch": "small"}
    cases = []
    for family, trainer in TRAINERS.items():
        where = {"data": "landscapes:-", "out": Path("-")}  # never read: no data loading here
        options = FitOptions(**where, family=family, size=size, batch=batch, **widths)
        arch_config = trainer.build_arch(options, len(ids))
        dontcare = 0 if label_set.dontcare is not None else None
        spec = ModelSpec(family=family, label_set=label_set, channel_ids=ids, dontcare_channel=dontcare,
                         image_size=size, arch=arch_config)  # fmt: skip
        training = trainer(spec, options, device)
        training.step(_batch(label_set.ids, 0, size, batch), 0, 0)  # warm-up: lazy init, allocator
        times = []
        for step in range(1, steps + 1):
            data = _batch(label_set.ids, step, size, batch)
            start = time.perf_counter()
            training.step(data, step, 0)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append((time.perf_counter() - start) * 1000)
        row = percentiles(times)
        cases.append({
            "name": f"train_step:{family}", "family": family, "size": f"{size[0]}x{size[1]}",
            "backend": f"{device.type} batch {batch}, {torch.get_num_threads()} threads", **row,
            "images_per_s": round(batch * 1000 / row["p50_ms"], 2),
        })  # fmt: skip
    return cases
