"""Run the benchmarks this machine can run and write one JSON report.

    python -m benchmarks [--quick] [--json PATH] [--weights FOLDER ...]

Every case reports p50/p95 milliseconds over repeated runs after a warm-up; the report
records the machine and library versions so numbers can be compared honestly. Generator
cases are measured on every backend available here, with ``ratio_vs_eager`` (speed-up
over torch eager fp32 measured in the same run; > 1 is faster) and the max abs
difference to eager.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks.example_guided import bench_example_guided
from benchmarks.incremental import bench_incremental
from benchmarks.studio import bench_studio_process
from benchmarks.timing import percentiles, timed
from benchmarks.training import bench_training

REPO = Path(__file__).resolve().parent.parent


def bench_landscapes(quick: bool) -> list[dict]:
    """Renderer speed on one core (layout + materials), the issue's ≥ 20 images/s target."""
    import cv2

    from engine.data.landscapes.generate import render_scene

    cv2.setNumThreads(1)
    cases = []
    sizes = [(256, 256)] if quick else [(256, 256), (512, 512), (256, 1024)]
    for h, w in sizes:
        seeds = iter(range(10**6))
        stats = timed(lambda h=h, w=w, s=seeds: render_scene(next(s), h, w), repeats=20 if quick else 100)
        cases.append({
            "name": "landscapes_render", "family": "data", "size": f"{h}x{w}",
            "backend": "numpy+opencv, 1 thread",
            **stats, "images_per_s": round(1000 / stats["p50_ms"], 1),
        })  # fmt: skip
    return cases


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


def bench_generators(quick: bool, folders: list[Path] | None = None) -> list[dict]:
    """Shipped generators (or ``folders``) on every backend available here, batch 1."""
    from engine.inference.synthesizer import Synthesizer

    cases = []
    configs = folders or [p.parent for p in sorted((REPO / "weights").glob("*/config.json"))]
    for folder in configs:
        if json.loads((folder / "config.json").read_text())["family"] != "oasis":
            continue
        synth = Synthesizer.from_folder(folder)
        sizes = [(256, 256)] if quick else [(256, 256), (512, 512), (256, 1024)]
        cases += _backend_cases(folder.name, synth, sizes, repeats=5 if quick else 20)
    return cases


def bench_paper_generator(quick: bool) -> list[dict]:
    """The OASIS paper generator (ADE20K's 151 channels, channels_G 64), random init, 256²:
    eager and the backend ``auto`` picks. BatchNorm statistics are estimated on two random
    layouts first; straight from init every pixel saturates and no comparison means anything.
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
    spec = ModelSpec("oasis", label_set, ids, 0, (256, 256), OasisConfig.paper(len(ids)))
    torch.manual_seed(0)  # the same weights every run, so their ONNX export is cached
    generator = spec.build("generator")
    init_official(generator)
    cfg = spec.arch.generator
    batches = [example_inputs(cfg.semantic_nc, cfg.z_dim, 64, 64, seed) for seed in (0, 1)]
    with torch.no_grad():
        generator = refreshed_copy(generator, batches)
    weights = LoadedWeights(Path("oasis-paper-ade20k (random init)"), spec, {"generator": generator})
    synth = Synthesizer(weights)
    candidates = None
    if quick:  # eager and the gather backend only: the others (and an ONNX export) take minutes here
        from engine.inference.backends.torch_backends import bf16_sensible

        candidates = ["eager", "gather-bf16" if bf16_sensible(synth.device) else "gather"]
    repeats = 3 if quick else 10
    return _backend_cases(
        "oasis-paper-ade20k", synth, [(256, 256)], repeats, only_best=True, candidates=candidates
    )


def run_groups(groups: list[tuple[str, Callable[[], list[dict]]]]) -> list[dict]:
    """Every group's rows; a group that fails gives one row with its error, and the others
    still run, so the report is always written."""
    import traceback

    cases: list[dict] = []
    for name, bench in groups:
        try:
            cases += bench()
        except Exception as exc:  # a benchmark must never cost the whole report
            tail = traceback.format_exc().strip().splitlines()[-3:]
            cases.append({"name": name, "error": f"{type(exc).__name__}: {exc}", "traceback": tail})
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats (< 2 min)")
    parser.add_argument("--json", type=Path, help="write the report here too")
    parser.add_argument(
        "--weights",
        type=Path,
        action="append",
        help="a generator weights folder to measure (default weights/*)",
    )
    args = parser.parse_args(argv)
    report = {
        "machine": {
            "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "python": sys.version.split()[0], "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "quick": args.quick,
        "cases": run_groups([
            ("landscapes", lambda: bench_landscapes(args.quick)),
            ("generators", lambda: bench_generators(args.quick, args.weights)),
            ("paper_generator", lambda: bench_paper_generator(args.quick)),
            ("example_guided", lambda: bench_example_guided(args.quick)),
            ("studio", lambda: bench_studio_process(args.quick)),
            ("training", lambda: bench_training(args.quick)),
            # The paper-size incremental case takes about a minute: full runs only.
            ("incremental", lambda: [] if args.quick else bench_incremental(False)),
        ]),
    }  # fmt: skip
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
