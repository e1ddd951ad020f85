"""Synthesis for the studio: the model, the worker and the newest-request bookkeeping.

The controller watches the document it is given (every change schedules a request),
keeps one model and one worker, stamps each request and drops results that are stale:
an older request that finished late, or one made for a document since replaced. It
builds no widgets. The window listens to its signals and hands it the little UI state
it needs: the exemplars' style, the selection, and a yes or no when a model switch
would lose classes.

A retrieval-guided model (RESAIL) gets the document's guidance choices with each request;
the worker hands back, with the image, what the retriever held for it (segments, matches,
the rows used and the guidance image), so the guidance view never reads the retriever
while the worker updates it. A ugen model gets the document's condition (label map, line
drawing, depth map or edited proxy mask) the same way and hands back the proxy mask of its image.

A model that paints at one size only (ugen: its StyleGAN2's) gets the painting resized to
that size when it is loaded, so the first stroke already makes an image.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject, QSettings, QTimer, Signal

from app.document.document import Document
from app.document.modes import DEPTH_LAYER, LINES_LAYER
from app.document.remap import remap_by_name
from app.workers.synthesis import Generate, SynthesisWorker
from app.workers.ugen_request import UgenRequest, ugen_generate
from engine.errors import InputError
from engine.inference.catalog import CatalogEntry
from engine.inference.inade_synth import InadeSynthesizer
from engine.inference.live import LiveSynthesis
from engine.inference.msca_synth import MscaSynthesizer, StyleMix
from engine.inference.open import open_synthesizer
from engine.inference.resail_synth import ResailSynthesizer
from engine.inference.spade_synth import SpadeSynthesizer
from engine.inference.synthesizer import Synthesizer
from engine.inference.ugen_synth import UgenSynthesizer
from engine.noise import NoiseField, random_seed
from engine.paths import WEIGHTS
from engine.retrieval import Choices, RetrievalState
from engine.scene import Scene

DEFAULT_MODEL = "landscapes-oasis"
STROKE_THROTTLE_MS = 60  # while a stroke is in progress, at most ~16 requests a second

AnySynthesizer = (
    Synthesizer | InadeSynthesizer | MscaSynthesizer | SpadeSynthesizer | ResailSynthesizer | UgenSynthesizer
)


@dataclass
class GuidedRequest:
    """A RESAIL request's extra input, the document's choices; the worker fills in ``state``
    (what the retriever held for the image it made) before it hands the image back."""

    choices: Choices
    state: RetrievalState | None = None


def generate_fns(synth: AnySynthesizer) -> tuple[Generate, Generate]:
    """The worker's functions: images (OASIS: live, incremental) and variations (full passes)."""

    if isinstance(synth, ResailSynthesizer):

        def guided(labels: np.ndarray, noise: NoiseField, instances: object, request: object) -> np.ndarray:
            # The document's choices are the authority: generate() resolves them against this
            # map's segments under its lock, before it composes the guidance.
            choices = request.choices if isinstance(request, GuidedRequest) else ()
            inst = instances if isinstance(instances, np.ndarray) else None
            image = synth.generate(labels, noise, "canvas", inst, choices=list(choices))
            if isinstance(request, GuidedRequest):
                request.state = synth.last_state
            return image

        return guided, guided

    if isinstance(synth, UgenSynthesizer):
        ugen = ugen_generate(synth)
        return ugen, ugen

    if synth.family == "msca":

        def styled(labels: np.ndarray, noise: NoiseField, instances: object, style: object) -> np.ndarray:
            if style is None:
                raise InputError("no exemplar is chosen", fix="pick one in the Exemplars panel")
            return synth.generate(labels, style, "canvas")

        return styled, styled

    def variation(labels: np.ndarray, noise: NoiseField, instances: object, style: object) -> np.ndarray:
        return synth.generate(labels, noise, "canvas", instances)

    if synth.family != "oasis":
        return variation, variation
    live = LiveSynthesis(synth)

    def image(labels: np.ndarray, noise: NoiseField, instances: object, style: object) -> np.ndarray:
        return live.generate(labels, noise, "canvas")

    return image, variation


def _nearest(grid: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``grid`` resampled to ``size`` by nearest neighbour (ids stay ids, any dtype)."""
    h, w = grid.shape[:2]
    ys = np.arange(size[0]) * h // size[0]
    xs = np.arange(size[1]) * w // size[1]
    return np.ascontiguousarray(grid[ys][:, xs])


def fit_scene(synth: AnySynthesizer, scene: Scene) -> Scene:
    """``scene`` at the one size ``synth`` paints (ugen: its StyleGAN2's), or ``scene``
    itself for models that paint any size."""
    side = getattr(synth, "image_side", None)
    if side is None or scene.size == (side, side):
        return scene
    return Scene(_nearest(scene.labels, (side, side)), _nearest(scene.instances, (side, side)))


def fit_image(image: np.ndarray | None, size: tuple[int, int]) -> np.ndarray | None:
    if image is None or image.shape[:2] == size:
        return image
    return cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA)


class SynthesisController(QObject):
    """Owns the model and the worker; turns document changes into requests, results into signals."""

    image_ready = Signal(object, float, float)  # H×W×3 uint8, synthesis ms, change → pixels ms
    variations_ready = Signal(object)  # list of images, for the current selection
    status = Signal(str, int)  # a message for the status bar and how long to show it (ms)
    busy = Signal(bool)
    model_changed = Signal(object)  # the new synthesizer, once the document fits it
    guidance_ready = Signal(object)  # RetrievalState of the image just shown (RESAIL), or None
    proxy_ready = Signal(object)  # r×r cluster ids of the image just shown (ugen), or None

    def __init__(
        self,
        doc: Document,
        settings: QSettings,
        *,
        backend: str = "eager",  # "auto" measures the backends once per size and keeps the fastest
        selection: Callable[[], np.ndarray | None] = lambda: None,  # where variations apply
        exemplar_style: Callable[[], StyleMix | None] = lambda: None,  # the exemplars' mix (MSCA)
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.doc = doc
        self.settings = settings
        self.backend = backend
        self._selection = selection
        self._exemplar_style = exemplar_style
        self.synth: AnySynthesizer | None = None
        self.model_folder: Path | None = None
        self.output: np.ndarray | None = None  # the newest image of the current document
        self.variation_seeds: list[int] = []
        self.shown_request = 0
        self.requested = 0  # id of the newest image request (variations have their own ids)
        # When the painter last changed something, and for the last few requests the change
        # they answer: the status bar shows change → pixels, not only the synthesis.
        self._changed_at = time.perf_counter()
        self._change_times: dict[int, float] = {}
        self.last_latency_ms: float | None = None
        self.last_ms: float | None = None
        self.dropped_results = 0
        self.guidance: RetrievalState | None = None  # of the image shown (RESAIL only)
        self.proxy: np.ndarray | None = None  # proxy mask of the image shown (ugen only)
        self.swatches: np.ndarray | None = None  # (K, 3) the model's cluster colours (ugen only)
        self.want_swatches = False  # ugen: measure them if the model has none stored (Proxy tab open)
        # The extra inputs of the last few requests (RESAIL, ugen), which the worker fills
        # in with what it made the image from; read back when that image is shown.
        self._extras: dict[int, GuidedRequest | UgenRequest] = {}

        self.worker = SynthesisWorker()
        self.worker.image_ready.connect(self._image_ready)
        self.worker.variations_ready.connect(self._variations_ready)
        self.worker.failed.connect(self._failed)
        self.worker.busy_changed.connect(self.busy)
        self.worker.start()
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.synthesize)

        doc.reset.connect(self._doc_reset)
        doc.labels_changed.connect(lambda _: self.schedule(STROKE_THROTTLE_MS if doc.editing else 0))
        doc.noise_changed.connect(lambda _: self.schedule(0))
        doc.lock_changed.connect(lambda: self.schedule(0))
        doc.undo_stack.indexChanged.connect(lambda _: self.schedule(0))
        layers = doc.conditions  # ugen's drawing, depth and mask: the image follows the pen too
        layers.lines_changed.connect(lambda _: self._condition_changed(layers.driving_layer == LINES_LAYER))
        layers.depth_changed.connect(lambda _: self._condition_changed(layers.driving_layer == DEPTH_LAYER))
        layers.proxy_changed.connect(lambda: self._condition_changed(True))
        layers.mode_changed.connect(lambda _: self._condition_changed(True))
        layers.style_changed.connect(lambda: self._condition_changed(True))

    def stop(self) -> None:
        """End the worker: the synthesis in flight may finish, but a close never waits long
        for it (the worker gives up after its stop timeout)."""
        self._timer.stop()
        self.worker.stop()

    # ------------------------------------------------------------------ model
    def initial_model(self, entries: list[CatalogEntry]) -> Path | None:
        """The model a studio starts with: the one used last, else the default, else any usable."""
        remembered = self.settings.value("model")
        candidates = [Path(remembered)] if remembered else []
        candidates.append(WEIGHTS / DEFAULT_MODEL)
        for folder in candidates:
            if not folder.exists():
                continue
            entry = next((e for e in entries if e.folder == folder.resolve()), None)
            if entry is not None and entry.usable:
                return entry.folder
        usable = [e for e in entries if e.usable]
        return usable[0].folder if usable else None

    def load_model(self, folder: Path, confirm: Callable[[str], bool] = lambda question: True) -> bool:
        """Switch to the model in ``folder``. A document of another label set is remapped by
        class name; when that loses classes, ``confirm`` is asked first (False: no switch).
        Raises TesseraError, changing nothing, when the folder holds no usable model."""
        synth = open_synthesizer(folder, segmenter=True, backend=self.backend)
        doc, spec = self.doc, synth.spec
        # The worker gets the new model before the document restarts, so no request made
        # for the new document runs on the old model (or the reverse).
        restart: Callable[[], None] | None = None
        scene = doc.scene
        if spec.label_set != doc.label_set:
            labels, lost = remap_by_name(doc.labels, doc.label_set, spec.label_set)
            if lost and not confirm(
                f"'{folder.name}' has no class for: {', '.join(lost[:12])}. "
                f"Those areas become '{spec.label_set.classes[0].name}'. Switch anyway?"
            ):
                return False
            scene = Scene(labels)
        scene = fit_scene(synth, scene)
        if scene is not doc.scene or synth.z_dim != doc.noise.z_dim:
            underlay = fit_image(doc.underlay, scene.size)  # the photo a painting came from stays

            def restart() -> None:
                doc.start(
                    scene, z_dim=synth.z_dim, label_set=spec.label_set, model=folder.name, underlay=underlay
                )

        self.synth = synth
        self.model_folder = Path(folder).resolve()
        # The last model's guidance rows, proxy mask and swatches mean nothing to this one.
        self.guidance, self.proxy, self.swatches, self._extras = None, None, None, {}
        # Requests still queued for the old model (and its label set) are dropped here.
        self.worker.set_generator(*generate_fns(synth))
        if restart is not None:
            restart()
        doc.model_name = folder.name
        self.settings.setValue("model", str(self.model_folder))
        self.model_changed.emit(synth)
        self.schedule(0)
        return True

    @property
    def backend_text(self) -> str | None:
        """Which model runs where, for the status bar: "folder · backend · DEVICE"."""
        if self.synth is None or self.model_folder is None:
            return None
        return f"{self.model_folder.name} · {self.synth.backend_name} · {self.synth.device.type.upper()}"

    # ------------------------------------------------------------------ requests and results
    def schedule(self, delay_ms: int = 0) -> None:
        """Ask for a new image soon; during a stroke requests are throttled, not postponed."""
        self._changed_at = time.perf_counter()  # what the painter did last: the latency's start
        if self._timer.isActive():
            if delay_ms == 0:
                self._timer.start(0)
            return
        self._timer.start(delay_ms)

    def synthesize(self) -> int | None:
        if self.synth is None:
            return None
        style = self._style()
        self.requested = self.worker.submit(self.doc.labels, self.doc.noise, self.doc.instances, style)
        if isinstance(style, GuidedRequest | UgenRequest):
            kept = {k: v for k, v in self._extras.items() if k > self.requested - 8}
            self._extras = kept | {self.requested: style}
        recent = {k: v for k, v in self._change_times.items() if k > self.requested - 8}
        self._change_times = recent | {self.requested: self._changed_at}
        return self.requested

    def _style(self) -> object:
        """What a request needs beyond labels, noise and instances, per family."""
        family = self.synth.family if self.synth is not None else None
        if family == "msca":
            return self.msca_style()
        if family == "resail":
            return GuidedRequest(self.doc.guidance)
        if family == "ugen":
            return self.ugen_request()
        return None

    def ugen_request(self) -> UgenRequest:
        """The document's condition for a ugen model (copies: the worker reads them later)."""
        layers = self.doc.conditions
        read = {LINES_LAYER: layers.lines.copy, DEPTH_LAYER: layers.depth_map}.get(layers.driving_layer)
        image = None if read is None else read()
        w = None if layers.style_w is None else layers.style_w.copy()
        request = UgenRequest(layers.mode, image, layers.request_proxy(self.doc.editing), w)
        request.want_swatches = self.want_swatches
        return request

    def _condition_changed(self, matters: bool) -> None:
        """A change of ugen's condition: a new image if a ugen model reads it (throttled
        during a stroke, as label strokes are)."""
        if matters and self.synth is not None and self.synth.family == "ugen":
            self.schedule(STROKE_THROTTLE_MS if self.doc.conditions.editing else 0)

    @property
    def settled(self) -> bool:
        """No synthesis pending: the newest request's image (or error) is shown."""
        return not self._timer.isActive() and self.shown_request >= self.requested

    def _doc_reset(self) -> None:
        self.output = self.proxy = None
        # Results of requests made for the old document must never become the new one's image
        # (nor its autosaved render): everything asked for so far counts as shown.
        self.shown_request = max(self.shown_request, self.requested)
        self.schedule(0)

    def _image_ready(self, request_id: int, image: np.ndarray, ms: float) -> None:
        if request_id <= self.shown_request:
            self.dropped_results += 1  # an older request finished late: never go back in time
            return
        self.shown_request = request_id
        if image.shape[:2] != self.doc.size:
            return  # the canvas was resized meanwhile; a newer request is on its way
        self.output = image
        self.last_ms = ms
        extra = self._extras.pop(request_id, None)
        guided = extra if isinstance(extra, GuidedRequest) else None
        if guided is not None or self.guidance is not None:
            self.guidance = guided.state if guided is not None else None
            self.guidance_ready.emit(self.guidance)
        if isinstance(extra, UgenRequest):
            self.proxy, self.swatches = extra.shown_proxy, extra.swatches
            self.proxy_ready.emit(self.proxy)
        # What the painter feels: from the change (stroke end, fill, re-roll) to these pixels,
        # throttling and queueing included, not only the network's own time.
        changed = self._change_times.get(request_id)
        self.last_latency_ms = (time.perf_counter() - changed) * 1000 if changed is not None else ms
        self.image_ready.emit(image, ms, self.last_latency_ms)

    def _failed(self, request_id: int, message: str) -> None:
        self.shown_request = max(self.shown_request, request_id)  # settled, with a message instead
        self.status.emit(message, 10000)

    # ------------------------------------------------------------------ variations
    def _reroll_mask(self) -> np.ndarray | None:
        """Where variations re-roll: the selection, or everything for a model with one
        global style (ugen: a region has no noise of its own)."""
        if getattr(self.synth, "global_style", False):
            return None
        return self._selection()

    def variation_noises(self, seeds: list[int]) -> list[NoiseField]:
        noises = [self.doc.rerolled(self._reroll_mask(), seed) for seed in seeds]
        return [n for n in noises if n is not None]

    def request_variations(self, count: int) -> None:
        if self.synth is None:
            return
        seeds = [random_seed() for _ in range(count)]
        noises = self.variation_noises(seeds)
        if not noises:
            self.status.emit("Everything selected is locked: unlock it to see variations.", 4000)
            return
        doc = self.doc
        style = self._style()  # the exemplars' mix, the guidance or the ugen condition of now
        if isinstance(style, UgenRequest):
            style.style_w = None  # variations show other z's; adopting one drops a photo's w
        self.worker.submit_variations(
            doc.labels, noises, tag=(seeds, doc.labels.copy()), instances=doc.instances, style=style
        )
        self.status.emit("Making variations…", 3000)

    def _variations_ready(self, request_id: int, images: list[np.ndarray], tag: object) -> None:
        seeds, labels = tag  # type: ignore[misc]
        if not np.array_equal(labels, self.doc.labels):
            return  # painted since: these no longer match the canvas
        self.variation_seeds = list(seeds)
        self.variations_ready.emit(images)

    def clear_variations(self) -> None:
        self.variation_seeds = []

    def adopt_variation(self, index: int) -> None:
        if not 0 <= index < len(self.variation_seeds):
            return
        seed = self.variation_seeds[index]
        self.doc.reroll(self._reroll_mask(), seed=seed, text=f"Adopt variation {index + 1}")

    # ------------------------------------------------------------------ example-guided style
    def msca_style(self) -> StyleMix | None:
        """The exemplars' mix, and where the style brush painted, the second style alone
        (edges softened over a few pixels so the two looks meet smoothly)."""
        style = self._exemplar_style()
        if style is None or style.second is None or not self.doc.style_mask.any():
            return style
        soft = cv2.GaussianBlur(self.doc.style_mask.astype(np.float32), (0, 0), sigmaX=3.0)
        return StyleMix(style.first, style.second, (style.gamma * (1.0 - soft)).astype(np.float32))

    def exemplars_changed(self) -> None:
        if self.synth is not None and self.synth.family == "msca":
            self.schedule(0)
