"""The studio's depth mode for a ugen model with a depth mapper (tiny, random, 64²): the
Condition box offers Depth only for such models, the depth brush drives the image one undo
step per stroke, depth images (16- and 8-bit) import and colour ones are refused, the map
exports as a 16-bit PNG that imports back exactly, a photo's depth comes from the model's
own estimator, projects and .ora exports keep the map, and switching models keeps what
still makes sense."""

from __future__ import annotations

import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer

from app.document.depth_map import blank_depth
from app.ugen_actions import LABEL_TAB, LINES_TAB, PROXY_TAB
from engine.depth_image import write_depth_png
from tests.helpers import read_ora, settled_output, write_tiny_oasis
from tests.ugen_helpers import SIDE, write_tiny_ugen

FAR = 65535


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """root/ugen (labels, edges and depth mappers, and the depth estimator it names), a
    labels+edges ugen in root/lines/ugen and a tiny OASIS."""
    root = tmp_path_factory.mktemp("weights")
    write_tiny_ugen(root, conditions=("labels", "edges", "depth"))
    write_tiny_ugen(root / "lines", conditions=("labels", "edges"), seed=1)
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


def _at(view, y: float, x: float) -> QPoint:
    return view.to_screen(QPointF(x, y)).toPoint()


def _drag(qtbot, view, points: list[tuple[float, float]]) -> None:
    """A left-button stroke through image points (y, x) of ``view``."""
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=_at(view, *points[0]))
    for p in points[1:]:
        qtbot.mouseMove(view, _at(view, *p))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=_at(view, *points[-1]))


def _depth_mode(qtbot, w) -> np.ndarray:
    """Switch to depth; returns the settled image of the blank depth map."""
    assert w.ugen.set_mode("depth")
    assert w.doc.conditions.mode == "depth" and w.ugen.tabs.currentIndex() == LINES_TAB
    assert w.ugen.drawing.currentWidget() is w.ugen.depth_page
    qtbot.waitUntil(lambda: w.ugen.depth.canvas.isVisible())
    w.fit_views()
    return _settle(qtbot, w)


def _items(w) -> list[str]:
    return [w.ugen.mode.itemData(i) for i in range(w.ugen.mode.count())]


# ---------------------------------------------------------------- which models offer depth
def test_depth_is_offered_only_by_models_with_a_depth_mapper(qtbot, w, weights: Path) -> None:
    assert w.synth.conditions == ("labels", "edges", "depth")
    assert _items(w) == ["labels", "edges", "depth"] and w.ugen.mode.itemText(2) == "Depth"
    # Labels mode keeps the line page in the second tab; edges and depth swap it.
    assert w.ugen.drawing.currentWidget() is w.ugen.line_page and w.ugen.tabs.tabText(LINES_TAB) == "Lines"
    _depth_mode(qtbot, w)
    assert w.ugen.tabs.tabText(LINES_TAB) == "Depth"
    assert "black = near" in w.ugen.depth.tools.slider.toolTip()
    assert w.ugen.set_mode("edges") and w.ugen.drawing.currentWidget() is w.ugen.line_page
    assert w.ugen.tabs.tabText(LINES_TAB) == "Edges"
    # A model without a depth mapper: no Depth in the box, and asking for it changes nothing.
    assert w.load_model(weights / "lines" / "ugen")
    assert _items(w) == ["labels", "edges"] and not w.ugen.set_mode("depth")
    assert not w.ugen.depth.depth_from_photo(weights / "none.png")
    assert "no depth mapper" in w.statusBar().currentMessage()


def test_a_labels_and_depth_model_shows_the_depth_page_in_labels_mode(
    qtbot, make_window, tmp_path: Path
) -> None:
    write_tiny_ugen(tmp_path, conditions=("labels", "depth"))
    window = make_window(weights_folders=[tmp_path], model=tmp_path / "ugen")
    try:
        assert _items(window) == ["labels", "depth"] and window.ugen.tabs.isTabEnabled(LINES_TAB)
        assert window.ugen.tabs.tabText(LINES_TAB) == "Depth"
        assert window.ugen.drawing.currentWidget() is window.ugen.depth_page
        assert settled_output(qtbot, window).shape == (SIDE, SIDE, 3)
    finally:
        window.close()


# ---------------------------------------------------------------- the brush
def test_a_depth_stroke_drives_the_image_and_undo_restores_it(qtbot, w) -> None:
    layers, canvas, tools = w.doc.conditions, w.ugen.depth.canvas, w.ugen.depth.tools
    assert np.array_equal(layers.depth, blank_depth((SIDE, SIDE)))  # flat ground under the sky
    assert layers.depth[0, 0] == FAR and layers.depth[-1, 0] < 0.03 * FAR  # far above, near below
    before = _depth_mode(qtbot, w)
    assert np.array_equal(canvas.rgb[..., 0], np.rint(layers.depth / 257).astype(np.uint8))  # grey = depth
    steps = w.doc.undo_stack.count()
    tools.value.setValue(10)  # near: something close to the viewer, in the sky
    tools.size.setValue(24)
    tools.soft.setChecked(False)
    _drag(qtbot, canvas, [(16.0, float(x)) for x in range(4, 62, 4)])
    assert w.doc.undo_stack.count() == steps + 1 and w.doc.undo_stack.undoText() == "Paint depth 10%"
    painted = layers.depth.copy()
    assert (
        abs(int(painted[16, 32]) - round(0.1 * FAR)) <= 1
        and painted[40, 32] == blank_depth((SIDE, SIDE))[40, 32]
    )
    assert canvas.rgb[16, 32, 0] == round(0.1 * 255)  # the canvas follows the stroke
    drawn = _settle(qtbot, w)
    assert not np.array_equal(drawn, before)
    w.undo_action.trigger()
    assert np.array_equal(layers.depth, blank_depth((SIDE, SIDE)))
    assert np.array_equal(_settle(qtbot, w), before)
    w.redo_action.trigger()
    assert np.array_equal(layers.depth, painted)
    assert np.array_equal(_settle(qtbot, w), drawn)


def test_the_image_follows_a_live_stroke_and_escape_drops_one(qtbot, w) -> None:
    before = _depth_mode(qtbot, w)
    w.ugen.depth.tools.value.setValue(0)
    canvas, asked = w.ugen.depth.canvas, w.synthesis.requested
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=_at(canvas, 10.0, 4.0))
    for x in range(8, 60, 8):
        qtbot.mouseMove(canvas, _at(canvas, 10.0 + x / 4, float(x)))
    assert w.doc.conditions.editing
    # Throttled requests while the button is still down, as for label strokes.
    qtbot.waitUntil(lambda: w.synthesis.requested > asked and w.synthesis.settled, timeout=20000)
    assert w.doc.conditions.editing and not np.array_equal(w.output.astype(int), before)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=_at(canvas, 25.0, 60.0))
    assert not w.doc.conditions.editing
    # Escape drops a stroke in progress: the map is as it was, with no undo step.
    painted, steps = w.doc.conditions.depth.copy(), w.doc.undo_stack.count()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=_at(canvas, 40.0, 10.0))
    qtbot.mouseMove(canvas, _at(canvas, 40.0, 50.0))
    assert not np.array_equal(w.doc.conditions.depth, painted)
    w.cancel_action.trigger()
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=_at(canvas, 40.0, 50.0))
    assert np.array_equal(w.doc.conditions.depth, painted) and w.doc.undo_stack.count() == steps


def test_a_soft_brush_blends_and_does_not_build_up_and_ctrl_click_picks(qtbot, w) -> None:
    _depth_mode(qtbot, w)
    layers, canvas, tools = w.doc.conditions, w.ugen.depth.canvas, w.ugen.depth.tools
    tools.value.setValue(0)
    tools.size.setValue(20)
    assert tools.soft.isChecked()  # the default
    _drag(qtbot, canvas, [(15.0, 24.0), (15.0, 40.0)])
    once = layers.depth.copy()
    assert once[15, 32] == 0 and once[15, 5] == FAR  # the centre is set; far outside, nothing
    rim = once[3:15, 32]  # across the brush's rim: between the painted depth and the sky
    assert ((rim > 0) & (rim < FAR)).sum() >= 2
    w.undo_action.trigger()
    # Back and forth over the same path in one stroke covers each pixel once: no build-up.
    _drag(qtbot, canvas, [(15.0, 24.0), (15.0, 40.0), (15.0, 24.0), (15.0, 40.0)])
    assert np.array_equal(layers.depth, once)
    # Ctrl+click picks the depth under the pointer (the sky's: far), with no undo step.
    steps = w.doc.undo_stack.count()
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, ctrl, _at(canvas, 2.0, 32.0))
    assert tools.value.value() == 100 and w.ugen.depth.brush.depth == 1.0
    assert w.doc.undo_stack.count() == steps and np.array_equal(layers.depth, once)


# ---------------------------------------------------------------- filling the map
def test_import_a_16_bit_and_an_8_bit_depth_png(qtbot, w, tmp_path: Path) -> None:
    before = _depth_mode(qtbot, w)
    steps = w.doc.undo_stack.count()
    ramp = np.repeat(np.linspace(1, 0, 2 * SIDE, dtype=np.float32)[:, None], 2 * SIDE, axis=1)
    write_depth_png(tmp_path / "ramp16.png", ramp)  # twice the canvas: shrunk to it
    assert w.ugen.depth.import_depth(tmp_path / "ramp16.png")
    depth = w.doc.conditions.depth
    assert (
        depth[0, 0] > 0.98 * FAR
        and depth[-1, 0] < 0.02 * FAR
        and (np.diff(depth[:, 5].astype(int)) < 0).all()
    )
    assert w.doc.undo_stack.count() == steps + 1 and w.doc.undo_stack.undoText() == "Import ramp16.png"
    assert not np.array_equal(_settle(qtbot, w), before)
    grey = np.full((SIDE, SIDE), 255, np.uint8)
    grey[SIDE // 2 :] = 51  # an 8-bit map: sky over ground at 20 % depth
    Image.fromarray(grey).save(tmp_path / "grey8.png")
    assert w.ugen.depth.import_depth(tmp_path / "grey8.png")
    assert w.doc.conditions.depth[0, 0] == FAR and w.doc.conditions.depth[-1, 0] == round(0.2 * FAR)
    assert w.doc.undo_stack.count() == steps + 2
    w.undo_action.trigger()
    assert np.array_equal(w.doc.conditions.depth[:, 5], depth[:, 5])
    # Clear goes back to the ground plane, one more step.
    assert w.ugen.depth.clear() and np.array_equal(w.doc.conditions.depth, blank_depth((SIDE, SIDE)))
    assert w.doc.undo_stack.undoText() == "Clear depth" and not w.ugen.depth.clear()


def test_a_colour_image_or_another_shape_is_refused_with_a_warning(qtbot, w, dialogs, tmp_path: Path) -> None:
    _depth_mode(qtbot, w)
    photo = np.zeros((SIDE, SIDE, 3), np.uint8)
    photo[..., 0] = 200  # red: no channel of it is a depth
    Image.fromarray(photo).save(tmp_path / "holiday.png")
    kept, steps = w.doc.conditions.depth.copy(), w.doc.undo_stack.count()
    assert not w.ugen.depth.import_depth(tmp_path / "holiday.png")
    title, text = dialogs.shown[-1]
    assert title == "Cannot import depth image" and "holiday.png" in text and "colour" in text
    assert "Fix:" in text and "greyscale" in text
    Image.fromarray(np.zeros((SIDE, 2 * SIDE), np.uint8)).save(tmp_path / "wide.png")
    assert not w.ugen.depth.import_depth(tmp_path / "wide.png")
    assert "wide.png" in dialogs.shown[-1][1] and "another shape" in dialogs.shown[-1][1]
    assert np.array_equal(w.doc.conditions.depth, kept) and w.doc.undo_stack.count() == steps


def _save_dialog(monkeypatch, answer: Path | None) -> list[str]:
    """Stand in for the save dialog: answers ``answer`` (None: cancelled); returns the
    default paths it was opened with."""
    from PySide6.QtWidgets import QFileDialog

    proposed: list[str] = []

    def ask(parent, title: str, default: str, filters: str) -> tuple[str, str]:
        proposed.append(default)
        return ("" if answer is None else str(answer), filters)

    monkeypatch.setattr(QFileDialog, "getSaveFileName", ask)
    return proposed


def test_export_depth_image_writes_what_import_reads_back(qtbot, w, monkeypatch, tmp_path: Path) -> None:
    _depth_mode(qtbot, w)
    tools, layers = w.ugen.depth.tools, w.doc.conditions
    tools.value.setValue(23)
    tools.soft.setChecked(True)  # a soft rim: many depths between the stroke's and the sky's
    _drag(qtbot, w.ugen.depth.canvas, [(18.0, float(x)) for x in range(4, 60, 6)])
    painted, steps = layers.depth.copy(), w.doc.undo_stack.count()
    assert len(np.unique(painted)) > 20
    out = tmp_path / "out"
    proposed = _save_dialog(monkeypatch, out / "mine.png")
    qtbot.mouseClick(tools.export_button, Qt.MouseButton.LeftButton)
    assert proposed and proposed[0].endswith("painting-depth.png")
    assert w.statusBar().currentMessage() == f"Wrote {out / 'mine.png'}"
    with Image.open(out / "mine.png") as im:  # 16-bit grey, black = near
        assert im.mode.startswith("I") and np.array_equal(np.asarray(im).astype(np.uint16), painted)
    assert np.array_equal(layers.depth, painted) and w.doc.undo_stack.count() == steps
    # Import it over a cleared map: the very same values come back.
    assert w.ugen.depth.clear() and not np.array_equal(layers.depth, painted)
    assert w.ugen.depth.import_depth(out / "mine.png")
    assert layers.depth.dtype == np.uint16 and np.array_equal(layers.depth, painted)
    # A cancelled dialog writes nothing.
    _save_dialog(monkeypatch, None)
    qtbot.mouseClick(tools.export_button, Qt.MouseButton.LeftButton)
    assert [p.name for p in out.iterdir()] == ["mine.png"]


def test_a_depth_export_that_cannot_be_written_says_so(qtbot, w, dialogs, tmp_path: Path) -> None:
    _depth_mode(qtbot, w)
    kept, steps = w.doc.conditions.depth.copy(), w.doc.undo_stack.count()
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    target = tmp_path / "notes.txt" / "depth.png"
    assert not w.ugen.depth.export_depth(target)
    title, text = dialogs.shown[-1]
    assert title == "Cannot export depth image" and str(target) in text and "Fix:" in text
    assert not w.ugen.depth.export_depth(tmp_path / "depth.jpg")  # 8 bits would lose the depth
    assert "depth.jpg" in dialogs.shown[-1][1] and "16-bit PNG" in dialogs.shown[-1][1]
    assert np.array_equal(w.doc.conditions.depth, kept) and w.doc.undo_stack.count() == steps
    assert not (tmp_path / "depth.jpg").exists()


def _ramp(path: Path) -> Path:
    """A 16-bit depth PNG of the canvas: far (white) at the top to near (black) at the bottom."""
    write_depth_png(path, np.repeat(np.linspace(1, 0, SIDE, dtype=np.float32)[:, None], SIDE, axis=1))
    return path


def test_the_ora_export_carries_the_drawing_and_the_depth_map(qtbot, w, tmp_path: Path) -> None:
    image = _settle(qtbot, w)
    assert w.files.export_ora(tmp_path / "plain.ora")  # nothing drawn, the blank depth: as ever
    assert [(name, shown) for name, shown, _ in read_ora(tmp_path / "plain.ora")] == [
        ("Labels", "hidden"),
        ("Image", "visible"),
    ]
    lines = np.zeros((SIDE, SIDE), bool)
    lines[20, 5:50] = lines[5:40, 30] = True
    assert w.doc.conditions.set_lines(lines, "Draw")
    assert w.ugen.depth.import_depth(_ramp(tmp_path / "ramp.png"))
    depth = w.doc.conditions.depth.copy()
    image = _settle(qtbot, w)
    assert w.files.export_ora(tmp_path / "layers.ora")
    layers = read_ora(tmp_path / "layers.ora")
    assert [(name, shown) for name, shown, _ in layers] == [
        ("Labels", "hidden"),
        ("Lines", "hidden"),
        ("Depth", "hidden"),
        ("Image", "visible"),
    ]
    pixels = {name: values for name, _, values in layers}
    assert pixels["Lines"].shape == (SIDE, SIDE, 3) and (pixels["Lines"][lines] == 0).all()
    assert (pixels["Lines"][~lines] == 255).all()  # black lines on white
    assert np.array_equal(pixels["Depth"][..., 1], np.rint(depth / 257).astype(np.uint8))
    assert pixels["Depth"][0, 0, 0] > 240 and pixels["Depth"][-1, 0, 0] < 15  # white far, black near
    assert np.array_equal(pixels["Image"], image)
    with zipfile.ZipFile(tmp_path / "layers.ora") as zf, Image.open(zf.open("mergedimage.png")) as merged:
        assert np.array_equal(np.asarray(merged), image)  # the merged image stays the render
    # Depth alone (the drawing erased): a Depth layer and no Lines.
    assert w.doc.conditions.set_lines(np.zeros((SIDE, SIDE), bool), "Erase")
    assert w.files.export_ora(tmp_path / "depth.ora")
    assert [name for name, _, _ in read_ora(tmp_path / "depth.ora")] == ["Labels", "Depth", "Image"]


def _photo(path: Path) -> Path:
    photo = np.zeros((80, 100, 3), np.uint8)
    photo[:40], photo[40:] = (150, 190, 240), (60, 110, 40)  # sky over a meadow
    photo[40:, :, 1] += np.arange(40, dtype=np.uint8)[:, None]  # some texture for the net
    Image.fromarray(photo).save(path)
    return path


def test_depth_from_a_photo_uses_the_models_estimator(qtbot, w, tmp_path: Path) -> None:
    from app.document.io import open_photo
    from engine.conditions import photo_condition
    from engine.depth_image import depth_to_uint16

    before = _depth_mode(qtbot, w)
    path = _photo(tmp_path / "meadow.png")
    assert w.ugen.depth.depth_from_photo(path)
    net = w.synth.depth_estimator()
    expected = depth_to_uint16(photo_condition(open_photo(path), "depth", "canny", SIDE, net))
    assert np.array_equal(w.doc.conditions.depth, expected)
    assert w.doc.undo_stack.undoText() == "Depth of meadow.png"
    assert not np.array_equal(_settle(qtbot, w), before)


def test_cancelling_depth_from_a_photo_keeps_the_map(qtbot, w, monkeypatch, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QProgressDialog

    import app.ugen_depth

    _depth_mode(qtbot, w)
    release = threading.Event()

    def slow(*args: object, **kwargs: object) -> np.ndarray:
        release.wait(10)  # until the test has cancelled
        return np.zeros((SIDE, SIDE), np.float32)

    monkeypatch.setattr(app.ugen_depth, "photo_condition", slow)
    seen: list[str] = []

    def cancel() -> None:
        shown = [d for d in w.findChildren(QProgressDialog) if d.isVisible()]
        if not shown:
            QTimer.singleShot(20, cancel)
            return
        seen.append(shown[0].labelText())
        shown[0].cancel()

    kept, steps = w.doc.conditions.depth.copy(), w.doc.undo_stack.count()
    QTimer.singleShot(20, cancel)
    try:
        assert not w.ugen.depth.depth_from_photo(_photo(tmp_path / "meadow.png"))
    finally:
        release.set()
    assert seen and "meadow.png" in seen[0]
    assert np.array_equal(w.doc.conditions.depth, kept) and w.doc.undo_stack.count() == steps
    assert "cancelled" in w.statusBar().currentMessage()


def test_a_missing_depth_estimator_says_how_to_get_it(qtbot, make_window, dialogs, tmp_path: Path) -> None:
    import shutil

    folder = write_tiny_ugen(tmp_path, conditions=("labels", "depth"))
    shutil.rmtree(tmp_path / "depth")  # the estimator the config names is gone
    window = make_window(weights_folders=[tmp_path], model=folder)
    try:
        assert window.ugen.set_mode("depth")
        assert not window.ugen.depth.depth_from_photo(_photo(tmp_path / "p.png"))
        title, text = dialogs.shown[-1]
        assert title == "Depth from photo" and "depth" in text and "Fix:" in text
        assert np.array_equal(window.doc.conditions.depth, blank_depth((SIDE, SIDE)))
    finally:
        window.doc.undo_stack.setClean()
        window.close()


# ---------------------------------------------------------------- projects and models
def test_the_depth_map_and_mode_are_saved_in_the_project(qtbot, w, tmp_path: Path) -> None:
    assert w.files.save_as(tmp_path / "blank.tessera")
    with zipfile.ZipFile(tmp_path / "blank.tessera") as zf:
        assert "depth.png" not in zf.namelist()  # a blank map is the default: not stored
    _depth_mode(qtbot, w)
    w.ugen.depth.tools.value.setValue(35)
    _drag(qtbot, w.ugen.depth.canvas, [(20.0, float(x)) for x in range(2, 62, 4)])
    depth = w.doc.conditions.depth.copy()
    image = _settle(qtbot, w)
    assert w.files.save_as(tmp_path / "depth.tessera")
    w.new_document((SIDE, SIDE))
    assert w.doc.conditions.mode == "labels" and np.array_equal(
        w.doc.conditions.depth, blank_depth((SIDE, SIDE))
    )
    assert w.files.open_project(tmp_path / "depth.tessera")
    assert w.doc.conditions.mode == "depth" and np.array_equal(w.doc.conditions.depth, depth)
    assert w.ugen.mode.currentData() == "depth" and w.ugen.drawing.currentWidget() is w.ugen.depth_page
    assert np.array_equal(_settle(qtbot, w), image)  # same map, same z: the same picture


def test_switching_models_keeps_what_still_makes_sense(qtbot, w, weights: Path) -> None:
    _depth_mode(qtbot, w)
    w.ugen.depth.tools.value.setValue(20)
    _drag(qtbot, w.ugen.depth.canvas, [(12.0, 10.0), (12.0, 50.0)])
    painted = w.doc.conditions.depth.copy()
    # A model without a depth mapper paints from the label map; the depth map waits.
    assert w.load_model(weights / "lines" / "ugen")
    assert w.doc.conditions.mode == "labels" and _items(w) == ["labels", "edges"]
    assert w.ugen.drawing.currentWidget() is w.ugen.line_page and w.ugen.tabs.tabText(LINES_TAB) == "Lines"
    assert w.synthesis.ugen_request().image is None
    _settle(qtbot, w)
    # Back to the depth model: Depth is offered again and the painted map drives the image.
    assert w.load_model(weights / "ugen")
    assert w.ugen.set_mode("depth") and np.array_equal(w.doc.conditions.depth, painted)
    request = w.synthesis.ugen_request()
    assert request.mode == "depth" and np.allclose(request.image, painted / FAR)
    _settle(qtbot, w)
    # Another family: the ugen tabs are off and say why.
    assert w.load_model(weights / "oasis-tiny")
    tabs = w.ugen.tabs
    assert tabs.currentIndex() == LABEL_TAB and not tabs.isTabEnabled(LINES_TAB)
    assert not tabs.isTabEnabled(PROXY_TAB) and "depth maps" in tabs.tabToolTip(LINES_TAB)
    assert not w.ugen.depth.depth_from_photo(weights / "none.png")
