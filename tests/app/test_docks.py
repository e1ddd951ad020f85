"""Every dock can be brought back from the View menu; panels of another family are off."""

from __future__ import annotations


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
