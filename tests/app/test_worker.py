"""The synthesis worker: results arrive, the newest request wins, errors never escape, it stops."""

from __future__ import annotations

import threading
import time

import numpy as np

from app.workers.synthesis import SynthesisWorker
from engine.errors import InputError
from engine.noise import NoiseField


def _inputs(value: int = 0) -> tuple[np.ndarray, NoiseField]:
    return np.full((8, 8), value, np.uint16), NoiseField.uniform(8, 8, seed=value, z_dim=4)


class SlowGenerator:
    """Blocks until released, and records which label maps it was asked for."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.gate = threading.Event()

    def __call__(
        self, labels: np.ndarray, noise: NoiseField, instances: np.ndarray | None, style: object
    ) -> np.ndarray:
        self.seen.append(int(labels[0, 0]))
        self.gate.wait(5)
        return np.full((8, 8, 3), labels[0, 0], np.uint8)


def test_delivers_an_image(qtbot) -> None:
    worker = SynthesisWorker(lambda labels, noise, instances, style: np.zeros((*labels.shape, 3), np.uint8))
    worker.start()
    try:
        with qtbot.waitSignal(worker.image_ready, timeout=5000) as blocker:
            request = worker.submit(*_inputs())
        rid, image, ms = blocker.args
        assert rid == request and image.shape == (8, 8, 3) and ms >= 0
    finally:
        worker.stop()
    assert not worker.isRunning()


def test_newest_request_replaces_the_queued_ones(qtbot) -> None:
    slow = SlowGenerator()
    worker = SynthesisWorker(slow)
    results: list[tuple[int, int]] = []
    worker.image_ready.connect(lambda rid, image, ms: results.append((rid, int(image[0, 0, 0]))))
    worker.start()
    try:
        worker.submit(*_inputs(1))
        qtbot.waitUntil(lambda: slow.seen == [1], timeout=5000)  # busy with request 1
        for value in (2, 3, 4, 5):  # a fast brush: only the last of these matters
            worker.submit(*_inputs(value))
        slow.gate.set()
        qtbot.waitUntil(lambda: len(results) == 2, timeout=5000)
        time.sleep(0.1)
        assert slow.seen == [1, 5]
        assert [value for _, value in results] == [1, 5]
        assert results[0][0] < results[1][0]
    finally:
        slow.gate.set()
        worker.stop()


def test_inputs_are_copied_at_submit(qtbot) -> None:
    slow = SlowGenerator()
    worker = SynthesisWorker(slow)
    worker.start()
    try:
        labels, noise = _inputs(7)
        with qtbot.waitSignal(worker.image_ready, timeout=5000) as blocker:
            worker.submit(labels, noise)
            labels[:] = 9  # the painter keeps painting while the worker runs
            slow.gate.set()
        assert blocker.args[1][0, 0, 0] == 7
    finally:
        worker.stop()


def test_errors_become_messages(qtbot) -> None:
    def broken(
        labels: np.ndarray, noise: NoiseField, instances: np.ndarray | None, style: object
    ) -> np.ndarray:
        raise InputError("the label map is 8×8; this model needs multiples of 64", source="canvas")

    worker = SynthesisWorker(broken)
    worker.start()
    try:
        with qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
            worker.submit(*_inputs())
        assert "multiples of 64" in blocker.args[1]
        with qtbot.waitSignal(worker.failed, timeout=5000):
            worker.set_generator(lambda labels, noise, instances, style: 1 / 0)
            worker.submit(*_inputs())
        assert worker.isRunning()  # still alive after a crash inside the model
    finally:
        worker.stop()


def test_variations_come_back_with_their_tag(qtbot) -> None:
    worker = SynthesisWorker(
        lambda labels, noise, instances, style: np.full((8, 8, 3), noise.region_ids[0], np.uint8)
    )
    worker.start()
    try:
        labels, noise = _inputs()
        with qtbot.waitSignal(worker.variations_ready, timeout=5000) as blocker:
            worker.submit_variations(labels, [noise, noise], tag=[11, 12])
        _, images, tag = blocker.args
        assert len(images) == 2 and tag == [11, 12]
    finally:
        worker.stop()


def test_instances_travel_with_the_request(qtbot) -> None:
    got: list[np.ndarray | None] = []

    def generate(
        labels: np.ndarray, noise: NoiseField, instances: np.ndarray | None, style: object
    ) -> np.ndarray:
        got.append(instances)
        return np.zeros((*labels.shape, 3), np.uint8)

    worker = SynthesisWorker(generate)
    worker.start()
    try:
        instances = np.arange(16, dtype=np.int32).reshape(4, 4)
        with qtbot.waitSignal(worker.image_ready, timeout=5000):
            worker.submit(np.zeros((4, 4), np.uint16), NoiseField.uniform(4, 4, seed=0), instances)
        instances[0, 0] = 99  # the worker holds its own copy
        assert got[0] is not None and got[0][0, 0] == 0 and got[0][3, 3] == 15
    finally:
        worker.stop()


def test_a_model_switch_drops_what_was_queued_for_the_old_model(qtbot) -> None:
    slow = SlowGenerator()
    worker = SynthesisWorker(slow)
    worker.start()
    try:
        worker.submit(*_inputs(1))
        qtbot.waitUntil(lambda: slow.seen == [1], timeout=5000)  # running on the old model
        worker.submit(*_inputs(2))  # queued for the old model's label set
        new = SlowGenerator()
        new.gate.set()
        worker.set_generator(new)
        slow.gate.set()
        time.sleep(0.3)
        assert slow.seen == [1] and new.seen == []  # request 2 never ran, on either model
        with qtbot.waitSignal(worker.image_ready, timeout=5000):
            worker.submit(*_inputs(3))
        assert new.seen == [3]
    finally:
        slow.gate.set()
        worker.stop()


def test_stop_does_not_hang_on_a_stuck_synthesis(qtbot, monkeypatch) -> None:
    import app.workers.synthesis as synthesis

    monkeypatch.setattr(synthesis, "STOP_TIMEOUT_MS", 200)
    stuck = SlowGenerator()
    worker = SynthesisWorker(stuck)
    worker.start()
    worker.submit(*_inputs(1))
    qtbot.waitUntil(lambda: stuck.seen == [1], timeout=5000)
    start = time.perf_counter()
    worker.stop()
    assert time.perf_counter() - start < 2 and worker.finished_late
    stuck.gate.set()
    worker.wait()
