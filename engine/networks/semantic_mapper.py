"""ugen's semantic mapper (Chae, Cho, Go, Choi, Uh, "Semantic Image Synthesis with
Unconditional Generator", NeurIPS 2023; supplement A.1): a user's condition → proxy-mask
logits (B, K, r, r) at the proxy resolution (64² for 256² images).

* :class:`LabelMapper`, for label maps: the OASIS generator's architecture (SPADE residual
  blocks from a small latent grid up, every SPADE layer conditioned on the one-hot map)
  without the 3D noise — the supplement drops it because its randomness slowed training,
  and a proxy mask is one answer per map, not a distribution. The last conv gives K logits
  instead of RGB. The trunk ends at the proxy resolution while SPADE reads the one-hot map
  at whatever size it comes, so the input keeps its detail.
* :class:`ConditionMapper`, for edges, sketches and depth, where SPADE (which normalises
  away everything but the label layout) does not fit: an encoder with the structure of the
  StyleGAN2 discriminator (1×1 FromRGB, residual blocks that halve the resolution) and a
  U-Net decoder back up to the proxy resolution, joined to the encoder's features of the
  same size, so the condition's shapes reach the output.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.networks.blocks import SpadeResBlock, resize_nearest
from engine.networks.stylegan2 import DiscriminatorBlock
from engine.networks.stylegan2_layers import EqualConv2d, upsample2x


@dataclass
class LabelMapperConfig:
    semantic_nc: int  # one-hot channels of the label map, dontcare included
    num_clusters: int = 25  # K: proxy-mask clusters
    channels: int = 64  # OASIS channels_G
    width_multipliers: tuple[int, ...] = (16, 16, 16, 8, 4, 2, 1)  # one SPADE block per step
    spade_hidden: int = 128
    spectral_norm: bool = True

    @property
    def widths(self) -> list[int]:
        return [m * self.channels for m in self.width_multipliers]

    @property
    def size_multiple(self) -> int:
        """The output side must be a multiple of this (the trunk upsamples between blocks)."""
        return 2 ** (len(self.width_multipliers) - 2)

    @classmethod
    def small(cls, semantic_nc: int, num_clusters: int = 6) -> LabelMapperConfig:
        return cls(semantic_nc, num_clusters, channels=2, width_multipliers=(8, 8, 4, 2), spade_hidden=16)


class LabelMapper(nn.Module):
    def __init__(self, config: LabelMapperConfig) -> None:
        super().__init__()
        self.config = config
        widths = config.widths
        self.fc = nn.Conv2d(config.semantic_nc, widths[0], 3, padding=1)
        self.body = nn.ModuleList(
            SpadeResBlock(
                fin=widths[i],
                fout=widths[i + 1],
                cond_nc=config.semantic_nc,
                spade_hidden=config.spade_hidden,
                spectral_norm=config.spectral_norm,
            )
            for i in range(len(widths) - 1)
        )
        self.to_logits = nn.Conv2d(widths[-1], config.num_clusters, 3, padding=1)

    def forward(self, onehot: torch.Tensor, size: tuple[int, int] = (64, 64)) -> torch.Tensor:
        """One-hot label map (B, semantic_nc, H, W) → proxy-mask logits (B, K, *size)."""
        m = self.config.size_multiple
        if size[0] % m or size[1] % m:
            raise ValueError(f"the label mapper's output size must be a multiple of {m}, got {size}")
        x = self.fc(resize_nearest(onehot, (size[0] // m, size[1] // m)))
        for i, block in enumerate(self.body):
            x = block(x, onehot)
            if i < len(self.body) - 1:
                x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        return self.to_logits(F.leaky_relu(x, 0.2))


@dataclass
class ConditionMapperConfig:
    in_channels: int = 1  # 1 for edges, sketches and depth
    num_clusters: int = 25
    input_resolution: int = 256  # the encoder's levels are counted from this side
    output_resolution: int = 64  # the proxy resolution
    bottom_resolution: int = 4  # where the encoder stops (the StyleGAN2 D's 4²)
    channel_base: int = 16384  # width at resolution r: min(channel_base // r, channel_max)
    channel_max: int = 512

    def __post_init__(self) -> None:
        for name in ("input_resolution", "output_resolution", "bottom_resolution"):
            side = getattr(self, name)
            if side < 1 or side & (side - 1):
                raise ValueError(f"{name} must be a power of two, got {side}")
        if not self.bottom_resolution < self.output_resolution <= self.input_resolution:
            raise ValueError("need bottom_resolution < output_resolution ≤ input_resolution")

    def channels(self, resolution: int) -> int:
        return max(1, min(self.channel_base // resolution, self.channel_max))

    @classmethod
    def small(
        cls, num_clusters: int = 6, input_resolution: int = 32, output_resolution: int = 8
    ) -> ConditionMapperConfig:
        return cls(1, num_clusters, input_resolution, output_resolution, 2, channel_base=128, channel_max=16)


class ConditionMapper(nn.Module):
    def __init__(self, config: ConditionMapperConfig) -> None:
        super().__init__()
        self.config = config
        c = config.channels
        top, bottom = config.input_resolution, config.bottom_resolution
        self.encoder_sides = [top >> i for i in range((top // bottom).bit_length() - 1)]  # top … 2·bottom
        self.from_input = EqualConv2d(config.in_channels, c(top), 1, activation=True)
        self.down = nn.ModuleList(DiscriminatorBlock(c(r), c(r // 2)) for r in self.encoder_sides)
        # Decoder: at each side from 2·bottom to the output, ×2 up, join the encoder's
        # features of that side, two 3×3 convs.
        self.decoder_sides = [
            bottom << i for i in range(1, (config.output_resolution // bottom).bit_length())
        ]
        self.up = nn.ModuleList(
            nn.Sequential(
                EqualConv2d(c(r // 2) + c(r), c(r), 3, activation=True),
                EqualConv2d(c(r), c(r), 3, activation=True),
            )
            for r in self.decoder_sides
        )
        self.to_logits = EqualConv2d(c(config.output_resolution), config.num_clusters, 1)

    def forward(self, condition: torch.Tensor) -> torch.Tensor:
        """Condition (B, in_channels, H, W), H and W multiples of input/bottom resolution →
        logits (B, K, H·o/i, W·o/i) (o/i: output over input resolution)."""
        steps = len(self.encoder_sides)
        if condition.shape[-2] % (1 << steps) or condition.shape[-1] % (1 << steps):
            raise ValueError(f"the condition mapper needs H and W divisible by {1 << steps}")
        x = self.from_input(condition)
        skips = []
        for block in self.down:
            skips.append(x)  # the features at this side, before halving
            x = block(x)
        for i, conv in enumerate(self.up):
            skip = skips[steps - 1 - i]
            x = conv(torch.cat((upsample2x(x), skip), dim=1))
        return self.to_logits(x)
