"""The studio with a ugen model (tiny, random, 64²): it paints, re-rolls its one z and
shows variations; region and instance controls are off and say why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from tests.helpers import write_tiny_oasis
from tests.ugen_helpers import PROXY, SIDE, write_tiny_ugen


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """root/ugen (labels and edges mappers) beside its root/sg2, and a tiny OASIS."""
    root = tmp_path_factory.mktemp("weights")
    write_tiny_ugen(root, conditions=("labels", "edges"))
    write_tiny_oasis(root / "oasis-tiny")
    return root


@pytest.fixture
def w(make_window, weights: Path):
    window = make_window(weights_folders=[weights], model=weights / "ugen")
    yield window
    window.doc.undo_stack.setClean()
    window.close()


def _settle(qtbot, w) -> np.ndarray:
    qtbot.waitUntil(lambda: w.settled and w.output is not None, timeout=20000)
    return w.output.astype(int)


def _changed(a: np.ndarray, b: np.ndarray) -> bool:
    """A new z restyles the whole image; a layout edit of a random tiny model changes less,
    but changes it."""
    return not np.array_equal(a, b)


def _drag(qtbot, view, points: list[tuple[float, float]]) -> None:
    """A left-button stroke through image points (y, x) of ``view``."""

    def at(y: float, x: float) -> QPoint:
        return view.to_screen(QPointF(x, y)).toPoint()

    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=at(*points[0]))
    for p in points[1:]:
        qtbot.mouseMove(view, at(*p))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=at(*points[-1]))


def test_a_brush_stroke_changes_the_image(qtbot, w, weights: Path) -> None:
    assert w.synth.family == "ugen" and w.doc.size == (SIDE, SIDE)  # fitted to the model's size
    assert w.models.entry_for((weights / "ugen").resolve()).usable
    before = _settle(qtbot, w)
    assert w.synthesis.proxy is not None and w.synthesis.proxy.shape == (PROXY, PROXY)
    w.palette_panel.choose(w.doc.label_set.by_name("water").id)
    w.options.set_size(20)
    w.set_tool("brush")
    _drag(qtbot, w.canvas, [(20.0, float(x)) for x in range(4, 62, 6)])
    assert w.doc.undo_stack.count() == 1
    assert _changed(_settle(qtbot, w), before)


def test_reroll_restyles_and_keeps_the_proxy_layout_and_variations_are_new_zs(qtbot, w) -> None:
    ls = w.doc.label_set
    labels = w.doc.labels.copy()
    labels[:24], labels[24:] = ls.by_name("sky").id, ls.by_name("grass").id
    w.doc.set_maps("Sky over grass", labels)
    first = _settle(qtbot, w)
    layout = w.synthesis.proxy.copy()
    w.reroll_all()
    assert np.abs(_settle(qtbot, w) - first).mean() > 1
    assert np.array_equal(w.synthesis.proxy, layout)  # z changed, the mask did not
    w.style_panel.count.setValue(3)
    with qtbot.waitSignal(w.synthesis.variations_ready, timeout=20000):
        w.request_variations()
    assert w.style_panel.strip.count() == 3
    shown = _settle(qtbot, w)
    w.adopt_variation(1)  # a new z for the whole scene, one undo step
    assert _changed(_settle(qtbot, w), shown)
    assert np.array_equal(w.synthesis.proxy, layout)


def test_region_and_instance_controls_are_off_and_say_why(qtbot, w, weights: Path) -> None:
    w.set_selection(np.ones(w.doc.size, bool), "everything")  # even with a selection
    off = [w.reroll_sel_action, w.lock_action, w.unlock_action, w.tool_actions["instance"]]
    off += [w.style_panel.reroll_selection, w.style_panel.lock, w.style_panel.copy_style]
    for control in off:
        assert not control.isEnabled() and "one global z" in control.toolTip(), control
    assert w.reroll_all_action.isEnabled() and w.variations_action.isEnabled()
    # An OASIS model: each comes back with its own tooltip.
    assert w.load_model(weights / "oasis-tiny")
    w.set_selection(np.ones(w.doc.size, bool), "everything")
    for control in off:
        assert control.isEnabled() and "one global z" not in control.toolTip(), control
