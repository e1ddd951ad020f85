"""Crash recovery: the store's save/pending/load/discard, and the Autosaver's timing rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.document.document import Document
from app.document.project import load_project, save_project, state_of
from app.document.recovery import Autosaver, RecoveryStore, default_recovery_folder, restore
from engine.labels import LabelSet
from tests.helpers import TINY_SET

SIZE = (24, 32)


@pytest.fixture
def label_set() -> LabelSet:
    return LabelSet.from_dict(TINY_SET)


@pytest.fixture
def doc(qtbot, label_set: LabelSet) -> Document:
    return Document(label_set, SIZE, fill=1, seed=3, model="m")


def paint(doc: Document, class_id: int = 2, at: int = 0) -> None:
    doc.paint((at, at, at + 4, at + 4), np.ones((4, 4), bool), class_id)
    doc.end_edit("Brush")


def test_store_save_pending_load_discard(tmp_path: Path, doc: Document) -> None:
    store = RecoveryStore(tmp_path / "recovery")
    assert store.pending() is None
    paint(doc)
    render = np.full((*SIZE, 3), 77, np.uint8)
    path = store.save(state_of(doc), render, original=Path("/work/scene.tessera"))
    assert path == tmp_path / "recovery" / "autosave.tessera"
    info = store.pending()
    assert info is not None and info.project == path
    assert info.original == Path("/work/scene.tessera") and info.saved_at.year >= 2024
    state = store.load()
    assert np.array_equal(state.scene.labels, doc.labels) and state.noise == doc.noise
    assert state.render is not None and np.array_equal(state.render, render)
    store.discard()
    assert store.pending() is None and not any((tmp_path / "recovery").iterdir())
    store.discard()  # twice is fine


def test_pending_survives_a_damaged_info_file(tmp_path: Path, doc: Document) -> None:
    store = RecoveryStore(tmp_path)
    store.save(state_of(doc))
    store.info_path.write_text("{broken")
    info = store.pending()
    assert info is not None and info.original is None


def test_default_folder_is_app_data() -> None:
    assert default_recovery_folder().name == "recovery"


def test_autosaver_saves_after_changes_then_discards_when_clean(qtbot, tmp_path: Path, doc: Document) -> None:
    store = RecoveryStore(tmp_path)
    renders = []

    def render() -> np.ndarray:
        renders.append(1)
        return np.zeros((*SIZE, 3), np.uint8)

    saver = Autosaver(doc, store, render, interval_s=0.05)
    qtbot.wait(150)
    assert store.pending() is None  # nothing changed: nothing written

    with qtbot.waitSignal(saver.saved, timeout=3000):
        paint(doc)
    assert np.array_equal(store.load().scene.labels, doc.labels)
    qtbot.wait(150)
    assert len(renders) == 1  # no second save without a second change

    with qtbot.waitSignal(saver.saved, timeout=3000):
        paint(doc, 3, at=8)
    assert store.load().scene.labels[9, 9] == 3

    doc.undo_stack.undo()
    doc.undo_stack.undo()  # back to the clean state: the recovery is obsolete
    qtbot.waitUntil(lambda: store.pending() is None, timeout=3000)


def test_autosaver_coalesces_a_burst(qtbot, tmp_path: Path, doc: Document) -> None:
    store = RecoveryStore(tmp_path)
    saver = Autosaver(doc, store, lambda: None, interval_s=0.4)
    saves: list[object] = []
    saver.saved.connect(saves.append)
    for i in range(5):
        paint(doc, 2 + i % 3, at=i)
    qtbot.waitUntil(lambda: len(saves) == 1, timeout=3000)
    qtbot.wait(100)
    assert len(saves) == 1
    assert np.array_equal(store.load().scene.labels, doc.labels)


def test_autosaver_reports_failures(qtbot, tmp_path: Path, doc: Document) -> None:
    def broken() -> np.ndarray:
        raise RuntimeError("GPU fell off")

    saver = Autosaver(doc, RecoveryStore(tmp_path), broken, interval_s=0.05)
    with qtbot.waitSignal(saver.failed, timeout=3000) as blocker:
        paint(doc)
    assert "GPU fell off" in blocker.args[0]


def test_restore_keeps_the_autosave_until_a_new_one(qtbot, tmp_path: Path, label_set: LabelSet) -> None:
    # A previous session left an autosave of /work/old.tessera behind.
    store = RecoveryStore(tmp_path)
    crashed = Document(label_set, SIZE, fill=1, seed=8, model="m")
    paint(crashed, 4)
    store.save(state_of(crashed, settings={"t": 0.7}), None, original=tmp_path / "old.tessera")

    doc = Document(label_set, (8, 8), seed=1)
    saver = Autosaver(doc, store, lambda: None, interval_s=0.05)
    state = restore(doc, store)
    assert state.settings == {"t": 0.7}
    assert np.array_equal(doc.labels, crashed.labels) and doc.noise == crashed.noise
    assert doc.modified and doc.path == tmp_path / "old.tessera"
    assert store.pending() is not None  # opening it must not delete it
    with qtbot.waitSignal(saver.saved, timeout=3000):
        pass
    # Saving the document makes it clean: the autosave goes.
    save_project(doc.path, state_of(doc))
    doc.mark_saved(doc.path)
    assert store.pending() is None
    assert np.array_equal(load_project(tmp_path / "old.tessera").scene.labels, crashed.labels)
