"""resize_nearest: the legacy nearest resize of the official nets, with a fast integer shrink."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from engine.networks.blocks import resize_nearest


@pytest.mark.parametrize(
    ("shape", "size"),
    [
        ((2, 5, 64, 64), (4, 4)),  # the factors of an OASIS trunk
        ((2, 5, 64, 64), (32, 32)),
        ((1, 3, 64, 96), (8, 12)),  # non-square, the same factor
        ((1, 3, 64, 96), (16, 48)),  # another factor per axis
        ((1, 3, 60, 60), (8, 8)),  # not a divisor: the general path
        ((1, 3, 16, 16), (32, 32)),  # growing: the general path
    ],
)
def test_values_and_gradients_match_torch_legacy_nearest(shape: tuple, size: tuple) -> None:
    x = torch.randn(*shape, requires_grad=True)
    y = torch.randn(*shape, requires_grad=True)
    with torch.no_grad():
        y.copy_(x)
    mine, theirs = resize_nearest(x, size), F.interpolate(y, size=size, mode="nearest")
    assert mine.shape == theirs.shape and torch.equal(mine, theirs)
    weights = torch.randn(theirs.shape)
    (mine * weights).sum().backward()
    (theirs * weights).sum().backward()
    assert torch.equal(x.grad, y.grad)


def test_the_same_size_is_the_input_itself() -> None:
    x = torch.randn(1, 2, 8, 8)
    assert resize_nearest(x, (8, 8)) is x


def test_integer_maps_shrink_too() -> None:
    ids = torch.arange(64).view(1, 1, 8, 8)
    assert resize_nearest(ids, (2, 2)).tolist() == [[[[0, 4], [32, 36]]]]
