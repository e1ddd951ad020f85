"""Fitting a line drawing to the canvas (engine.line_image.fit_lines) and drawing a photo's
condition for the studio (engine.conditions.photo_condition)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.conditions import photo_condition
from engine.errors import InputError
from engine.line_image import fit_lines


def test_shrinking_keeps_every_line_and_growing_repeats_pixels() -> None:
    lines = np.zeros((128, 128), np.float32)
    lines[37, :] = 1  # one pixel thin, on an odd row: a 2× average would halve it
    small = fit_lines(lines, (64, 64), "drawing.png")
    assert small.dtype == bool and small[18].all() and small.sum() == 64
    big = fit_lines(small.astype(np.float32), (128, 128), "drawing.png")
    assert big[36:38].all() and big.sum() == 2 * 128
    assert np.array_equal(fit_lines(lines, (128, 128), "drawing.png"), lines > 0.5)


def test_another_shape_is_refused_naming_the_file() -> None:
    with pytest.raises(InputError) as info:
        fit_lines(np.zeros((64, 128), np.float32), (64, 64), "wide.png")
    assert "wide.png" in str(info.value) and "another shape" in str(info.value)


def test_a_photo_becomes_the_model_sized_drawing_of_its_centred_square() -> None:
    photo = np.full((60, 100, 3), 220, np.uint8)
    photo[:, 50:] = 20  # an edge in the middle of the centred square
    photo[:, :15] = 20  # outside the square: not drawn
    edges = photo_condition(photo, "edges", "canny", 32)
    assert edges.shape == (32, 32) and edges.dtype == bool
    assert edges.any() and edges[:, 13:19].sum() == edges.sum()
    assert photo_condition(photo, "sketch", "canny", 32).shape == (32, 32)
    with pytest.raises(InputError):
        photo_condition(photo, "labels", "canny", 32)
    with pytest.raises(InputError):
        photo_condition(photo, "edges", "sobel", 32)
