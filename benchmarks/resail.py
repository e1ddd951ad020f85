"""RESAIL in the studio's loop: one brush stroke → retrieval of what changed → live synthesis.

For each RESAIL weights folder (weights/* or --weights; a tiny random model at 96² in smoke
runs): a test-split scene it never saw is painted on with 16-px discs of random classes,
each on top of the previous ones, as in the retrieval group; every stroke times
``ResailSynthesizer.generate`` — the retriever's update, the guidance image, and the
generator recomputing only the RESAIL layers' windows (an exact pass when the changes
since the last one pass the drift limit; the share of such strokes is reported). "full" is
the first image of a map: retrieval from scratch and an exact pass. Two threads, fp32.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from benchmarks.retrieval import _disc, _samples
from benchmarks.settings import Settings
from benchmarks.timing import percentiles


def _tiny_resail(settings: Settings) -> list:
    from engine.checkpoints import save_weights
    from engine.encoding import default_channel_ids
    from engine.labels import LabelSet
    from engine.networks.resail import ResailConfig
    from engine.registry import ModelSpec
    from engine.retrieval import WEIGHTS_SUBFOLDER, build_database, save_database

    assert settings.scratch is not None
    folder = settings.scratch / "tiny-resail"
    if (folder / "config.json").is_file():
        return [folder]
    label_set = LabelSet.builtin("landscapes")
    ids = default_channel_ids(label_set.ids, label_set.dontcare)
    arch = ResailConfig.small(len(ids))
    spec = ModelSpec("resail", label_set, ids, 0, (96, 96), arch, training={"command": "benchmarks"})
    torch.manual_seed(0)
    save_weights(folder, spec, {"generator": spec.build("generator").state_dict()}, "# tiny random RESAIL\n")
    db = build_database(_samples(list(range(12)), (96, 96)), label_set, info={"command": "benchmarks"})
    save_database(db, folder / WEIGHTS_SUBFOLDER)
    return [folder]


def bench_resail(settings: Settings) -> list[dict]:
    import cv2

    from engine.inference.open import open_synthesizer
    from engine.noise import NoiseField

    cv2.setNumThreads(1)
    torch.set_num_threads(2)
    folders = _tiny_resail(settings) if settings.smoke else settings.folders("resail")
    rows = []
    for folder in folders:
        synth = open_synthesizer(folder)
        size = (96, 96) if settings.smoke else (256, 256)
        queries = list(_samples([s for s in range(settings.pick(200, 60, 20)) if s % 10 == 9], size))
        rng = np.random.default_rng(0)
        classes = list(synth.spec.label_set.ids)
        things = synth.db.thing_ids
        full, strokes, exact = [], [], 0
        for q in queries:
            labels, instances = q.labels.copy(), q.instances.copy()
            noise = NoiseField.uniform(*size, seed=0, z_dim=synth.z_dim)
            t = time.perf_counter()
            synth.generate(labels, noise, instances=instances)
            full.append((time.perf_counter() - t) * 1000)
            for _ in range(settings.pick(10, 5, 2)):
                _disc(labels, instances, rng, classes, things)
                t = time.perf_counter()
                synth.generate(labels, noise, instances=instances)
                strokes.append((time.perf_counter() - t) * 1000)
                exact += synth.live.last_exact
        common = {"family": "resail", "weights": folder.name, "size": f"{size[0]}x{size[1]}",
                  "backend": "torch-eager fp32, 2 threads"}  # fmt: skip
        rows += [
            {"name": "resail_full_image", **common, **percentiles(full)},
            {"name": "resail_stroke_to_image", **common, **percentiles(strokes), "budget_p50_ms": 100,
             "exact_pass_share": round(exact / max(1, len(strokes)), 3)},
        ]  # fmt: skip
    return rows
