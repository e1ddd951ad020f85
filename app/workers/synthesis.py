"""The synthesis worker: one background thread, newest request wins.

The canvas must never wait for the network. The GUI thread hands over copies of the
label map and noise; the worker thread keeps one pending slot per kind, so a request
that arrives while another waits replaces it (a fast brush makes many requests, only
the newest matters). Every result carries its request id; the window drops results
older than the one it already shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QMutex, QMutexLocker, QThread, QWaitCondition, Signal

from engine.errors import TesseraError
from engine.noise import NoiseField

# (labels, noise, instance ids or None, style or None) → image. Each family reads what it
# needs: OASIS the noise, INADE the noise and instances, MSCA the style (its exemplars).
Generate = Callable[[np.ndarray, NoiseField, np.ndarray | None, object], np.ndarray]


@dataclass
class Request:
    id: int
    labels: np.ndarray
    noise: list[NoiseField]  # one field for an image; several for a variations strip
    tag: object = None  # passed back untouched (e.g. the seeds of the variations)
    instances: np.ndarray | None = None
    style: object = None  # immutable (e.g. an MSCA StyleMix), so it needs no copy
    submitted: float = field(default_factory=time.perf_counter)


STOP_TIMEOUT_MS = 10_000  # longest a closing window waits for the synthesis in flight


class SynthesisWorker(QThread):
    """Runs ``generate(labels, noise)`` off the GUI thread."""

    image_ready = Signal(int, object, float)  # request id, H×W×3 uint8, milliseconds of compute
    variations_ready = Signal(int, object, object)  # request id, list of images, tag
    failed = Signal(int, str)  # request id, message for the status bar
    busy_changed = Signal(bool)

    def __init__(self, generate: Generate | None = None) -> None:
        super().__init__()
        self.setObjectName("synthesis-worker")
        self._mutex = QMutex()
        self._wake = QWaitCondition()
        self._generate = generate
        self._generate_variations: Generate | None = None
        self._image: Request | None = None
        self._variations: Request | None = None
        self._next_id = 0
        self._stopping = False
        self.finished_late = False  # stop() gave up waiting for a synthesis in flight

    # ------------------------------------------------------------------ GUI side
    def set_generator(self, generate: Generate | None, variations: Generate | None = None) -> None:
        """Switch models; requests still queued for the old one are dropped (their label
        set or noise size may not fit the new model), the one running finishes.

        ``variations`` makes the variation strips, if they need another function (the
        studio's image function is incremental, and a strip of unrelated noises would
        only flush its cache); by default ``generate`` makes both.
        """
        with QMutexLocker(self._mutex):
            self._generate = generate
            self._generate_variations = variations
            self._image = self._variations = None

    def submit(
        self,
        labels: np.ndarray,
        noise: NoiseField,
        instances: np.ndarray | None = None,
        style: object = None,
    ) -> int:
        """Queue an image for these inputs (copied here); returns the request id."""
        return self._queue("image", labels, [noise.copy()], None, instances, style)

    def submit_variations(
        self,
        labels: np.ndarray,
        noises: list[NoiseField],
        tag: object = None,
        instances: np.ndarray | None = None,
        style: object = None,
    ) -> int:
        return self._queue("variations", labels, [n.copy() for n in noises], tag, instances, style)

    def stop(self) -> None:
        """Finish the current request, drop the rest, and end the thread."""
        with QMutexLocker(self._mutex):
            self._stopping = True
            self._image = self._variations = None
            self._wake.wakeAll()
        # A synthesis cannot be interrupted; wait for it, but never hang the window's close.
        if not self.wait(STOP_TIMEOUT_MS):
            self.finished_late = True

    def _queue(
        self,
        kind: str,
        labels: np.ndarray,
        noise: list[NoiseField],
        tag: object,
        instances: np.ndarray | None,
        style: object,
    ) -> int:
        with QMutexLocker(self._mutex):
            self._next_id += 1
            copied = None if instances is None else instances.copy()
            request = Request(self._next_id, labels.copy(), noise, tag, instances=copied, style=style)
            if kind == "image":
                self._image = request
            else:
                self._variations = request
            self._wake.wakeOne()
            return request.id

    # ------------------------------------------------------------------ worker side
    def _take(self) -> tuple[str, Request, Generate | None] | None:
        with QMutexLocker(self._mutex):
            while not self._stopping and self._image is None and self._variations is None:
                self._wake.wait(self._mutex)
            if self._stopping:
                return None
            # Images first: the picture under the brush matters more than thumbnails.
            if self._image is not None:
                request, self._image = self._image, None
                return "image", request, self._generate
            request, self._variations = self._variations, None
            return "variations", request, self._generate_variations or self._generate

    def run(self) -> None:
        while (job := self._take()) is not None:
            kind, request, generate = job
            if generate is None:
                self.failed.emit(request.id, "No model is loaded: pick one in the Model panel.")
                continue
            self.busy_changed.emit(True)
            try:
                start = time.perf_counter()
                images = [
                    generate(request.labels, n, request.instances, request.style) for n in request.noise
                ]
                ms = (time.perf_counter() - start) * 1000
            except TesseraError as error:
                self.failed.emit(request.id, str(error).replace("\n", " "))
            except Exception as error:
                self.failed.emit(request.id, f"Synthesis failed: {type(error).__name__}: {error}")
            else:
                if kind == "image":
                    self.image_ready.emit(request.id, images[0], ms)
                else:
                    self.variations_ready.emit(request.id, images, request.tag)
            finally:
                self.busy_changed.emit(False)
