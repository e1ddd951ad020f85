"""The id canvas that layouts are drawn on, and the :class:`Layout` it resolves into.

A layout is the label map plus what the renderer needs to make it look real: one instance
id per thing, a depth map that drives haze and texture scale, and a relief map for
shading. Natural and painted layouts (:mod:`~engine.data.landscapes.natural`,
:mod:`~engine.data.landscapes.painted`) both draw every region as an object id on one
:class:`Canvas` (painter's algorithm: what is drawn later occludes what was drawn before);
:meth:`Canvas.finish` turns the ids into the :class:`Layout` maps. The depth of the ground
plane (:func:`plane_depth`, :func:`depth_at`) is shared by both kinds.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.data.landscapes.classes import NUM_CLASSES, SKY, THINGS

THING_LUT = np.zeros(NUM_CLASSES, bool)
THING_LUT[list(THINGS)] = True

# Depth of a ground point at distance z (1 = the bottom row): 0 at the viewer's feet,
# approaching 1 at the horizon. The exponent makes mid-distance already fairly deep.
DEPTH_EXP = 0.8


@dataclass
class Layout:
    """One generated layout; the renderer turns it into an RGB image."""

    labels: np.ndarray  # H×W uint16, landscapes ids
    instances: np.ndarray  # H×W int32, 0 = stuff; one id 1..K per thing instance
    depth: np.ndarray  # H×W float32 in [0, 1]: 0 = nearest, 1 = horizon/sky
    height: np.ndarray  # H×W float32 in [0, 1]: relief for shading; 0 where flat
    horizon: float  # horizon row as a fraction of H (0 = top)
    kind: str  # "natural" | "painted"


class Canvas:
    """Painter's-algorithm canvas: every region drawn is an object id, attributes live in tables.

    Drawing only writes int32 ids (cv2 draws into int32 images directly), so occlusion is
    free and labels, instances, depth and relief are all resolved once at the end by
    table lookups.
    """

    def __init__(self, h: int, w: int) -> None:
        self.h, self.w = h, w
        self.oid = np.zeros((h, w), np.int32)
        self.relief = np.zeros((h, w), np.float32)
        # object 0 is the sky
        self.cls: list[int] = [SKY]
        self.depth: list[float] = [1.0]
        self.plane: list[bool] = [False]
        self.dome: list[float] = [0.0]
        self.radius: list[float] = [1.0]
        self.split: list[bool] = [False]
        self.use_relief: list[bool] = [False]

    def add(
        self,
        cls: int,
        *,
        depth: float = 1.0,
        plane: bool = False,
        dome: float = 0.0,
        radius: float = 1.0,
        split: bool = False,
        relief: bool = False,
    ) -> int:
        """Register an object; ``dome`` > 0 gives it a rounded bump of that height and ``radius`` px."""
        self.cls.append(cls)
        self.depth.append(float(depth))
        self.plane.append(plane)
        self.dome.append(float(dome))
        self.radius.append(max(float(radius), 1.0))
        self.split.append(split)
        self.use_relief.append(relief)
        return len(self.cls) - 1

    def add_many(self, cls: int, *, depth: np.ndarray, radius: np.ndarray, dome: float = 1.0) -> np.ndarray:
        """Register one domed object per entry; returns their ids."""
        n = len(depth)
        start = len(self.cls)
        self.cls.extend([cls] * n)
        self.depth.extend(depth.tolist())
        self.plane.extend([False] * n)
        self.dome.extend([dome] * n)
        self.radius.extend(np.maximum(radius, 1.0).tolist())
        self.split.extend([False] * n)
        self.use_relief.extend([False] * n)
        return np.arange(start, start + n)

    def finish(self, plane_depth: np.ndarray, horizon: float, kind: str) -> Layout:
        """Resolve the id canvas into the :class:`Layout` arrays (``plane_depth`` is an H×1 column)."""
        oid = self.oid
        n = len(self.cls)
        cls_lut = np.asarray(self.cls, np.uint16)
        labels = np.take(cls_lut, oid)

        count = np.bincount(oid.ravel(), minlength=n)
        thing = THING_LUT[cls_lut]
        split = np.asarray(self.split, bool)
        whole = thing & ~split & (count > 0)
        n_whole = int(whole.sum())
        inst_lut = np.zeros(n, np.int32)
        inst_lut[whole] = np.arange(1, n_whole + 1, dtype=np.int32)
        instances = np.take(inst_lut, oid)
        if (split & (count > 0)).any():
            # rock outcrops: one instance per connected piece (the only things still at 0)
            m = (instances == 0) & np.take(THING_LUT, labels)
            _, cc = cv2.connectedComponents(m.view(np.uint8), connectivity=8)
            instances += (cc + n_whole) * m

        # Blends are written as arithmetic: np.where is slow on ragged masks.
        # Plane objects have depth -1 and take the per-row ground depth instead.
        depth_lut = np.where(np.asarray(self.plane, bool), -1.0, np.asarray(self.depth)).astype(np.float32)
        depth = np.take(depth_lut, oid)
        depth = np.maximum(depth, (depth < 0) * plane_depth)

        # dome > 0: a rounded bump of that height; dome = -1: the relief canvas; 0: flat
        dome_lut = np.where(np.asarray(self.use_relief, bool), -1.0, np.asarray(self.dome)).astype(np.float32)
        dome = np.take(dome_lut, oid)
        height = self.relief * (dome < 0)
        if (dome_lut > 0).any():
            # distance to the nearest object edge; at half resolution for big layouts,
            # where the domes are wide enough not to notice
            step = 2 if min(self.h, self.w) >= 384 else 1
            o = oid[::step, ::step]
            edge = np.zeros(o.shape, bool)
            dh = o[:, 1:] != o[:, :-1]
            edge[:, 1:] |= dh
            edge[:, :-1] |= dh
            dv = o[1:] != o[:-1]
            edge[1:] |= dv
            edge[:-1] |= dv
            dist = cv2.distanceTransform((~edge).view(np.uint8), cv2.DIST_L2, 3)
            if step > 1:
                dist = cv2.resize(dist * np.float32(step), (self.w, self.h), interpolation=cv2.INTER_LINEAR)
            inv_rad = np.where(dome_lut > 0, 1.0 / np.asarray(self.radius), 0.0).astype(np.float32)
            bump = np.sqrt(np.minimum(dist * np.take(inv_rad, oid), np.float32(1.0)))
            height += bump * np.maximum(dome, np.float32(0.0))
        return Layout(
            labels=labels,
            instances=instances,
            depth=np.clip(depth, 0.0, 1.0, dtype=np.float32),
            height=np.clip(height, 0.0, 1.0, dtype=np.float32),
            horizon=float(horizon),
            kind=kind,
        )


def plane_depth(h: int, hr: int) -> np.ndarray:
    """Depth of a flat ground below row ``hr`` (1 above it), as an H×1 column."""
    gh = max(h - hr, 1)
    col = np.ones(h, np.float32)
    t = (np.arange(h - hr, dtype=np.float32) + 0.5) / gh
    col[hr:] = 1.0 - t**DEPTH_EXP
    return col[:, None]


def depth_at(z: float) -> float:
    return float(1.0 - max(z, 1e-3) ** -DEPTH_EXP)
