"""Rendered landscapes: one scene from a seed, and whole datasets on disk.

``render_scene(seed, h, w)`` is a pure function of its arguments: the layout, the
style (time of day, season, weather) and the material noise each draw from their
own child of the seed, so changing one part of the renderer does not reshuffle the
others. ``write_dataset`` writes the generic folder format with train/val/test splits
and a ``dataset.json`` that records the seed range, so a dataset can be rebuilt exactly.
Beside the images, label and instance maps it writes the layout's depth map (``depth/``,
16-bit PNGs, :mod:`engine.depth_image`): 0 at the viewer's feet, 1 at the horizon and in
the sky — the renderer's own depth, which drives its haze, so the image shows it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from engine.data.landscapes.canvas import Layout
from engine.data.landscapes.layouts import make_layout
from engine.data.landscapes.render import Style, render
from engine.depth_image import write_depth_png

SPLITS = (("train", 8), ("val", 1), ("test", 1))  # of every 10 consecutive seeds


def render_layout(
    seed: int, height: int, width: int, *, painted_fraction: float = 0.3
) -> tuple[np.ndarray, Layout]:
    """(RGB uint8 H×W×3, the layout it was rendered from) for ``seed``."""
    layout_ss, style_ss, render_ss = np.random.SeedSequence(int(seed)).spawn(3)
    layout = make_layout(np.random.default_rng(layout_ss), height, width, painted_fraction=painted_fraction)
    style = Style.sample(np.random.default_rng(style_ss))
    return render(layout, style, np.random.default_rng(render_ss)), layout


def render_scene(
    seed: int, height: int, width: int, *, painted_fraction: float = 0.3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(RGB uint8 H×W×3, labels uint16 H×W, instances int32 H×W) for ``seed``."""
    image, layout = render_layout(seed, height, width, painted_fraction=painted_fraction)
    return image, layout.labels, layout.instances


def split_of(index: int) -> str:
    """Deterministic split by position: 8 train, 1 val, 1 test out of every 10."""
    k = index % 10
    return "train" if k < 8 else "val" if k == 8 else "test"


def _write_one(args: tuple[Path, int, int, int, int]) -> None:
    out, index, seed, height, width = args
    image, layout = render_layout(seed, height, width)
    split = out / split_of(index)
    stem = f"land_{seed:08d}"
    Image.fromarray(image).save(split / "images" / f"{stem}.jpg", quality=95)
    Image.fromarray(layout.labels.astype(np.uint8), mode="L").save(split / "labels" / f"{stem}.png")
    Image.fromarray(layout.instances.astype(np.uint16)).save(split / "instances" / f"{stem}.png")
    write_depth_png(split / "depth" / f"{stem}.png", layout.depth)


def write_dataset(
    out: Path | str,
    *,
    count: int,
    height: int,
    width: int,
    seed: int = 0,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Render ``count`` scenes with seeds seed … seed+count−1 into ``out``."""
    out = Path(out)
    for split, _ in SPLITS:
        for sub in ("images", "labels", "instances", "depth"):
            (out / split / sub).mkdir(parents=True, exist_ok=True)
    manifest = {
        "format": "tessera-dataset",
        "version": 1,
        "label_set": "landscapes",
        "source": {
            "renderer": "engine.data.landscapes",
            "seeds": [seed, seed + count - 1],
            "size": [height, width],
            "splits": "index % 10: 0-7 train, 8 val, 9 test",
            "depth": "depth/*.png: 16-bit grey, 0 = nearest, 65535 = horizon and sky",
        },
    }
    (out / "dataset.json").write_text(json.dumps(manifest, indent=2) + "\n")
    jobs = [(out, i, seed + i, height, width) for i in range(count)]
    workers = workers or max(1, (os.cpu_count() or 1))
    if workers == 1:
        for done, job in enumerate(jobs, 1):
            _write_one(job)
            if progress:
                progress(done, count)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for done, _ in enumerate(pool.map(_write_one, jobs, chunksize=16), 1):
                if progress:
                    progress(done, count)
    return out
