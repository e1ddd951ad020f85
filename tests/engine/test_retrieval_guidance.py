"""The guidance image's four pasting rules (supplement A.1) on a hand-made map."""

from __future__ import annotations

import numpy as np
import pytest

from engine.retrieval import compose_guidance, decompose

SKY, GRASS, TREE = 1, 2, 4
GREEN, RED, BLUE = (0, 200, 0), (200, 0, 0), (0, 0, 255)


class FakeDatabase:
    """Only what compose_guidance reads: the thing classes and each row's crop."""

    thing_ids = frozenset({TREE})

    def __init__(self, crops: dict[int, tuple[np.ndarray, np.ndarray]]) -> None:
        self.crops = crops

    def crop(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        return self.crops[row]


def _solid(h: int, w: int, colour: tuple[int, int, int], mask: np.ndarray | None = None):
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[:] = colour
    return rgb, np.ones((h, w), bool) if mask is None else mask


def _scene() -> tuple[np.ndarray, np.ndarray]:
    """Sky; a plus-shaped tree A in box (1,1)–(4,4) whose top-right corner is tree B; grass row 7."""
    labels = np.full((8, 8), SKY, np.uint16)
    instances = np.zeros((8, 8), np.int32)
    for y, x in ((1, 2), (2, 1), (2, 2), (2, 3), (3, 2)):
        labels[y, x], instances[y, x] = TREE, 1
    labels[0:2, 3:5], instances[0:2, 3:5] = TREE, 2
    labels[7] = GRASS
    return labels, instances


def _compose(sky_mask: np.ndarray | None = None):
    labels, instances = _scene()
    segs = decompose(labels, instances, (TREE,), min_area=1)
    by = {(s.class_id, s.instance): s for s in segs}
    sky = by[(SKY, 0)]
    assert sky.box == (0, 0, 7, 8) and by[(TREE, 1)].box == (1, 1, 4, 4)
    db = FakeDatabase({
        0: _solid(3, 3, GREEN),  # for tree A: a full square, larger than the plus
        1: _solid(2, 2, RED),  # for tree B
        2: _solid(7, 8, BLUE, sky_mask),  # for the sky
    })  # fmt: skip
    chosen = {(TREE, 1): 0, (TREE, 2): 1, (SKY, 0): 2, (GRASS, 0): None}
    return labels, compose_guidance(labels, segs, [chosen[(s.class_id, s.instance)] for s in segs], db)


def test_the_four_pasting_rules() -> None:
    labels, g = _compose()
    colour = {GREEN: "A", RED: "B", BLUE: "s", (0, 0, 0): "."}
    drawn = ["".join(colour[tuple(int(v) for v in px)] for px in row) for row in g.image]
    assert drawn == [
        "sssBBsss",
        "sAABBsss",  # (1,1): A's square over sky is kept (rule 3); (1,3) is B's (rule 4)
        "sAAAssss",
        "sAAAssss",  # (3,1), (3,3): A's corners over sky (rule 3)
        "ssssssss",
        "ssssssss",
        "ssssssss",
        "........",  # grass has no match: empty and invalid
    ]
    assert np.array_equal(g.valid, labels != GRASS)
    # rule 2: the sky crop covers its whole box, yet no sky lands on a tree or the grass
    assert not (g.image[labels == TREE] == BLUE).all(axis=-1).any()


def test_pixels_outside_the_retrieved_mask_stay_empty() -> None:
    hole = np.ones((7, 8), bool)
    hole[5, 5] = False
    _, g = _compose(sky_mask=hole)
    assert not g.valid[5, 5] and (g.image[5, 5] == 0).all()
    assert g.valid[5, 4] and g.valid[4, 5]


def test_crops_are_resized_to_the_query_box() -> None:
    labels = np.full((6, 6), SKY, np.uint16)
    segs = decompose(labels, None, (TREE,), min_area=1)
    rgb = np.zeros((12, 12, 3), np.uint8)
    rgb[:6] = RED  # top half red, bottom half blue at twice the size
    rgb[6:] = BLUE
    g = compose_guidance(labels, segs, [0], FakeDatabase({0: (rgb, np.ones((12, 12), bool))}))
    assert (g.image[:3] == RED).all() and (g.image[3:] == BLUE).all() and g.valid.all()


def test_choices_must_match_segments() -> None:
    labels, _ = _scene()
    with pytest.raises(ValueError, match="choices"):
        compose_guidance(labels, decompose(labels, None, (TREE,)), [], FakeDatabase({}))
