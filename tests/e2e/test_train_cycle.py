"""Train a tiny OASIS on CPU, kill it, resume it, export it, generate and segment with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.train.cli import main
from tests.helpers import make_folder_dataset, tiny_scene

REPO = Path(__file__).resolve().parents[2]
STEPS = 24


def _fit_args(data: Path, out: Path) -> list[str]:
    return [
        "fit",
        "--data",
        f"folder:{data}",
        "--out",
        str(out),
        "--size",
        "64",
        "--batch",
        "2",
        "--steps",
        str(STEPS),
        "--arch",
        "small",
        "--ckpt-every",
        "2",
        "--log-every",
        "4",
        "--sample-every",
        "12",
        "--precision",
        "fp32",
        "--workers",
        "0",
        "--ema-bn-batches",
        "2",
        "--ema-decay",
        "0.99",
        "--seed",
        "3",
    ]


def _env() -> dict[str, str]:
    # One thread: bit-for-bit comparisons need the same reduction order in both runs.
    return os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


def _run_cli(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.train.cli", *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def _checkpoint(run: Path) -> dict:
    return torch.load(run / "checkpoint.pt", weights_only=True)


@pytest.mark.slow
def test_kill_resume_export_generate_segment(tmp_path: Path) -> None:
    data = make_folder_dataset(tmp_path / "data")
    run = tmp_path / "run"

    # 1. Start training, kill -9 it as soon as a checkpoint exists.
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.train.cli", *_fit_args(data, run)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not (run / "checkpoint.pt").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    output = proc.communicate()[0]
    killed_at = _checkpoint(run)["step"]
    assert 0 < killed_at < STEPS, output

    # 2. A new run in the same folder is refused: it would overwrite progress.
    refused = _run_cli(_fit_args(data, run))
    assert refused.returncode == 2 and "--resume" in refused.stderr

    # 3. Resume to the end, and train the same thing uninterrupted for comparison.
    resumed = _run_cli(["fit", "--resume", "--out", str(run)])
    assert resumed.returncode == 0, resumed.stderr
    reference = _run_cli(_fit_args(data, tmp_path / "reference"))
    assert reference.returncode == 0, reference.stderr
    a, b = _checkpoint(run), _checkpoint(tmp_path / "reference")
    assert a["step"] == b["step"] == STEPS
    for net in ("G", "D", "EMA"):
        for key, value in a["trainer"][net].items():
            assert torch.equal(value, b["trainer"][net][key]), f"{net}.{key} differs after resume"
    rows = (run / "log.csv").read_text().splitlines()
    assert rows[0].startswith("step,") and rows[-1].startswith(f"{STEPS},")
    assert list((run / "samples").glob("step_*.png"))
    assert list(run.glob("events.out.tfevents.*"))

    # 4. Export, then generate and segment with the exported folder.
    weights = tmp_path / "weights" / "tiny-oasis"
    assert main(["export", "--run", str(run), "--out", str(weights)]) == 0
    config = json.loads((weights / "config.json").read_text())
    assert config["family"] == "oasis" and config["training"]["steps"] == STEPS
    for name in ("generator", "generator_live", "discriminator"):
        assert (weights / f"{name}.safetensors").is_file()
    card = (weights / "CARD.md").read_text()
    assert "app-train fit --data" in card  # the command that started the run …
    assert "| resumed with | `app-train fit --resume" in card  # … and how it was continued

    labels, photo = tiny_scene(77, (64, 96))
    label_png = tmp_path / "map.png"
    Image.fromarray(labels.astype(np.uint8), mode="L").save(label_png)
    outs = {}
    for name, extra in (
        ("a", []),
        ("a2", []),
        ("b", ["--seed", "5"]),
        ("r", ["--resample", "water"]),
    ):
        out = tmp_path / f"{name}.png"
        assert (
            main(
                [
                    "generate",
                    "--weights",
                    str(weights),
                    "--labels",
                    str(label_png),
                    "--out",
                    str(out),
                    *extra,
                ]
            )
            == 0
        )
        outs[name] = np.asarray(Image.open(out)).astype(int)
    assert outs["a"].shape == (64, 96, 3)
    assert np.array_equal(outs["a"], outs["a2"]), "same seed must give the same image"
    assert not np.array_equal(outs["a"], outs["b"]), "another seed must give another image"
    diff = np.abs(outs["r"] - outs["a"]).sum(-1)
    water = labels == 3
    # Only the water's noise changed; the receptive field spreads some change beyond it.
    assert diff[water].mean() > 0 and diff[water].mean() > diff[~water].mean(), (
        diff[water].mean(),
        diff[~water].mean(),
    )

    photo_png = tmp_path / "photo.png"
    Image.fromarray(photo).save(photo_png)
    seg = tmp_path / "seg.png"
    assert main(["segment", "--weights", str(weights), "--image", str(photo_png), "--out", str(seg)]) == 0
    seg_ids = np.asarray(Image.open(seg))
    assert seg_ids.shape == (64, 96)
    assert set(np.unique(seg_ids)) <= {1, 2, 3, 4}, "never the dontcare id"


def test_generate_rejects_wrong_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from engine.checkpoints import save_weights
    from engine.encoding import default_channel_ids
    from engine.labels import LabelSet
    from engine.networks.oasis import OasisConfig, OasisGenerator
    from engine.registry import ModelSpec
    from tests.helpers import TINY_SET

    ls = LabelSet.from_dict(TINY_SET)
    ids = default_channel_ids(ls.ids, ls.dontcare)
    spec = ModelSpec("oasis", ls, ids, 0, (64, 64), OasisConfig.small(len(ids)))
    weights = save_weights(
        tmp_path / "w", spec, {"generator": OasisGenerator(spec.arch.generator).state_dict()}, "# t"
    )
    bad = tmp_path / "bad.png"
    Image.fromarray(np.ones((50, 70), np.uint8), mode="L").save(bad)
    assert (
        main(
            [
                "generate",
                "--weights",
                str(weights),
                "--labels",
                str(bad),
                "--out",
                str(tmp_path / "o.png"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "bad.png" in err and "multiples of 32" in err and "64×64" in err


@pytest.mark.slow
def test_ctrl_c_saves_and_stops_cleanly(tmp_path: Path) -> None:
    """Ctrl+C reaches the whole process group (data workers too): the step finishes,
    a checkpoint is written and the run can be resumed."""
    data = make_folder_dataset(tmp_path / "data")
    run = tmp_path / "run"
    args = _fit_args(data, run)
    args[args.index("--workers") + 1] = "1"
    args[args.index("--steps") + 1] = "10000"
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.train.cli", *args], env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not (run / "checkpoint.pt").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 0, output
    assert "continue with --resume" in output
    step = _checkpoint(run)["step"]
    assert 0 < step < 10000
