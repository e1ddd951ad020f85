"""Random label layouts for the landscapes domain: what is where, before any colour.

A layout is the label map plus what the renderer needs to make it look real: one
instance id per thing (cloud, mountain ridge, rock, tree, bush), a depth map that drives
haze and texture scale, and a relief map for shading. Two sources are mixed so that the
trained generator sees both what landscapes look like and what people actually paint:

* **natural** scenes, built like a photograph: a horizon, a ground plane seen in
  perspective (lakes, rivers, paths and meadows are drawn in world coordinates, so they
  foreshorten and narrow into the distance by themselves), and standing objects
  (mountain ridges, hills, trees, bushes, boulders) drawn far to near so that near
  things occlude far ones;
* **painted** layouts: flat fills and brush strokes of arbitrary classes with crisp
  edges, as a person would paint them in the studio.

Everything is vectorised with numpy/OpenCV and scaled with the image height, so a
512² layout looks like a 256² one at twice the resolution and panoramas simply show
more of the world. The rng is the only source of randomness, so a seed reproduces a
layout exactly.

The pieces: :mod:`~engine.data.landscapes.canvas` (the :class:`Layout` and the id canvas
both kinds draw on), :mod:`~engine.data.landscapes.natural` (with
:mod:`~engine.data.landscapes.clouds` and :mod:`~engine.data.landscapes.shapes`) and
:mod:`~engine.data.landscapes.painted`; :func:`make_layout` picks one of the two kinds.
"""

from __future__ import annotations

import numpy as np

from engine.data.landscapes.canvas import Layout
from engine.data.landscapes.natural import natural_layout
from engine.data.landscapes.painted import painted_layout

__all__ = ["make_layout"]

_MIN_SIZE = 8


def make_layout(
    rng: np.random.Generator, height: int, width: int, *, painted_fraction: float = 0.3
) -> Layout:
    """A random layout of ``height``×``width``; a painted-style one with probability ``painted_fraction``."""
    if height < _MIN_SIZE or width < _MIN_SIZE:
        raise ValueError(
            f"layout size {height}×{width} is too small: both sides must be at least {_MIN_SIZE} pixels"
        )
    if not 0.0 <= painted_fraction <= 1.0:
        raise ValueError(f"painted_fraction is {painted_fraction}; give a probability in 0..1")
    if rng.random() < painted_fraction:
        return painted_layout(rng, int(height), int(width))
    return natural_layout(rng, int(height), int(width))
