"""The studio with a SPADE model: it paints; re-roll is off and says why (no noise)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.helpers import settled_output, write_tiny_oasis, write_tiny_spade


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
    return settled_output(qtbot, w).astype(int)


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
    assert not w.style_panel.photo_style.isEnabled()  # no encoder: no style from a photo
    for action in (w.reroll_all_action, w.reroll_sel_action, w.variations_action):
        assert not action.isEnabled() and "no noise" in action.toolTip()
    # Another family: the controls come back with their own tooltips.
    assert w.load_model(spade_folder / "landscapes-oasis-tiny")
    assert w.synth.family == "oasis" and w.style_panel.isEnabled() and not w.style_panel.toolTip()
    assert w.reroll_all_action.isEnabled() and w.reroll_all_action.toolTip().startswith("New noise")


def test_a_vae_spade_takes_the_scene_style_from_a_photo(qtbot, make_window, tmp_path: Path) -> None:
    """With its image encoder, a SPADE model's z comes from a photo: one undo step, the whole
    scene (its style is global, whatever is selected), a different image."""
    import torch
    from PIL import Image

    root = tmp_path / "weights"
    write_tiny_spade(root / "landscapes-spade-vae", vae=True)
    w = make_window(weights_folders=[root], model=root / "landscapes-spade-vae")
    try:
        assert w.synth.family == "spade" and not w.synth.deterministic and w.style_panel.isEnabled()
        assert w.style_panel.photo_style.isEnabled()  # a scene style: no selection needed
        ls = w.doc.label_set
        w.new_document((64, 64), fill=ls.by_name("grass").id)
        labels = w.doc.labels.copy()
        labels[:24] = ls.by_name("sky").id
        w.doc.set_maps("Sky", labels)
        before = _settle(qtbot, w)
        photo = tmp_path / "photo.png"
        rng = np.random.default_rng(0)
        Image.fromarray(rng.integers(0, 255, (80, 96, 3), dtype=np.uint8)).save(photo)
        steps = w.doc.undo_stack.count()
        w.selection = labels == ls.by_name("sky").id  # still the whole scene for SPADE
        assert w.styles.from_photo(photo)
        assert w.doc.undo_stack.count() == steps + 1
        z = w.synth.encode_photo(np.asarray(Image.open(photo)))
        assert torch.allclose(w.synth.global_vector(w.doc.noise), z)
        assert all(torch.allclose(v, z) for v in w.doc.noise.vectors().values())
        assert np.abs(_settle(qtbot, w) - before).mean() > 0
    finally:
        w.doc.undo_stack.setClean()
        w.close()
