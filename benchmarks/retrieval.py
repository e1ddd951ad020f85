"""RESAIL retrieval (engine/retrieval): a whole painted map, one brush stroke, the guidance image.

The database is the landscapes training split at 256² (data/land256 when it is there,
else the same 2400 scenes rendered once and cached); the query maps are test-split scenes
it does not hold. "full map" is a fresh Retriever on a new map (decomposition + scoring);
"stroke" paints a 16-px disc of a random class on the current map and updates, each disc
on top of the previous ones, so only the segments it touched are scored; "guidance" composes
the guidance image of the current map. One thread. Smoke runs use a dozen 64² scenes.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.settings import SMOKE_SIZE, Settings
from benchmarks.timing import percentiles

BRUSH = 16
SEEDS = 3000  # the land256 recipe: seeds 0 … 2999, index % 10 < 8 train, 9 test


def _samples(seeds: list[int], size: tuple[int, int]):
    from engine.data.base import Sample
    from engine.data.landscapes.generate import render_scene

    for seed in seeds:
        image, labels, instances = render_scene(seed, *size)
        yield Sample(f"land_{seed:08d}", image, labels, instances)


def _database(settings: Settings, size: tuple[int, int]) -> tuple[object, str]:
    """The database and a note on where it came from (built once, cached outside smoke runs)."""
    from engine.data import open_dataset
    from engine.labels import LabelSet
    from engine.paths import REPO_ROOT, user_cache_dir
    from engine.retrieval import build_database, load_database, save_database

    count = settings.pick(SEEDS, 400, 15)
    train = [s for s in range(count) if s % 10 < 8]
    if settings.smoke:
        samples = _samples(train, size)
        return build_database(
            samples, LabelSet.builtin("landscapes"), info={"command": "benchmarks"}
        ), "rendered"
    folder = user_cache_dir() / "benchmarks" / f"retrieval-landscapes-{count}-{size[0]}x{size[1]}"
    if (folder / "index.json").is_file():
        return load_database(folder), f"cached {folder.name}"
    land256 = REPO_ROOT / "data" / "land256"
    if count == SEEDS and size == (256, 256) and (land256 / "train").is_dir():
        data = open_dataset(f"landscapes:{land256}", split="train")
        samples, note = (data[i] for i in range(len(data))), "data/land256"
    else:
        samples, note = _samples(train, size), "rendered"
    db = build_database(samples, LabelSet.builtin("landscapes"), info={"command": "python -m benchmarks"})
    save_database(db, folder)
    return db, note


def _disc(labels: np.ndarray, instances: np.ndarray, rng: np.random.Generator, classes: list[int],
          things: frozenset[int]) -> None:  # fmt: skip
    h, w = labels.shape
    cy, cx = (int(v) for v in rng.integers(0, (h, w)))
    y, x = np.ogrid[:h, :w]
    mask = (y - cy + 0.5) ** 2 + (x - cx + 0.5) ** 2 <= (BRUSH / 2) ** 2
    cls = int(rng.choice(classes))
    labels[mask] = cls
    instances[mask] = int(instances.max()) + 1 if cls in things else 0


def bench_retrieval(settings: Settings) -> list[dict]:
    import cv2

    from engine.retrieval import Retriever

    cv2.setNumThreads(1)
    size = SMOKE_SIZE if settings.smoke else (256, 256)
    start = time.perf_counter()
    db, source = _database(settings, size)
    ready_s = time.perf_counter() - start
    queries = list(_samples([s for s in range(settings.pick(300, 100, 20)) if s % 10 == 9], size))
    label = f"{size[0]}x{size[1]}"
    common = {
        "family": "resail", "size": label, "backend": "numpy, 1 thread",
        "database": f"{len(db)} segments of {len(db.sources)} images ({source})",
    }  # fmt: skip
    full, counts = [], []
    for q in queries * settings.pick(2, 2, 1):
        r = Retriever(db)
        t = time.perf_counter()
        upd = r.update(q.labels, q.instances)
        full.append((time.perf_counter() - t) * 1000)
        counts.append(len(upd.segments))
    rng = np.random.default_rng(0)
    classes = list(db.label_set.ids)
    strokes, scored, compose = [], [], []
    for q in queries:
        r = Retriever(db)
        labels, instances = q.labels.copy(), q.instances.copy()
        r.update(labels, instances)
        r.guidance()  # warm the decoded-image cache as a painting session would be
        for _ in range(settings.pick(10, 5, 2)):
            _disc(labels, instances, rng, classes, db.thing_ids)
            t = time.perf_counter()
            upd = r.update(labels, instances)
            strokes.append((time.perf_counter() - t) * 1000)
            scored.append(len(upd.retrieved))
            t = time.perf_counter()
            r.guidance()
            compose.append((time.perf_counter() - t) * 1000)
    return [
        {"name": "retrieval_full_map", **common, **percentiles(full),
         "segments_per_map": round(float(np.mean(counts)), 1), "database_ready_s": round(ready_s, 1)},
        {"name": "retrieval_stroke", **common, **percentiles(strokes), "brush_px": BRUSH,
         "segments_scored": round(float(np.mean(scored)), 2)},
        {"name": "retrieval_guidance", **common, **percentiles(compose)},
    ]  # fmt: skip
