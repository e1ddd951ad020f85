"""The multi-scale PatchGAN of pix2pixHD / SPADE, shared by INADE and MSCA.

The layer and parameter names follow SPADE's ``MultiscaleDiscriminator`` /
``NLayerDiscriminator`` (``discriminator_0.model0.0.weight`` …), so released INADE
discriminators load with ``strict=True``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.networks.blocks import sn


@dataclass
class PatchGanConfig:
    semantic_nc: int  # class one-hot channels, as the generator's
    instance_edges: bool = True  # an instance-edge channel follows the one-hot (as trained)
    ndf: int = 64
    n_layers: int = 4  # SPADE's n_layers_D
    num_d: int = 2  # number of scales
    spectral_norm: bool = True  # norm_D "spectralinstance": SN + InstanceNorm on the middle convs

    @property
    def input_nc(self) -> int:
        return self.semantic_nc + int(self.instance_edges) + 3


class PatchDiscriminator(nn.Module):
    """SPADE's ``NLayerDiscriminator``: 4×4 convs, pad 2; groups ``model0`` … ``model{n}``.

    The first conv has a bias and no norm; the middle convs are spectral-normed, without
    bias, followed by InstanceNorm (no affine); the last of them has stride 1; the head
    conv (→ 1 channel) is plain. Every group's output is returned (feature matching).
    """

    def __init__(self, config: PatchGanConfig) -> None:
        super().__init__()
        nf = config.ndf
        self.model0 = nn.Sequential(nn.Conv2d(config.input_nc, nf, 4, stride=2, padding=2), nn.LeakyReLU(0.2))
        for n in range(1, config.n_layers):
            prev, nf = nf, min(nf * 2, 512)
            stride = 1 if n == config.n_layers - 1 else 2
            conv = sn(nn.Conv2d(prev, nf, 4, stride=stride, padding=2, bias=False), config.spectral_norm)
            self.add_module(f"model{n}", nn.Sequential(conv, nn.InstanceNorm2d(nf), nn.LeakyReLU(0.2)))
        self.add_module(f"model{config.n_layers}", nn.Sequential(nn.Conv2d(nf, 1, 4, stride=1, padding=2)))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for group in self.children():
            x = group(x)
            features.append(x)
        return features


class MultiScalePatchGan(nn.Module):
    """Multi-scale PatchGAN (``discriminator_0`` at full size, each next one at half)."""

    def __init__(self, config: PatchGanConfig) -> None:
        super().__init__()
        self.config = config
        for i in range(config.num_d):
            self.add_module(f"discriminator_{i}", PatchDiscriminator(config))

    def forward(self, labels: torch.Tensor, image: torch.Tensor) -> list[list[torch.Tensor]]:
        """labels (B, semantic_nc [+ 1 edge], H, W), image (B, 3, H, W) in [-1, 1].

        Returns, per scale, the outputs of every layer group: ``[-1]`` is the patch logit
        map, the others are the intermediate features used for feature matching.
        """
        x = torch.cat((labels.to(image.dtype), image), dim=1)
        if x.shape[1] != self.config.input_nc:
            raise ValueError(
                f"the discriminator takes {self.config.input_nc - 3} label channels, got {labels.shape[1]}"
            )
        results = []
        for i, d in enumerate(self.children()):
            if i:
                x = F.avg_pool2d(x, kernel_size=3, stride=2, padding=1, count_include_pad=False)
            results.append(d(x))
        return results
