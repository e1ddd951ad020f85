"""Run the benchmarks this machine can run and write one JSON report.

    python -m benchmarks [--quick] [--json PATH]

Every case reports p50/p95 milliseconds over repeated runs after a warm-up; the report
records the machine and library versions so numbers can be compared honestly.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
import torch

from benchmarks.studio import bench_studio
from benchmarks.timing import timed

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


def bench_generators(quick: bool) -> list[dict]:
    """Shipped generators, torch eager fp32 (the reference backend), batch 1."""
    from engine.inference.synthesizer import Synthesizer
    from engine.noise import NoiseField

    cases = []
    for folder in sorted((REPO / "weights").glob("*/config.json")):
        if json.loads(folder.read_text())["family"] != "oasis":
            continue
        synth = Synthesizer.from_folder(folder.parent)
        sizes = [(256, 256)] if quick else [(256, 256), (512, 512), (256, 1024)]
        for h, w in sizes:
            labels = np.zeros((h, w), np.uint16) + synth.spec.channel_ids[-1]
            noise = NoiseField.uniform(h, w, seed=0, z_dim=synth.z_dim)
            stats = timed(
                lambda labels=labels, noise=noise, g=synth: g.generate(labels, noise),
                repeats=5 if quick else 20,
            )
            cases.append({
                "name": f"generate:{folder.parent.name}", "family": "oasis", "size": f"{h}x{w}",
                "backend": "torch-eager-fp32", **stats, "ratio_vs_eager": 1.0,
            })  # fmt: skip
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats (< 2 min)")
    parser.add_argument("--json", type=Path, help="write the report here too")
    args = parser.parse_args(argv)
    report = {
        "machine": {
            "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "python": sys.version.split()[0], "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "quick": args.quick,
        "cases": bench_landscapes(args.quick) + bench_generators(args.quick) + bench_studio(args.quick),
    }  # fmt: skip
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
