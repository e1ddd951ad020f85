"""Run the benchmarks this machine can run and write one JSON report.

    python -m benchmarks [--quick | --smoke] [--json PATH] [--weights FOLDER ...]

Every case reports p50/p95 milliseconds over repeated runs after a warm-up; the report
records the machine and library versions so numbers can be compared honestly. Generator
cases are measured on every backend available here, with ``ratio_vs_eager`` (speed-up
over torch eager fp32 measured in the same run; > 1 is faster) and the max abs
difference to eager. ``--smoke`` runs every case on tiny random networks and sizes (the
test suite runs it: tests/benchmarks/); its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks.example_guided import bench_example_guided
from benchmarks.generators import bench_generators, bench_paper_generator
from benchmarks.incremental import bench_incremental
from benchmarks.landscapes import bench_landscapes
from benchmarks.resail import bench_resail
from benchmarks.retrieval import bench_retrieval
from benchmarks.settings import Settings
from benchmarks.studio import bench_studio_process
from benchmarks.training import bench_training
from benchmarks.ugen import bench_ugen


def bench_incremental_unless_quick(settings: Settings) -> list[dict]:
    """The paper-size incremental case takes about a minute: full and smoke runs only."""
    return [] if settings.quick else bench_incremental(settings)


# Every benchmark group, in report order: the CLI runs these, and so does the smoke test.
GROUPS: dict[str, Callable[[Settings], list[dict]]] = {
    "landscapes": bench_landscapes,
    "generators": bench_generators,
    "paper_generator": bench_paper_generator,
    "example_guided": bench_example_guided,
    "studio": bench_studio_process,
    "training": bench_training,
    "incremental": bench_incremental_unless_quick,
    "retrieval": bench_retrieval,
    "resail": bench_resail,
    "ugen": bench_ugen,
}


def run_groups(groups: list[tuple[str, Callable[[], list[dict]]]]) -> list[dict]:
    """Every group's rows, each with its ``group``; a group that fails gives one row with
    its error, and the others still run, so the report is always written."""
    import traceback

    cases: list[dict] = []
    for name, bench in groups:
        try:
            cases += [{"group": name, **row} for row in bench()]
        except Exception as exc:  # a benchmark must never cost the whole report
            tail = traceback.format_exc().strip().splitlines()[-3:]
            cases.append(
                {"group": name, "name": name, "error": f"{type(exc).__name__}: {exc}", "traceback": tail}
            )
    return cases


def machine() -> dict:
    return {
        "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(), "python": sys.version.split()[0], "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="fewer sizes and repeats (< 2 min)")
    mode.add_argument(
        "--smoke",
        action="store_true",
        help="every case on tiny random networks and tiny sizes, one timed run each (seconds): "
        "checks that every case runs; the numbers mean nothing",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the report here too")
    parser.add_argument(
        "--weights",
        type=Path,
        action="append",
        metavar="FOLDER",
        help="an OASIS or MSCA weights folder to measure (default weights/*; with --smoke, tiny random ones)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as scratch:
        settings = Settings(
            mode="smoke" if args.smoke else "quick" if args.quick else "full",
            weights=tuple(args.weights or ()),
            scratch=Path(scratch),
        )
        cases = run_groups([(name, lambda bench=bench: bench(settings)) for name, bench in GROUPS.items()])
    report = {"machine": machine(), "mode": settings.mode, "quick": args.quick, "cases": cases}
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
