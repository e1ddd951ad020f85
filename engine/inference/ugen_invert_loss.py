"""What a photo inversion minimises: how far a generated image is from the photo.

The photo is checked (H×W×3 uint8, not tiny), cropped to its central square — the
generator makes square images, and stretching would distort every shape — and resized to
the generator's side with a Lanczos filter. The distance of an image to it is

* a perceptual term: the mean L1 over EfficientNet-Lite0's four feature taps (strides 4–32;
  the frozen ImageNet net that installs offline), each divided by the mean magnitude of the
  photo's own features at that tap so that every scale weighs about the same; plus
* ``L2_WEIGHT`` × the mean squared error of both images box-filtered to ``L2_SIDE``², which
  holds the colours and the coarse layout that ImageNet features shrug off.

The photo's features are computed once; each step runs the net on the generated image only.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from engine.errors import InputError
from engine.networks.pretrained import EfficientNetLite0, load_efficientnet_lite0, tap_l1

MIN_PHOTO_SIDE = 32  # below this a photo holds too little to take a style from
L2_SIDE = 32  # side of the box-filtered images the L2 term compares
L2_WEIGHT = 1.0


def fit_photo(photo: np.ndarray, side: int, source: str) -> np.ndarray:
    """``photo`` (H×W×3 uint8) cropped to its central square and resized to side×side."""
    if not isinstance(photo, np.ndarray) or photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        got = (
            f"{photo.dtype} of shape {photo.shape}" if isinstance(photo, np.ndarray) else type(photo).__name__
        )
        raise InputError(
            f"a photo must be an H×W×3 uint8 RGB array, got {got}",
            source=source,
            fix="convert it to 8-bit RGB first (e.g. PIL's Image.convert('RGB'))",
        )
    h, w = photo.shape[:2]
    if min(h, w) < MIN_PHOTO_SIDE:
        raise InputError(
            f"the photo is {w}×{h}, too small to take a style from",
            source=source,
            fix=f"use a photo at least {MIN_PHOTO_SIDE} pixels on each side (ideally {side} or more)",
        )
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    square = Image.fromarray(np.ascontiguousarray(photo[top : top + s, left : left + s]))
    return np.array(square.resize((side, side), Image.Resampling.LANCZOS))


def to_model_range(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """H×W×3 uint8 → (1, 3, H, W) float in [-1, 1], the generator's range."""
    return torch.from_numpy(image).to(device).permute(2, 0, 1)[None].float() / 127.5 - 1


@functools.cache
def _feature_net(device: str) -> EfficientNetLite0:
    """Loaded once per device: the file read and shape checks cost more than an inversion step."""
    return load_efficientnet_lite0().to(device)


class PhotoDistance:
    """The distance of generated images (1, 3, S, S) in about [-1, 1] to one photo."""

    def __init__(self, target: torch.Tensor) -> None:  # (1, 3, S, S) in [-1, 1]
        self.net = _feature_net(str(target.device))
        with torch.no_grad():
            self.taps = self._taps(target)
        self.small = _small(target)

    def _taps(self, image: torch.Tensor) -> list[torch.Tensor]:
        return [t.float() for t in self.net.features(image, pooled=False)["taps"]]

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return tap_l1(self._taps(image), self.taps) + L2_WEIGHT * F.mse_loss(
            _small(image.float()), self.small
        )


def _small(image: torch.Tensor) -> torch.Tensor:
    factor = max(1, image.shape[-1] // L2_SIDE)
    return F.avg_pool2d(image, factor) if factor > 1 else image
