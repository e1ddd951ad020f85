"""Scene: what is where, as a class-id map plus an instance-id map.

``labels`` holds one ``uint16`` class id per pixel (ids of a ``LabelSet``);
``instances`` holds one ``int32`` instance id per pixel, 0 meaning "no instance"
(stuff classes such as sky or road). The two arrays always have the same shape.

The helpers here answer the questions the studio's tools ask ("which region is under
the cursor?", "where are the instance boundaries?") and build plain numpy inputs.
Turning labels into a particular network's channels is ``engine.encoding``'s job;
:meth:`Scene.one_hot` is the plain numpy form for a given channel order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import cv2
import numpy as np

from engine.errors import InputError
from engine.labels import LabelSet

RegionKind = Literal["class", "component", "instance"]
BBox = tuple[int, int, int, int]


def _as_map(array: np.ndarray, dtype: type[np.integer], name: str) -> np.ndarray:
    """Check that ``array`` is a 2-D integer map whose values fit ``dtype``; return it as ``dtype``."""
    array = np.asarray(array)
    if array.ndim != 2:
        raise InputError(
            f"{name} must be a 2-D (H×W) array, got shape {array.shape}",
            source=name,
            fix="pass one id per pixel, without a channel axis",
        )
    if array.dtype.kind not in "iub":
        raise InputError(
            f"{name} must hold integer ids, got dtype {array.dtype}",
            source=name,
            fix=f"convert it to {np.dtype(dtype).name}",
        )
    info = np.iinfo(dtype)
    if array.size and (int(array.min()) < max(info.min, 0) or int(array.max()) > info.max):
        raise InputError(
            f"{name} has ids in {int(array.min())}..{int(array.max())}, "
            f"outside 0..{info.max} ({np.dtype(dtype).name})",
            source=name,
            fix="remap the ids into range",
        )
    return array.astype(dtype, copy=False)


class Scene:
    """A label map (H×W ``uint16``) and an instance map (H×W ``int32``, 0 = no instance).

    Arrays that already have the right dtype are kept as given, not copied, so a
    document can edit them in place; use :meth:`copy` for an independent scene.
    """

    def __init__(self, labels: np.ndarray, instances: np.ndarray | None = None) -> None:
        self.labels = _as_map(labels, np.uint16, "labels")
        if instances is None:
            instances = np.zeros(self.labels.shape, np.int32)
        self.instances = _as_map(instances, np.int32, "instances")
        if self.instances.shape != self.labels.shape:
            raise InputError(
                f"instances have shape {self.instances.shape} but labels have {self.labels.shape}",
                source="instances",
                fix="give the instance map the same height and width as the label map",
            )

    @classmethod
    def blank(cls, h: int, w: int, fill: int = 0) -> Scene:
        """A scene of one class (``fill``) and no instances."""
        if h <= 0 or w <= 0:
            raise InputError(f"scene size must be positive, got {h}×{w}", fix="use a height and width ≥ 1")
        return cls(np.full((h, w), fill, np.uint16))

    def copy(self) -> Scene:
        return Scene(self.labels.copy(), self.instances.copy())

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        h, w = self.labels.shape
        return h, w

    # ------------------------------------------------------------------ regions

    def class_mask(self, class_id: int) -> np.ndarray:
        return self.labels == class_id

    def instance_mask(self, instance_id: int) -> np.ndarray:
        return self.instances == instance_id

    def connected_components(self, class_id: int, *, connectivity: int = 4) -> tuple[int, np.ndarray]:
        """Split one class into connected regions.

        Returns ``(count, components)``: an ``int32`` map with 0 outside the class and
        1..count for its regions, under 4- or 8-connectivity.
        """
        if connectivity not in (4, 8):
            raise ValueError(f"connectivity must be 4 or 8, got {connectivity}")
        mask = self.class_mask(class_id).astype(np.uint8)
        n, components = cv2.connectedComponents(mask, connectivity=connectivity, ltype=cv2.CV_32S)
        return int(n) - 1, components.astype(np.int32, copy=False)

    def region_at(self, y: int, x: int, kind: RegionKind = "class", *, connectivity: int = 4) -> np.ndarray:
        """The region under pixel (y, x) as a boolean mask.

        ``"class"``: every pixel of that class; ``"component"``: the connected part of
        that class containing the pixel; ``"instance"``: the instance under the pixel,
        or the component when the pixel belongs to no instance.
        """
        h, w = self.size
        if not (0 <= y < h and 0 <= x < w):
            raise InputError(
                f"point ({y}, {x}) is outside the {h}×{w} scene", fix="pick a point on the canvas"
            )
        class_id = int(self.labels[y, x])
        if kind == "class":
            return self.class_mask(class_id)
        if kind == "instance":
            instance_id = int(self.instances[y, x])
            if instance_id != 0:
                return self.instance_mask(instance_id)
        elif kind != "component":
            raise ValueError(f"kind must be 'class', 'component' or 'instance', got {kind!r}")
        _, components = self.connected_components(class_id, connectivity=connectivity)
        return components == components[y, x]

    @staticmethod
    def bbox(mask: np.ndarray) -> BBox | None:
        """Half-open bounding box ``(y0, x0, y1, x1)`` of the true pixels, or None if there are none."""
        rows = np.flatnonzero(mask.any(axis=1))
        if rows.size == 0:
            return None
        cols = np.flatnonzero(mask.any(axis=0))
        return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1

    def present_classes(self) -> list[int]:
        """The class ids that occur in the label map, ascending."""
        return [int(i) for i in np.unique(self.labels)]

    def new_instance_id(self) -> int:
        """An instance id not used yet (one above the largest)."""
        return int(self.instances.max(initial=0)) + 1

    # ------------------------------------------------------------ network inputs

    def instance_edges(self) -> np.ndarray:
        """``uint8`` map with 1 on both sides of every instance boundary (4-neighbourhood).

        This is SPADE's ``get_edges``: a pixel is an edge if its left, right, upper or
        lower neighbour has another instance id.
        """
        inst = self.instances
        edges = np.zeros(inst.shape, np.bool_)
        horizontal = inst[:, 1:] != inst[:, :-1]
        edges[:, 1:] |= horizontal
        edges[:, :-1] |= horizontal
        vertical = inst[1:, :] != inst[:-1, :]
        edges[1:, :] |= vertical
        edges[:-1, :] |= vertical
        return edges.astype(np.uint8)

    def one_hot(self, channel_ids: Sequence[int]) -> np.ndarray:
        """``float32`` (C, H, W) with channel i set where ``labels == channel_ids[i]``.

        Every id in the label map must have a channel; the error names the ones that do not.
        """
        ids = [int(i) for i in channel_ids]
        if len(set(ids)) != len(ids):
            raise InputError(f"channel ids repeat: {ids}", source="channel_ids", fix="list each id once")
        if any(not 0 <= i <= np.iinfo(np.uint16).max for i in ids):
            raise InputError(
                f"channel ids must be in 0..65535, got {ids}", source="channel_ids", fix="use label-set ids"
            )
        missing = sorted(set(self.present_classes()) - set(ids))
        if missing:
            raise InputError(
                f"label ids {missing} occur in the label map but have no channel",
                source="labels",
                fix="repaint those pixels with a class the model knows, or pick a model for this label set",
            )
        lookup = np.zeros(np.iinfo(np.uint16).max + 1, np.intp)
        lookup[ids] = np.arange(len(ids))
        channel = lookup[self.labels]
        return (channel[None] == np.arange(len(ids))[:, None, None]).astype(np.float32)


def thing_instances(labels: np.ndarray, label_set: LabelSet) -> np.ndarray:
    """Instance ids for a label map that has none: each connected region of a thing class."""
    scene = Scene(labels)
    instances = np.zeros(labels.shape, np.int32)
    next_id = 1
    for cls in label_set.classes:
        if not cls.thing or not (labels == cls.id).any():
            continue
        count, components = scene.connected_components(cls.id)
        instances[components > 0] = components[components > 0] + next_id - 1
        next_id += count
    return instances
