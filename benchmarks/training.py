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
# RESAIL trains whole 256² maps (retrieved segments keep their scale), batch 2, with the
# widths of runs/resail-*: ngf 8, both branch widths 16, D ndf 32. Its smallest map is 96².
RESAIL_SHIPPED = {"channels_g": 8, "spade_hidden": 16, "d_widths": (32,)}
RESAIL_SIZE, RESAIL_BATCH, RESAIL_MIN = (256, 256), 2, 96
# Families that train on top of another trained model (ugen: a frozen StyleGAN2 folder) have
# no step to time on random batches alone; they get rows once such weights are shipped.
NEEDS_WEIGHTS = frozenset({"ugen"})


def _with_guidance(batch: Batch, seed: int) -> dict:
    """RESAIL's two guidance images: noise with a fifth of the pixels empty (−1)."""
    gen = torch.Generator().manual_seed(seed)
    out: dict = dict(batch)
    for key in ("guidance_a", "guidance_b"):
        image = batch["image"]
        guide = torch.rand(image.shape, generator=gen) * 2 - 1
        empty = torch.rand(image.shape[0], 1, *image.shape[-2:], generator=gen) < 0.2
        out[key] = torch.where(empty, torch.full_like(guide, -1.0), guide)
    return out


def _batch(label_ids: list[int], seed: int, size: tuple[int, int], batch: int) -> Batch:
    """Blocky random layouts with noise images and a ground-plane depth (near at the bottom,
    far at the top: what the depth family regresses), through the trainers' own batch builder."""
    rng = np.random.default_rng(seed)
    h, w = size
    samples = []
    for i in range(batch):
        cells = rng.integers(0, len(label_ids), (h // 16, w // 16))
        labels = np.asarray(label_ids, np.uint16)[cells].repeat(16, 0).repeat(16, 1)
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        instances = (cells * 16 + (np.arange(w // 16) % 3)).repeat(16, 0).repeat(16, 1).astype(np.int32)
        depth = np.repeat(np.linspace(1.0, 0.0, h, dtype=np.float32)[:, None], w, axis=1)
        samples.append(Sample(f"bench{seed}_{i}", image, labels, instances, depth=depth))
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
    from engine.train.loop import use_fast_layout
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
        if family in NEEDS_WEIGHTS:
            continue
        where = {"data": "landscapes:-", "out": Path("-")}  # never read: no data loading here
        f_size, f_batch, f_widths = size, batch, widths
        if family == "resail":
            f_size = (
                RESAIL_SIZE if arch == "shipped" else (max(size[0], RESAIL_MIN), max(size[1], RESAIL_MIN))
            )
            f_batch, f_widths = (RESAIL_BATCH, RESAIL_SHIPPED) if arch == "shipped" else (batch, widths)

        def data_for(
            step: int, family: str = family, size: tuple[int, int] = f_size, n: int = f_batch
        ) -> dict:
            data = _batch(label_set.ids, step, size, n)
            return _with_guidance(data, step) if family == "resail" else dict(data)

        options = FitOptions(**where, family=family, size=f_size, batch=f_batch, **f_widths)
        arch_config = trainer.build_arch(options, len(ids))
        dontcare = 0 if label_set.dontcare is not None else None
        spec = ModelSpec(family=family, label_set=label_set, channel_ids=ids, dontcare_channel=dontcare,
                         image_size=f_size, arch=arch_config)  # fmt: skip
        training = trainer(spec, options, device)
        channels_last = use_fast_layout(training, device)  # as app-train fit trains it
        training.step(data_for(0), 0, 0)  # warm-up: lazy init, allocator
        times = []
        for step in range(1, steps + 1):
            data = data_for(step)
            start = time.perf_counter()
            training.step(data, step, 0)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append((time.perf_counter() - start) * 1000)
        row = percentiles(times)
        cases.append({
            "name": f"train_step:{family}", "family": family, "size": f"{f_size[0]}x{f_size[1]}",
            "backend": f"{device.type} batch {f_batch}, {torch.get_num_threads()} threads"
            + (", channels-last" if channels_last else ""), **row,
            "images_per_s": round(f_batch * 1000 / row["p50_ms"], 2),
        })  # fmt: skip
    return cases
