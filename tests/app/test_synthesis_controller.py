"""The synthesis controller on its own, without a window: a document, a tiny model, signals."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from app.document.document import Document
from app.synthesis_controller import SynthesisController
from engine.inference.catalog import scan
from engine.labels import LabelSet
from engine.scene import Scene

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def doc(qtbot) -> Document:
    return Document(LabelSet.builtin("landscapes"), (64, 64))


@pytest.fixture
def synthesis(qtbot, doc: Document, tmp_path: Path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    controller = SynthesisController(doc, settings)
    yield controller
    controller.stop()
    assert not controller.worker.isRunning()


def test_loads_a_model_and_emits_the_documents_image(qtbot, synthesis, doc, tiny_model: Path) -> None:
    with qtbot.waitSignal(synthesis.model_changed, timeout=20000) as changed:
        assert synthesis.load_model(tiny_model)
    assert changed.args[0] is synthesis.synth and doc.model_name == tiny_model.name
    assert "landscapes-tiny" in synthesis.backend_text
    with qtbot.waitSignal(synthesis.image_ready, timeout=20000) as ready:
        pass  # load_model scheduled the first image
    image, ms, latency_ms = ready.args
    assert image.shape == (64, 64, 3) and latency_ms >= ms > 0
    qtbot.waitUntil(lambda: synthesis.settled, timeout=20000)
    assert synthesis.output is image
    # The next studio starts with the model used last.
    assert synthesis.initial_model(scan([tiny_model.parent])) == tiny_model.resolve()


def test_a_result_for_a_replaced_document_is_dropped(qtbot, synthesis, doc, tiny_model: Path) -> None:
    assert synthesis.load_model(tiny_model)
    qtbot.waitUntil(lambda: synthesis.settled and synthesis.output is not None, timeout=20000)
    gate, started = threading.Event(), threading.Event()

    def slow(labels: np.ndarray, noise: object, instances: object, style: object) -> np.ndarray:
        started.set()
        gate.wait(10)
        return np.full((*labels.shape, 3), 9, np.uint8)

    synthesis.worker.set_generator(slow)
    # What the controller made of each result, seen right after it handled it.
    handled: dict[int, tuple[bool, int]] = {}
    synthesis.worker.image_ready.connect(
        lambda rid, image, ms: handled.update({rid: (synthesis.output is None, synthesis.dropped_results)})
    )
    old = synthesis.synthesize()
    qtbot.waitUntil(started.is_set, timeout=5000)  # the old document's request is running
    doc.start(Scene(np.zeros((64, 64), np.uint16)))
    assert synthesis.output is None and synthesis.shown_request >= old
    gate.set()
    qtbot.waitUntil(lambda: old in handled, timeout=10000)
    assert handled[old] == (True, 1)  # dropped: the new document shows no old pixels
    # The new document's own request (scheduled by the reset) lands normally.
    qtbot.waitUntil(lambda: synthesis.settled and synthesis.output is not None, timeout=20000)
    assert synthesis.shown_request > old and synthesis.dropped_results == 1


def test_a_model_switch_that_loses_classes_asks_first(qtbot, synthesis, doc, tiny_model, tmp_path) -> None:
    from tests.helpers import write_tiny_oasis

    assert synthesis.load_model(tiny_model)
    landscapes = synthesis.synth
    ids = np.array([c.id for c in doc.label_set.classes], np.uint16)
    doc.start(Scene(np.resize(ids, (64, 64))))  # every class: some have no ADE20K match
    ade = write_tiny_oasis(tmp_path / "ade-tiny", "ade20k")
    questions: list[str] = []
    assert not synthesis.load_model(ade, confirm=lambda q: questions.append(q) or False)
    assert "no class for" in questions[0] and synthesis.synth is landscapes
    assert doc.label_set.name == "landscapes"
    # The document restarts only once the new model is in place (the worker has it too).
    seen_at_reset: list[object] = []
    doc.reset.connect(lambda: seen_at_reset.append(synthesis.synth))
    assert synthesis.load_model(ade, confirm=lambda q: True)
    assert doc.label_set.name == "ade20k" and seen_at_reset == [synthesis.synth]
    assert seen_at_reset[0] is not landscapes


def test_the_controller_never_imports_widgets() -> None:
    probe = (
        "import json, sys; import app.synthesis_controller; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('PySide6.Qt'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    modules = json.loads(result.stdout.strip().splitlines()[-1])
    assert "PySide6.QtWidgets" not in modules, modules
