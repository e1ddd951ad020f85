"""A monocular depth estimator (not from any of the five papers): image → depth map.

ugen's depth mapper (Chae et al., NeurIPS 2023) learns from (depth of a generated image,
its proxy mask) pairs, and generated images have no depth of their own, so a network must
estimate it — the role MiDaS plays in the paper. No pretrained depth network can be
downloaded here, so Tessera trains one on the rendered landscapes, whose renderer knows
the depth of every pixel (``app-train fit --family depth``, :mod:`engine.train.depth_step`).

The architecture is the evaluation segmenter's (:mod:`engine.networks.segmenter`: a U-Net
from scratch, or ImageNet EfficientNet-Lite0's trunk under a U-Net decoder) with one
output channel through a sigmoid: depth in [0, 1], 0 = nearest, 1 = the horizon and the
sky (the convention of :mod:`engine.depth_image`). It regresses that value directly rather
than a scale- and shift-invariant one (MiDaS): every landscape is seen from the same
height with the same lens, so the absolute value is learnable, and the mapper needs one
scale for all images.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from engine.networks.segmenter import Segmenter, SegmenterConfig


@dataclass
class DepthNetConfig:
    # unet: width per resolution level, full → 1/8 (or fewer levels); efficientnet-lite0:
    # the decoder's widths at strides 1, 2, 4, 8, 16 (five, fine → coarse).
    widths: tuple[int, ...] = (32, 64, 128, 256)
    backbone: str = "unet"  # "unet" or "efficientnet-lite0"

    def __post_init__(self) -> None:
        _ = self.trunk  # SegmenterConfig checks the backbone's name and that the widths fit it

    @property
    def trunk(self) -> SegmenterConfig:
        """The segmenter-shaped net underneath, with one output channel."""
        return SegmenterConfig(num_classes=1, widths=tuple(self.widths), backbone=self.backbone)

    @property
    def size_multiple(self) -> int:
        """H and W must be multiples of this (the trunk halves them that often)."""
        return self.trunk.size_multiple


class DepthNet(nn.Module):
    def __init__(self, config: DepthNetConfig) -> None:
        super().__init__()
        self.config = config
        self.net = Segmenter(config.trunk)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """RGB (B, 3, H, W) in [-1, 1], H and W multiples of ``size_multiple`` → depth
        (B, 1, H, W) in [0, 1] (0 = near)."""
        return torch.sigmoid(self.net(image))
