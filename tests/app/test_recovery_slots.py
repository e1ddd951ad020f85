"""Recovery slots: two studios at once keep their own autosaves; only dead sessions are offered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from app.document.document import Document
from app.document.project import save_project, state_of
from app.document.recovery import Autosaver
from app.document.recovery_slots import LOCK_NAME, RecoverySlots
from engine.labels import LabelSet
from tests.helpers import TINY_SET

SIZE = (16, 16)


@pytest.fixture
def doc(qtbot) -> Document:
    return Document(LabelSet.from_dict(TINY_SET), SIZE, fill=1, seed=3, model="m")


def paint(doc: Document, class_id: int) -> None:
    doc.paint((0, 0, 4, 4), np.ones((4, 4), bool), class_id)
    doc.end_edit("Brush")


def test_each_claim_is_its_own_locked_slot_and_living_ones_are_never_offered(
    tmp_path: Path, doc: Document
) -> None:
    slots = RecoverySlots(tmp_path)
    a, b = slots.claim(), slots.claim()
    assert a.folder != b.folder and a.locked and b.locked
    paint(doc, 2)
    a.store.save(state_of(doc), original=tmp_path / "a.tessera")
    b.store.save(state_of(doc), original=tmp_path / "b.tessera")
    assert slots.orphans() == []  # both owners are alive (this process)

    b.release()  # B closes normally: only its own slot goes
    assert not b.folder.exists()
    assert a.store.pending() is not None and a.store.pending().original == tmp_path / "a.tessera"


def test_an_abandoned_slot_is_offered_once_newest_first(tmp_path: Path, doc: Document) -> None:
    slots = RecoverySlots(tmp_path)
    old, new = slots.claim(), slots.claim()
    paint(doc, 2)
    old.store.save(state_of(doc), original=tmp_path / "old.tessera")
    paint(doc, 3)
    new.store.save(state_of(doc), original=tmp_path / "new.tessera")
    # The info's own time orders them: put the old one an hour back.
    old.store.info_path.write_text(json.dumps({"original": str(tmp_path / "old.tessera"), "saved_at": 0.0}))
    old.abandon()
    new.abandon()  # both sessions "crash"

    found = slots.orphans()
    assert [s.store.pending().original for s in found] == [tmp_path / "new.tessera", tmp_path / "old.tessera"]
    # A second studio starting at the same moment does not offer what the first is offering.
    assert RecoverySlots(tmp_path).orphans() == []
    found[0].release()
    found[1].abandon()  # not taken this time: offered again at the next start
    again = RecoverySlots(tmp_path).orphans()
    assert [s.store.pending().original for s in again] == [tmp_path / "old.tessera"]


def test_a_killed_studio_is_offered_and_a_living_one_is_not(tmp_path: Path, doc: Document) -> None:
    paint(doc, 4)
    project = save_project(tmp_path / "painting.tessera", state_of(doc))
    child = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from app.document.project import load_project
        from app.document.recovery_slots import RecoverySlots
        slot = RecoverySlots(Path({str(tmp_path / "recovery")!r})).claim()
        slot.store.save(load_project(Path({str(project)!r})), original=Path("/elsewhere/x.tessera"))
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        slots = RecoverySlots(tmp_path / "recovery")
        assert slots.orphans() == []  # alive: its autosave is its own business
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        (found,) = slots.orphans()
        assert found.store.pending().original == Path("/elsewhere/x.tessera")
        assert np.array_equal(found.store.load().scene.labels, doc.labels)
    finally:
        proc.kill()
        proc.wait(10)


def test_dead_empty_slots_are_swept_and_a_slot_being_claimed_is_left_alone(tmp_path: Path) -> None:
    # A studio that died before its first autosave leaves a locked, empty slot.
    child = (
        "import os; from app.document.recovery_slots import RecoverySlots; "
        f"slot = RecoverySlots({str(tmp_path)!r}).claim(); os._exit(0)"  # held, never released
    )
    subprocess.run([sys.executable, "-c", child], check=True, env=os.environ | {"OMP_NUM_THREADS": "1"})
    (dead,) = [p for p in tmp_path.iterdir() if (p / LOCK_NAME).is_file()]
    claiming = tmp_path / "123-being-claimed"
    claiming.mkdir()  # mkdir done, lock not yet taken
    assert RecoverySlots(tmp_path).orphans() == []
    assert not dead.exists() and claiming.is_dir()


def test_an_autosave_from_before_slots_is_still_offered(tmp_path: Path, doc: Document) -> None:
    from app.document.recovery import RecoveryStore

    paint(doc, 3)
    RecoveryStore(tmp_path).save(state_of(doc), original=tmp_path / "legacy.tessera")
    (found,) = RecoverySlots(tmp_path).orphans()
    assert found.folder == tmp_path and found.store.pending().original == tmp_path / "legacy.tessera"
    found.release()
    assert RecoverySlots(tmp_path).orphans() == []


def test_an_unusable_recovery_folder_reports_on_save_and_the_session_goes_on(
    qtbot, tmp_path: Path, doc: Document
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the recovery folder should be")
    slot = RecoverySlots(blocker).claim()
    assert not slot.locked
    saver = Autosaver(doc, slot.store, lambda: None, interval_s=0.05)
    with qtbot.waitSignal(saver.failed, timeout=3000) as failure:
        paint(doc, 2)
    assert "Autosave failed" in failure.args[0]


def test_a_restored_autosave_goes_after_the_new_session_saves_its_own(
    qtbot, tmp_path: Path, doc: Document
) -> None:
    slots = RecoverySlots(tmp_path)
    crashed = slots.claim()
    paint(doc, 2)
    crashed.store.save(state_of(doc))
    crashed.abandon()
    (found,) = slots.orphans()
    mine = slots.claim()
    saver = Autosaver(doc, mine.store, lambda: None, interval_s=0.05)
    saver.supersede(found.release)
    assert found.folder.is_dir()  # still there until ours is written
    with qtbot.waitSignal(saver.saved, timeout=3000):
        paint(doc, 3)
    assert not found.folder.exists() and mine.store.pending() is not None
