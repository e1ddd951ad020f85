"""Example-guided (MSCA) synthesis: what a painter waits for.

Per shipped MSCA weights folder, 256² on this machine, in fp32 and (where the CPU has
native bf16) bf16 autocast: encoding an exemplar (done once per exemplar, then cached),
a stroke's re-synthesis with one cached exemplar, and the two blends (global mix slider,
spatial style brush) with both exemplars cached.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.timing import timed

REPO = Path(__file__).resolve().parent.parent


def _folder_cases(folder: Path, quick: bool, backend: str) -> list[dict]:
    from engine.inference.gallery import gallery_exemplar
    from engine.inference.msca_synth import MscaSynthesizer, StyleMix
    from engine.labels import read_label_png
    from engine.metrics.style_showcase import left_to_right

    synth = MscaSynthesizer.from_folder(folder, backend=backend)
    label_set = synth.spec.label_set
    labels = read_label_png(REPO / "resources" / "scenes" / "painted.png", label_set)
    noon, sunset = gallery_exemplar("noon", label_set), gallery_exemplar("sunset", label_set)
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
            **timed(fn, repeats=5 if quick else 20),
        }
        for name, fn in runs.items()
    ]


def bench_example_guided(quick: bool, folders: list[Path] | None = None) -> list[dict]:
    import torch

    from engine.inference.backends.torch_backends import bf16_sensible

    folders = folders or [p.parent for p in sorted((REPO / "weights").glob("*/config.json"))]
    backends = ["eager", "bf16"] if bf16_sensible(torch.device("cpu")) else ["eager"]
    cases = []
    for folder in folders:
        if json.loads((folder / "config.json").read_text())["family"] == "msca":
            for backend in backends:
                cases += _folder_cases(folder, quick, backend)
    return cases
