"""Perceptual loss on frozen ImageNet features (EfficientNet-Lite0), against the paired image.

SPADE and INADE train with a VGG-19 perceptual loss (×10); no VGG-19 can be downloaded
here, while EfficientNet-Lite0 installs offline from PyPI. The loss is the mean L1 over
four feature taps (strides 4, 8, 16, 32), each divided by the mean magnitude of the real
image's features at that tap, so every scale weighs about the same whatever its units.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.networks.pretrained import load_efficientnet_lite0


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
        loss = fake.new_zeros((), dtype=torch.float32)
        for tap in both:
            f, r = tap.chunk(2)
            r = r.detach()
            loss = loss + F.l1_loss(f, r) / r.abs().mean().clamp(min=1e-6)
        return loss / len(both)
