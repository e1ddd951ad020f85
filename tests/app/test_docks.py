"""Every dock can be brought back from the View menu; panels of another family are off."""

from __future__ import annotations

import numpy as np


def test_exemplars_dock_reopens_from_view_and_is_off_for_noise_models(window) -> None:
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    toggles = {a.text(): a for a in view.actions()}
    window.exemplars_dock.close()
    assert not window.exemplars_dock.isVisible()
    toggles["Exemplars"].trigger()
    assert window.exemplars_dock.isVisible()
    # The tiny test model is OASIS: the exemplar buttons would do nothing, so they are off.
    assert window.synth.family == "oasis"
    assert not window.exemplars.isEnabled() and not window.exemplars.use_button.isEnabled()
    assert "landscapes-msca" in window.exemplars.toolTip()


def test_status_bar_shows_change_to_pixels_not_only_synthesis(qtbot, window) -> None:
    import numpy as np

    qtbot.waitUntil(lambda: window.settled and window.output is not None, timeout=20000)
    labels = window.doc.labels.copy()
    labels[:8, :8] = (int(labels[0, 0]) + 1) % 5
    window.doc.set_maps("Paint", labels=labels)
    qtbot.waitUntil(lambda: window.settled, timeout=20000)
    assert window.synthesis.last_latency_ms >= window.synthesis.last_ms > 0
    assert window.status_bar.time_label.text() == f"{window.synthesis.last_latency_ms:.0f} ms"
    assert "synthesis" in window.status_bar.time_label.toolTip()
    assert np.array_equal(window.doc.labels, labels)


def test_a_late_result_for_the_old_document_is_not_the_new_ones_image(qtbot, window) -> None:
    import numpy as np

    from engine.scene import Scene

    qtbot.waitUntil(lambda: window.settled and window.output is not None, timeout=20000)
    old_request = window.synthesis.requested
    window.doc.start(Scene(np.zeros((64, 64), np.uint16)))
    assert window.output is None
    window.synthesis._image_ready(old_request, np.full((64, 64, 3), 9, np.uint8), 1.0)  # arrives late
    assert window.output is None or not (window.output == 9).all()


def test_left_dock_tabs_show_whole_titles(window) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QTabBar

    bars = [b for b in window.findChildren(QTabBar) if b.count() >= 4]
    assert bars, "the tabified docks have a tab bar"
    titles = {bars[0].tabText(i) for i in range(bars[0].count())}
    assert {"Style", "Exemplars", "History", "Model"} <= titles
    assert all(b.elideMode() == Qt.TextElideMode.ElideNone for b in bars)


def test_a_fresh_window_shows_every_class_of_the_palette(qtbot, window) -> None:
    palette = window.palette_panel.list
    assert palette.count() == 13  # landscapes
    # The default split is applied after the first show; the variations strip stays out of
    # the way until there are variations.
    qtbot.waitUntil(lambda: palette.verticalScrollBar().maximum() == 0, timeout=3000)
    assert not window.style_panel.strip.isVisible()
    window.style_panel.show_variations([np.zeros((8, 8, 3), np.uint8)])
    assert window.style_panel.strip.isVisible()
    window.style_panel.clear_variations()
    assert not window.style_panel.strip.isVisible()
