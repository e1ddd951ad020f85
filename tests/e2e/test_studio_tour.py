"""The scripted studio tour runs end to end with real mouse and key events (tiny model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.tour import Tour
from app.tour import main as tour_main


def test_tour_paints_rerolls_undoes_and_saves(qtbot, window, tmp_path: Path) -> None:
    window.activateWindow()
    shots = Tour(window, tmp_path).run()
    assert [p.name for p in shots] == [
        "01-painted.png",
        "02-water-rerolled.png",
        "03-variations.png",
        "04-undone.png",
    ]
    labels = window.doc.labels
    ls = window.doc.label_set
    for name in ("sky", "grass", "mountain", "water", "tree", "cloud"):
        assert (labels == ls.by_name(name).id).any(), name
    trees = np.unique(window.doc.instances[labels == ls.by_name("tree").id])
    assert len(trees) >= 4  # one instance per tree stroke
    for name in ("tour.tessera", "tour-image.png", "tour-layers.ora"):
        assert (tmp_path / name).is_file()


def test_tour_command_line(qtbot, tiny_model: Path, tmp_path: Path) -> None:
    assert tour_main(["--out", str(tmp_path), "--weights", str(tiny_model)]) == 0
    assert len(list(tmp_path.glob("*.png"))) >= 5
