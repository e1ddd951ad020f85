"""Landscapes renderer speed on one core (layout + materials): the ≥ 20 images/s target."""

from __future__ import annotations

from benchmarks.settings import SMOKE_SIZE, Settings
from benchmarks.timing import timed


def bench_landscapes(settings: Settings) -> list[dict]:
    import cv2

    from engine.data.landscapes.generate import render_scene

    cv2.setNumThreads(1)
    cases = []
    sizes = settings.pick([(256, 256), (512, 512), (256, 1024)], [(256, 256)], [SMOKE_SIZE])
    for h, w in sizes:
        seeds = iter(range(10**6))
        stats = timed(
            lambda h=h, w=w, s=seeds: render_scene(next(s), h, w), repeats=settings.pick(100, 20, 1)
        )
        cases.append({
            "name": "landscapes_render", "family": "data", "size": f"{h}x{w}",
            "backend": "numpy+opencv, 1 thread",
            **stats, "images_per_s": round(1000 / stats["p50_ms"], 1),
        })  # fmt: skip
    return cases
