"""What a ugen image is made from, beyond the label map and the noise: the condition.

A ugen model reads one of four things (Chae et al. 2023): the label map, a line drawing
through its edges or sketch mapper, a depth map through its depth mapper, or a proxy mask
the painter edited directly (the paper's free-form manipulation). A request carries copies
of the document's choice, so the worker never reads the document while the GUI edits it,
and hands back the proxy mask of the image it made (``shown_proxy``): the proxy view shows
the mask of the image on screen, never one of a later request still running. It also
hands back the clusters' swatch colours: stored in the model's folder, or, for a folder
without them, measured once (a few generator passes, on this thread rather than the
GUI's) — only when the request asks for them (the Proxy mask tab is open), so they never
hold back an image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.workers.synthesis import Generate
from engine.inference.ugen_synth import UgenSynthesizer
from engine.noise import NoiseField

LABELS = "labels"
TITLES = {"edges": "edge drawing", "sketch": "sketch", "depth": "depth map"}


@dataclass
class UgenRequest:
    mode: str = LABELS  # "labels", "edges", "sketch" or "depth": which mapper makes the proxy mask
    # The condition image of the image modes: H×W bool lines (1 = line) for edges and sketch,
    # H×W float32 depth in [0, 1] (0 = nearest) for depth.
    image: np.ndarray | None = None
    proxy: np.ndarray | None = None  # r×r cluster ids edited by the painter: overrides the mode
    style_w: np.ndarray | None = None  # (w_dim,) a photo's style in place of the noise's z
    shown_proxy: np.ndarray | None = None  # filled by the worker: the mask of the image it made
    swatches: np.ndarray | None = None  # filled by the worker: (K, 3) uint8 cluster colours
    want_swatches: bool = False  # measure the swatches if the folder has none (the Proxy tab shows them)

    @property
    def source(self) -> str:
        """How error messages name the input that failed."""
        if self.proxy is not None:
            return "edited proxy mask"
        return "canvas" if self.mode == LABELS else TITLES.get(self.mode, self.mode)


def ugen_generate(synth: UgenSynthesizer) -> Generate:
    """The worker's function for a ugen model, for images and variations alike (each z is
    a full pass of the rearranger and G₂; the mapper's caches serve both)."""

    def generate(labels: np.ndarray, noise: NoiseField, instances: object, request: object) -> np.ndarray:
        ask = request if isinstance(request, UgenRequest) else UgenRequest()
        # The synthesizer keeps the w between calls; only this thread ever sets it.
        synth.set_style_w(ask.style_w, "the photo's style")
        if ask.proxy is not None:
            image = synth.generate_proxy(ask.proxy, noise, ask.source)
        elif ask.mode != LABELS and ask.image is not None:
            image = synth.generate_condition(ask.mode, ask.image, noise, ask.source)
        else:
            image = synth.generate(labels, noise, ask.source)
        last = synth.last_proxy
        ask.shown_proxy = None if last is None else last.copy()
        ask.swatches = synth.cluster_swatches() if ask.want_swatches else synth.known_swatches
        return image

    return generate
