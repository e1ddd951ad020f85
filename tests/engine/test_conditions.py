"""The OpenCV condition extractors of ugen's edge and sketch mappers (engine/conditions.py)."""

from __future__ import annotations

import torch

from engine.conditions import edge_map, sketch_map


def _step_image() -> torch.Tensor:
    """A 32² image, dark on the left half, bright on the right, with a thin dark line at row 8."""
    image = torch.full((1, 3, 32, 32), 0.8)
    image[..., :16] = -0.8
    image[..., 8, 20:28] = -0.8
    return image


def test_edges_lie_on_the_boundaries_only() -> None:
    edges = edge_map(_step_image())
    assert edges.shape == (1, 1, 32, 32) and set(edges.unique().tolist()) <= {0.0, 1.0}
    columns = edges[0, 0, 12:28].sum(dim=0)  # rows away from the thin line
    assert columns[15:17].sum() > 0 and columns[:13].sum() == 0 and columns[19:].sum() == 0
    assert edges[0, 0, 4:13, 22:26].sum() > 0  # the thin line has edges too


def test_sketch_marks_dark_strokes_not_flat_areas() -> None:
    sketch = sketch_map(_step_image())
    assert sketch.shape == (1, 1, 32, 32)
    assert sketch[0, 0, 8, 21:27].all()  # the dark line on bright ground is a stroke
    assert sketch[0, 0, 20:30, 2:10].sum() == 0 and sketch[0, 0, 20:30, 20:30].sum() == 0  # flat: none
    assert sketch[0, 0, 20:30, 11:16].any(dim=1).all()  # the step is drawn, on its dark side
