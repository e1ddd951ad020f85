"""The studio with a SPADE model: it paints; re-roll is off and says why (no noise)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.helpers import write_tiny_oasis, write_tiny_spade


@pytest.fixture(scope="module")
def spade_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("weights")
    write_tiny_spade(root / "landscapes-spade-tiny")
    write_tiny_oasis(root / "landscapes-oasis-tiny")
    return root


@pytest.fixture
def w(make_window, spade_folder: Path):
    window = make_window(weights_folders=[spade_folder], model=spade_folder / "landscapes-spade-tiny")
    yield window
    window.doc.undo_stack.setClean()
    window.close()


def _settle(qtbot, w) -> np.ndarray:
    qtbot.waitUntil(lambda: w.settled and w.output is not None, timeout=20000)
    return w.output.astype(int)


def test_spade_paints_and_its_reroll_controls_say_why_they_are_off(qtbot, w, spade_folder: Path) -> None:
    assert w.synth.family == "spade" and w.synth.deterministic and w.doc.noise.z_dim == 1
    ls = w.doc.label_set
    w.new_document((64, 64), fill=ls.by_name("grass").id)
    labels = w.doc.labels.copy()
    labels[:24] = ls.by_name("sky").id
    w.doc.set_maps("Sky", labels)
    image = _settle(qtbot, w)
    assert image.shape == (64, 64, 3) and image.std() > 0
    assert not w.style_panel.isEnabled() and "deterministic" in w.style_panel.toolTip()
    for action in (w.reroll_all_action, w.reroll_sel_action, w.variations_action):
        assert not action.isEnabled() and "no noise" in action.toolTip()
    # Another family: the controls come back with their own tooltips.
    assert w.load_model(spade_folder / "landscapes-oasis-tiny")
    assert w.synth.family == "oasis" and w.style_panel.isEnabled() and not w.style_panel.toolTip()
    assert w.reroll_all_action.isEnabled() and w.reroll_all_action.toolTip().startswith("New noise")
