"""`app-train generate`, `eval` and `samples` on a tiny random ugen folder: edge maps in either
polarity, label maps, the proxy mask written beside, and the errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.train.cli import main
from tests.helpers import make_folder_dataset, tiny_scene, write_tiny_oasis, write_tiny_segmenter
from tests.ugen_helpers import SIDE, write_tiny_ugen


@pytest.fixture(scope="module")
def ugen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_ugen(tmp_path_factory.mktemp("weights"))


def _lines(path: Path, *, dark_on_white: bool, side: int = SIDE) -> Path:
    lines = np.zeros((side, side), bool)
    lines[side // 3, 4:-4] = lines[8:-8, side // 2] = True
    grey = np.where(lines, 0, 255) if dark_on_white else np.where(lines, 255, 0)
    Image.fromarray(grey.astype(np.uint8), mode="L").save(path)
    return path


def _generate(ugen: Path, out: Path, *args: str) -> int:
    return main(["generate", "--weights", str(ugen), "--out", str(out), *args])


def test_edges_either_polarity_and_the_proxy_mask(ugen: Path, tmp_path: Path) -> None:
    drawing = _lines(tmp_path / "drawing.png", dark_on_white=True)
    detector = _lines(tmp_path / "detector.png", dark_on_white=False)
    out, proxy = tmp_path / "a.png", tmp_path / "proxy.png"
    args = ["--condition", "edges", "--edges", str(drawing), "--proxy-out", str(proxy)]
    assert _generate(ugen, out, *args) == 0
    assert _generate(ugen, tmp_path / "b.png", "--edges", str(detector)) == 0  # edges implied
    a, b = np.asarray(Image.open(out)), np.asarray(Image.open(tmp_path / "b.png"))
    assert a.shape == (SIDE, SIDE, 3) and np.array_equal(a, b)  # the same lines, either way round
    assert np.asarray(Image.open(proxy)).shape == (SIDE, SIDE, 3)
    assert _generate(ugen, tmp_path / "c.png", "--edges", str(drawing), "--seed", "3") == 0
    assert not np.array_equal(np.asarray(Image.open(tmp_path / "c.png")), a)  # another z


def test_labels(ugen: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "map.png"
    Image.fromarray(tiny_scene(0)[0].astype(np.uint8), mode="L").save(labels)
    assert (
        _generate(ugen, tmp_path / "o.png", "--labels", str(labels), "--proxy-out", str(tmp_path / "p.png"))
        == 0
    )
    assert "from the labels of" in capsys.readouterr().out and (tmp_path / "p.png").is_file()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "file not found"),
        ("size", f"paints {SIDE}×{SIDE}"),
        ("corrupt", "cannot read the line image"),
        ("no file", "--edges FILE"),
        ("sketch", "no sketch mapper"),
        ("resample", "--resample"),
        ("both", "--condition edges draws from --edges alone"),
    ],
)
def test_bad_input_names_the_file_and_the_fix(
    ugen: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, message: str
) -> None:
    lines = _lines(tmp_path / "lines.png", dark_on_white=True)
    labels = tmp_path / "map.png"
    Image.fromarray(tiny_scene(0)[0].astype(np.uint8), mode="L").save(labels)
    bad = {
        "missing": ["--edges", str(tmp_path / "nope.png")],
        "size": ["--edges", str(_lines(tmp_path / "small.png", dark_on_white=True, side=32))],
        "corrupt": ["--edges", str(tmp_path / "corrupt.png")],
        "no file": ["--condition", "edges"],
        "sketch": ["--condition", "sketch", "--sketch", str(lines)],
        "resample": ["--labels", str(labels), "--resample", "sky"],
        "both": ["--edges", str(lines), "--labels", str(labels)],
    }[case]
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    assert _generate(ugen, tmp_path / "o.png", *bad) == 2
    err = capsys.readouterr().err
    assert message in err and "Fix:" in err
    if case in ("missing", "size", "corrupt"):
        assert bad[1] in err  # the file is named
    if case == "sketch":
        assert str(ugen) in err and "--condition sketch" in err
    assert not (tmp_path / "o.png").exists()


def test_other_families_refuse_the_ugen_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    oasis = write_tiny_oasis(tmp_path / "oasis")
    lines = _lines(tmp_path / "lines.png", dark_on_white=True)
    assert _generate(oasis, tmp_path / "o.png", "--edges", str(lines)) == 2
    assert "draw from a label map only" in capsys.readouterr().err
    assert _generate(oasis, tmp_path / "o.png") == 2
    assert "--labels" in capsys.readouterr().err


def test_eval_and_samples(ugen: Path, tmp_path: Path) -> None:
    data = make_folder_dataset(tmp_path / "data", count=2)
    seg = write_tiny_segmenter(tmp_path / "seg", json.loads((ugen / "config.json").read_text())["label_set"])
    out = tmp_path / "eval"
    args = ["eval", "--weights", str(ugen), "--data", f"folder:{data}", "--split", "val"]
    assert main([*args, "--segmenter", str(seg), "--out", str(out)]) == 0
    report = json.loads((out / "eval.json").read_text())
    assert report["images"] == 2 and 0 <= report["ms_ssim"] <= 1 and report["misd"] is None
    scene = tmp_path / "scene.png"  # twice the model's size: the sheet resizes it
    Image.fromarray(tiny_scene(1, (2 * SIDE, 2 * SIDE))[0].astype(np.uint8), mode="L").save(scene)
    sheet = tmp_path / "sheet.png"
    assert main(["samples", "--weights", str(ugen), "--out", str(sheet), "--scenes", str(scene)]) == 0
    assert np.asarray(Image.open(sheet)).shape == (SIDE, 4 * SIDE, 3)  # map · proxy · two z's
