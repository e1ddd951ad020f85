"""`app-train generate` on example-guided weights: the style comes from --exemplar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.paths import RESOURCES, WEIGHTS
from engine.train.cli import main

MSCA = WEIGHTS / "landscapes-msca"
SCENE = RESOURCES / "scenes" / "painted.png"


def _generate(tmp_path: Path, name: str, *extra: str, weights: Path = MSCA) -> tuple[int, np.ndarray | None]:
    out = tmp_path / f"{name}.png"
    code = main(["generate", "--weights", str(weights), "--labels", str(SCENE), "--out", str(out), *extra])
    return code, np.asarray(Image.open(out)).astype(np.float32) if out.is_file() else None


def test_gallery_names_photos_and_blends(tmp_path: Path) -> None:
    _, noon = _generate(tmp_path, "noon", "--exemplar", "noon")
    _, sunset = _generate(tmp_path, "sunset", "--exemplar", "sunset")
    photo = tmp_path / "photo.jpg"
    Image.open(RESOURCES / "exemplars" / "sunset.jpg").save(photo)
    _, from_photo = _generate(tmp_path, "photo", "--exemplar", str(photo))
    _, half = _generate(tmp_path, "half", "--exemplar", "noon", "--exemplar2", "sunset", "--mix", "0.5")
    assert noon is not None and sunset is not None and from_photo is not None and half is not None
    assert np.abs(noon - sunset).mean() > 10  # the styles differ
    # The photo, segmented by the landscapes segmenter, styles much like the gallery entry.
    assert np.abs(from_photo - sunset).mean() < np.abs(from_photo - noon).mean()
    assert 0 < np.abs(half - noon).mean() < np.abs(sunset - noon).mean()


@pytest.mark.parametrize(
    ("extra", "weights", "message"),
    [
        ((), MSCA, "--exemplar PHOTO or a gallery name"),
        (("--exemplar", "nope"), MSCA, "no exemplar named 'nope'"),
        (("--exemplar", "missing.jpg"), MSCA, "file not found"),
        (("--exemplar", "noon", "--exemplar2", "dusk", "--mix", "2"), MSCA, "outside 0–1"),
        (("--exemplar", "noon"), WEIGHTS / "landscapes-oasis", "for example-guided (MSCA) models"),
    ],
)
def test_missing_or_wrong_exemplars_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture, extra: tuple, weights: Path, message: str
) -> None:
    code, image = _generate(tmp_path, "x", *extra, weights=weights)
    assert code == 2 and image is None
    assert message in capsys.readouterr().err
