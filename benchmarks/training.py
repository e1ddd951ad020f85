"""Training throughput: images per second of one training step, per family.

Runs each family's real training step (``engine.train.families.TRAINERS``) on random
128² landscapes batches of 4 with the shipped models' architecture (OASIS: channels_G
16, SPADE hidden 32, D widths 32–128 — `weights/landscapes-oasis/config.json`), in the
precision ``app-train fit`` would pick here. Data loading is not included.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from benchmarks.timing import percentiles

SIZE, BATCH = (128, 128), 4
SHIPPED = {"channels_g": 16, "spade_hidden": 32, "d_widths": (32, 32, 64, 64, 128, 128), "d_last_width": 32}


def _batch(label_ids: list[int], seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    cells = torch.randint(0, len(label_ids), (BATCH, SIZE[0] // 16, SIZE[1] // 16), generator=g)
    labels = torch.tensor(label_ids)[cells].repeat_interleave(16, 1).repeat_interleave(16, 2)
    return {"image": torch.rand(BATCH, 3, *SIZE, generator=g) * 2 - 1, "labels": labels}


def bench_training(quick: bool) -> list[dict]:
    from engine.encoding import default_channel_ids
    from engine.labels import LabelSet
    from engine.registry import ModelSpec
    from engine.train.families import TRAINERS
    from engine.train.options import FitOptions

    label_set = LabelSet.builtin("landscapes")
    ids = default_channel_ids(label_set.ids, label_set.dontcare)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    steps = 3 if quick else 10
    cases = []
    for family, trainer in TRAINERS.items():
        where = {"data": "landscapes:-", "out": Path("-")}  # never read: no data loading here
        options = FitOptions(**where, family=family, size=SIZE, batch=BATCH, **SHIPPED)
        arch = trainer.build_arch(options, len(ids))
        dontcare = 0 if label_set.dontcare is not None else None
        spec = ModelSpec(family=family, label_set=label_set, channel_ids=ids, dontcare_channel=dontcare,
                         image_size=SIZE, arch=arch)  # fmt: skip
        training = trainer(spec, options, device)
        training.step(_batch(label_set.ids, 0), 0, 0)  # warm-up: lazy init, allocator
        times = []
        for step in range(1, steps + 1):
            batch = _batch(label_set.ids, step)
            start = time.perf_counter()
            training.step(batch, step, 0)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append((time.perf_counter() - start) * 1000)
        row = percentiles(times)
        cases.append({
            "name": f"train_step:{family}", "family": family, "size": f"{SIZE[0]}x{SIZE[1]}",
            "backend": f"{device.type} batch {BATCH}, {torch.get_num_threads()} threads", **row,
            "images_per_s": round(BATCH * 1000 / row["p50_ms"], 2),
        })  # fmt: skip
    return cases
