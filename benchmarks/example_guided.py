"""Example-guided (MSCA) synthesis: what a painter waits for.

Per MSCA weights folder (the shipped ones unless told), 256² on this machine (smoke runs:
64²), in fp32 and (where the CPU has native bf16) bf16 autocast: encoding an exemplar
(done once per exemplar, then cached), a stroke's re-synthesis with one cached exemplar,
and the two blends (global mix slider, spatial style brush) with both exemplars cached.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.settings import SMOKE_SIZE, Settings
from benchmarks.timing import timed

REPO = Path(__file__).resolve().parent.parent


def _resized(image: np.ndarray, size: tuple[int, int], labels: bool = False) -> np.ndarray:
    """``image`` (or a label map) at ``size`` (H, W): the smoke run's tiny canvas."""
    import cv2

    interpolation = cv2.INTER_NEAREST if labels else cv2.INTER_AREA
    return cv2.resize(image, size[::-1], interpolation=interpolation)


def _folder_cases(folder: Path, settings: Settings, backend: str) -> list[dict]:
    from engine.inference.gallery import gallery_exemplar
    from engine.inference.msca_synth import Exemplar, MscaSynthesizer, StyleMix
    from engine.labels import read_label_png
    from engine.metrics.style_showcase import left_to_right

    synth = MscaSynthesizer.from_folder(folder, backend=backend)
    label_set = synth.spec.label_set
    labels = read_label_png(REPO / "resources" / "scenes" / "painted.png", label_set)
    noon, sunset = gallery_exemplar("noon", label_set), gallery_exemplar("sunset", label_set)
    if settings.smoke:
        labels = _resized(labels, SMOKE_SIZE, labels=True)
        noon, sunset = (
            Exemplar(_resized(e.image, SMOKE_SIZE), _resized(e.labels, SMOKE_SIZE, labels=True), e.name)
            for e in (noon, sunset)
        )
    h, w = labels.shape
    blend_map = left_to_right(h, w)

    def encode() -> None:
        synth._cache.clear()  # time the encoding itself, not the cache
        synth.encode(noon)

    runs = {
        "exemplar_encode": encode,
        "stroke_one_exemplar": lambda: synth.generate(labels, StyleMix(noon)),
        "global_blend": lambda: synth.generate(labels, StyleMix(noon, sunset, 0.5)),
        "spatial_blend": lambda: synth.generate(labels, StyleMix(noon, sunset, blend_map)),
    }
    return [
        {
            "name": f"msca:{folder.name}:{name}",
            "family": "msca",
            "size": f"{h}x{w}",
            "backend": synth.backend_name,
            **timed(fn, repeats=settings.pick(20, 5, 1)),
        }
        for name, fn in runs.items()
    ]


def bench_example_guided(settings: Settings) -> list[dict]:
    import torch

    from engine.inference.backends.torch_backends import bf16_sensible

    backends = ["eager", "bf16"] if bf16_sensible(torch.device("cpu")) else ["eager"]
    cases = []
    for folder in settings.folders("msca"):
        for backend in backends:
            cases += _folder_cases(folder, settings, backend)
    return cases
