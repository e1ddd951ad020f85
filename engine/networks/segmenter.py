"""An independent segmenter for measuring synthesis quality (not from any of the papers).

The papers score label fidelity with a pretrained segmentation net (mIoU on generated
images) and realism with Inception features (FID). Neither network can be downloaded
here, so the landscapes domain is scored by this small U-Net, trained on held-out
*real* (rendered) images: its mIoU on generated images says whether the layout was
followed, and its pooled features give a Fréchet distance. It shares no weights or
architecture with the OASIS discriminator, so the generator was never trained to
please it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class SegmenterConfig:
    num_classes: int  # output channels (one per label channel)
    widths: tuple[int, ...] = (32, 64, 128, 256)  # per resolution level, full → 1/8
    in_channels: int = 3

    @property
    def size_multiple(self) -> int:
        return 2 ** (len(self.widths) - 1)

    @property
    def feature_dim(self) -> int:
        return self.widths[-1] + self.widths[0]


def _double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class Segmenter(nn.Module):
    """U-Net: conv pairs with BatchNorm, max-pool down, nearest up, skip concatenation."""

    def __init__(self, config: SegmenterConfig) -> None:
        super().__init__()
        self.config = config
        w = config.widths
        self.down = nn.ModuleList(
            _double_conv(config.in_channels if i == 0 else w[i - 1], w[i]) for i in range(len(w))
        )
        self.up = nn.ModuleList(_double_conv(w[i + 1] + w[i], w[i]) for i in reversed(range(len(w) - 1)))
        self.head = nn.Conv2d(w[0], config.num_classes, 1)

    def _run(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        m = self.config.size_multiple
        if image.shape[-2] % m or image.shape[-1] % m:
            raise ValueError(f"the segmenter needs H and W divisible by {m}")
        skips = []
        x = image
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        bottleneck = x
        for block, skip in zip(self.up, reversed(skips[:-1])):
            x = block(torch.cat((F.interpolate(x, size=skip.shape[-2:], mode="nearest"), skip), 1))
        return self.head(x), bottleneck, x

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Image in [-1, 1] (B, 3, H, W) → logits (B, num_classes, H, W)."""
        return self._run(image)[0]

    def features(self, image: torch.Tensor) -> torch.Tensor:
        """(B, feature_dim) descriptor for Fréchet distances: the pooled bottleneck
        (semantics) and pooled last decoder features (texture at full resolution)."""
        _, bottleneck, last = self._run(image)
        return torch.cat((bottleneck.mean((2, 3)), last.mean((2, 3))), 1)
