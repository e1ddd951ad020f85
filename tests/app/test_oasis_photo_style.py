"""OASIS models with a style encoder take a photo's look for the scene or the selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.errors import InputError
from engine.inference.synthesizer import Synthesizer
from tests.helpers import write_tiny_oasis


@pytest.fixture
def encoder_model(tmp_path: Path) -> Path:
    return write_tiny_oasis(tmp_path / "models" / "landscapes-enc", encoder=True)


def _photo(tmp_path: Path, value: int) -> Path:
    path = tmp_path / f"photo{value}.png"
    Image.fromarray(np.full((40, 56, 3), value, np.uint8)).save(path)
    return path


def test_the_whole_scene_or_the_selection_takes_the_photos_look(
    make_window, encoder_model: Path, tmp_path: Path
) -> None:
    w = make_window(model=encoder_model, weights_folders=[encoder_model.parent])
    assert w.style_panel.photo_style.isEnabled()  # no selection needed: the scene
    assert w.styles.from_photo(_photo(tmp_path, 200))
    assert w.doc.undo_stack.undoText() == "Style from photo200.png"
    vector = w.synth.encode_photo(np.full((40, 56, 3), 200, np.uint8))
    assert len(np.unique(w.doc.noise.region_map)) == 1
    region = int(w.doc.noise.region_map[0, 0])
    assert np.allclose(np.asarray(w.doc.noise.region_value(region)), vector.numpy())
    # With a selection only it changes; a darker photo gives another look.
    top = np.zeros(w.doc.labels.shape, bool)
    top[:10] = True
    w.set_selection(top, "top")
    assert w.styles.from_photo(_photo(tmp_path, 20))
    assert w.doc.noise.region_map[0, 0] != w.doc.noise.region_map[-1, -1]
    assert w.doc.noise.region_map[-1, -1] == region
    w.doc.undo_stack.setClean()
    w.close()


def test_models_without_an_encoder_cannot(window, tiny_model: Path) -> None:
    assert not window.style_panel.photo_style.isEnabled()
    with pytest.raises(InputError, match="no style encoder"):
        Synthesizer.from_folder(tiny_model).encode_photo(np.zeros((32, 32, 3), np.uint8))
