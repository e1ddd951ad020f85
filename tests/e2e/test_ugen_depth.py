"""ugen's depth condition through `app-train`: `fit --condition depth --depth-net` adds a
depth mapper to a (tiny, random) ugen folder, trained on the depth estimator's depth of
generated images, resumes, and exports a folder that names the estimator; `generate
--condition depth --depth FILE` paints from a greyscale depth image; bad input and missing
parts are refused naming the file and the fix."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.checkpoints import load_weights
from engine.depth_image import write_depth_png
from engine.train.cli import main
from tests.helpers import (
    TINY_SET,
    make_folder_dataset,
    tiny_depth,
    tiny_scene,
    write_tiny_depth_net,
    write_tiny_segmenter,
)
from tests.ugen_helpers import SIDE, K, write_tiny_ugen

COMMON = ["--arch", "small", "--size", str(SIDE), "--workers", "0", "--precision", "fp32", "--batch", "2"]


def _fit(data: Path, out: str, *extra: str) -> list[str]:
    args = ["fit", "--family", "ugen", "--stylegan2", "sg2", "--data", f"folder:{data}", "--out", out]
    return [*args, *COMMON, "--proxy-k", str(K), "--log-every", "1", "--sample-every", "2", *extra]


def test_depth_mapper_fit_resume_export_generate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # relative folders, as a user passes them
    write_tiny_ugen(tmp_path, conditions=("labels",))  # sg2/ and ugen/ (a label mapper only)
    write_tiny_depth_net(tmp_path / "depth-net", TINY_SET)
    data = make_folder_dataset(tmp_path / "data", count=2)
    depth = ["--condition", "depth", "--depth-net", "depth-net", "--init-from", "ugen"]
    assert main(_fit(data, "run", *depth, "--rearranger-steps", "0", "--steps", "2")) == 0
    logged = capsys.readouterr().out
    assert "then the depth mapper" in logged and "depth estimator depth-net" in logged
    rows = list(csv.DictReader((tmp_path / "run" / "log.csv").open()))
    assert len(rows) == 2 and all(float(r["loss_recon"]) > 0 for r in rows)
    assert list((tmp_path / "run" / "samples").glob("*.png"))  # with the depth row
    assert main(["fit", "--resume", "--out", "run", "--steps", "3"]) == 0
    assert main(["export", "--run", "run", "--out", "ugen-depth"]) == 0

    config = json.loads((tmp_path / "ugen-depth" / "config.json").read_text())
    assert config["architecture"]["depth_net"] == "depth-net"  # which net made the conditions
    assert str(tmp_path) not in json.dumps(config)
    assert "depth estimator `depth-net`" in (tmp_path / "ugen-depth" / "CARD.md").read_text()
    loaded = load_weights(tmp_path / "ugen-depth", family="ugen")
    assert set(loaded.nets) == {"rearranger", "proxy", "mapper_labels", "mapper_depth"}  # labels carried
    before = load_weights(tmp_path / "ugen", family="ugen").nets["mapper_labels"].state_dict()
    assert torch.equal(
        loaded.nets["mapper_labels"].state_dict()["to_logits.weight"], before["to_logits.weight"]
    )

    # Paint from a depth image: 16-bit as app-train data writes it, or 8-bit grey.
    sixteen, eight = tmp_path / "d16.png", tmp_path / "d8.png"
    scene_depth = tiny_depth(tiny_scene(0)[0])
    write_depth_png(sixteen, scene_depth)
    Image.fromarray((scene_depth * 255).round().astype(np.uint8), mode="L").save(eight)
    out, proxy = tmp_path / "o.png", tmp_path / "p.png"
    gen = ["generate", "--weights", "ugen-depth", "--out", str(out)]
    assert main([*gen, "--condition", "depth", "--depth", str(sixteen), "--proxy-out", str(proxy)]) == 0
    assert "from the depth of" in capsys.readouterr().out
    assert np.asarray(Image.open(out)).shape == (SIDE, SIDE, 3) and proxy.is_file()
    assert main([*gen[:-1], str(tmp_path / "o8.png"), "--depth", str(eight)]) == 0  # depth implied
    assert np.asarray(Image.open(tmp_path / "o8.png")).shape == (SIDE, SIDE, 3)


@pytest.fixture(scope="module")
def painted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny ugen folder with labels and depth mappers."""
    return write_tiny_ugen(tmp_path_factory.mktemp("weights"), conditions=("labels", "depth"))


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("size", f"paints {SIDE}×{SIDE}"),
        ("colour", "has colour"),
        ("missing", "file not found"),
        ("no file", "--depth FILE"),
        ("two", "pass one condition image"),
        ("no mapper", "no depth mapper"),
    ],
)
def test_generate_refuses_bad_depth_input(
    painted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, message: str
) -> None:
    small, colour = tmp_path / "small.png", tmp_path / "colour.png"
    write_depth_png(small, np.zeros((32, 32), np.float32))
    rgb = np.zeros((SIDE, SIDE, 3), np.uint8)
    rgb[..., 1] = 90
    Image.fromarray(rgb).save(colour)
    weights = write_tiny_ugen(tmp_path, conditions=("edges",)) if case == "no mapper" else painted
    bad = {
        "size": ["--depth", str(small)],
        "colour": ["--depth", str(colour)],
        "missing": ["--depth", str(tmp_path / "nope.png")],
        "no file": ["--condition", "depth"],
        "two": ["--depth", str(small), "--edges", str(small)],
        "no mapper": ["--depth", str(small)],
    }[case]
    out = tmp_path / "o.png"
    assert main(["generate", "--weights", str(weights), "--out", str(out), *bad]) == 2
    err = capsys.readouterr().err
    assert message in err and "Fix:" in err and not out.exists()
    if case in ("size", "colour", "missing"):
        assert bad[1] in err  # the file is named
    if case == "no mapper":
        assert str(weights) in err and "--condition depth" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--condition", "depth"], "--depth-net"),  # depth needs an estimator
        (["--condition", "depth", "--depth-net", "seg"], "'segmenter' model, not a depth estimator"),
        (["--condition", "edges", "--depth-net", "depth"], "the edges mapper reads no depth"),
        (["--condition", "depth", "--depth-net", "nowhere"], "weights folder not found"),
    ],
)
def test_fit_refusals(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    write_tiny_ugen(tmp_path, conditions=("depth",))
    write_tiny_segmenter(tmp_path / "seg", TINY_SET)
    data = make_folder_dataset(tmp_path / "data", count=2)
    assert (
        main([*_fit(data, "run", "--steps", "1", "--init-from", "ugen", "--rearranger-steps", "0"), *extra])
        == 2
    )
    err = capsys.readouterr().err
    assert message in err and "Fix:" in err
    if "seg" in extra:
        assert str(Path("seg") / "config.json") in err and "--family depth" in err


def test_only_ugen_takes_a_depth_net(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["fit", "--family", "oasis", "--data", "folder:x", "--out", "run", "--dry-run", "--depth-net", "d"]
    assert main(args) == 2
    assert "only ugen training takes --depth-net" in capsys.readouterr().err
