"""The benchmarks run: every trainer's step on the shared batch format, and a failing group
still leaves a report (the speed numbers themselves live in `python -m benchmarks`)."""

from __future__ import annotations

from benchmarks.__main__ import run_groups
from benchmarks.settings import Settings
from benchmarks.training import bench_training


def test_every_family_trains_one_step_on_the_benchmark_batches() -> None:
    rows = bench_training(Settings("quick"), size=(64, 64), batch=2, arch="small", steps=1)
    families = {row["family"] for row in rows}
    assert families == {"oasis", "inade", "msca", "resail", "segmenter", "depth", "stylegan2"}
    assert all(row["p50_ms"] > 0 and row["images_per_s"] > 0 for row in rows)


def test_a_failing_group_is_reported_and_the_rest_still_runs() -> None:
    def broken() -> list[dict]:
        raise KeyError("instances")

    rows = run_groups([("broken", broken), ("fine", lambda: [{"name": "ok"}])])
    assert rows[0]["name"] == "broken" and "KeyError" in rows[0]["error"]
    assert rows[1] == {"group": "fine", "name": "ok"}
