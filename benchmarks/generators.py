"""OASIS generator speed on every backend ``auto`` would consider, batch 1: the shipped
generators (or ``--weights`` folders) and the paper configuration with random weights."""

from __future__ import annotations

from pathlib import Path

import torch

from benchmarks.settings import SMOKE_SIZE, Settings
from benchmarks.timing import percentiles


def _backend_cases(
    name: str, synth, sizes: list[tuple[int, int]], repeats: int, only_best: bool = False, candidates=None
):
    """Each backend ``auto`` would consider for ``synth``, timed on the same input in one go.

    Times the generator forward (one-hot and noise prepared, image back as an fp32 tensor)
    through the same measurement ``backend="auto"`` uses; ratio_vs_eager is the speed-up
    (eager p50 / backend p50, > 1 is faster). Rows that fail the parity check are timed
    too but never chosen.
    """
    from engine.inference.backends import auto
    from engine.inference.backends.base import example_scene
    from engine.inference.backends.registry import auto_candidates

    cfg = synth.generator.config
    names = candidates or auto_candidates(synth.device)
    builders = {n: (lambda n=n: synth.backend_for(n)) for n in names}
    cases = []
    for h, w in sizes:
        inputs = example_scene(cfg.semantic_nc, cfg.z_dim, h, w, device=synth.device)
        chosen, measured, _ = auto.measure(builders, inputs, runs=repeats, time_failures=True)
        eager_ms = next(m.p50_ms for m in measured if m.backend == "eager")
        for m in measured:
            if only_best and m.backend not in ("eager", chosen):
                continue
            row = {
                "name": f"generator:{name}", "family": "oasis", "size": f"{h}x{w}", "backend": m.description,
            }  # fmt: skip
            if m.times_ms:
                row |= percentiles(m.times_ms) | {"ratio_vs_eager": round(eager_ms / m.p50_ms, 2)}
            row |= {
                "max_abs_vs_eager": m.max_abs_diff,
                "parity_ok": m.passed,
                "auto_choice": m.backend == chosen,
            }
            cases.append(row | ({"error": m.error} if m.error else {}))
    return cases


def bench_generators(settings: Settings) -> list[dict]:
    """The OASIS weights folders of ``settings`` on every backend available here, batch 1."""
    from engine.inference.synthesizer import Synthesizer

    cases = []
    for folder in settings.folders("oasis"):
        synth = Synthesizer.from_folder(folder)
        sizes = settings.pick([(256, 256), (512, 512), (256, 1024)], [(256, 256)], [SMOKE_SIZE])
        cases += _backend_cases(folder.name, synth, sizes, repeats=settings.pick(20, 5, 1))
    return cases


def bench_paper_generator(settings: Settings) -> list[dict]:
    """The OASIS paper generator (ADE20K's 151 channels, channels_G 64), random init, 256²:
    eager and the backend ``auto`` picks. BatchNorm statistics are estimated on two random
    layouts first; straight from init every pixel saturates and no comparison means anything.
    Smoke runs take the small config at 64² instead.
    """
    from engine.checkpoints import LoadedWeights
    from engine.encoding import default_channel_ids
    from engine.inference.backends.base import example_inputs
    from engine.inference.synthesizer import Synthesizer
    from engine.labels import LabelSet
    from engine.networks.blocks import init_official
    from engine.networks.oasis import OasisConfig
    from engine.registry import ModelSpec
    from engine.train.ema import refreshed_copy

    label_set = LabelSet.builtin("ade20k")
    ids = default_channel_ids(label_set.ids, label_set.dontcare)
    arch = settings.pick(OasisConfig.paper, OasisConfig.paper, OasisConfig.small)(len(ids))
    size = settings.pick((256, 256), (256, 256), SMOKE_SIZE)
    spec = ModelSpec("oasis", label_set, ids, 0, size, arch)
    torch.manual_seed(0)  # the same weights every run, so their ONNX export is cached
    generator = spec.build("generator")
    init_official(generator)
    cfg = spec.arch.generator
    batches = [example_inputs(cfg.semantic_nc, cfg.z_dim, 64, 64, seed) for seed in (0, 1)]
    with torch.no_grad():
        generator = refreshed_copy(generator, batches)
    what = settings.pick("random init", "random init", "small config, random init")
    weights = LoadedWeights(Path(f"oasis-paper-ade20k ({what})"), spec, {"generator": generator})
    synth = Synthesizer(weights)
    candidates = None
    if settings.quick:  # eager and the gather backend only: the others (and an ONNX export) take minutes here
        from engine.inference.backends.torch_backends import bf16_sensible

        candidates = ["eager", "gather-bf16" if bf16_sensible(synth.device) else "gather"]
    repeats = settings.pick(10, 3, 1)
    return _backend_cases("oasis-paper-ade20k", synth, [size], repeats, only_best=True, candidates=candidates)
