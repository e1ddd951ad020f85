"""The document records each edit as one diff patch; undo/redo restore it byte for byte."""

from __future__ import annotations

import numpy as np
import pytest

from app.document.document import Document
from engine.errors import InputError
from engine.labels import LabelSet

LANDSCAPES = LabelSet.builtin("landscapes")
WATER = LANDSCAPES.by_name("water").id
TREE = LANDSCAPES.by_name("tree").id


def _doc(size: tuple[int, int] = (64, 96)) -> Document:
    return Document(LANDSCAPES, size, seed=1)


def test_stroke_is_one_small_undo_step(qtbot) -> None:
    doc = _doc()
    before_labels, before_instances = doc.labels.copy(), doc.instances.copy()
    mask = np.ones((4, 5), bool)
    doc.begin_edit()
    doc.paint((10, 10, 14, 15), mask, WATER)
    doc.paint((12, 12, 16, 17), mask, TREE, 3)
    assert doc.editing and doc.undo_stack.count() == 0  # nothing recorded mid-stroke
    assert doc.end_edit("stroke")
    assert doc.undo_stack.count() == 1 and doc.modified
    after_labels, after_instances = doc.labels.copy(), doc.instances.copy()
    command_patches = doc.undo_stack.command(0).maps  # type: ignore[attr-defined]
    assert sum(p.nbytes for p in command_patches.values()) < 2 * 6 * 7 * 6  # the box, not the map
    doc.undo_stack.undo()
    assert np.array_equal(doc.labels, before_labels) and np.array_equal(doc.instances, before_instances)
    assert not doc.modified
    doc.undo_stack.redo()
    assert np.array_equal(doc.labels, after_labels) and np.array_equal(doc.instances, after_instances)


def test_empty_or_cancelled_stroke_leaves_no_step(qtbot) -> None:
    doc = _doc()
    fill = int(doc.labels[0, 0])
    doc.begin_edit()
    doc.paint((0, 0, 2, 2), np.ones((2, 2), bool), fill)  # same class: no change
    assert not doc.end_edit("noop")
    doc.begin_edit()
    doc.paint((0, 0, 8, 8), np.ones((8, 8), bool), WATER)
    doc.cancel_edit()
    assert (doc.labels == fill).all() and doc.undo_stack.count() == 0


def test_signals_report_the_changed_box(qtbot) -> None:
    doc = _doc()
    boxes = []
    doc.labels_changed.connect(boxes.append)
    doc.paint((5, 6, 9, 11), np.ones((4, 5), bool), WATER)
    doc.end_edit("s")
    doc.undo_stack.undo()
    assert boxes == [(5, 6, 9, 11), (5, 6, 9, 11)]


def test_reroll_changes_noise_only_inside_and_undoes(qtbot) -> None:
    doc = _doc()
    original = doc.noise.copy()
    mask = np.zeros(doc.size, bool)
    mask[20:40, 30:60] = True
    doc.reroll(mask, seed=5)
    before, after = original.to_tensor(), doc.noise.to_tensor()
    changed = (before != after).any(0).numpy()
    assert changed[mask].all() and not changed[~mask].any()
    doc.undo_stack.undo()
    assert doc.noise == original
    doc.undo_stack.redo()
    assert torch_equal(doc.noise.to_tensor(), after)


def torch_equal(a, b) -> bool:
    return bool((a == b).all())


def test_locked_region_survives_global_reroll(qtbot) -> None:
    doc = _doc()
    lock = np.zeros(doc.size, bool)
    lock[:16] = True
    assert doc.set_locked(lock, True, "Lock")
    before = doc.noise.to_tensor()
    doc.reroll(None, seed=99)
    after = doc.noise.to_tensor()
    changed = (before != after).any(0).numpy()
    assert not changed[lock].any() and changed[~lock].all()
    doc.undo_stack.undo()  # the re-roll
    doc.undo_stack.undo()  # the lock
    assert not doc.locked.any()


def test_region_seed_can_be_typed(qtbot) -> None:
    doc = _doc()
    region = doc.noise.region_ids[0]
    doc.set_region_seed(region, 1234)
    _, meta = doc.noise.to_state()
    assert [r["seed"] for r in meta["regions"].values()] == [1234]
    with pytest.raises(InputError):
        doc.set_region_seed(987654, 1)


def test_set_maps_checks_size(qtbot) -> None:
    doc = _doc()
    with pytest.raises(InputError, match="canvas"):
        doc.set_maps("x", labels=np.zeros((10, 10), np.uint16))
    new = np.full(doc.size, WATER, np.uint16)
    assert doc.set_maps("import", labels=new)
    assert (doc.labels == WATER).all()
    doc.undo_stack.undo()
    assert not (doc.labels == WATER).any()


def test_unknown_class_is_refused(qtbot) -> None:
    doc = _doc()
    with pytest.raises(InputError):
        doc.paint((0, 0, 1, 1), np.ones((1, 1), bool), 999)
