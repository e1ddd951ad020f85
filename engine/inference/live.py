"""Live synthesis for a painting: each new image recomputes only what the last edit reached.

The studio asks for an image after every stroke, fill or re-roll of one scene. A
:class:`LiveSynthesis` remembers the previous label map and noise field, finds the box
where the new ones differ (labels, noise regions, or the vector of a region), and lets
:class:`~engine.inference.incremental.IncrementalOasis` recompute the SPADE modulation
only there. Its conditioning is always the scene's tokens, so the shared convs are
gathers even on full passes.

Precision follows the Synthesizer: bf16 convs where its backend is a bf16 one (chosen by
``auto`` only after passing the parity check on this model and size), fp32 otherwise.
Not thread-safe: one thread (the studio's worker) calls :meth:`generate`.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.inference.incremental import IncrementalOasis
from engine.inference.onehot_conv import Box
from engine.inference.synthesizer import Synthesizer, require_noise_fits, to_uint8_image
from engine.noise import NoiseField
from engine.scene import Scene

BF16_BACKENDS = ("bf16", "gather-bf16")


class LiveSynthesis:
    def __init__(self, synth: Synthesizer, precision: str | None = None) -> None:
        """``precision``: "fp32" or "bf16"; None follows the synthesizer's backend."""
        self.synth = synth
        self._fixed = precision
        self._nets: dict[str, IncrementalOasis] = {}
        self._net: IncrementalOasis | None = None
        self._labels: np.ndarray | None = None
        self._regions: np.ndarray | None = None
        self._vectors: dict[int, torch.Tensor] = {}
        self.last_box: Box | None = None  # None: the last image was a full pass
        self.precision = ""

    def reset(self) -> None:
        """Forget the cache: the next image is a full pass."""
        self._net = None
        self._labels = self._regions = None

    def _precision_for(self, labels: np.ndarray, noise: NoiseField, source: str) -> str:
        if self._fixed is not None:
            return self._fixed
        synth = self.synth
        if synth.backend != "auto":
            return "bf16" if synth.backend in BF16_BACKENDS else "fp32"
        decision = synth.decision_for(*labels.shape)
        if decision is None:  # measure now, on this very input
            synth.generate(labels, noise, source)
            decision = synth.decision_for(*labels.shape)
        return "bf16" if decision is not None and decision.backend in BF16_BACKENDS else "fp32"

    def _dirty_box(
        self, labels: np.ndarray, noise: NoiseField, vectors: dict[int, torch.Tensor]
    ) -> Box | None:
        """Where this input differs from the last one; None if the last one is unknown."""
        if self._net is None or self._labels is None or self._labels.shape != labels.shape:
            return None
        regions = noise.region_map
        changed = (labels != self._labels) | (regions != self._regions)
        moved = [k for k, v in vectors.items() if k in self._vectors and not torch.equal(v, self._vectors[k])]
        if moved:
            changed |= np.isin(regions, moved)
        return Scene.bbox(changed) or (0, 0, 0, 0)

    @torch.no_grad()
    def generate(
        self,
        labels: np.ndarray,
        noise: NoiseField,
        source: str = "canvas",
        instances: np.ndarray | None = None,
    ) -> np.ndarray:
        """The image for this label map and noise, as ``Synthesizer.generate`` returns it."""
        synth = self.synth
        h, w = labels.shape
        synth.check_size(h, w, source)
        require_noise_fits(noise, h, w, synth.z_dim, source)
        vectors = noise.vectors()
        box = self._dirty_box(labels, noise, vectors)
        if box is None:
            precision = self._precision_for(labels, noise, source)
            if precision not in self._nets:
                self._nets[precision] = IncrementalOasis(synth.generator, precision=precision)
            self._net, self.precision = self._nets[precision], precision
        tokens = synth.inputs(labels, noise, source).tokens
        image = self._net.update_tokens(tokens, box)  # reads the generator's weights only
        self.last_box = None if self._net.last_was_full else box
        self._labels, self._regions, self._vectors = labels.copy(), noise.region_map.copy(), vectors
        return to_uint8_image(image)
