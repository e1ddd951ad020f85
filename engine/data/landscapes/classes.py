"""Class ids of the ``landscapes`` label set as module constants.

The layout generator and the renderer both switch on these ids; keeping them in one
place (and checked against ``resources/labelsets/landscapes.json`` by the tests) stops
the two from drifting apart.
"""

from __future__ import annotations

SKY = 0
CLOUD = 1
MOUNTAIN = 2
SNOW = 3
ROCK = 4
HILL = 5
GRASS = 6
FLOWERS = 7
TREE = 8
BUSH = 9
WATER = 10
SAND = 11
DIRT = 12

NUM_CLASSES = 13

NAMES: tuple[str, ...] = (
    "sky",
    "cloud",
    "mountain",
    "snow",
    "rock",
    "hill",
    "grass",
    "flowers",
    "tree",
    "bush",
    "water",
    "sand",
    "dirt",
)

# Classes whose pixels carry an instance id (> 0); every other class is stuff (id 0).
THINGS: frozenset[int] = frozenset({CLOUD, MOUNTAIN, ROCK, TREE, BUSH})

__all__ = [
    "BUSH",
    "CLOUD",
    "DIRT",
    "FLOWERS",
    "GRASS",
    "HILL",
    "MOUNTAIN",
    "NAMES",
    "NUM_CLASSES",
    "ROCK",
    "SAND",
    "SKY",
    "SNOW",
    "THINGS",
    "TREE",
    "WATER",
]
