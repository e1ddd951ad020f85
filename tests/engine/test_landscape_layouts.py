"""Layout generator for the landscapes domain: contract the renderer relies on."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.landscapes import classes
from engine.data.landscapes.canvas import Layout
from engine.data.landscapes.layouts import make_layout
from engine.labels import LabelSet

THINGS = np.array(sorted(classes.THINGS))


def _layouts(n: int, h: int, w: int, seed: int = 0, **kw: float) -> list[Layout]:
    return [make_layout(np.random.default_rng(seed + i), h, w, **kw) for i in range(n)]


def _check(layout: Layout, h: int, w: int) -> None:
    assert layout.labels.shape == (h, w) and layout.labels.dtype == np.uint16
    assert layout.instances.shape == (h, w) and layout.instances.dtype == np.int32
    assert layout.depth.shape == (h, w) and layout.depth.dtype == np.float32
    assert layout.height.shape == (h, w) and layout.height.dtype == np.float32
    assert int(layout.labels.max()) < classes.NUM_CLASSES
    assert layout.depth.min() >= 0.0 and layout.depth.max() <= 1.0
    assert layout.height.min() >= 0.0 and layout.height.max() <= 1.0
    assert np.isfinite(layout.depth).all() and np.isfinite(layout.height).all()
    assert 0.0 < layout.horizon < 1.0
    assert layout.kind in ("natural", "painted")
    thing = np.isin(layout.labels, THINGS)
    assert (layout.instances[thing] > 0).all(), "a thing pixel has no instance id"
    assert (layout.instances[~thing] == 0).all(), "a stuff pixel has an instance id"
    ids = np.unique(layout.instances[thing])
    if ids.size:
        # ids are 1..K and each instance is one class
        assert ids[0] == 1 and ids[-1] == ids.size
        cls_of = np.zeros(ids[-1] + 1, np.int64) - 1
        for cls in THINGS:
            own = np.unique(layout.instances[layout.labels == cls])
            assert (cls_of[own] == -1).all(), "an instance id spans two classes"
            cls_of[own] = cls


def test_class_constants_match_the_label_set() -> None:
    ls = LabelSet.builtin("landscapes")
    assert ls.names == classes.NAMES
    assert len(ls) == classes.NUM_CLASSES
    assert {c.id for c in ls if c.thing} == set(classes.THINGS)
    for cid, name in enumerate(classes.NAMES):
        assert getattr(classes, name.upper()) == cid


def test_same_seed_same_layout() -> None:
    for seed in (1, 2, 3, 4):
        a = make_layout(np.random.default_rng(seed), 64, 96)
        b = make_layout(np.random.default_rng(seed), 64, 96)
        assert a.kind == b.kind and a.horizon == b.horizon
        for name in ("labels", "instances", "depth", "height"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_different_seeds_differ() -> None:
    a, b = _layouts(2, 64, 64, seed=10)
    assert not np.array_equal(a.labels, b.labels)


@pytest.mark.parametrize(("h", "w"), [(64, 64), (64, 256), (48, 80), (96, 32)])
def test_shapes_ranges_and_instances(h: int, w: int) -> None:
    for layout in _layouts(25, h, w, seed=100):
        _check(layout, h, w)


def test_both_kinds_and_many_classes_occur() -> None:
    layouts = _layouts(60, 64, 64, seed=200)
    kinds = {lay.kind for lay in layouts}
    assert kinds == {"natural", "painted"}
    seen = np.zeros(classes.NUM_CLASSES, bool)
    for lay in layouts:
        seen[np.unique(lay.labels)] = True
    assert seen.all(), f"classes never drawn: {[classes.NAMES[i] for i in np.flatnonzero(~seen)]}"


def test_painted_fraction_extremes() -> None:
    assert {lay.kind for lay in _layouts(12, 64, 64, seed=300, painted_fraction=0.0)} == {"natural"}
    assert {lay.kind for lay in _layouts(12, 64, 64, seed=300, painted_fraction=1.0)} == {"painted"}


def test_panorama() -> None:
    for layout in _layouts(6, 64, 256, seed=400, painted_fraction=0.0):
        _check(layout, 64, 256)
        # a natural scene has sky at the top, ground at the bottom
        assert (layout.labels[0] == classes.SKY).mean() > 0.3
        assert (layout.labels[-1] != classes.SKY).all()


def test_natural_depth_grows_toward_the_horizon() -> None:
    for layout in _layouts(6, 64, 64, seed=500, painted_fraction=0.0):
        assert layout.depth[0].min() > 0.85  # sky and far mountains
        assert layout.depth[-1].max() < 0.3  # the viewer's feet
        ground = layout.labels == classes.GRASS
        rows = np.flatnonzero(ground.any(axis=1))
        if rows.size > 4:
            means = [layout.depth[r][ground[r]].mean() for r in rows]
            assert means[0] >= means[-1]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="too small"):
        make_layout(np.random.default_rng(0), 4, 64)
    with pytest.raises(ValueError, match="painted_fraction"):
        make_layout(np.random.default_rng(0), 64, 64, painted_fraction=1.5)
