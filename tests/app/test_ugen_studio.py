"""The studio with a ugen model (tiny, random, 64²): it paints, re-rolls its one z and
shows variations; region and instance controls are off and say why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from tests.helpers import settled_output, write_tiny_oasis
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
    return settled_output(qtbot, w).astype(int)


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


# ---------------------------------------------------------------- condition modes and the line drawing
def _edges_mode(qtbot, w) -> np.ndarray:
    """Switch to edges; returns the settled image of the (empty) drawing."""
    from app.ugen_actions import LINES_TAB

    assert w.ugen.set_mode("edges")
    assert w.doc.conditions.mode == "edges" and w.ugen.tabs.currentIndex() == LINES_TAB
    return _settle(qtbot, w)


def _line_png(path: Path, size: tuple[int, int], seed: int = 0) -> Path:
    from PIL import Image

    h, wd = size
    image = np.full((h, wd), 255, np.uint8)  # black lines on white, as drawn on paper
    image[h // 3, :] = 0
    image[:, wd // 2] = 0
    image[2 * h // 3 :, wd // 4] = 0
    Image.fromarray(image).save(path)
    return path


def test_the_mode_switch_lists_only_the_models_mappers(qtbot, w, make_window, tmp_path: Path) -> None:
    assert [w.ugen.mode.itemText(i) for i in range(w.ugen.mode.count())] == ["Labels", "Edges"]
    assert w.ugen.mode.isEnabled()
    root = tmp_path / "sketchy"
    write_tiny_ugen(root, conditions=("labels", "sketch"))
    w.doc.conditions.set_style_w(np.ones(w.synth.w_dim, np.float32), "A w of the first model")
    assert w.load_model(root / "ugen")
    assert w.doc.conditions.style_w is None  # its latent space is not this model's
    assert [w.ugen.mode.itemText(i) for i in range(w.ugen.mode.count())] == ["Labels", "Sketch"]
    assert not w.ugen.set_mode("edges")  # not among the model's mappers
    assert w.ugen.set_mode("sketch") and w.ugen.tabs.tabText(1) == "Sketch"
    assert "Sketch from photo" in w.ugen.line_tools.photo.text()


def test_a_pen_stroke_drives_the_image_and_undo_restores_it(qtbot, w) -> None:
    before = _edges_mode(qtbot, w)
    steps = w.doc.undo_stack.count()
    w.ugen.line_tools.size.setValue(3)
    _drag(qtbot, w.ugen.line_canvas, [(float(y), 30.0) for y in range(2, 62, 4)])
    _drag(qtbot, w.ugen.line_canvas, [(32.0, float(x)) for x in range(2, 62, 4)])
    assert w.doc.conditions.lines[:, 30].sum() > 50 and w.doc.undo_stack.count() == steps + 2
    drawn = _settle(qtbot, w)
    assert _changed(drawn, before)
    w.undo_action.trigger()
    w.undo_action.trigger()
    assert not w.doc.conditions.lines.any()
    assert np.array_equal(_settle(qtbot, w), before)
    w.redo_action.trigger()
    assert w.doc.conditions.lines[:, 30].sum() > 50
    # The eraser takes lines away again, one undo step per stroke.
    w.ugen.line_tools.eraser.click()
    _drag(qtbot, w.ugen.line_canvas, [(float(y), 30.0) for y in range(0, 64, 4)])
    assert w.doc.conditions.lines[:, 30].sum() == 0 and w.doc.undo_stack.count() == steps + 2


def test_import_a_line_png_and_a_bad_file_says_why(qtbot, w, dialogs, tmp_path: Path) -> None:
    before = _edges_mode(qtbot, w)
    assert w.doc.undo_stack.undoText() == "Condition: edges"  # the switch is an undo step too
    labels, steps = w.doc.labels.copy(), w.doc.undo_stack.count()
    png = _line_png(tmp_path / "drawing.png", (128, 128))  # twice the canvas: shrunk, lines kept
    assert w.ugen.import_lines(png)
    lines = w.doc.conditions.lines
    assert lines[:, 32].sum() >= 60 and lines[21].sum() >= 60 and lines.mean() < 0.2
    assert w.doc.undo_stack.count() == steps + 1 and _changed(_settle(qtbot, w), before)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a picture")
    kept = lines.copy()
    assert not w.ugen.import_lines(bad)
    title, text = dialogs.shown[-1]
    assert title == "Cannot import line image" and "bad.png" in text
    assert not w.ugen.import_lines(_line_png(tmp_path / "wide.png", (64, 128)))
    assert "another shape" in dialogs.shown[-1][1]
    assert np.array_equal(w.doc.conditions.lines, kept) and np.array_equal(w.doc.labels, labels)
    assert w.doc.undo_stack.count() == steps + 1


def test_edges_from_a_photo_use_the_models_extractor(qtbot, w, tmp_path: Path) -> None:
    from PIL import Image

    _edges_mode(qtbot, w)
    photo = np.full((90, 120, 3), 200, np.uint8)
    photo[:, 60:] = 30  # one strong vertical edge in the centred square
    Image.fromarray(photo).save(tmp_path / "photo.png")
    assert w.synth.arch.edge_extractor == "canny"
    assert w.ugen.lines_from_photo(tmp_path / "photo.png")
    lines = w.doc.conditions.lines
    assert lines.any() and lines[:, 28:36].sum() > 0.8 * lines.sum()
    assert w.doc.undo_stack.undoText().startswith("Edges of photo.png")


def test_the_drawing_and_mode_are_saved_in_the_project(qtbot, w, tmp_path: Path) -> None:
    _edges_mode(qtbot, w)
    _drag(qtbot, w.ugen.line_canvas, [(10.0, float(x)) for x in range(2, 62, 4)])
    lines = w.doc.conditions.lines.copy()
    image = _settle(qtbot, w)
    assert w.files.save_as(tmp_path / "drawn.tessera")
    w.new_document((SIDE, SIDE))
    assert w.doc.conditions.mode == "labels" and not w.doc.conditions.lines.any()
    assert w.files.open_project(tmp_path / "drawn.tessera")
    assert w.doc.conditions.mode == "edges" and np.array_equal(w.doc.conditions.lines, lines)
    assert w.ugen.mode.currentData() == "edges"
    assert np.array_equal(_settle(qtbot, w), image)  # same drawing, same z: the same picture


def test_ugen_widgets_are_off_and_say_why_for_an_oasis_model(qtbot, w, weights: Path) -> None:
    from app.ugen_actions import LABEL_TAB, LINES_TAB, PROXY_TAB

    assert w.ugen.tabs.isTabEnabled(LINES_TAB) and w.ugen.tabs.isTabEnabled(PROXY_TAB)
    assert w.load_model(weights / "oasis-tiny")
    tabs = w.ugen.tabs
    assert tabs.currentIndex() == LABEL_TAB and tabs.currentWidget() is w.canvas
    for tab in (LINES_TAB, PROXY_TAB):
        assert not tabs.isTabEnabled(tab) and "ugen" in tabs.tabToolTip(tab)
    assert not w.ugen.mode.isEnabled() and "ugen" in w.ugen.mode.toolTip()
    assert w.ugen.mode.count() == 1


# ---------------------------------------------------------------- the proxy mask
def _proxy_tab(qtbot, w) -> np.ndarray:
    from app.ugen_actions import PROXY_TAB

    image = _settle(qtbot, w)
    w.ugen.tabs.setCurrentIndex(PROXY_TAB)
    qtbot.waitUntil(lambda: w.ugen.proxy_view.isVisible())
    w.fit_views()
    return image


def test_the_proxy_tab_shows_the_mask_in_swatch_colours(qtbot, w) -> None:
    from tests.ugen_helpers import K

    _proxy_tab(qtbot, w)
    view, shown = w.ugen.proxy_view, w.synthesis.proxy
    assert np.array_equal(view.proxy, shown) and not view.edited
    assert len(w.ugen.palette.buttons) == K
    swatches = w.synth.cluster_swatches()
    scale = SIDE // PROXY
    for y, x in ((0, 0), (7, 11), (PROXY - 1, 3)):  # a cell's centre pixel has its cluster's swatch
        pixel = view.rgb[y * scale + scale // 2, x * scale + scale // 2]
        assert np.array_equal(pixel, swatches[shown[y, x]])
    assert "follows your label map" in w.ugen.palette.note.text()
    assert not w.ugen.palette.back.isEnabled()


def test_a_folder_without_stored_swatches_measures_them_only_for_the_proxy_tab(
    qtbot, make_window, tmp_path: Path
) -> None:
    folder = write_tiny_ugen(tmp_path / "older", conditions=("labels",), swatches=False)
    window = make_window(weights_folders=[tmp_path / "older"], model=folder)
    try:
        _settle(qtbot, window)
        # The first image came without the few generator passes the swatches cost.
        assert window.synth.known_swatches is None and window.synthesis.swatches is None
        _proxy_tab(qtbot, window)
        qtbot.waitUntil(lambda: window.synthesis.swatches is not None)
        assert np.array_equal(window.synthesis.swatches, window.synth.known_swatches)
        qtbot.waitUntil(lambda: window.ugen.palette.swatches is not None)
    finally:
        window.doc.undo_stack.setClean()
        window.close()


def test_painting_a_cluster_drives_the_image_until_the_label_map_is_painted(qtbot, w) -> None:
    before = _proxy_tab(qtbot, w)
    shown = w.synthesis.proxy.copy()
    cluster = int(np.bincount(shown.ravel(), minlength=6).argmin())  # the rarest: a visible change
    w.ugen.palette.choose(cluster)
    w.ugen.palette.size.setValue(4)
    steps = w.doc.undo_stack.count()
    _drag(qtbot, w.ugen.proxy_view, [(32.0, float(x)) for x in range(8, 58, 4)])
    edited = w.doc.conditions.proxy
    assert edited is not None and (edited == cluster).sum() > (shown == cluster).sum() + 20
    assert w.doc.undo_stack.count() == steps + 1  # one stroke, one step
    image = _settle(qtbot, w)
    assert _changed(image, before) and np.array_equal(w.synthesis.proxy, edited)
    assert w.ugen.proxy_view.edited and "drives the image" in w.ugen.palette.note.text()
    assert w.ugen.palette.back.isEnabled() and w.ugen.tabs.tabText(2) == "Proxy mask (edited)"
    # A re-roll restyles the edited layout and keeps it.
    w.reroll_all()
    assert np.abs(_settle(qtbot, w) - image).mean() > 1 and np.array_equal(w.synthesis.proxy, edited)
    # Painting the label map returns to the map, in the same undo step as the stroke.
    ls = w.doc.label_set
    labels = w.doc.labels.copy()
    labels[40:] = ls.by_name("water").id
    w.doc.set_maps("Lake", labels)
    assert w.doc.conditions.proxy is None
    _settle(qtbot, w)
    assert not np.array_equal(w.synthesis.proxy, edited) and not w.ugen.proxy_view.edited
    w.undo_action.trigger()  # the lake and the mask's drop together
    assert np.array_equal(w.doc.conditions.proxy, edited)
    _settle(qtbot, w)
    assert np.array_equal(w.synthesis.proxy, edited)
    assert w.ugen.back_to_map() and w.doc.conditions.proxy is None  # the button, one more step


def test_an_edited_mask_is_saved_in_the_project(qtbot, w, tmp_path: Path) -> None:
    _proxy_tab(qtbot, w)
    w.ugen.palette.choose(2)
    _drag(qtbot, w.ugen.proxy_view, [(10.0, 10.0), (50.0, 50.0)])
    edited = w.doc.conditions.proxy.copy()
    assert w.files.save_as(tmp_path / "edited.tessera")
    w.new_document((SIDE, SIDE))
    assert w.doc.conditions.proxy is None
    assert w.files.open_project(tmp_path / "edited.tessera")
    assert np.array_equal(w.doc.conditions.proxy, edited)
    _settle(qtbot, w)
    assert np.array_equal(w.synthesis.proxy, edited)


# ---------------------------------------------------------------- style from a photo
def _photo(path: Path) -> Path:
    from PIL import Image

    photo = np.zeros((70, 90, 3), np.uint8)
    photo[:35], photo[35:] = (230, 150, 90), (40, 120, 50)  # a warm sky over green ground
    Image.fromarray(photo).save(path)
    return path


def test_style_from_a_photo_paints_until_the_next_reroll(qtbot, w, tmp_path: Path) -> None:
    assert w.style_panel.photo_style.isEnabled()  # a scene style: no selection needed
    before = _settle(qtbot, w)
    layout, steps = w.synthesis.proxy.copy(), w.doc.undo_stack.count()
    assert w.styles.from_photo(_photo(tmp_path / "sunset.png"))
    style_w = w.doc.conditions.style_w
    assert style_w is not None and style_w.shape == (w.synth.w_dim,)
    assert w.doc.undo_stack.count() == steps + 1 and w.doc.undo_stack.undoText() == "Style from sunset.png"
    photo_look = _settle(qtbot, w)
    assert np.abs(photo_look - before).mean() > 1 and np.array_equal(w.synthesis.proxy, layout)
    assert np.allclose(w.synth.style_w.numpy(), style_w)
    # Saved with the project.
    assert w.files.save_as(tmp_path / "styled.tessera")
    w.new_document((SIDE, SIDE))
    assert w.doc.conditions.style_w is None
    assert w.files.open_project(tmp_path / "styled.tessera")
    assert np.array_equal(w.doc.conditions.style_w, style_w)
    assert np.array_equal(_settle(qtbot, w), photo_look)
    # A re-roll draws a new z and drops the photo's w, in one undo step.
    w.reroll_all()
    assert w.doc.conditions.style_w is None and w.doc.undo_stack.count() == 1
    assert np.abs(_settle(qtbot, w) - photo_look).mean() > 1 and w.synth.style_w is None
    w.undo_action.trigger()
    assert np.array_equal(w.doc.conditions.style_w, style_w)
    assert np.array_equal(_settle(qtbot, w), photo_look)


def test_cancelling_the_inversion_keeps_the_look(qtbot, w, tmp_path: Path) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QProgressDialog, QPushButton

    _settle(qtbot, w)
    steps = w.doc.undo_stack.count()
    seen: list[int] = []

    def cancel() -> None:
        dialogs = [d for d in w.findChildren(QProgressDialog) if d.isVisible()]
        if not dialogs:
            QTimer.singleShot(20, cancel)
            return
        seen.append(dialogs[0].maximum())
        dialogs[0].findChild(QPushButton).click()  # its Cancel button

    QTimer.singleShot(20, cancel)
    assert not w.styles.ugen_from_photo(_photo(tmp_path / "photo.png"), steps=5000)
    assert seen and w.doc.conditions.style_w is None and w.doc.undo_stack.count() == steps
    assert "cancelled" in w.statusBar().currentMessage()
