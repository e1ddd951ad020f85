"""The distorted ground truth of RESAIL's training pass (A) (Shi et al., CVPR 2022, supplement A.2).

The generator learns to use guidance that looks like a retrieval composite but is aligned
with the photo it must reproduce: each ground-truth segment, cut out on black, is

1. recoloured by Reinhard's transfer in lαβ to the colours of a same-class segment drawn
   from its top-k retrieved segments (the official code: uniformly among the top 10);
2. down-sampled by τ ~ U(0.5, 1) and up-sampled back (bicubic);
3. warped by a thin-plate spline that moves 3 of 10 points spread evenly along its outer
   contour, each coordinate by U(−0.4, 0.4)·0.22·√area, the other 7 pinned;

and the distorted segments are pasted back by the guidance image's four rules, the warped
segment playing the retrieved one (:mod:`engine.retrieval.guidance`). Segments with no
retrieval match are left out, as in the official code; ``drop_stuff`` is its ``--drop_out``
(stuff segments dropped at random; 0 by default, 0.3 in one COCO run).

Everything is numpy/OpenCV on one image, seeded by the ``np.random.Generator`` passed in.
Where we differ from the official code, and why:

- the 3 moved points are distinct (``np.random.choice`` there draws with replacement, so
  sometimes fewer than 3 move; the supplement says "three of them");
- the 10 points are evenly spaced around the closed contour (``linspace(0, n − 1, 10)``
  there makes the first and last neighbours); targets stay sub-pixel (no int cast);
- the warp samples the source at pixel centres, so no moved point means the identity (the
  official ``grid_sample`` mapping is half a pixel off);
- lαβ takes the log of LMS floored at 1 (one grey level) instead of 1e-10, so a black pixel
  gives −0.0, not −23, and cannot dominate a segment's mean and spread; the way back uses
  the exact inverse matrix, so a transfer onto its own colours is the identity;
- down-sampling uses area averaging (PIL's bicubic, used there, also averages when it
  shrinks), up-sampling bicubic;
- each segment is processed in its box plus a margin that covers the largest shift, not
  on the full frame, which keeps one 256² image at a few ms a segment.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from engine.retrieval import Guidance, Segment


@dataclass(frozen=True)
class DistortParams:
    num_points: int = 10  # points taken along the contour
    moved_points: int = 3  # how many of them move
    shift_range: float = 0.4  # each coordinate moves by U(−r, r) · warp_ratio · √area
    warp_ratio: float = 0.22
    tau_range: tuple[float, float] = (0.5, 1.0)  # down-sampling factor τ ~ U(lo, hi)
    drop_stuff: float = 0.0  # probability of leaving a stuff segment out (official --drop_out)

    def max_shift(self, area: float) -> float:
        return self.shift_range * self.warp_ratio * math.sqrt(area)


@dataclass(frozen=True)
class DistortedSegment:
    """A distorted segment in a window of the image: its pixels and where it now lies."""

    origin: tuple[int, int]  # (y, x) of the window's top-left pixel in the image
    rgb: np.ndarray  # window H×W×3 uint8, 0 outside ``mask``
    mask: np.ndarray  # window H×W bool


# ------------------------------------------------------------------------ colour (Reinhard)
RGB2LMS = np.array([[0.3811, 0.5783, 0.0402], [0.1967, 0.7244, 0.0782], [0.0241, 0.1288, 0.8444]])
LMS2LAB = np.diag([1 / math.sqrt(3), 1 / math.sqrt(6), 1 / math.sqrt(2)]) @ np.array(
    [[1.0, 1.0, 1.0], [1.0, 1.0, -2.0], [1.0, -1.0, 0.0]]
)
LMS2RGB = np.linalg.inv(RGB2LMS)
LAB2LMS = np.linalg.inv(LMS2LAB)
LMS_FLOOR = 1.0  # in 0–255 units; see the module docstring
STD_FLOOR = 1e-10  # as the official code: a flat segment takes the target's mean


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(…, 3) RGB in 0–255 → Reinhard's lαβ (natural log: the base only scales the space,
    which mean/std matching does not see)."""
    lms = np.asarray(rgb, np.float64) @ RGB2LMS.T
    return np.log(np.maximum(lms, LMS_FLOOR)) @ LMS2LAB.T


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """lαβ → RGB in 0–255 (float, not clipped)."""
    return np.exp(np.asarray(lab, np.float64) @ LAB2LMS.T) @ LMS2RGB.T


def match_lab_statistics(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Source pixels (N, 3) in lαβ moved to the target pixels' (M, 3) per-channel mean and std."""
    mu_s, mu_t = source.mean(0), target.mean(0)
    sd_s, sd_t = np.maximum(source.std(0), STD_FLOOR), np.maximum(target.std(0), STD_FLOOR)
    return (source - mu_s) * (sd_t / sd_s) + mu_t


def reinhard_transfer(image: np.ndarray, mask: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``image`` (H×W×3 uint8) with its ``mask`` pixels recoloured to the colours of ``target``
    ((M, 3) uint8 pixels of another segment); pixels outside the mask are returned as they are."""
    out = image.copy()
    if not mask.any() or len(target) == 0:
        return out
    lab = match_lab_statistics(rgb_to_lab(image[mask]), rgb_to_lab(target.reshape(-1, 3)))
    out[mask] = np.clip(np.rint(lab_to_rgb(lab)), 0, 255).astype(np.uint8)
    return out


# ------------------------------------------------------------------------ resolution
def resample(image: np.ndarray, tau: float) -> np.ndarray:
    """``image`` shrunk by ``tau`` (area averaging) and enlarged back (bicubic): same size, softer."""
    if not 0 < tau <= 1:
        raise ValueError(f"tau must be in (0, 1], got {tau}")
    h, w = image.shape[:2]
    small = (max(1, int(w * tau)), max(1, int(h * tau)))
    if small == (w, h):
        return image.copy()
    down = cv2.resize(image, small, interpolation=cv2.INTER_AREA)
    return cv2.resize(down, (w, h), interpolation=cv2.INTER_CUBIC).reshape(image.shape)


# ------------------------------------------------------------------------ shape (thin-plate spline)
def _tps_kernel(d2: np.ndarray) -> np.ndarray:
    """U(r) = r² log r², from squared distances (0 at r = 0)."""
    return np.where(d2 > 0, d2 * np.log(np.where(d2 > 0, d2, 1.0)), 0.0)


def check_control_points(points: np.ndarray) -> None:
    """A spline through ``points`` (n, 2) exists only for distinct, not all collinear points."""
    p = np.asarray(points, np.float64)
    if len(p) < 3 or np.linalg.matrix_rank(np.c_[np.ones(len(p)), p], tol=1e-6) < 3:
        raise ValueError("thin-plate spline: the control points must not all lie on one line")
    d2 = ((p[:, None] - p[None]) ** 2).sum(-1)
    if (d2[np.triu_indices(len(p), 1)] < 1e-12).any():
        raise ValueError("thin-plate spline: two control points coincide")


def tps_map(src: np.ndarray, dst: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The backward maps (``cv2.remap``'s map_x, map_y, float32 H×W) of the warp that takes each
    ``src`` point (n, 2), as (x, y) at pixel centres, to its ``dst`` point.

    Solves the interpolating spline f with f(dst_i) = src_i — [[K, P], [Pᵀ, 0]]·[w; a] = [src; 0],
    K_ij = U(|dst_i − dst_j|), P = [1, x, y] — and evaluates it at every output pixel.
    """
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    check_control_points(dst)
    n = len(dst)
    p = np.c_[np.ones(n), dst]
    system = np.zeros((n + 3, n + 3))
    system[:n, :n] = _tps_kernel(((dst[:, None] - dst[None]) ** 2).sum(-1))
    system[:n, n:], system[n:, :n] = p, p.T
    coef = np.linalg.solve(system, np.r_[src, np.zeros((3, 2))])
    ys, xs = np.mgrid[0:height, 0:width]
    grid = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)
    d2 = ((grid[:, None] - dst[None]) ** 2).sum(-1)
    mapped = _tps_kernel(d2) @ coef[:n] + np.c_[np.ones(len(grid)), grid] @ coef[n:]
    return (
        mapped[:, 0].reshape(height, width).astype(np.float32),
        mapped[:, 1].reshape(height, width).astype(np.float32),
    )


def remap(image: np.ndarray, maps: tuple[np.ndarray, np.ndarray], *, nearest: bool = False) -> np.ndarray:
    """``image`` sampled through backward maps: bilinear (nearest for masks), black outside."""
    interpolation = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    out = cv2.remap(image, *maps, interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out.reshape(image.shape)


def tps_warp(image: np.ndarray, src: np.ndarray, dst: np.ndarray, *, nearest: bool = False) -> np.ndarray:
    """``image`` warped so that the pixel at each ``src`` point lands on its ``dst`` point."""
    return remap(image, tps_map(src, dst, *image.shape[:2]), nearest=nearest)


def warp_points(
    mask: np.ndarray, rng: np.random.Generator, params: DistortParams = DistortParams()
) -> tuple[np.ndarray, np.ndarray] | None:
    """(src, dst), each (num_points, 2) as (x, y): points evenly spaced on the longest outer
    contour of ``mask``, ``moved_points`` of them shifted. None when the contour is too
    short or the moved points would make the spline degenerate (the official "dummy warp")."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    contour = max(contours, key=len)[:, 0].astype(np.float64)  # first longest: deterministic
    k = params.num_points
    if len(contour) < k + 1:
        return None
    src = contour[np.arange(k) * len(contour) // k]
    moved = rng.choice(k, size=params.moved_points, replace=False)
    shift = rng.uniform(-params.shift_range, params.shift_range, size=(len(moved), 2))
    dst = src.copy()
    dst[moved] += shift * params.warp_ratio * math.sqrt(float(mask.sum()))
    try:
        check_control_points(dst)
    except ValueError:
        return None
    return src, dst


# ------------------------------------------------------------------------ one segment, one image
def distort_segment(
    image: np.ndarray,
    segment: Segment,
    colour_source: np.ndarray,
    rng: np.random.Generator,
    params: DistortParams = DistortParams(),
) -> DistortedSegment:
    """Colour → resolution → shape, for one segment of ``image`` (H×W×3 uint8), in a window
    around its box wide enough for the largest shift. ``colour_source``: the (M, 3) uint8
    pixels of the segment whose colours it takes. Draws τ, then the warp points."""
    h, w = image.shape[:2]
    margin = math.ceil(params.max_shift(segment.area) * math.sqrt(2)) + 2
    y0, x0, y1, x1 = segment.box
    wy0, wx0, wy1, wx1 = max(0, y0 - margin), max(0, x0 - margin), min(h, y1 + margin), min(w, x1 + margin)
    mask = np.zeros((wy1 - wy0, wx1 - wx0), bool)
    mask[y0 - wy0 : y1 - wy0, x0 - wx0 : x1 - wx0] = segment.mask
    rgb = np.where(mask[..., None], image[wy0:wy1, wx0:wx1], 0).astype(np.uint8)  # cut out on black
    rgb = reinhard_transfer(rgb, mask, colour_source)
    rgb = resample(rgb, float(rng.uniform(*params.tau_range)))
    points = warp_points(mask, rng, params)
    if points is not None:
        maps = tps_map(*points, *mask.shape)  # one spline for the pixels and the mask
        rgb = remap(rgb, maps)
        mask = remap(mask.view(np.uint8), maps, nearest=True).astype(bool)
    return DistortedSegment((wy0, wx0), np.where(mask[..., None], rgb, 0).astype(np.uint8), mask)


def recompose(
    labels: np.ndarray,
    segments: Sequence[Segment],
    distorted: Sequence[DistortedSegment | None],
    thing_ids: Collection[int],
) -> Guidance:
    """Paste distorted segments by the guidance image's rules (each query segment's own
    distorted version standing in for the retrieved one): stuff first, restricted to its
    own mask; then things, largest first, keeping overhang that falls on stuff pixels of
    ``labels`` and dropping overhang on thing pixels. None: nothing pasted for that segment."""
    if len(segments) != len(distorted):
        raise ValueError(f"{len(segments)} segments but {len(distorted)} distorted segments")
    h, w = labels.shape
    image = np.zeros((h, w, 3), np.uint8)
    valid = np.zeros((h, w), bool)
    things = [int(c) for c in thing_ids]
    on_thing = np.isin(labels, things) if things else np.zeros((h, w), bool)
    picked = [(s, d) for s, d in zip(segments, distorted) if d is not None]
    order = sorted(range(len(picked)), key=lambda i: (picked[i][0].thing, -picked[i][0].area, i))
    for i in order:
        seg, dist = picked[i]
        oy, ox = dist.origin
        wh, ww = dist.mask.shape
        own = np.zeros((wh, ww), bool)  # the query mask in the window's frame
        y0, x0, y1, x1 = seg.box
        own[y0 - oy : y1 - oy, x0 - ox : x1 - ox] = seg.mask
        window = np.s_[oy : oy + wh, ox : ox + ww]
        paste = dist.mask & ((own | ~on_thing[window]) if seg.thing else own)
        image[window][paste] = dist.rgb[paste]
        valid[window] |= paste
    return Guidance(image, valid)


def pick_colour_source(candidates: Sequence[int], rng: np.random.Generator) -> int | None:
    """A uniform draw among a segment's top-k retrieved rows (None when it has none)."""
    return int(candidates[int(rng.integers(len(candidates)))]) if len(candidates) else None


def distort_ground_truth(
    image: np.ndarray,
    labels: np.ndarray,
    segments: Sequence[Segment],
    colour_sources: Sequence[np.ndarray | None],
    thing_ids: Collection[int],
    rng: np.random.Generator,
    params: DistortParams = DistortParams(),
) -> Guidance:
    """The distorted ground truth Ĩ of ``image`` (H×W×3 uint8) and where it holds pixels.

    ``segments`` are the decomposition of ``labels`` (:func:`engine.retrieval.decompose`);
    ``colour_sources[i]`` the (M, 3) uint8 pixels of the segment picked for segment i's
    colours, or None when retrieval found no match (the segment is left out). Segments are
    distorted in order, each drawing its drop, τ and warp from ``rng``.
    """
    if len(segments) != len(colour_sources):
        raise ValueError(f"{len(segments)} segments but {len(colour_sources)} colour sources")
    distorted: list[DistortedSegment | None] = []
    for seg, source in zip(segments, colour_sources):
        dropped = not seg.thing and params.drop_stuff > 0 and rng.random() < params.drop_stuff
        if source is None or dropped:
            distorted.append(None)
            continue
        distorted.append(distort_segment(image, seg, source, rng, params))
    return recompose(labels, segments, distorted, thing_ids)
