"""OASIS: Schönfeld, Sushko, Zhang, Gall, Schiele, Khoreva.
"You Only Need Adversarial Supervision for Semantic Image Synthesis", ICLR 2021.

Generator: six SPADE residual blocks on widths channels_G × [16, 16, 16, 8, 4, 2, 1];
the 3D noise (64 channels) is concatenated *in front of* the one-hot label map and the
result conditions the head conv (sampled to the latent grid) and every SPADE layer.
Discriminator: a U-Net of residual blocks whose (N+1)-way per-pixel output is a
segmentation with channel 0 = "fake".

Parameter names and the forward pass follow boschresearch/OASIS so that released
checkpoints load with ``strict=True`` (see ``shared/fixtures/official``). Unlike the
official generator, noise is an input: pass any (B, z_dim, H, W) field, so the whole
scene, one class, one instance or a brushed area can be re-rolled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from engine.networks.blocks import SpadeResBlock, resize_nearest, sn


@dataclass
class OasisGeneratorConfig:
    semantic_nc: int  # one-hot channels, dontcare channel included
    channels_g: int = 64  # base width; the paper uses 64
    z_dim: int = 64  # 3D-noise channels
    width_multipliers: tuple[int, ...] = (16, 16, 16, 8, 4, 2, 1)  # one block per step
    spade_hidden: int = 128  # SPADE shared-conv width (128 in the official code)
    spade_kernel: int = 3
    spectral_norm: bool = True
    # "nearest" is the official layout. "bilinear" (beyond the paper) is the usual cure for
    # the grid and stripe artefacts that nearest ×2 upsampling leaves in early training; it
    # has no parameters, so weights trained either way load into the other.
    upsample: str = "nearest"

    def __post_init__(self) -> None:
        if self.upsample not in ("nearest", "bilinear"):
            raise ValueError(f"upsample must be 'nearest' or 'bilinear', got {self.upsample!r}")

    @property
    def widths(self) -> list[int]:
        return [m * self.channels_g for m in self.width_multipliers]

    @property
    def num_blocks(self) -> int:
        return len(self.width_multipliers) - 1

    @property
    def size_multiple(self) -> int:
        """H and W must be multiples of this (32 for the paper's six blocks)."""
        return 2 ** (self.num_blocks - 1)


D_BACKBONES = ("unet", "efficientnet-lite0")
PROJECTED_D_WIDTHS = (32, 32, 64, 64, 128)  # decoder widths at strides 1 … 16 (DP-SIMS-style D)
PROJECTED_D_LAST_WIDTH = 16  # its full-resolution branch


@dataclass
class OasisDiscriminatorConfig:
    semantic_nc: int  # one-hot channels; the output has semantic_nc + 1 (0 = fake)
    # Encoder widths after the RGB input. The official class hard-codes these.
    widths: tuple[int, ...] = (128, 128, 256, 256, 512, 512)
    last_width: int = 64  # width of the last decoder block (a literal 64 officially)
    spectral_norm: bool = True
    # "unet": the paper's U-Net. "efficientnet-lite0": a frozen ImageNet trunk as the encoder
    # (engine.networks.oasis_projected); widths are then the decoder's at strides 1 … 16 and
    # last_width its full-resolution branch's.
    backbone: str = "unet"

    def __post_init__(self) -> None:
        if self.backbone not in D_BACKBONES:
            raise ValueError(f"discriminator backbone must be one of {D_BACKBONES}, got {self.backbone!r}")

    @property
    def size_multiple(self) -> int:
        return 32 if self.backbone != "unet" else 2 ** len(self.widths)


@dataclass
class OasisStyleEncoderConfig:
    """Beyond the paper: an image → global-noise encoder (SPADE's VAE mode for OASIS).

    With it the paired rendered image becomes a well-posed target: the generator sees the
    noise that encodes the photo's look (time of day, light), so a reconstruction loss no
    longer pulls every sample towards the average of all looks (grey water, flat light).
    """

    z_dim: int = 64
    widths: tuple[int, ...] = (32, 64, 128, 128, 128)  # stride-2 convs on the 128² input
    input_size: int = 128  # the image is resized to this first: the look is global


@dataclass
class OasisConfig:
    """Both nets of one OASIS model; stored in the weights folder's config.json."""

    generator: OasisGeneratorConfig
    discriminator: OasisDiscriminatorConfig = field(default=None)  # type: ignore[assignment]
    encoder: OasisStyleEncoderConfig | None = None  # trained with --style-encoder

    def __post_init__(self) -> None:
        if self.discriminator is None:
            self.discriminator = OasisDiscriminatorConfig(semantic_nc=self.generator.semantic_nc)

    @classmethod
    def paper(cls, semantic_nc: int) -> OasisConfig:
        """The released configuration (channels_G 64, full-width D)."""
        return cls(OasisGeneratorConfig(semantic_nc=semantic_nc))

    @classmethod
    def small(cls, semantic_nc: int, channels_g: int = 2) -> OasisConfig:
        """A tiny model for tests: the fixture widths for G, D widths / 16."""
        return cls(
            OasisGeneratorConfig(semantic_nc=semantic_nc, channels_g=channels_g, spade_hidden=16),
            OasisDiscriminatorConfig(semantic_nc=semantic_nc, widths=(8, 8, 16, 16, 32, 32), last_width=16),
        )


class OasisGenerator(nn.Module):
    def __init__(self, config: OasisGeneratorConfig) -> None:
        super().__init__()
        self.config = config
        widths = config.widths
        cond_nc = config.semantic_nc + config.z_dim
        # Registration order matches the official module so state_dict() order does too.
        self.conv_img = nn.Conv2d(widths[-1], 3, 3, padding=1)
        self.up = (
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
            if config.upsample == "bilinear"
            else nn.Upsample(scale_factor=2)
        )
        self.body = nn.ModuleList(
            SpadeResBlock(
                fin=widths[i],
                fout=widths[i + 1],
                cond_nc=cond_nc,
                spade_hidden=config.spade_hidden,
                spade_kernel=config.spade_kernel,
                spectral_norm=config.spectral_norm,
            )
            for i in range(config.num_blocks)
        )
        self.fc = nn.Conv2d(cond_nc, widths[0], 3, padding=1)

    def latent_size(self, height: int, width: int) -> tuple[int, int]:
        m = self.config.size_multiple
        if height % m or width % m:
            raise ValueError(f"OASIS needs H and W divisible by {m}; got {height}×{width}")
        return height // m, width // m

    def forward(self, onehot: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Synthesise an image in [-1, 1] from a one-hot map and a 3D noise field.

        onehot: (B, semantic_nc, H, W); noise: (B, z_dim, H, W), e.g. one vector per
        image expanded over the pixels, or a field that differs by region.
        """
        cond = torch.cat((noise.to(onehot.dtype), onehot), dim=1)
        x = self.fc(resize_nearest(cond, self.latent_size(*onehot.shape[-2:])))
        last = len(self.body) - 1
        for i, block in enumerate(self.body):
            x = block(x, cond)
            if i < last:
                x = self.up(x)
        return torch.tanh(self.conv_img(F.leaky_relu(x, 0.2)))


def expand_noise(z: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """One noise vector per image (B, z_dim) spread over every pixel: the paper's sampling."""
    return z[:, :, None, None].expand(z.shape[0], z.shape[1], height, width)


class OasisStyleEncoder(nn.Module):
    """Image in [-1, 1] → (μ, log σ²) of the one noise vector that reproduces its look.

    No normalisation layers: instance or batch norm would divide out exactly the global
    colour statistics the code must carry.
    """

    def __init__(self, config: OasisStyleEncoderConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        fin = 3
        for width in config.widths:
            layers += [nn.Conv2d(fin, width, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]
            fin = width
        self.body = nn.Sequential(*layers)
        self.mu = nn.Linear(2 * fin, config.z_dim)
        self.logvar = nn.Linear(2 * fin, config.z_dim)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        size = self.config.input_size
        x = F.interpolate(image, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        x = self.body(x)
        # Mean and max pooling: the average look and its strongest features (sun, snow).
        pooled = torch.cat((x.mean(dim=(2, 3)), x.amax(dim=(2, 3))), dim=1)
        return self.mu(pooled), self.logvar(pooled)


class _DiscriminatorBlock(nn.Module):
    """Residual block of the OASIS U-Net discriminator (official ``residual_block_D``).

    ``direction`` is -1 for an encoder block (average-pool at the end), +1 for a decoder
    block (nearest ×2 before the first conv). The first encoder block has no leading
    activation and pools its shortcut *before* the 1×1 conv.
    """

    def __init__(self, *, fin: int, fout: int, direction: int, first: bool, spectral_norm: bool) -> None:
        super().__init__()
        self.direction = direction
        self.first = first
        self.learned_shortcut = fin != fout
        conv = nn.Conv2d(fin, fout, 3, padding=1)
        if first:
            self.conv1 = nn.Sequential(sn(conv, spectral_norm))
        elif direction > 0:
            self.conv1 = nn.Sequential(
                nn.LeakyReLU(0.2), nn.Upsample(scale_factor=2), sn(conv, spectral_norm)
            )
        else:
            self.conv1 = nn.Sequential(nn.LeakyReLU(0.2), sn(conv, spectral_norm))
        self.conv2 = nn.Sequential(nn.LeakyReLU(0.2), sn(nn.Conv2d(fout, fout, 3, padding=1), spectral_norm))
        if self.learned_shortcut:
            self.conv_s = sn(nn.Conv2d(fin, fout, 1), spectral_norm)

    def _resample(self, x: torch.Tensor) -> torch.Tensor:
        if self.direction > 0:
            return F.interpolate(x, scale_factor=2.0, mode="nearest")
        return F.avg_pool2d(x, 2)

    def _shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.first or self.direction > 0:
            x = self._resample(x)  # pool (first block) or upsample before the 1×1
            return self.conv_s(x) if self.learned_shortcut else x
        x = self.conv_s(x) if self.learned_shortcut else x
        return self._resample(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dx = self.conv2(self.conv1(x))
        if self.direction < 0:
            dx = F.avg_pool2d(dx, 2)
        return self._shortcut(x) + dx


class OasisDiscriminator(nn.Module):
    def __init__(self, config: OasisDiscriminatorConfig) -> None:
        super().__init__()
        self.config = config
        ch = [3, *config.widths]
        n = len(config.widths)
        snorm = config.spectral_norm
        self.body_up = nn.ModuleList()
        self.body_down = nn.ModuleList(
            _DiscriminatorBlock(fin=ch[i], fout=ch[i + 1], direction=-1, first=i == 0, spectral_norm=snorm)
            for i in range(n)
        )
        self.body_up.append(
            _DiscriminatorBlock(fin=ch[-1], fout=ch[-2], direction=1, first=False, spectral_norm=snorm)
        )
        for i in range(1, n - 1):
            self.body_up.append(
                _DiscriminatorBlock(
                    fin=2 * ch[-1 - i],
                    fout=ch[-2 - i],
                    direction=1,
                    first=False,
                    spectral_norm=snorm,
                )
            )
        self.body_up.append(
            _DiscriminatorBlock(
                fin=2 * ch[1], fout=config.last_width, direction=1, first=False, spectral_norm=snorm
            )
        )
        self.layer_up_last = nn.Conv2d(config.last_width, config.semantic_nc + 1, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Per-pixel logits (B, semantic_nc + 1, H, W); channel 0 = fake, k + 1 = class k."""
        m = self.config.size_multiple
        if image.shape[-2] % m or image.shape[-1] % m:
            raise ValueError(f"the OASIS discriminator needs H and W divisible by {m}")
        x = image
        skips = []
        for block in self.body_down:
            x = block(x)
            skips.append(x)
        x = self.body_up[0](x)
        for i in range(1, len(self.body_down)):
            x = self.body_up[i](torch.cat((skips[-i - 1], x), dim=1))
        return self.layer_up_last(x)


def oasis_discriminator(config: OasisDiscriminatorConfig) -> nn.Module:
    """The paper's U-Net discriminator, or the one on a frozen ImageNet trunk."""
    if config.backbone == "unet":
        return OasisDiscriminator(config)
    from engine.networks.oasis_projected import ProjectedOasisDiscriminator

    return ProjectedOasisDiscriminator(config)
