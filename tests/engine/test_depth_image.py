"""Depth maps as files (engine.depth_image): 16-bit round trip, 8-bit and grey-as-RGB read,
colour and broken files refused naming the file and the fix; a map fitted to the canvas;
the studio's uint16 map written and read back value for value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.depth_image import (
    depth_to_uint16,
    fit_depth,
    read_depth_image,
    write_depth_image,
    write_depth_png,
)
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


def test_a_uint16_map_round_trips_exactly(tmp_path: Path) -> None:
    # Every 16-bit value once (256² = 65536), scrambled so neighbours differ.
    depth = np.random.default_rng(0).permutation(65536).astype(np.uint16).reshape(256, 256)
    path = write_depth_image(tmp_path / "map.png", depth)
    assert path == tmp_path / "map.png" and [p.name for p in tmp_path.iterdir()] == ["map.png"]
    with Image.open(path) as im:
        assert im.mode.startswith("I") and im.size == (256, 256)  # 16-bit grey on disk
        assert np.array_equal(np.asarray(im).astype(np.uint16), depth)
    # What the studio's import does with it: read, fit to the canvas, back to uint16.
    back = depth_to_uint16(fit_depth(read_depth_image(path), (256, 256), path))
    assert back.dtype == np.uint16 and np.array_equal(back, depth)
    # Writing again replaces the file (atomically: no temp file is left beside it).
    write_depth_image(path, np.zeros((256, 256), np.uint16))
    assert read_depth_image(path).max() == 0 and [p.name for p in tmp_path.iterdir()] == ["map.png"]


@pytest.mark.parametrize(
    "depth",
    [
        np.zeros((8, 8), np.float32),  # a float map: its scale would be a guess
        np.zeros((8, 8), np.uint8),
        np.zeros((8, 8, 3), np.uint16),  # not one channel
        np.zeros((0, 8), np.uint16),
    ],
)
def test_write_depth_image_refuses_anything_but_a_uint16_map(tmp_path: Path, depth: np.ndarray) -> None:
    with pytest.raises(ValueError, match="H×W uint16") as info:
        write_depth_image(tmp_path / "d.png", depth)
    assert str(depth.dtype) in str(info.value) and str(depth.shape) in str(info.value)
    assert not any(tmp_path.iterdir())


def test_write_depth_image_refuses_a_lossy_name_and_an_unwritable_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="16-bit PNG") as info:
        write_depth_image(tmp_path / "d.jpg", np.zeros((8, 8), np.uint16))
    assert "d.jpg" in str(info.value) and "Fix:" in str(info.value)
    old = write_depth_image(tmp_path / "d.png", np.full((8, 8), 7, np.uint16))
    with pytest.raises(OSError):  # a file where the folder should be: nothing is written
        write_depth_image(tmp_path / "d.png" / "inner.png", np.zeros((8, 8), np.uint16))
    assert np.array_equal(depth_to_uint16(read_depth_image(old)), np.full((8, 8), 7, np.uint16))
