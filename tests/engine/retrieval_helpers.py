"""A tiny landscapes segment database, rendered on the fly (a dozen 64² scenes, ~1 s)."""

from __future__ import annotations

from engine.data.base import Sample
from engine.data.landscapes.generate import render_scene
from engine.labels import LabelSet
from engine.retrieval import BuildOptions, SegmentDatabase, build_database

SIZE = 64
TEST_SEEDS = (900, 901, 902)  # maps to query with: not in the database


def landscape(seed: int, size: int = SIZE) -> Sample:
    image, labels, instances = render_scene(seed, size, size)
    return Sample(f"land_{seed:08d}", image, labels, instances)


def tiny_landscapes_db(count: int = 12, size: int = SIZE, **options: object) -> SegmentDatabase:
    opts = BuildOptions(**{"min_area": 4, **options})  # type: ignore[arg-type]
    samples = (landscape(seed, size) for seed in range(count))
    return build_database(samples, LabelSet.builtin("landscapes"), opts)
