"""`app-train generate --style-photo` on a tiny random ugen folder: the photo is inverted and
its style paints the map; bad photos and flags are refused with the file and the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.train.cli import main
from tests.helpers import tiny_scene, write_tiny_oasis
from tests.ugen_helpers import SIDE, write_tiny_ugen


@pytest.fixture(scope="module")
def ugen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_ugen(tmp_path_factory.mktemp("weights"))


@pytest.fixture
def labels(tmp_path: Path) -> Path:
    path = tmp_path / "map.png"
    Image.fromarray(tiny_scene(0)[0].astype(np.uint8), mode="L").save(path)
    return path


def _photo(path: Path, size: tuple[int, int] = (90, 70)) -> Path:
    """A non-square photo: a warm sky over green ground."""
    w, h = size
    photo = np.zeros((h, w, 3), np.uint8)
    photo[: h // 2] = (230, 150, 90)
    photo[h // 2 :] = (40, 120, 50)
    Image.fromarray(photo).save(path)
    return path


def _generate(ugen: Path, out: Path, *args: str) -> int:
    return main(["generate", "--weights", str(ugen), "--out", str(out), *args])


def test_style_photo_paints_the_map(
    ugen: Path, labels: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = _photo(tmp_path / "holiday.png")
    styled, plain = tmp_path / "styled.png", tmp_path / "plain.png"
    args = ["--labels", str(labels), "--style-photo", str(photo), "--invert-steps", "5"]
    assert _generate(ugen, styled, *args) == 0
    out = capsys.readouterr().out
    assert "inverting holiday.png: step 5/5" in out and f"style of {photo}" in out
    assert _generate(ugen, plain, "--labels", str(labels)) == 0
    a, b = np.asarray(Image.open(styled)), np.asarray(Image.open(plain))
    assert a.shape == (SIDE, SIDE, 3) and np.abs(a.astype(int) - b).mean() > 1


@pytest.mark.parametrize(
    ("case", "source", "message"),
    [
        ("missing", "photo", "file not found"),
        ("corrupt", "photo", "cannot read the photo"),
        ("tiny", "photo", "too small"),
        ("no photo", "--invert-steps", "--style-photo FILE"),
        ("zero steps", "--invert-steps", "outside 1–"),
        ("bad map", "map", "file not found"),
    ],
)
def test_bad_input_names_the_file_and_the_fix(
    ugen: Path,
    labels: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    source: str,
    message: str,
) -> None:
    photo = {
        "missing": tmp_path / "nope.jpg",
        "corrupt": tmp_path / "corrupt.png",
        "tiny": _photo(tmp_path / "tiny.png", (16, 16)),
    }.get(case, _photo(tmp_path / "photo.png"))
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    args = {
        "no photo": ["--labels", str(labels), "--invert-steps", "5"],
        "zero steps": ["--labels", str(labels), "--style-photo", str(photo), "--invert-steps", "0"],
        "bad map": ["--labels", str(tmp_path / "none.png"), "--style-photo", str(photo)],
    }.get(case, ["--labels", str(labels), "--style-photo", str(photo), "--invert-steps", "2"])
    assert _generate(ugen, tmp_path / "o.png", *args) == 2
    captured = capsys.readouterr()
    assert message in captured.err and "Fix:" in captured.err
    named = {"photo": str(photo), "map": str(tmp_path / "none.png")}.get(source, source)
    assert named in captured.err
    assert "inverting" not in captured.out  # refused before any inversion
    assert not (tmp_path / "o.png").exists()


def test_other_families_refuse_a_style_photo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    oasis = write_tiny_oasis(tmp_path / "oasis")
    labels = tmp_path / "map.png"
    Image.fromarray(tiny_scene(0)[0].astype(np.uint8), mode="L").save(labels)
    photo = _photo(tmp_path / "photo.png")
    args = ["--labels", str(labels), "--style-photo", str(photo)]
    assert _generate(oasis, tmp_path / "o.png", *args) == 2
    err = capsys.readouterr().err
    assert "--style-photo" in err and "inverted photo" in err and "Fix:" in err
