"""Every benchmark case runs: ``python -m benchmarks --smoke`` (tiny random networks, tiny
sizes, one timed run) through its own ``main``, one test per group of ``GROUPS`` (the list
the CLI runs, so a new group is covered without touching this file); and a group that
raises leaves an error row while the report is still written with the others' rows."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

import benchmarks.__main__ as cli
from benchmarks.__main__ import GROUPS, main

LABELS = ("name", "family", "size", "backend")


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_row(row: dict) -> None:
    """A measured row as the report has them: labels, p50 ≤ p95 ms (or, for a row that
    measures memory, none), and only finite numbers."""
    assert "error" not in row, f"{row['name']}: {row['error']}"
    for key in LABELS:
        assert isinstance(row.get(key), str) and row[key], f"{row.get('name')}: no {key}"
    assert re.fullmatch(r"\d+x\d+", row["size"]), row
    infinite = [key for key, value in row.items() if _number(value) and not math.isfinite(value)]
    assert not infinite, f"{row['name']}: {', '.join(infinite)} not finite"
    if row["p50_ms"] is None:  # not a timing: then it measures memory
        assert row["p95_ms"] is None and any(k.endswith("_mib") and _number(v) for k, v in row.items()), row
    else:
        assert 0 <= row["p50_ms"] <= row["p95_ms"], row
        assert isinstance(row["runs"], int) and row["runs"] >= 1, row


@pytest.fixture(scope="module")
def smoke_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("bench")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TESSERA_CACHE", str(folder / "cache"))  # ONNX exports, backend choices
        assert main(["--smoke", "--json", str(folder / "report.json")]) == 0
    return json.loads((folder / "report.json").read_text())


def test_the_smoke_report_has_every_group_in_order(smoke_report: dict) -> None:
    assert smoke_report["mode"] == "smoke" and smoke_report["machine"]["torch"]
    groups = list(dict.fromkeys(row["group"] for row in smoke_report["cases"]))
    assert groups == list(GROUPS)


@pytest.mark.parametrize("group", list(GROUPS))
def test_every_case_runs_on_tiny_settings(smoke_report: dict, group: str) -> None:
    rows = [row for row in smoke_report["cases"] if row["group"] == group]
    assert rows, f"{group} gave no rows"
    for row in rows:
        check_row(row)


def test_the_help_offers_the_smoke_run(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "--smoke" in capsys.readouterr().out


def test_a_failing_case_leaves_an_error_row_and_the_report(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken(settings: object) -> list[dict]:
        raise KeyError("instances")

    groups = {
        "landscapes": GROUPS["landscapes"],
        "broken": broken,
        "paper_generator": GROUPS["paper_generator"],
    }
    monkeypatch.setattr(cli, "GROUPS", groups)
    monkeypatch.setenv("TESSERA_CACHE", str(tmp_path / "cache"))
    assert main(["--smoke", "--json", str(tmp_path / "report.json")]) == 0
    rows = json.loads((tmp_path / "report.json").read_text())["cases"]
    assert [row["group"] for row in rows if "error" in row] == ["broken"]
    error = next(row for row in rows if "error" in row)
    assert error["name"] == "broken" and "KeyError: 'instances'" in error["error"] and error["traceback"]
    others = [row for row in rows if row["group"] != "broken"]
    assert {row["group"] for row in others} == {"landscapes", "paper_generator"}
    for row in others:
        check_row(row)
