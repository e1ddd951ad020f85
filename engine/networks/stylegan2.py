"""StyleGAN2: Karras, Laine, Aittala, Hellsten, Lehtinen, Aila.
"Analyzing and Improving the Image Quality of StyleGAN", CVPR 2020.

Tessera's own compact implementation, the unconditional generator that the ugen family
(Chae et al., NeurIPS 2023) makes paintable:

* mapping network: z → pixel norm → ``mapping_layers`` equalised FC layers (lr ×0.01)
  → w, broadcast to one w per layer; a tracked mean ``w_avg`` (a buffer, saved with the
  weights) for truncation ``w_avg + ψ (w − w_avg)``;
* synthesis network: a learned constant 4×4 input, then per resolution two modulated /
  demodulated 3×3 convs (the first after bilinear ×2 upsampling) with per-layer noise,
  and the "skip" output: each resolution's ToRGB is added to the upsampled sum so far;
* discriminator: "resnet" — FromRGB at full resolution, residual blocks that halve the
  resolution, minibatch standard deviation, a 3×3 conv and two FC layers to one logit.

The layers and the resampling choices are in :mod:`engine.networks.stylegan2_layers`.
``features`` / ``head`` / ``tail`` split the synthesis at any resolution (ugen's G₁ and
G₂: the 64² features are clustered into proxy masks and rearranged).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import torch
from torch import nn

from engine.networks.stylegan2_layers import (
    EqualConv2d,
    EqualLinear,
    StyleConv,
    ToRGB,
    downsample2x,
    minibatch_stddev,
    upsample2x,
)

W_AVG_BETA = 0.995  # tracked mean w: new = old + (1 − β)(batch mean − old), as StyleGAN2


def _check_resolution(resolution: int) -> None:
    if resolution < 8 or resolution & (resolution - 1):
        raise ValueError(f"StyleGAN2 resolution must be a power of two ≥ 8, got {resolution}")


@dataclass
class StyleGan2GeneratorConfig:
    resolution: int = 256  # square output side, a power of two
    z_dim: int = 512  # latent z
    w_dim: int = 512  # intermediate latent w (and style input of every layer)
    mapping_layers: int = 8  # FC layers of the mapping network
    mapping_lr_mul: float = 0.01  # learning-rate multiplier of the mapping network
    channel_base: int = 32768  # width at resolution r: min(channel_base // r, channel_max)
    channel_max: int = 512

    def __post_init__(self) -> None:
        _check_resolution(self.resolution)
        if min(self.channels(self.resolution), self.z_dim, self.w_dim, self.mapping_layers) < 1:
            raise ValueError("StyleGAN2 generator widths and depths must be at least 1")

    def channels(self, resolution: int) -> int:
        return min(self.channel_base // resolution, self.channel_max)

    @property
    def resolutions(self) -> list[int]:
        return [2**k for k in range(2, self.resolution.bit_length())]  # 4, 8, …, resolution

    @property
    def num_ws(self) -> int:
        """One w per conv layer plus one for the last ToRGB (the others share the next conv's)."""
        return 2 * len(self.resolutions)


@dataclass
class StyleGan2DiscriminatorConfig:
    resolution: int = 256
    channel_base: int = 32768
    channel_max: int = 512
    mbstd_group: int = 4  # samples per minibatch-stddev group
    mbstd_channels: int = 1  # stddev feature maps appended

    def __post_init__(self) -> None:
        _check_resolution(self.resolution)
        if self.channels(self.resolution) < 1 or self.mbstd_group < 1 or self.mbstd_channels < 1:
            raise ValueError("StyleGAN2 discriminator widths and groups must be at least 1")
        if self.channels(4) % self.mbstd_channels:
            raise ValueError(f"mbstd_channels must divide the 4² width {self.channels(4)}")

    def channels(self, resolution: int) -> int:
        return min(self.channel_base // resolution, self.channel_max)


@dataclass
class StyleGan2Config:
    generator: StyleGan2GeneratorConfig = field(default_factory=StyleGan2GeneratorConfig)
    discriminator: StyleGan2DiscriminatorConfig = field(default_factory=StyleGan2DiscriminatorConfig)

    @classmethod
    def paper(cls, resolution: int = 256) -> StyleGan2Config:
        """Config F of the paper: 512 wide up to 64², halving above; 8 mapping layers."""
        return cls(StyleGan2GeneratorConfig(resolution), StyleGan2DiscriminatorConfig(resolution))

    @classmethod
    def small(cls, resolution: int = 64) -> StyleGan2Config:
        """For tests and smoke runs: 32 wide at most, 32-d latents, two mapping layers."""
        g = StyleGan2GeneratorConfig(
            resolution, z_dim=32, w_dim=32, mapping_layers=2, channel_base=512, channel_max=32
        )
        return cls(g, StyleGan2DiscriminatorConfig(resolution, channel_base=512, channel_max=32))


class MappingNetwork(nn.Module):
    def __init__(self, config: StyleGan2GeneratorConfig) -> None:
        super().__init__()
        dims = [config.z_dim] + [config.w_dim] * config.mapping_layers
        self.layers = nn.Sequential(
            *(
                EqualLinear(a, b, lr_mul=config.mapping_lr_mul, activation=True)
                for a, b in itertools.pairwise(dims)
            )
        )
        self.num_ws = config.num_ws
        self.register_buffer("w_avg", torch.zeros(config.w_dim))

    def forward(
        self,
        z: torch.Tensor,
        *,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,  # truncate only the first this many ws (None: all)
        track_w_avg: bool = False,  # training: move w_avg towards this batch's mean w
    ) -> torch.Tensor:
        """z (B, z_dim) → ws (B, num_ws, w_dim)."""
        z = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)  # pixel norm
        w = self.layers(z)
        if track_w_avg:
            with torch.no_grad():
                self.w_avg.lerp_(w.detach().float().mean(dim=0), 1 - W_AVG_BETA)
        ws = w[:, None, :].repeat(1, self.num_ws, 1)
        if truncation_psi != 1:
            cut = self.num_ws if truncation_cutoff is None else truncation_cutoff
            avg = self.w_avg.to(ws.dtype)
            ws[:, :cut] = avg.lerp(ws[:, :cut], truncation_psi)
        return ws


class SynthesisBlock(nn.Module):
    """One resolution: two style convs (one on the constant at 4²) and its ToRGB."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int) -> None:
        super().__init__()
        self.resolution = resolution
        if resolution == 4:
            self.const = nn.Parameter(torch.randn(out_channels, 4, 4))
            self.convs = nn.ModuleList([StyleConv(out_channels, out_channels, w_dim, 4, up=False)])
        else:
            self.convs = nn.ModuleList(
                [
                    StyleConv(in_channels, out_channels, w_dim, resolution, up=True),
                    StyleConv(out_channels, out_channels, w_dim, resolution, up=False),
                ]
            )
        self.to_rgb = ToRGB(out_channels, w_dim)

    def forward(
        self,
        x: torch.Tensor | None,
        img: torch.Tensor | None,
        ws: torch.Tensor,  # (B, len(convs) + 1, w_dim): the convs' ws, then ToRGB's
        noise_mode: str,
        generator: torch.Generator | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if x is None:
            x = self.const[None].to(ws.dtype).repeat(ws.shape[0], 1, 1, 1)
        for k, conv in enumerate(self.convs):
            x = conv(x, ws[:, k], noise_mode, generator)
        rgb = self.to_rgb(x, ws[:, len(self.convs)])
        return x, rgb if img is None else upsample2x(img) + rgb


class StyleGan2Generator(nn.Module):
    def __init__(self, config: StyleGan2GeneratorConfig) -> None:
        super().__init__()
        self.config = config
        self.mapping = MappingNetwork(config)
        res = config.resolutions
        self.blocks = nn.ModuleList(
            SynthesisBlock(config.channels(max(r // 2, 4)), config.channels(r), config.w_dim, r) for r in res
        )
        # Block i starts at this w index; its ToRGB uses the w of the next block's first conv.
        self.w_starts = [0] + [1 + 2 * i for i in range(len(res) - 1)]

    def _run(
        self,
        ws: torch.Tensor,
        x: torch.Tensor | None,
        img: torch.Tensor | None,
        start: int,
        stop: int,
        noise_mode: str,
        generator: torch.Generator | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if ws.shape[1] != self.config.num_ws:
            raise ValueError(f"expected {self.config.num_ws} ws, got {ws.shape[1]}")
        for i in range(start, stop):
            block, w0 = self.blocks[i], self.w_starts[i]
            x, img = block(x, img, ws[:, w0 : w0 + len(block.convs) + 1], noise_mode, generator)
        return x, img

    def _index(self, resolution: int) -> int:
        if resolution not in self.config.resolutions:
            raise ValueError(f"no synthesis block at {resolution}² (blocks: {self.config.resolutions})")
        return self.config.resolutions.index(resolution)

    def synthesis(
        self, ws: torch.Tensor, noise_mode: str = "random", generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """ws (B, num_ws, w_dim) → image (B, 3, R, R), about [-1, 1] (not clamped)."""
        return self._run(ws, None, None, 0, len(self.blocks), noise_mode, generator)[1]

    def head(
        self,
        ws: torch.Tensor,
        resolution: int = 64,
        noise_mode: str = "random",
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the blocks up to ``resolution``: its features (B, C, r, r) and the skip
        image so far (B, 3, r, r). ``tail`` continues from them."""
        return self._run(ws, None, None, 0, self._index(resolution) + 1, noise_mode, generator)

    def tail(
        self,
        ws: torch.Tensor,
        x: torch.Tensor,
        img: torch.Tensor,
        resolution: int = 64,
        noise_mode: str = "random",
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """The image from the features and skip image at ``resolution`` (see ``head``)."""
        start = self._index(resolution) + 1
        return self._run(ws, x, img, start, len(self.blocks), noise_mode, generator)[1]

    def features(self, ws: torch.Tensor, resolution: int = 64, noise_mode: str = "const") -> torch.Tensor:
        """The feature maps (B, C, r, r) after the block at ``resolution`` (what ugen clusters)."""
        return self.head(ws, resolution, noise_mode)[0]

    def forward(
        self,
        z: torch.Tensor,
        *,
        truncation_psi: float = 1.0,
        noise_mode: str = "random",
        mix_z: torch.Tensor | None = None,  # style mixing: ws from mix_cutoff on come from mix_z
        mix_cutoff: int | None = None,
        track_w_avg: bool = False,
        generator: torch.Generator | None = None,  # for the random noise images
    ) -> torch.Tensor:
        """z (B, z_dim) → image (B, 3, R, R)."""
        ws = self.mapping(z, truncation_psi=truncation_psi, track_w_avg=track_w_avg)
        if mix_z is not None and mix_cutoff is not None:
            other = self.mapping(mix_z, truncation_psi=truncation_psi)
            ws = torch.cat((ws[:, :mix_cutoff], other[:, mix_cutoff:]), dim=1)
        return self.synthesis(ws, noise_mode, generator)

    @torch.no_grad()
    def estimate_w_avg(self, num_samples: int = 10000, seed: int = 0) -> None:
        """Set ``w_avg`` to the mean w of ``num_samples`` fixed z's (e.g. for the EMA
        generator, whose averaged buffer lags its averaged mapping)."""
        gen = torch.Generator().manual_seed(seed)
        z = torch.randn(num_samples, self.config.z_dim, generator=gen).to(self.mapping.w_avg.device)
        w = self.mapping(z)[:, 0]
        self.mapping.w_avg.copy_(w.float().mean(dim=0))


class DiscriminatorBlock(nn.Module):
    """conv 3×3 → ×½ → conv 3×3, plus a ×½ → 1×1 skip; the sum scaled by √½.

    Downsampling before the second conv (StyleGAN2 blurs, then convolves with stride 2)
    keeps its cost at the lower resolution."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3, activation=True)
        self.conv1 = EqualConv2d(in_channels, out_channels, 3, activation=True)
        self.skip = EqualConv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.skip(downsample2x(x))
        x = self.conv1(downsample2x(self.conv0(x)))
        return (x + skip) * 0.5**0.5


class StyleGan2Discriminator(nn.Module):
    def __init__(self, config: StyleGan2DiscriminatorConfig) -> None:
        super().__init__()
        self.config = config
        c = config.channels
        res = [2**k for k in range(config.resolution.bit_length() - 1, 2, -1)]  # R, R/2, …, 8
        self.from_rgb = EqualConv2d(3, c(config.resolution), 1, activation=True)
        self.blocks = nn.Sequential(*(DiscriminatorBlock(c(r), c(r // 2)) for r in res))
        self.conv = EqualConv2d(c(4) + config.mbstd_channels, c(4), 3, activation=True)
        self.fc = EqualLinear(c(4) * 16, c(4), activation=True)
        self.out = EqualLinear(c(4), 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """image (B, 3, R, R) → logits (B,) (real: high)."""
        x = self.blocks(self.from_rgb(image))
        x = minibatch_stddev(x, self.config.mbstd_group, self.config.mbstd_channels)
        x = self.fc(self.conv(x).flatten(1))
        return self.out(x)[:, 0]
