"""The renderer's images of a given label map, in every style: the reference for colour.

A generator's colours are judged against what the renderer makes of the *same* map: for
a map from a rendered dataset its own layout (rebuilt from the scene seed), for a
hand-painted map a layout built from the labels alone (flat ground receding to a
horizon, no relief). Each is rendered in all 36 combinations of time of day, season and
weather, each with ``REFERENCE_SEEDS`` material seeds — the renderer's random draws also
move a class's mean colour (by ΔE 5–14 between two seeds of one style), so one seed per
style would call a perfectly real look wrong. A generated image is as good in colour as
its distance to the nearest of them.
"""

from __future__ import annotations

import itertools

import numpy as np

from engine.data.landscapes.canvas import Layout
from engine.data.landscapes.classes import CLOUD, MOUNTAIN, NUM_CLASSES, SKY, SNOW
from engine.data.landscapes.layouts import make_layout
from engine.data.landscapes.render import SEASONS, TIMES_OF_DAY, WEATHERS, Style, render
from engine.labels import LabelSet
from engine.scene import thing_instances

STYLES: tuple[Style, ...] = tuple(
    Style(time_of_day=t, season=s, weather=w, sun_azimuth=0.0)
    for t, s, w in itertools.product(TIMES_OF_DAY, SEASONS, WEATHERS)
)
REFERENCE_SEEDS = 4
_FAR = np.zeros(NUM_CLASSES, bool)
_FAR[[SKY, CLOUD, MOUNTAIN, SNOW]] = True


def layout_for_seed(seed: int, height: int, width: int, *, painted_fraction: float = 0.3) -> Layout:
    """The layout ``render_scene(seed, height, width)`` drew (same seed spawning)."""
    layout_ss = np.random.SeedSequence(int(seed)).spawn(3)[0]
    return make_layout(np.random.default_rng(layout_ss), height, width, painted_fraction=painted_fraction)


def layout_from_labels(labels: np.ndarray, instances: np.ndarray | None = None) -> Layout:
    """A renderable layout for a painted map: the horizon is the lowest row that is still
    mostly sky, cloud, mountain or snow; the ground below recedes linearly to it."""
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"labels must be an H×W map, got shape {labels.shape}")
    if labels.size and int(labels.max()) >= NUM_CLASSES:
        raise ValueError(f"labels hold id {int(labels.max())}; landscapes ids are 0..{NUM_CLASSES - 1}")
    h, w = labels.shape
    far_rows = np.flatnonzero(_FAR[labels].mean(axis=1) >= 0.5)
    horizon = int(np.clip(far_rows.max() + 1 if far_rows.size else h // 3, 1, h - 1))
    column = np.ones(h, np.float32)
    column[horizon:] = 1.0 - (np.arange(h - horizon, dtype=np.float32) + 0.5) / max(h - horizon, 1)
    depth = np.repeat(column[:, None], w, axis=1)
    depth[_FAR[labels]] = np.maximum(depth[_FAR[labels]], 0.9)
    depth[labels == SKY] = 1.0
    if instances is None:
        instances = thing_instances(labels, LabelSet.builtin("landscapes"))
    return Layout(
        labels=labels.astype(np.uint16),
        instances=np.asarray(instances, np.int32),
        depth=depth,
        height=np.zeros((h, w), np.float32),
        horizon=horizon / h,
        kind="painted",
    )


def render_styles(
    layout: Layout, seeds: int = REFERENCE_SEEDS, styles: tuple[Style, ...] = STYLES
) -> list[np.ndarray]:
    """The layout rendered in each style with material seeds 0 … seeds − 1 (style-major)."""
    return [render(layout, style, np.random.default_rng(k)) for style in styles for k in range(seeds)]
