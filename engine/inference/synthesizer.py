"""One inference API: label map + noise → image, and photo → label map.

Spectral norm is folded into plain weights once at load time, which is exact in eval
mode and saves the per-call normalisation. The generator then runs on one of the
backends in ``engine.inference.backends``: torch eager fp32 (the default and the
reference), torch bf16 autocast, the token-gather generator in fp32 or bf16, ONNX
Runtime, or ``"auto"``, which measures them on the first image of each size and keeps the
fastest that matches the reference. Every call turns (labels, noise) into tokens
(:mod:`engine.inference.tokens`, < 1 ms); dense tensors are made only for backends
that need them.

An explicit ``backend="bf16"`` runs wherever torch can autocast, also on CPUs without
native bf16 where ``auto`` does not try it (it is slower than fp32 there).

Threading: one thread at a time may call ``generate`` (the studio's worker); a lock makes
concurrent calls wait rather than race. ``backend_name`` and ``backend_report`` only read
and may be called from any thread, also while a measurement runs.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.checkpoints import LoadedWeights, load_weights
from engine.errors import InputError
from engine.inference.backends import auto as auto_choice
from engine.inference.backends.base import Backend, Inputs, run_on, weights_hash
from engine.inference.backends.names import DESCRIPTIONS
from engine.inference.backends.registry import auto_candidates, build_backend, resolve_choice
from engine.inference.tokens import Tokens, scene_tokens
from engine.limits import check_memory
from engine.networks.blocks import fold_spectral_norm
from engine.noise import NoiseField


def to_uint8_image(x: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) in [-1, 1] → H×W×3 uint8."""
    return ((x[0].permute(1, 2, 0).float().cpu().numpy() + 1) * 127.5).round().clip(0, 255).astype(np.uint8)


def require_multiple(height: int, width: int, m: int, source: str) -> None:
    """The clear error every family gives for a canvas whose sides are not multiples of ``m``."""
    if height % m or width % m:
        fit_h, fit_w = max(m, round(height / m) * m), max(m, round(width / m) * m)
        raise InputError(
            f"the label map is {width}×{height}; this model needs sides that are multiples of {m}",
            source=source,
            fix=f"resize or crop it, e.g. to {fit_w}×{fit_h}",
        )


def require_noise_fits(noise: NoiseField, height: int, width: int, z_dim: int, source: str) -> None:
    """The clear error for a noise field made for another canvas size or model."""
    if (noise.height, noise.width) != (height, width) or noise.z_dim != z_dim:
        raise InputError(
            f"noise field is {noise.z_dim}×{noise.height}×{noise.width}, expected {z_dim}×{height}×{width}",
            source=source,
            fix="make the noise field for this label map and model",
        )


class Synthesizer:
    family = "oasis"

    def __init__(
        self,
        weights: LoadedWeights,
        device: str | torch.device = "cpu",
        backend: str = "eager",  # eager | bf16 | onnx | onnx-cpu | onnx-cuda | onnx-tensorrt | auto
        *,
        auto_runs: int = 3,  # timed runs per candidate when backend="auto"
    ) -> None:
        self.weights = weights
        self.spec = weights.spec
        self.device = torch.device(device)
        self.encoder = self.spec.encoder
        self.generator = fold_spectral_norm(weights.nets["generator"]).to(self.device).eval()
        disc = weights.nets.get("discriminator")
        self.discriminator = fold_spectral_norm(disc).to(self.device).eval() if disc is not None else None
        # Models trained with --style-encoder can read a photo's look (time of day, light).
        encoder = weights.nets.get("encoder")
        self.style_encoder = encoder.to(self.device).eval() if encoder is not None else None
        self.backend = resolve_choice(backend, self.device)
        self.auto_runs = auto_runs
        self._lock = threading.RLock()
        self._digest: str | None = None
        self._backends: dict[str, Backend] = {}
        self._decisions: dict[tuple[int, int], auto_choice.Decision] = {}
        self._last: auto_choice.Decision | None = None
        if self.backend != "auto":
            self.backend_for(self.backend)  # now, so a missing library shows at load, not on the first stroke

    @classmethod
    def from_folder(
        cls, folder: Path | str, *, device: str = "cpu", segmenter: bool = False, backend: str = "eager"
    ) -> Synthesizer:
        parts = ("generator", "discriminator") if segmenter else ("generator",)
        return cls(load_weights(folder, family="oasis", parts=parts, optional=("encoder",)), device, backend)

    def encode_photo(self, photo: np.ndarray) -> torch.Tensor:
        """The noise vector (z_dim,) that gives a scene the look of ``photo`` (H×W×3 uint8):
        the mean of the style encoder's distribution, as the model saw paired photos."""
        if self.style_encoder is None:
            raise InputError(
                "this model has no style encoder, so it cannot read a photo's look",
                source=str(self.weights.folder),
                fix="use a model trained with --style-encoder (the shipped landscapes-oasis is)",
            )
        x = torch.from_numpy(np.ascontiguousarray(photo, dtype=np.float32)).permute(2, 0, 1)[None]
        with torch.no_grad():
            mu, _ = self.style_encoder(x.to(self.device) / 127.5 - 1)
        return mu[0].float().cpu()

    # ---------------------------------------------------------------- backends

    @property
    def weights_hash(self) -> str:
        """Digest of the folded generator weights; keys ONNX exports and measured choices."""
        with self._lock:
            if self._digest is None:
                self._digest = weights_hash(self.generator)
            return self._digest

    @property
    def backend_name(self) -> str:
        """What runs the generator, e.g. "onnxruntime-cpu fp32" or "torch-eager fp32 (auto)"."""
        if self.backend != "auto":
            return DESCRIPTIONS[self.backend]
        last = self._last  # one read: the worker thread may replace it meanwhile
        return f"{last.description} (auto)" if last else "auto (measures on the first image)"

    @property
    def last_decision(self) -> auto_choice.Decision | None:
        """The auto choice behind the latest image; None before the first image or without auto."""
        return self._last

    @property
    def backend_report(self) -> dict | None:
        """``last_decision`` as a JSON-ready dict: the pick and, per candidate, the parity
        with eager, the timings (p50 ms) or why it could not run."""
        last = self._last
        return last.to_dict() if last else None

    def backend_for(self, name: str) -> Backend:
        """Backend ``name`` for this model and device, built on first use (benchmarks, tests)."""
        with self._lock:
            if name not in self._backends:
                self._backends[name] = build_backend(
                    name,
                    self.generator,
                    self.device,
                    weights_digest=lambda: self.weights_hash,
                    folder=self.weights.folder,
                )
            return self._backends[name]

    def _drop_unused(self) -> None:
        """Free the backends no size uses (an ONNX session, a bf16 copy, caches): measuring
        builds them all once; keeping them would hold their memory for the session."""
        used = {d.backend for d in self._decisions.values()} | ({self._last.backend} if self._last else set())
        for name in list(self._backends):
            if name not in used:
                del self._backends[name]

    def _run_auto(self, inputs: Inputs) -> torch.Tensor:
        h, w = inputs.size
        decision = self._decisions.get((h, w))
        if decision is None:
            device = auto_choice.device_fingerprint(self.device)
            key = auto_choice.decision_key(self.weights_hash, h, w, device)
            decision = auto_choice.lookup(key)
            if decision is not None:
                try:
                    self.backend_for(decision.backend)
                except Exception:  # chosen elsewhere, or a library went away since: measure here
                    decision = None
            if decision is None:
                builders = {n: (lambda n=n: self.backend_for(n)) for n in auto_candidates(self.device)}
                chosen, measurements, out = auto_choice.measure(builders, inputs, runs=self.auto_runs)
                decision = auto_choice.Decision(chosen, h, w, device, self.weights_hash, measurements)
                auto_choice.store(key, decision)
                self._decisions[(h, w)] = self._last = decision
                self._drop_unused()
                return out
            self._decisions[(h, w)] = decision
        self._last = decision
        return run_on(self._backends[decision.backend], inputs)

    def decision_for(self, height: int, width: int) -> auto_choice.Decision | None:
        """The auto choice for this size, once an image of that size was made; else None."""
        return self._decisions.get((height, width))

    @property
    def size_multiple(self) -> int:
        return self.spec.arch.generator.size_multiple

    @property
    def z_dim(self) -> int:
        return self.spec.arch.generator.z_dim

    def check_size(self, height: int, width: int, source: str) -> None:
        require_multiple(height, width, self.size_multiple, source)
        check_memory(self.memory_estimate(height, width), f"synthesising {width}×{height}", source)

    def memory_estimate(self, height: int, width: int) -> int:
        """Bytes a full-resolution pass needs, dominated by the last block's full-size maps:
        the conditioning, three SPADE hidden maps and their γ, β and normalised features
        (fp32), with 50 % for the allocator (measured: 1.6–1.9 KB/pixel for the shipped
        model, this formula gives 1.9)."""
        g = self.generator.config
        channels = g.semantic_nc + g.z_dim + 3 * g.spade_hidden + 9 * g.widths[-1]
        return int(4 * 1.5 * channels * height * width)

    @torch.no_grad()
    def generate(
        self,
        labels: np.ndarray,
        noise: NoiseField,
        source: str = "label map",
        instances: np.ndarray | None = None,
    ) -> np.ndarray:
        """H×W label ids + a matching noise field → H×W×3 uint8 image (OASIS reads no instances)."""
        h, w = labels.shape
        self.check_size(h, w, source)
        require_noise_fits(noise, h, w, self.z_dim, source)
        with self._lock:
            inputs = self.inputs(labels, noise, source)
            if self.backend == "auto":
                image = self._run_auto(inputs)
            else:
                image = run_on(self._backends[self.backend], inputs)
        return to_uint8_image(image)

    def inputs(self, labels: np.ndarray, noise: NoiseField, source: str = "label map") -> Inputs:
        """The generator input for a label map and its noise: tokens now, dense tensors on demand."""
        tokens = scene_tokens(labels, noise, self.encoder, source)
        tokens = Tokens(tokens.index.to(self.device), tokens.vectors.to(self.device))

        def dense() -> tuple[torch.Tensor, torch.Tensor]:
            onehot = self.encoder.onehot(labels, source=source).to(self.device)
            return onehot, noise.to_tensor(device=self.device)[None]

        return Inputs(tokens, make_dense=dense)

    def style_of(
        self, labels: np.ndarray, instances: np.ndarray | None, noise: NoiseField, mask: np.ndarray
    ) -> torch.Tensor:
        """The noise vector of the region that covers most of ``mask`` ("copy style")."""
        ids = np.array(noise.region_ids)
        counts = np.bincount(np.searchsorted(ids, noise.region_map[mask]), minlength=len(ids))
        return noise.vectors()[int(ids[int(counts.argmax())])]

    @torch.no_grad()
    def segment(self, image: np.ndarray, work_size: int | None = None) -> np.ndarray:
        """Photo (H×W×3 uint8) → H×W label ids, with the OASIS discriminator as segmenter.

        The photo is resized so its shorter side is about the model's training size (the
        scale D knows), rounded to the multiples D needs; the labels come back at the
        photo's own size. The "fake" channel and the dontcare channel are never chosen.
        """
        if self.discriminator is None:
            raise InputError(
                "this weights folder has no discriminator.safetensors",
                source=str(self.weights.folder),
                fix="export the run again with D",
            )
        m = self.spec.arch.discriminator.size_multiple
        h, w = image.shape[:2]
        short = work_size or min(self.spec.image_size)
        scale = short / min(h, w)
        th, tw = max(m, round(h * scale / m) * m), max(m, round(w * scale / m) * m)
        x = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)[None].div(127.5).sub(1)
        x = x.to(self.device)
        x = F.interpolate(x, size=(th, tw), mode="bilinear", align_corners=False, antialias=True)
        logits = self.discriminator(x)[:, 1:]  # drop "fake"
        if self.encoder.dontcare_channel is not None:
            logits[:, self.encoder.dontcare_channel] = -torch.inf
        channels = logits.argmax(1, keepdim=True).float()
        channels = F.interpolate(channels, size=(h, w), mode="nearest")[0, 0].long()
        return self.encoder.ids_from_channels(channels).cpu().numpy().astype(np.uint16)
