"""Scene: region helpers, instance edges and one-hot on small hand-made maps."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import InputError
from engine.scene import Scene

# Two separate patches of class 2 (touching only diagonally) on a background of 1.
LABELS = np.array(
    [
        [1, 1, 1, 1, 1],
        [1, 2, 2, 1, 1],
        [1, 2, 2, 1, 1],
        [1, 1, 1, 2, 1],
    ],
    np.uint16,
)
# Instance 7 covers the top-left patch of class 2; the rest is stuff.
INSTANCES = np.array(
    [
        [0, 0, 0, 0, 0],
        [0, 7, 7, 0, 0],
        [0, 7, 7, 0, 0],
        [0, 0, 0, 0, 0],
    ],
    np.int32,
)


@pytest.fixture
def scene() -> Scene:
    return Scene(LABELS.copy(), INSTANCES.copy())


def test_constructor_validates() -> None:
    with pytest.raises(InputError, match="2-D"):
        Scene(np.zeros((2, 3, 1), np.uint16))
    with pytest.raises(InputError, match="same height and width"):
        Scene(np.zeros((2, 3), np.uint16), np.zeros((3, 2), np.int32))
    with pytest.raises(InputError, match="integer ids"):
        Scene(np.zeros((2, 3), np.float32))
    with pytest.raises(InputError, match="outside"):
        Scene(np.full((2, 3), 70000, np.int64))
    with pytest.raises(InputError, match="outside"):
        Scene(np.zeros((2, 3), np.uint16), np.full((2, 3), -1, np.int32))
    converted = Scene(np.ones((2, 3), np.int64))
    assert converted.labels.dtype == np.uint16
    assert converted.instances.dtype == np.int32
    assert not converted.instances.any()


def test_blank_size_copy() -> None:
    scene = Scene.blank(3, 4, fill=5)
    assert scene.size == (3, 4)
    assert scene.present_classes() == [5]
    twin = scene.copy()
    twin.labels[0, 0] = 1
    assert scene.labels[0, 0] == 5


def test_masks_and_components(scene: Scene) -> None:
    assert scene.class_mask(2).sum() == 5
    assert scene.instance_mask(7).sum() == 4
    count, components = scene.connected_components(2)
    assert count == 2
    assert components.dtype == np.int32
    assert components[1, 1] == components[2, 2] != components[3, 3] != 0
    assert components[0, 0] == 0
    count8, _ = scene.connected_components(2, connectivity=8)
    assert count8 == 1


def test_region_at(scene: Scene) -> None:
    assert np.array_equal(scene.region_at(1, 1, "class"), LABELS == 2)
    component = scene.region_at(3, 3, "component")
    assert component.sum() == 1 and component[3, 3]
    # On an instance: the instance; on stuff: the connected component.
    assert np.array_equal(scene.region_at(2, 1, "instance"), INSTANCES == 7)
    assert np.array_equal(scene.region_at(3, 3, "instance"), component)
    assert scene.region_at(3, 3, "component", connectivity=8).sum() == 5
    with pytest.raises(InputError, match="outside"):
        scene.region_at(4, 0)


def test_bbox() -> None:
    mask = np.zeros((5, 6), bool)
    assert Scene.bbox(mask) is None
    mask[1, 2] = mask[3, 4] = True
    assert Scene.bbox(mask) == (1, 2, 4, 5)


def test_instance_edges_mark_both_sides() -> None:
    instances = np.array(
        [
            [1, 1, 2, 2],
            [1, 1, 2, 2],
            [1, 1, 1, 1],
        ],
        np.int32,
    )
    edges = Scene(np.zeros((3, 4), np.uint16), instances).instance_edges()
    expected = np.array(
        [
            [0, 1, 1, 0],
            [0, 1, 1, 1],
            [0, 0, 1, 1],
        ],
        np.uint8,
    )
    assert edges.dtype == np.uint8
    assert np.array_equal(edges, expected)


def test_present_classes_and_new_instance_id(scene: Scene) -> None:
    assert scene.present_classes() == [1, 2]
    assert scene.new_instance_id() == 8
    assert Scene.blank(2, 2).new_instance_id() == 1


def test_one_hot_follows_channel_order(scene: Scene) -> None:
    onehot = scene.one_hot([0, 2, 1])
    assert onehot.dtype == np.float32 and onehot.shape == (3, 4, 5)
    assert not onehot[0].any()
    assert np.array_equal(onehot[1], (LABELS == 2).astype(np.float32))
    assert np.array_equal(onehot[2], (LABELS == 1).astype(np.float32))
    assert np.all(onehot.sum(axis=0) == 1)


def test_one_hot_names_missing_ids(scene: Scene) -> None:
    with pytest.raises(InputError, match=r"\[2\]"):
        scene.one_hot([0, 1])
    with pytest.raises(InputError, match="repeat"):
        scene.one_hot([1, 2, 1])
