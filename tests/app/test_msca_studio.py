"""The studio with an MSCA model: the image takes the exemplar's style; two blend; projects keep them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import settled_output, write_tiny_msca, write_tiny_segmenter


@pytest.fixture(scope="module")
def msca_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("weights")
    write_tiny_msca(root / "landscapes-msca-tiny")
    write_tiny_segmenter(root / "landscapes-seg-tiny")
    return root


@pytest.fixture
def w(make_window, msca_folder: Path):
    window = make_window(weights_folders=[msca_folder], model=msca_folder / "landscapes-msca-tiny")
    yield window
    window.doc.undo_stack.setClean()
    window.close()


def _settle(qtbot, w) -> np.ndarray:
    return settled_output(qtbot, w).astype(int)


def test_exemplars_style_blend_and_survive_a_project(qtbot, w, tmp_path: Path) -> None:
    assert w.synth.family == "msca" and not w.style_panel.isEnabled()
    panel = w.exemplars
    assert len(panel.gallery) == 12 and panel.first is panel.gallery[0]  # the gallery's first: noon
    w.new_document((64, 64))
    first = _settle(qtbot, w)
    panel.list.setCurrentRow(2)
    panel.use_button.click()  # sunset
    assert panel.first.name == "sunset"
    sunset = _settle(qtbot, w)
    assert np.abs(sunset - first).mean() > 0
    panel.list.setCurrentRow(0)
    panel.blend_button.click()  # + noon
    assert panel.second.name == "noon" and panel.mix.isEnabled()
    panel.mix.setValue(100)
    assert np.abs(_settle(qtbot, w) - sunset).max() <= 1  # 100 % = only the first
    panel.mix.setValue(30)
    _settle(qtbot, w)
    path = tmp_path / "styled.tessera"
    assert w.files.save_as(path)
    panel.use(None, second=True)
    panel.use(panel.gallery[5])
    assert w.files.open_project(path)
    assert panel.first.name == "sunset" and panel.second.name == "noon" and panel.mix.value() == 30


def test_any_photo_can_be_the_exemplar(qtbot, w, tmp_path: Path) -> None:
    photo = np.random.default_rng(0).integers(0, 255, (72, 88, 3), dtype=np.uint8)
    path = tmp_path / "holiday.png"
    Image.fromarray(photo).save(path)
    assert w.styles.exemplar_photo(path)
    assert w.exemplars.first.name == "holiday" and w.exemplars.first.labels.shape == (72, 88)
    assert _settle(qtbot, w).shape == (*w.doc.size, 3)
    assert w.styles.exemplar_photo(path, second=True) and w.exemplars.second is not None


def test_style_brush_paints_where_the_second_style_applies(qtbot, w, tmp_path: Path) -> None:
    from PySide6.QtCore import Qt

    w.new_document((64, 64))
    panel = w.exemplars
    panel.use(panel.gallery[2])  # sunset everywhere …
    panel.list.setCurrentRow(6)
    panel.blend_button.click()  # … winter as the second style
    panel.mix.setValue(100)
    only_first = _settle(qtbot, w)
    w.set_tool("style")
    brush = w.tools["style"]
    w.options.set_size(24)
    brush.press(32, 4, Qt.KeyboardModifier.NoModifier)
    brush.move(32, 20, Qt.KeyboardModifier.NoModifier)
    brush.release(32, 20, Qt.KeyboardModifier.NoModifier)
    assert w.doc.style_mask[32, 10] and not w.doc.style_mask[32, 60]
    assert w.doc.undo_stack.undoText() == "Style brush"
    style = w.synthesis.msca_style()
    assert isinstance(style.gamma, np.ndarray) and style.gamma[32, 10] < 0.1 and style.gamma[32, 60] == 1
    brushed = _settle(qtbot, w)
    diff = np.abs(brushed - only_first).mean(-1)
    assert diff[20:44, :20].mean() > diff[:, 44:].mean()
    path = tmp_path / "brushed.tessera"
    assert w.files.save_as(path)
    w.doc.undo_stack.undo()
    assert not w.doc.style_mask.any()
    assert w.files.open_project(path) and w.doc.style_mask[32, 10]


def test_dropping_a_photo_on_the_result_restyles(qtbot, w, tmp_path: Path) -> None:
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    photo = np.random.default_rng(3).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    path = tmp_path / "dropped.jpg"
    Image.fromarray(photo).save(path)
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    assert w.eventFilter(w.result_view, event)
    assert w.exemplars.first.name == "dropped"


def test_dragging_a_gallery_thumbnail_onto_the_result(qtbot, w) -> None:
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QDropEvent

    from app.panels.exemplars import EXEMPLAR_MIME

    names = [ex.name for ex in w.exemplars.gallery]
    item = w.exemplars.list.item(names.index("sunset"))
    data = w.exemplars.list.mimeData([item])  # what Qt puts on the drag
    assert data.hasFormat(EXEMPLAR_MIME)
    for modifiers, role in (
        (Qt.KeyboardModifier.NoModifier, "first"),
        (Qt.KeyboardModifier.ShiftModifier, "second"),
    ):
        drop = QDropEvent(
            QPointF(10, 10), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, modifiers
        )
        assert w.eventFilter(w.result_view, drop)
        assert getattr(w.exemplars, role).name == "sunset"


def test_a_photo_opens_with_the_label_sets_segmenter(qtbot, w, tmp_path: Path) -> None:
    # MSCA has no discriminator that segments; the segmenter in weights/ does it instead.
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 255, (70, 90, 3), dtype=np.uint8)).save(photo)
    assert w.files.open_photo(photo)
    assert w.doc.labels.shape[0] % w.synth.size_multiple == 0
    underlay = w.doc.underlay
    assert underlay is not None
    # The photo stays under the painting through a save and a reopen.
    path = tmp_path / "from_photo.tessera"
    assert w.files.save_as(path)
    w.new_document((64, 64))
    assert w.doc.underlay is None
    assert w.files.open_project(path)
    assert w.doc.underlay is not None and np.array_equal(w.doc.underlay, underlay)


def test_a_damaged_exemplar_opens_the_painting_without_it(qtbot, w, tmp_path: Path, dialogs) -> None:
    import zipfile

    panel = w.exemplars
    panel.use(panel.gallery[2])  # sunset
    path = tmp_path / "styled.tessera"
    assert w.files.save_as(path)
    broken = tmp_path / "broken.tessera"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("exemplars/") and not item.filename.endswith("_labels.png"):
                data = b"not an image"
            dst.writestr(item, data)
    panel.use(panel.gallery[0])  # noon, so we can see nothing half-changed
    w.new_document((64, 64))
    assert w.files.open_project(broken)  # no exception escapes
    assert w.doc.path == broken and panel.first.name == "noon"
    assert dialogs.shown[-1][0] == "Exemplars not restored"
