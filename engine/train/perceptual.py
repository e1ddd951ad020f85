"""Perceptual loss on frozen ImageNet features (EfficientNet-Lite0), against the paired image.

SPADE and INADE train with a VGG-19 perceptual loss (×10); no VGG-19 can be downloaded
here, while EfficientNet-Lite0 installs offline from PyPI. The loss is the mean L1 over
four feature taps (strides 4, 8, 16, 32), each divided by the mean magnitude of the real
image's features at that tap, so every scale weighs about the same whatever its units.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.networks.pretrained import load_efficientnet_lite0, tap_l1


class EfficientNetPerceptual(nn.Module):
    def __init__(self, net: nn.Module | None = None) -> None:
        super().__init__()
        self.net = load_efficientnet_lite0() if net is None else net.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> EfficientNetPerceptual:
        # Frozen: BatchNorm always uses the ImageNet statistics, whatever the caller asks.
        super().train(False)
        return self

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        both = self.net.features(torch.cat((fake, real)).float(), pooled=False)["taps"]
        halves = [tap.chunk(2) for tap in both]
        return tap_l1([f for f, _ in halves], [r for _, r in halves])
