"""Live retrieval: after a stroke only the changed segments are retrieved again; choices and pins."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import InputError
from engine.retrieval import RetrievalParams, Retriever, SegmentDatabase
from tests.engine.retrieval_helpers import TEST_SEEDS, landscape, tiny_landscapes_db

WATER = 10  # a landscapes stuff class
LOOSE = RetrievalParams(threshold=1.5)  # every same-class candidate passes: several matches each


@pytest.fixture(scope="module")
def db() -> SegmentDatabase:
    return tiny_landscapes_db()


def _stroke(labels: np.ndarray, cy: int, cx: int, r: int, cls: int) -> np.ndarray:
    y, x = np.ogrid[: labels.shape[0], : labels.shape[1]]
    out = labels.copy()
    out[(y - cy) ** 2 + (x - cx) ** 2 <= r * r] = cls
    return out


def _counting(db: SegmentDatabase, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record how many segments each db.retrieve call scores."""
    calls: list[int] = []
    real = db.retrieve

    def spy(segments, *args, **kwargs):
        calls.append(len(segments))
        return real(segments, *args, **kwargs)

    monkeypatch.setattr(db, "retrieve", spy)
    return calls


def test_a_stroke_retrieves_only_the_segments_it_changed(
    db: SegmentDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting(db, monkeypatch)
    scene = landscape(TEST_SEEDS[0])
    r = Retriever(db, LOOSE)
    first = r.update(scene.labels, scene.instances)
    assert first.retrieved == list(range(len(first.segments))) == first.changed and calls == [
        len(first.segments)
    ]

    same = r.update(scene.labels.copy(), scene.instances.copy())
    assert same.changed == same.retrieved == same.removed == [] and calls[-1] == 0

    painted = _stroke(scene.labels, 50, 10, 5, WATER)
    touched = set(np.unique(scene.labels[painted != scene.labels]).tolist()) | {WATER}
    before = {s.key for s in first.segments}
    upd = r.update(painted, scene.instances)
    assert upd.retrieved and upd.changed == upd.retrieved and calls[-1] == len(upd.retrieved)
    assert len(upd.retrieved) < len(upd.segments)
    assert {upd.segments[i].class_id for i in upd.retrieved} <= touched
    assert {s.key for s in upd.segments} - {upd.segments[i].key for i in upd.changed} <= before
    assert set(upd.removed) <= before and upd.removed

    # the incremental state equals a fresh, full retrieval of the painted map
    fresh = Retriever(db, LOOSE)
    full = fresh.update(painted, scene.instances)
    assert [s.key for s in upd.segments] == [s.key for s in full.segments]
    for a, b in zip(r.matches, fresh.matches):
        assert a.rows.tolist() == b.rows.tolist()

    # undo: the old segments come back from the cache, nothing is scored
    back = r.update(scene.labels, scene.instances)
    assert back.retrieved == [] and calls[-1] == 0
    assert {back.segments[i].key for i in back.changed} == set(upd.removed)


def test_choose_and_pin(db: SegmentDatabase) -> None:
    scene = landscape(TEST_SEEDS[1])
    r = Retriever(db, LOOSE)
    r.update(scene.labels, scene.instances)
    i = next(i for i, m in enumerate(r.matches) if len(m) >= 3 and not r.segments[i].thing)
    seg = r.segments[i]
    assert r.choice(i) == r.matches[i].rows[0]
    assert r.choose(seg.key, 2) == r.matches[i].rows[2] == r.choice(i)
    with pytest.raises(IndexError):
        r.choose(seg.key, len(r.matches[i]))
    picked = r.choice(i)

    y0, x0, y1, _ = seg.box
    ys, xs = np.nonzero(seg.mask)
    inside = (int(ys[len(ys) // 2]) + y0, int(xs[len(xs) // 2]) + x0)
    assert r.segment_at(*inside) == i

    def repaint(labels: np.ndarray) -> int:
        """Grow the segment by one pixel just outside its box; the region's new index."""
        h = labels.shape[0]
        if y0 > 0:
            y, x = y0 - 1, x0 + int(np.flatnonzero(seg.mask[0])[0])
        elif y1 < h:
            y, x = y1, x0 + int(np.flatnonzero(seg.mask[-1])[0])
        else:
            assert x0 > 0, "the chosen segment spans the whole map"
            y, x = y0 + int(np.flatnonzero(seg.mask[:, 0])[0]), x0 - 1
        labels = labels.copy()
        labels[y, x] = seg.class_id
        r.update(labels, scene.instances)
        return r.segment_at(*inside)

    r.pin(seg.key)
    assert r.is_pinned(seg.key)
    j = repaint(scene.labels)
    assert r.segments[j].key != seg.key and r.choice(j) == picked and r.is_pinned(r.segments[j].key)

    r.update(scene.labels, scene.instances)  # back to the original map: the pin follows again
    k = r.segment_at(*inside)
    r.pin(r.segments[k].key, False)
    r.choose(r.segments[k].key, 2)
    j = repaint(scene.labels)  # unpinned: a repainted region starts again from its best match
    assert r.choice(j) == r.matches[j].rows[0]


def test_guidance_of_the_current_map(db: SegmentDatabase) -> None:
    scene = landscape(TEST_SEEDS[2])
    r = Retriever(db, LOOSE)
    with pytest.raises(ValueError, match="update"):
        r.guidance()
    r.update(scene.labels, scene.instances)
    g = r.guidance()
    assert g.image.shape == (*scene.labels.shape, 3) and g.valid.any()
    assert (g.image[~g.valid] == 0).all()
    strict = Retriever(db, RetrievalParams(threshold=0.0))
    strict.update(scene.labels, scene.instances)
    assert strict.guidance().valid.sum() < g.valid.sum()  # fewer matches, fewer guided pixels


def test_maps_are_checked(db: SegmentDatabase) -> None:
    r = Retriever(db)
    with pytest.raises(InputError, match="H×W"):
        r.update(np.zeros((2, 3, 4), np.uint16))
    with pytest.raises(InputError, match="instance map"):
        r.update(np.zeros((4, 4), np.uint16), np.zeros((5, 4), np.int32))


def test_an_edited_region_keeps_its_guiding_segment_while_it_still_matches() -> None:
    """keep_looks: a blob painted into a region leaves the region guided by the same row
    (if that row is still among its matches); without it the region takes its new best."""
    db = tiny_landscapes_db()
    sample = landscape(900)
    params = RetrievalParams(threshold=5.0)  # every candidate matches: rows stay available
    kept, fresh = Retriever(db, params), Retriever(db, params)
    for r in (kept, fresh):
        r.update(sample.labels, sample.instances)
    big = max(range(len(kept.segments)), key=lambda i: kept.segments[i].area)
    seg = kept.segments[big]
    kept.choose(seg.key, 3)  # a look the painter saw, not the best one
    row = kept.choice(big)
    kept._choices.clear()  # an unpinned look: only keep_looks can carry it
    kept._kept[seg.key] = row
    edited = sample.labels.copy()
    y0, x0 = seg.box[:2]
    ys, xs = np.nonzero(seg.mask)
    cy, cx = y0 + ys[len(ys) // 2], x0 + xs[len(xs) // 2]
    other = next(c for c in np.unique(sample.labels) if c != seg.class_id)
    edited[max(cy - 2, 0) : cy + 2, max(cx - 2, 0) : cx + 2] = other
    kept.update(edited, sample.instances, keep_looks=True)
    heir = max(
        (i for i, s in enumerate(kept.segments) if s.class_id == seg.class_id),
        key=lambda i: kept.segments[i].area,
    )
    assert kept.segments[heir].key != seg.key
    assert kept.choice(heir) == row
    fresh.update(edited, sample.instances)
    assert fresh.choice(heir) == int(fresh.matches[heir].rows[0]) != row
