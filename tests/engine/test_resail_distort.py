"""The distorted ground truth of RESAIL's training pass (A): colour, resolution, shape, recomposition."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.landscapes.generate import render_scene
from engine.labels import LabelSet
from engine.retrieval import Segment, decompose
from engine.train.resail_distort import (
    DistortedSegment,
    DistortParams,
    distort_ground_truth,
    distort_segment,
    match_lab_statistics,
    pick_colour_source,
    recompose,
    reinhard_transfer,
    resample,
    rgb_to_lab,
    tps_map,
    tps_warp,
    warp_points,
)


def noisy_image(seed: int = 0, size: int = 32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(40, 220, (size, size, 3)).astype(np.uint8)


def disc(size: int = 48, radius: float = 15) -> np.ndarray:
    ys, xs = np.mgrid[0:size, 0:size]
    return (ys - size / 2) ** 2 + (xs - size / 2 + 3) ** 2 < radius**2


# ------------------------------------------------------------------------ colour
def test_reinhard_gives_the_target_statistics_and_keeps_the_rest() -> None:
    rng = np.random.default_rng(0)
    image = noisy_image()
    mask = np.zeros((32, 32), bool)
    mask[4:28, 6:30] = True
    target = np.stack(
        [rng.normal(150, 15, 500), rng.normal(110, 10, 500), rng.normal(70, 12, 500)], 1
    ).astype(np.uint8)
    out = reinhard_transfer(image, mask, target)
    got, want = rgb_to_lab(out[mask]), rgb_to_lab(target)
    np.testing.assert_allclose(got.mean(0), want.mean(0), atol=2e-3)
    np.testing.assert_allclose(got.std(0), want.std(0), rtol=0.02)
    assert np.array_equal(out[~mask], image[~mask])
    assert np.abs(out[mask].astype(int) - image[mask]).mean() > 10  # it did recolour


def test_lab_statistics_match_exactly_before_rounding() -> None:
    rng = np.random.default_rng(1)
    source, target = rng.normal(0, 1, (300, 3)), rng.normal([2, -1, 0.5], [0.3, 2, 1], (200, 3))
    moved = match_lab_statistics(source, target)
    np.testing.assert_allclose(moved.mean(0), target.mean(0), atol=1e-12)
    np.testing.assert_allclose(moved.std(0), target.std(0), rtol=1e-12)


def test_reinhard_onto_its_own_colours_is_the_identity() -> None:
    image = noisy_image(2)
    mask = disc(32, 10)
    assert np.array_equal(reinhard_transfer(image, mask, image[mask]), image)


# ------------------------------------------------------------------------ shape
def test_tps_without_moved_points_is_the_identity() -> None:
    points = np.array([[3.0, 4.0], [20.0, 5.0], [11.0, 25.0], [27.0, 28.0], [6.0, 17.0]])
    map_x, map_y = tps_map(points, points, 30, 32)
    ys, xs = np.mgrid[0:30, 0:32]
    np.testing.assert_allclose(map_x, xs, atol=1e-4)
    np.testing.assert_allclose(map_y, ys, atol=1e-4)
    image = noisy_image(3)[:30]
    assert np.array_equal(tps_warp(image, points, points), image)


def test_tps_moves_exactly_the_chosen_points_to_their_targets() -> None:
    src = np.array([[5.0, 5.0], [26.0, 6.0], [6.0, 26.0], [25.0, 25.0], [16.0, 3.0], [15.0, 15.0]])
    dst = src.copy()
    dst[[1, 5]] = [[23.0, 9.0], [18.0, 13.0]]  # two of six move; the others are pinned
    map_x, map_y = tps_map(src, dst, 32, 32)
    for (sx, sy), (dx, dy) in zip(src, dst):
        assert abs(map_x[int(dy), int(dx)] - sx) < 1e-4 and abs(map_y[int(dy), int(dx)] - sy) < 1e-4
    image = noisy_image(4)
    warped = tps_warp(image, src, dst)
    for (sx, sy), (dx, dy) in zip(src.astype(int), dst.astype(int)):
        assert np.array_equal(warped[dy, dx], image[sy, sx])
    assert not np.array_equal(warped, image)


def test_tps_refuses_degenerate_points() -> None:
    with pytest.raises(ValueError, match="one line"):
        tps_map(np.zeros((3, 2)), np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]), 8, 8)
    with pytest.raises(ValueError, match="coincide"):
        tps_map(np.zeros((4, 2)), np.array([[0.0, 0.0], [5.0, 1.0], [0.0, 0.0], [2.0, 7.0]]), 8, 8)


def test_warp_points_move_three_of_ten_contour_points_within_the_bound() -> None:
    mask = disc()
    params = DistortParams()
    src, dst = warp_points(mask, np.random.default_rng(0), params)
    assert src.shape == dst.shape == (10, 2)
    assert mask[src[:, 1].astype(int), src[:, 0].astype(int)].all()  # on the segment's edge
    moved = np.flatnonzero(np.abs(dst - src).sum(1) > 0)
    assert len(moved) == 3
    assert np.abs(dst - src).max() <= params.max_shift(mask.sum())
    assert warp_points(np.eye(3, dtype=bool), np.random.default_rng(0)) is None  # too short a contour


# ------------------------------------------------------------------------ resolution
def test_resample_keeps_the_size_and_is_the_identity_at_one() -> None:
    image = noisy_image(5, 40)
    assert np.array_equal(resample(image, 1.0), image)
    soft = resample(image, 0.6)
    assert soft.shape == image.shape and soft.dtype == np.uint8
    assert soft.std() < image.std()  # detail is lost
    flat = np.full((20, 30, 3), 90, np.uint8)
    assert np.array_equal(resample(flat, 0.55), flat)
    with pytest.raises(ValueError, match="tau"):
        resample(image, 0.0)


# ------------------------------------------------------------------------ recomposition
def test_recompose_follows_the_pasting_rules() -> None:
    labels = np.zeros((10, 10), np.int64)  # 0: stuff
    labels[2:5, 2:5] = 1  # a thing
    labels[6:9, 6:9] = 1  # another thing
    stuff_mask = labels == 0
    stuff = Segment(0, False, (0, 0, 10, 10), stuff_mask)
    thing = Segment(1, True, (2, 2, 5, 5), np.ones((3, 3), bool))
    other = Segment(1, True, (6, 6, 9, 9), np.ones((3, 3), bool))
    full = np.ones((10, 10), bool)
    # The stuff's distorted version covers everything; the thing's grew to 2:8 × 2:8.
    grown = np.zeros((10, 10), bool)
    grown[2:8, 2:8] = True
    d_stuff = DistortedSegment((0, 0), np.full((10, 10, 3), 10, np.uint8), full)
    d_thing = DistortedSegment((0, 0), np.full((10, 10, 3), 200, np.uint8) * grown[..., None], grown)
    out = recompose(labels, [stuff, thing, other], [d_stuff, d_thing, None], thing_ids={1})
    assert (out.image[stuff_mask & ~grown] == 10).all()  # stuff only on its own mask …
    # Neither stuff nor the grown thing's overhang lands on the other thing, which has no match.
    assert not out.valid[6:9, 6:9].any()
    assert (out.image[2:5, 2:5] == 200).all()  # the thing on its own pixels
    assert (out.image[5, 2:6] == 200).all()  # overhang onto stuff is kept (drawn over it)
    assert (out.image[2:8, 5:8][~labels[2:8, 5:8].astype(bool)] == 200).all()  # … wherever it is stuff
    assert np.array_equal(out.valid, out.image.any(-1))


# ------------------------------------------------------------------------ whole images
@pytest.fixture(scope="module")
def scene() -> tuple[np.ndarray, np.ndarray, list[Segment], frozenset[int], list[np.ndarray | None]]:
    image, labels, instances = render_scene(5, 64, 64)
    things = frozenset(c.id for c in LabelSet.builtin("landscapes") if c.thing)
    segments = decompose(labels, instances, things, min_area=4)
    other, other_labels, _ = render_scene(6, 64, 64)
    sources: list[np.ndarray | None] = [
        other[other_labels == s.class_id] if (other_labels == s.class_id).any() else None for s in segments
    ]
    return image, labels, segments, things, sources


def test_distortions_are_deterministic_for_a_seed(scene: tuple) -> None:
    image, labels, segments, things, sources = scene
    params = DistortParams(drop_stuff=0.3)

    def run(seed: int) -> tuple[np.ndarray, np.ndarray]:
        out = distort_ground_truth(
            image, labels, segments, sources, things, np.random.default_rng(seed), params
        )
        return out.image, out.valid

    a, b, c = run(7), run(7), run(8)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    one = [
        distort_segment(image, segments[0], image[labels == 0], np.random.default_rng(3)) for _ in range(2)
    ]
    assert np.array_equal(one[0].rgb, one[1].rgb) and np.array_equal(one[0].mask, one[1].mask)
    picks = [pick_colour_source([4, 9, 13], np.random.default_rng(s)) for s in (0, 0, 1)]
    assert picks[0] == picks[1] and picks[0] in (4, 9, 13)
    assert pick_colour_source([], np.random.default_rng(0)) is None


def test_distorted_ground_truth_looks_like_guidance(scene: tuple) -> None:
    image, labels, segments, things, sources = scene
    out = distort_ground_truth(image, labels, segments, sources, things, np.random.default_rng(0))
    assert out.image.shape == image.shape and out.image.dtype == np.uint8
    assert 0.5 < out.valid.mean() < 1  # most of the map, with seams and gaps
    assert not out.image[~out.valid].any()  # empty where nothing was pasted
    assert not np.array_equal(out.image[out.valid], image[out.valid])
    # A segment with no retrieval match is left out entirely.
    unmatched = [None] * len(segments)
    assert not distort_ground_truth(
        image, labels, segments, unmatched, things, np.random.default_rng(0)
    ).valid.any()
    with pytest.raises(ValueError, match="colour sources"):
        distort_ground_truth(image, labels, segments, sources[:-1], things, np.random.default_rng(0))
