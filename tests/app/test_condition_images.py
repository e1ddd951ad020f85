"""ugen's condition layers as pictures for the .ora export: lines black on white, depth in
8-bit grey (black = near), and only the layers that hold something."""

from __future__ import annotations

import numpy as np

from app.document.condition_images import condition_pictures, depth_rgb, lines_rgb
from app.document.depth_map import blank_depth

SIZE = (24, 32)


def test_an_empty_drawing_and_the_blank_ground_plane_are_not_pictured() -> None:
    assert condition_pictures(np.zeros(SIZE, bool), blank_depth(SIZE)) == []


def test_lines_are_black_on_white_and_depth_is_grey() -> None:
    lines = np.zeros(SIZE, bool)
    lines[5, 3:20] = True
    depth = blank_depth(SIZE)
    depth[0, :4] = [0, 257, 32768, 65535]  # near, the first grey step, the middle, far
    pictures = condition_pictures(lines, depth)
    assert [name for name, _ in pictures] == ["Lines", "Depth"]  # top first
    drawn, grey = pictures[0][1], pictures[1][1]
    assert drawn.dtype == np.uint8 and drawn.shape == (*SIZE, 3)
    assert (drawn[lines] == 0).all() and (drawn[~lines] == 255).all()
    assert np.array_equal(grey[0, :4, 0], [0, 1, 128, 255])  # 65535 / 257 = 255: white = far
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    assert np.array_equal(grey[..., 0], np.rint(depth / 257).astype(np.uint8))
    # Each alone: only what holds something.
    assert [n for n, _ in condition_pictures(lines, blank_depth(SIZE))] == ["Lines"]
    assert [n for n, _ in condition_pictures(np.zeros(SIZE, bool), depth)] == ["Depth"]
    assert np.array_equal(lines_rgb(lines), drawn) and np.array_equal(depth_rgb(depth), grey)
