"""Guidance choices as data: resolved against a map's segments, pins follow repainting, JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.errors import InputError
from engine.retrieval import (
    Choice,
    RetrievalParams,
    Retriever,
    SegmentDatabase,
    choices_from_json,
    choices_to_json,
    photo_patch,
    resolve,
    with_choice,
)
from engine.retrieval.guidance import fit_crop
from tests.engine.retrieval_helpers import landscape, tiny_landscapes_db

WATER, GRASS = 10, 6
LOOSE = RetrievalParams(threshold=1.5)  # several matches a segment


@pytest.fixture(scope="module")
def db() -> SegmentDatabase:
    return tiny_landscapes_db()


def _map() -> np.ndarray:
    labels = np.full((64, 64), GRASS, np.uint16)
    labels[20:40, 10:30] = WATER
    return labels


def _water(r: Retriever) -> int:
    return next(i for i, s in enumerate(r.segments) if s.class_id == WATER)


def test_a_choice_applies_to_its_own_segment_and_the_newest_wins(db: SegmentDatabase) -> None:
    r = Retriever(db, LOOSE)
    r.update(_map())
    i = _water(r)
    rows = r.matches[i].rows
    assert len(rows) >= 3
    first = with_choice((), r.segments, i, int(rows[1]), False, db.table.classes)
    second = with_choice(first, r.segments, i, int(rows[2]), False, db.table.classes)
    assert len(second) == 1 and second[0].row == rows[2]  # replaced, not stacked
    applied = r.apply(second)
    assert list(applied) == [i] and r.choice(i) == rows[2] and not r.is_pinned(r.segments[i].key)
    # The retriever's guidance uses the applied row.
    state = r.state()
    assert state.rows[i] == rows[2] and state.segment_at(25, 15) == i and state.segment_at(0, 0) != i


def test_unpinned_choices_stay_with_their_pixels_and_pins_follow_a_repainted_region(
    db: SegmentDatabase,
) -> None:
    r = Retriever(db, LOOSE)
    labels = _map()
    r.update(labels)
    i = _water(r)
    row = int(r.matches[i].rows[2])
    loose = with_choice((), r.segments, i, row, False, db.table.classes)
    pinned = with_choice((), r.segments, i, row, True, db.table.classes)
    grown = labels.copy()
    grown[38:44, 10:30] = WATER  # repaint: the water segment gets a new key
    r.update(grown)
    j = _water(r)
    assert r.apply(loose) == {} and r.choice(j) == int(r.matches[j].rows[0])  # back to the best
    assert r.apply(pinned)[j] is pinned[0] and r.choice(j) == row and r.is_pinned(r.segments[j].key)
    # Undoing the stroke brings the original pixels back: the unpinned choice applies again.
    r.update(labels)
    assert r.apply(loose)[_water(r)] is loose[0]
    # A region painted elsewhere, not touching the pinned mask, does not inherit the pin.
    moved = np.full((64, 64), GRASS, np.uint16)
    moved[45:60, 40:60] = WATER
    r.update(moved)
    assert r.apply(pinned) == {}


def test_choosing_a_region_that_inherited_a_pin_replaces_the_pin(db: SegmentDatabase) -> None:
    r = Retriever(db, LOOSE)
    labels = _map()
    r.update(labels)
    i = _water(r)
    pinned = with_choice((), r.segments, i, int(r.matches[i].rows[2]), True, db.table.classes)
    grown = labels.copy()
    grown[38:44, 10:30] = WATER
    r.update(grown)
    j = _water(r)
    again = with_choice(pinned, r.segments, j, int(r.matches[j].rows[1]), True, db.table.classes)
    assert len(again) == 1 and again[0].key == r.segments[j].key
    assert r.apply(again)[j].row == r.matches[j].rows[1]


def test_rows_another_database_would_hold_are_ignored(db: SegmentDatabase) -> None:
    r = Retriever(db, LOOSE)
    r.update(_map())
    i = _water(r)
    grass_row = int(np.flatnonzero(db.table.classes == GRASS)[0])
    for stale in (Choice.of(r.segments[i], len(db) + 5), Choice.of(r.segments[i], grass_row)):
        assert resolve((stale,), r.segments, db.table.classes) == {}


def test_json_round_trip_and_damaged_entries_name_the_file(db: SegmentDatabase) -> None:
    r = Retriever(db, LOOSE)
    scene = landscape(900)
    r.update(scene.labels, scene.instances)
    choices = tuple(
        Choice.of(s, int(m.rows[0]), k % 2 == 0)
        for k, (s, m) in enumerate(zip(r.segments, r.matches))
        if len(m)
    )
    assert choices
    text = json.dumps(choices_to_json(choices))
    back = choices_from_json(json.loads(text), "p.tessera")
    assert back == choices
    assert all(np.array_equal(a.mask, b.mask) and a.box == b.box for a, b in zip(back, choices))
    item = choices_to_json(choices[:1])[0]
    for bad in ({**item, "box": [5, 5, 2, 2]}, {**item, "mask": "AAAA"}, {**item, "row": "x"}, {"class": 1}):
        with pytest.raises(InputError, match=r"p\.tessera"):
            choices_from_json([bad], "p.tessera")
    with pytest.raises(InputError, match="must be a list"):
        choices_from_json({}, "p.tessera")


def test_a_photo_segment_guides_a_region_and_travels_as_json(db: SegmentDatabase) -> None:
    r = Retriever(db, LOOSE)
    r.update(_map())
    i = _water(r)
    photo = landscape(903)  # a scene with a lake, not in the database
    water_in_photo = photo.labels == WATER
    assert water_in_photo.any()
    things = sorted(db.thing_ids)
    patch = photo_patch(
        photo.image, photo.labels, r.segments[i], things, "lake.jpg", coverage=0.9, min_area=4
    )
    assert patch is not None and patch.source == "lake.jpg" and patch.rgb.shape[:2] == patch.mask.shape
    assert patch.mask.sum() >= 4
    # Its pixels are the photo's own, inside a water segment of the photo.
    ys, xs = np.nonzero(patch.mask)
    assert patch.rgb[ys[0], xs[0]].tolist() in photo.image[water_in_photo].tolist()
    choices = with_choice((), r.segments, i, -1, False, db.table.classes, patch=patch)
    assert choices[0].row == -1 and choices[0].patch is patch
    assert r.apply(choices)[i] is choices[0]
    state = r.state()
    assert state.rows[i] is None and state.patches[i] is patch
    # The guidance of the region is the photo's segment, stretched to the region's box.
    y0, x0, y1, x1 = r.segments[i].box
    expected, fitted = fit_crop(patch.rgb, patch.mask, y1 - y0, x1 - x0)
    got = r.guidance()
    inside = r.segments[i].mask & fitted
    assert inside.any() and np.array_equal(got.image[y0:y1, x0:x1][inside], expected[inside])
    back = choices_from_json(json.loads(json.dumps(choices_to_json(choices))), "p.tessera")
    assert back == choices and np.array_equal(back[0].patch.rgb, patch.rgb)
    # A photo without the class gives no patch.
    grass_only = np.full((64, 64), GRASS, np.uint16)
    assert photo_patch(photo.image, grass_only, r.segments[i], things, "x", coverage=0.9, min_area=4) is None
