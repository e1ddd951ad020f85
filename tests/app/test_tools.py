"""Each tool changes the document as a painter expects, crisply, one undo step per stroke."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from app.document.document import Document
from app.tools.base import ToolContext, stamp_segment
from app.tools.registry import make_tools
from engine.labels import LabelSet

LS = LabelSet.builtin("landscapes")
SKY, WATER, TREE, GRASS, SAND = (LS.by_name(n).id for n in ("sky", "water", "tree", "grass", "sand"))
NONE = Qt.KeyboardModifier.NoModifier


def _setup(class_id: int = WATER, size: int = 8):
    doc = Document(LS, (64, 64), fill=SKY, seed=0)
    picked: list[int] = []
    selected: list[tuple[object, str]] = []
    ctx = ToolContext(
        document=lambda: doc,
        class_id=class_id,
        brush_size=size,
        pick_class=picked.append,
        select=lambda mask, text: selected.append((mask, text)),
    )
    return doc, ctx, make_tools(ctx), picked, selected


def _drag(tool, points, modifiers=NONE) -> None:
    (y, x), *rest = points
    tool.press(y, x, modifiers)
    for y, x in rest:
        tool.move(y, x, modifiers)
    tool.release(*points[-1], modifiers)


def test_stamp_is_round_and_crisp() -> None:
    box, mask = stamp_segment((64, 64), (32.5, 32.5), (32.5, 32.5), 9)
    _y0, _x0, _y1, _x1 = box
    assert mask.dtype == bool and 55 <= mask.sum() <= 85  # ≈ π·4.5²
    rows = np.flatnonzero(mask.any(1))
    assert rows.size == 9 and np.array_equal(mask, mask[::-1]) and np.array_equal(mask, mask.T)


def test_brush_stroke_paints_a_line_as_one_step(qtbot) -> None:
    doc, _ctx, tools, _, _ = _setup()
    _drag(tools["brush"], [(10.5, 5.5), (10.5, 30.5), (10.5, 50.5)])
    painted = doc.labels == WATER
    assert painted[10, 5:51].all() and not painted[30:].any()
    assert set(np.unique(doc.labels)) == {SKY, WATER}  # no blended in-between ids
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert (doc.labels == SKY).all()


def test_eraser_paints_the_chosen_background(qtbot) -> None:
    doc, ctx, tools, _, _ = _setup(WATER)
    _drag(tools["brush"], [(20, 20)])
    ctx.eraser_class = GRASS
    _drag(tools["eraser"], [(20, 20)])
    assert doc.labels[20, 20] == GRASS


def test_fill_takes_the_connected_region_only(qtbot) -> None:
    doc, _ctx, tools, _, _ = _setup(WATER)
    doc.labels[:, 30:34] = GRASS  # a wall splits the sky in two
    _drag(tools["fill"], [(5, 5)])
    assert (doc.labels[:, :30] == WATER).all() and (doc.labels[:, 34:] == SKY).all()
    assert doc.undo_stack.count() == 1


def test_fill_with_a_thing_class_makes_one_new_instance(qtbot) -> None:
    doc, _ctx, tools, _, _ = _setup(TREE)
    _drag(tools["fill"], [(5, 5)])
    ids = np.unique(doc.instances)
    assert ids.tolist() == [1]


def test_rectangle_and_lasso(qtbot) -> None:
    doc, ctx, tools, _, _ = _setup(SAND)
    _drag(tools["rectangle"], [(10, 10), (15, 20), (20, 30)])
    assert (doc.labels[10:20, 10:30] == SAND).all() and (doc.labels == SAND).sum() == 200
    ctx.class_id = WATER
    _drag(tools["lasso"], [(40, 40), (40, 60), (60, 60), (60, 40)])
    assert doc.labels[50, 50] == WATER and doc.labels[30, 50] == SKY
    assert doc.undo_stack.count() == 2


def test_instance_brush_makes_a_new_object_per_stroke(qtbot) -> None:
    doc, _ctx, tools, _, _ = _setup(TREE, size=4)
    _drag(tools["instance"], [(10, 10), (10, 14)])
    _drag(tools["instance"], [(30, 30), (30, 34)])
    a, b = int(doc.instances[10, 10]), int(doc.instances[30, 30])
    assert a and b and a != b
    # The plain brush continues the object it starts on.
    _drag(tools["brush"], [(10, 12), (20, 12)])
    assert doc.instances[20, 12] == a


def test_stuff_brush_clears_instances(qtbot) -> None:
    doc, ctx, tools, _, _ = _setup(TREE, size=6)
    _drag(tools["instance"], [(10, 10)])
    ctx.class_id = GRASS
    _drag(tools["brush"], [(10, 10)])
    assert doc.instances[10, 10] == 0


def test_eyedropper_and_region_picker(qtbot) -> None:
    _doc, _ctx, tools, picked, selected = _setup(TREE, size=6)
    _drag(tools["instance"], [(10, 10)])
    _drag(tools["instance"], [(40, 40)])
    _drag(tools["eyedropper"], [(10, 10)])
    assert picked == [TREE]
    _drag(tools["picker"], [(10, 10)])
    mask, text = selected[-1]
    assert mask[10, 10] and not mask[40, 40] and "#" in text  # one tree, not all trees
    _drag(tools["picker"], [(10, 10)], Qt.KeyboardModifier.ShiftModifier)
    mask, text = selected[-1]
    assert mask[10, 10] and mask[40, 40] and text == "all tree"
    _drag(tools["picker"], [(-5, -5)])
    assert selected[-1][0] is None


def test_reroll_brush_changes_noise_where_brushed(qtbot) -> None:
    doc, _ctx, tools, _, _ = _setup(size=10)
    before = doc.noise.to_tensor()
    _drag(tools["reroll"], [(32, 5), (32, 58)])
    changed = (doc.noise.to_tensor() != before).any(0).numpy()
    assert changed[32, 5:58].all() and not changed[:20].any()
    assert (doc.labels == SKY).all()  # labels untouched
    assert doc.undo_stack.count() == 1


def test_escape_cancels_a_stroke(qtbot) -> None:
    doc, _ctx, tools, _, _ = _setup()
    brush = tools["brush"]
    brush.press(10, 10, NONE)
    brush.move(10, 40, NONE)
    brush.cancel()
    assert (doc.labels == SKY).all() and doc.undo_stack.count() == 0
