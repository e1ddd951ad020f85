"""The studio with an INADE model: paint, click one tree, re-roll or restyle only that tree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import Qt

from engine.inference.inade_noise import instance_layout, instance_noise
from engine.inference.photo_style import PhotoSegmenter
from tests.helpers import settled_output, write_tiny_inade, write_tiny_segmenter

NONE = Qt.KeyboardModifier.NoModifier


@pytest.fixture(scope="module")
def inade_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """weights/ with a tiny INADE model and a tiny (random) landscapes segmenter."""
    root = tmp_path_factory.mktemp("weights")
    write_tiny_inade(root / "landscapes-inade-tiny")
    write_tiny_segmenter(root / "landscapes-seg-tiny")
    return root


@pytest.fixture
def w(make_window, inade_folder: Path):
    window = make_window(weights_folders=[inade_folder], model=inade_folder / "landscapes-inade-tiny")
    yield window
    window.doc.undo_stack.setClean()
    window.close()


def _two_trees(w) -> tuple[np.ndarray, np.ndarray]:
    ls = w.doc.label_set
    w.new_document((64, 64), fill=ls.by_name("grass").id)
    labels, instances = w.doc.labels.copy(), w.doc.instances.copy()
    labels[:24] = ls.by_name("sky").id
    tree = ls.by_name("tree").id
    labels[16:48, 6:26], instances[16:48, 6:26] = tree, 1
    labels[16:48, 38:58], instances[16:48, 38:58] = tree, 2
    w.doc.set_maps("Two trees", labels, instances)
    return labels, instances


def _settle(qtbot, w) -> np.ndarray:
    return settled_output(qtbot, w).astype(float)


def test_inade_models_paint_and_rerolls_stay_on_one_tree(qtbot, w) -> None:
    assert w.synth.family == "inade" and "landscapes-inade-tiny" in w.status_bar.backend_label.text()
    assert w.doc.noise.z_dim == w.synth.z_dim
    _, instances = _two_trees(w)
    before = _settle(qtbot, w)
    assert before.shape == (64, 64, 3)
    picker = w.tools["picker"]
    w.set_tool("picker")
    picker.press(30, 10, NONE)  # the left tree
    assert np.array_equal(w.selection, instances == 1)
    w.reroll_selection()
    after = _settle(qtbot, w)
    diff = np.abs(after - before).mean(-1)
    tree = instances == 1
    assert diff[tree].mean() > 2 * diff[~tree].mean()
    # Outside objects a click selects all of that class's "stuff" (one INADE instance).
    picker.press(60, 30, NONE)
    assert w.selection.sum() == (w.doc.labels == w.doc.label_set.by_name("grass").id).sum()
    assert w.style_panel.photo_style.isEnabled()


def test_copy_and_paste_style_between_trees(qtbot, w) -> None:
    _, instances = _two_trees(w)
    _settle(qtbot, w)
    w.set_selection(instances == 1, "tree 1")
    w.styles.copy()
    w.set_selection(instances == 2, "tree 2")
    w.styles.paste()
    layout = instance_layout(w.doc.labels, w.doc.instances)
    rows, _ = instance_noise(layout, w.doc.noise, w.synth.noise_nc, w.synth.generator.config.z_dim)
    one, two = layout.index_at(30, 10), layout.index_at(30, 45)
    assert torch.equal(rows[0, one], rows[0, two])
    w.doc.undo_stack.undo()
    rows, _ = instance_noise(layout, w.doc.noise, w.synth.noise_nc, w.synth.generator.config.z_dim)
    assert not torch.equal(rows[0, one], rows[0, two])


def test_style_from_a_photo(qtbot, w, inade_folder: Path, tmp_path: Path, dialogs) -> None:
    labels, _ = _two_trees(w)
    photo = np.random.default_rng(1).integers(0, 255, (80, 96, 3), dtype=np.uint8)
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    # Restyle whatever class the (random) segmenter sees in the photo.
    seen = PhotoSegmenter(inade_folder / "landscapes-seg-tiny").segment(photo)
    class_id = int(np.bincount(seen.ravel()).argmax())
    painted = labels.copy()
    painted[40:] = class_id
    w.doc.set_maps("Photo class", painted)
    w.set_selection(w.doc.labels == class_id, "photo class")
    assert w.styles.from_photo(path)
    assert w.doc.undo_stack.undoText().startswith("Style from photo.png")
    region = w.doc.noise.region_map[w.doc.labels == class_id]
    assert len(np.unique(region)) == 1 and not isinstance(w.doc.noise.region_value(int(region[0])), int)
    # A class the photo does not show: a clear message, nothing changes.
    missing = next(c.id for c in w.doc.label_set.classes if c.id not in np.unique(seen))
    w.doc.set_maps("Missing", np.where(w.doc.labels == class_id, missing, w.doc.labels).astype(np.uint16))
    w.set_selection(w.doc.labels == missing, "missing")
    assert not w.styles.from_photo(path)
    assert "shows no" in dialogs.shown[-1][1]
