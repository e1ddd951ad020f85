"""MSCA inference: label map + exemplar photo(s) → image in the exemplar's style.

An :class:`Exemplar` is a photo with its label map (the gallery's come with one; for any
other photo, :class:`engine.inference.photo_style.PhotoSegmenter` makes it). Encoding an
exemplar (features and spatial attention at every scale) is the expensive half and does
not depend on the painting, so it is cached per exemplar: while the painter paints, only
the target side runs. ``blend`` mixes two exemplars globally (a number) or spatially (a
weight map the size of the canvas: 1 = first exemplar, 0 = second).
"""

from __future__ import annotations

import hashlib
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from engine.checkpoints import LoadedWeights, load_weights
from engine.errors import InputError
from engine.inference.synthesizer import require_multiple, to_uint8_image
from engine.networks.msca import Exemplar as EncodedExemplar
from engine.networks.msca import MscaGenerator


@dataclass(frozen=True)
class Exemplar:
    """A style source: RGB photo (H×W×3 uint8) and its label ids (H×W)."""

    image: np.ndarray
    labels: np.ndarray
    name: str = "exemplar"
    key: str = field(default="", compare=False)  # content digest, filled in by __post_init__

    def __post_init__(self) -> None:
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.shape[:2] != self.labels.shape:
            raise InputError(
                f"exemplar photo {self.image.shape} and labels {self.labels.shape} do not match",
                source=self.name,
                fix="give the photo and its label map the same size",
            )
        digest = hashlib.blake2b(digest_size=12)
        digest.update(np.ascontiguousarray(self.image).tobytes())
        digest.update(np.ascontiguousarray(self.labels).astype(np.uint16).tobytes())
        object.__setattr__(self, "key", digest.hexdigest())


@dataclass(frozen=True)
class StyleMix:
    """What styles a painting: one exemplar, or two blended by ``gamma`` (a number in
    [0, 1], or an H×W float map of the canvas size; 1 = ``first``)."""

    first: Exemplar
    second: Exemplar | None = None
    gamma: float | np.ndarray = 1.0


PRECISIONS = {"eager": "torch-eager fp32", "bf16": "torch bf16 autocast"}
BF16_TOLERANCE = 0.03  # max abs difference to fp32 on the [-1, 1] output (measured for MSCA)
BF16_MIN_GAIN = 1.05  # bf16 must be this much faster to be kept


class MscaSynthesizer:
    """``backend``: "eager" (fp32), "bf16" (autocast), or "auto": on the first image of
    each size, where bf16 is native (AMX, recent GPUs), time both and keep bf16 if it is
    ≥ 5 % faster and within 0.03 of fp32 on that image."""

    family = "msca"
    backend_report = None
    last_decision = None
    discriminator = None
    z_dim = 1  # MSCA has no noise: style comes from exemplars (the studio keeps a 1-d field)

    def __init__(
        self,
        weights: LoadedWeights,
        device: str | torch.device = "cpu",
        cache: int = 8,
        backend: str = "eager",
    ) -> None:
        if backend not in (*PRECISIONS, "auto"):
            raise InputError(
                f"unknown backend {backend!r} for MSCA", source="backend", fix="use eager, bf16 or auto"
            )
        self.backend = backend
        self._precision: dict[tuple[int, int], str] = {}  # auto's choice per canvas size
        self._last = "eager" if backend == "auto" else backend
        self.weights = weights
        self.spec = weights.spec
        self.device = torch.device(device)
        self.encoder = self.spec.encoder
        self.generator: MscaGenerator = weights.nets["generator"].to(self.device).eval()
        self._cache: dict[str, EncodedExemplar] = {}
        self._cache_size = cache
        self._lock = threading.Lock()

    @classmethod
    def from_folder(
        cls, folder: Path | str, *, device: str = "cpu", segmenter: bool = False, backend: str = "eager"
    ) -> MscaSynthesizer:
        return cls(load_weights(folder, family="msca", parts=("generator",)), device, backend=backend)

    @property
    def backend_name(self) -> str:
        return PRECISIONS[self._last]

    def _autocast(self, precision: str) -> AbstractContextManager:
        if precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return nullcontext()

    @property
    def size_multiple(self) -> int:
        return self.generator.config.size_multiple

    def check_size(self, height: int, width: int, source: str) -> None:
        require_multiple(height, width, self.size_multiple, source)

    def decision_for(self, height: int, width: int) -> None:
        return None

    @torch.no_grad()
    def encode(self, exemplar: Exemplar) -> EncodedExemplar:
        """The exemplar's features at every scale (cached: the painting does not change them)."""
        if exemplar.key in self._cache:
            return self._cache[exemplar.key]
        m = self.size_multiple
        h, w = exemplar.labels.shape
        th, tw = max(m, round(h / m) * m), max(m, round(w / m) * m)
        image, labels = exemplar.image, exemplar.labels
        if (th, tw) != (h, w):
            image = cv2.resize(image, (tw, th), interpolation=cv2.INTER_AREA)
            labels = cv2.resize(labels.astype(np.uint16), (tw, th), interpolation=cv2.INTER_NEAREST)
        x = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)[None].div(127.5).sub(1)
        x = x.to(self.device)
        onehot = self.encoder.onehot(labels, source=exemplar.name).to(self.device)
        with self._autocast(self._last):
            encoded = self.generator.encode_exemplar(x, onehot)
        if len(self._cache) >= self._cache_size:
            self._cache.pop(next(iter(self._cache)))
        self._cache[exemplar.key] = encoded
        return encoded

    @torch.no_grad()
    def generate(
        self,
        labels: np.ndarray,
        style: StyleMix,
        source: str = "label map",
    ) -> np.ndarray:
        """H×W label ids styled by ``style`` → H×W×3 uint8."""
        h, w = labels.shape
        self.check_size(h, w, source)
        target = self.encoder.onehot(labels, source=source).to(self.device)
        gamma = style.gamma
        if style.second is not None and isinstance(gamma, np.ndarray):
            if gamma.shape != (h, w):
                raise InputError(
                    f"the blend map is {gamma.shape[1]}×{gamma.shape[0]}, the canvas {w}×{h}",
                    source=source,
                    fix="paint the blend map on this canvas",
                )
            gamma = torch.from_numpy(gamma.astype(np.float32))[None, None].to(self.device)
        with self._lock:
            precision = self._choose(h, w, target, style, gamma)
            image = self._run(precision, target, style, gamma)
        return to_uint8_image(image)

    def _run(
        self, precision: str, target: torch.Tensor, style: StyleMix, gamma: float | torch.Tensor
    ) -> torch.Tensor:
        if precision != self._last:  # encodings made in the other precision differ slightly
            self._cache.clear()
            self._last = precision
        first = self.encode(style.first)
        with self._autocast(precision):
            if style.second is None:
                image = self.generator.synthesise(*self.generator.aligned(target, first))
            else:
                image = self.generator.blend(target, first, self.encode(style.second), gamma)
        return image.float()

    def _choose(
        self, h: int, w: int, target: torch.Tensor, style: StyleMix, gamma: float | torch.Tensor
    ) -> str:
        if self.backend != "auto":
            return self.backend
        if (h, w) not in self._precision:
            from engine.inference.backends.torch_backends import bf16_sensible

            choice = "eager"
            if bf16_sensible(self.device):
                times, images = {}, {}
                for precision in ("eager", "bf16"):
                    self._run(precision, target, style, gamma)  # warm-up, and the encodings
                    start = time.perf_counter()
                    for _ in range(2):
                        images[precision] = self._run(precision, target, style, gamma)
                    times[precision] = time.perf_counter() - start
                close = float((images["bf16"] - images["eager"]).abs().max()) <= BF16_TOLERANCE
                if close and times["eager"] >= BF16_MIN_GAIN * times["bf16"]:
                    choice = "bf16"
            self._precision[(h, w)] = choice
        return self._precision[(h, w)]
