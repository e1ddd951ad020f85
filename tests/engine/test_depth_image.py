"""Depth maps as files (engine.depth_image): 16-bit round trip, 8-bit and grey-as-RGB read,
colour and broken files refused naming the file and the fix; a map fitted to the canvas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.depth_image import fit_depth, read_depth_image, write_depth_png
from engine.errors import InputError


def test_sixteen_bit_round_trip_and_eight_bit(tmp_path: Path) -> None:
    depth = np.linspace(0, 1, 32 * 24, dtype=np.float32).reshape(24, 32)
    write_depth_png(tmp_path / "d.png", depth)
    assert Image.open(tmp_path / "d.png").mode.startswith("I")  # 16 bits on disk
    back = read_depth_image(tmp_path / "d.png")
    assert back.shape == (24, 32) and back.dtype == np.float32
    assert np.abs(back - depth).max() <= 0.5 / 65535 + 1e-7
    grey = (depth * 255).round().astype(np.uint8)
    Image.fromarray(grey, mode="L").save(tmp_path / "g.png")
    assert np.abs(read_depth_image(tmp_path / "g.png") - depth).max() <= 0.5 / 255 + 1e-7
    Image.fromarray(np.stack([grey] * 3, axis=2)).save(tmp_path / "rgb.png")  # grey saved as RGB
    assert np.array_equal(read_depth_image(tmp_path / "rgb.png"), read_depth_image(tmp_path / "g.png"))


@pytest.mark.parametrize(
    ("case", "message"),
    [("colour", "has colour"), ("missing", "file not found"), ("corrupt", "cannot read the depth image")],
)
def test_bad_depth_images_name_the_file_and_the_fix(tmp_path: Path, case: str, message: str) -> None:
    path = tmp_path / f"{case}.png"
    if case == "colour":
        rgb = np.zeros((8, 8, 3), np.uint8)
        rgb[..., 0] = 200
        Image.fromarray(rgb).save(path)
    elif case == "corrupt":
        path.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(InputError, match=message) as info:
        read_depth_image(path)
    assert str(path) in str(info.value) and "Fix:" in str(info.value)
    if case != "missing":
        assert "black = near" in str(info.value)


def test_fit_depth_resamples_the_canvas_shape_and_refuses_another() -> None:
    ramp = np.repeat(np.linspace(0, 1, 128, dtype=np.float32)[:, None], 128, axis=1)
    small = fit_depth(ramp, (64, 64), "ramp.png")  # area average: pairs of rows
    assert small.shape == (64, 64) and small.dtype == np.float32
    assert np.allclose(small[:, 0], (ramp[0::2, 0] + ramp[1::2, 0]) / 2, atol=1e-6)
    big = fit_depth(ramp[::4, ::4], (64, 64), "ramp.png")  # linear when growing, still in [0, 1]
    assert big.shape == (64, 64) and big.min() >= 0 and big.max() <= 1
    assert (np.diff(big[:, 0]) >= 0).all() and big[-1, 0] > 0.95
    assert fit_depth(ramp, (128, 128), "ramp.png") is not ramp  # same size: a copy as float32
    with pytest.raises(InputError, match="another shape") as info:
        fit_depth(ramp[:, :64], (64, 64), "tall.png")
    assert "tall.png" in str(info.value) and "crop" in str(info.value)
