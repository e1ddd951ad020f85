"""RESAIL: Shi, Liu, Wei, Wu, Zuo.
"Retrieval-based Spatially Adaptive Normalization for Semantic Image Synthesis", CVPR 2022.

Generator: the SPADE skeleton (head_0, G_middle_0, G_middle_1, up_0 … up_3, and up_4 in
``most`` mode; widths ngf × [16, 16, 16, 16, 8, 4, 2, 1, ½]; ``fc`` a 3×3 conv on the map
nearest-sampled to the latent grid, so no noise) in which every normalisation — norm_0,
norm_1 and the shortcut's norm_s — is a RESAIL layer (official class ``SIN``):

- semantic branch (SPADE): ``mlp_shared`` 3×3 (cond_nc → 128) + ReLU, then ``mlp_gamma`` /
  ``mlp_beta`` 3×3 → γˢ, βˢ, on the map nearest-resized to the features;
- guidance branch: the guidance image bilinearly resized to the features, then ``conv1``
  3×3 (3 → 128) → AdaIN₁ → ReLU → ``conv2`` 3×3 → AdaIN₂ → ReLU → ``conv3`` 3×3, then
  ``conv_gamma`` / ``conv_beta`` 3×3 → γʳ, βʳ;
- the AdaIN parameters come from the semantic map: c₁ = GAP(``conv_s`` 3×3, stride 2, no
  padding (cond_nc → 256)) — its first 128 channels scale AdaIN₁, the last 128 are its bias —
  and c₂ = ``conv_s2`` 1×1 (256 → 256)(c₁) for AdaIN₂ (scale · IN(f) + bias, no "1 +");
- fusion: γ = σ(α_γ)·γʳ + (1 − σ(α_γ))·γˢ, β likewise, with ``blending_gamma`` /
  ``blending_beta`` = α starting at 0 (weight ½ each); out = BN(x)·(1 + γ) + β.

The official code applies σ(α) to the *guidance* branch; the supplement's eq. 8 writes it on
the semantic one. The two agree at the start (σ(0) = ½); we follow the code.

Parameter names and registration order follow Shi-Yupeng/RESAIL-For-SIS
(``models/networks/{generator,architecture,normalization}.py``), so its state dicts load
with ``strict=True``. No RESAIL checkpoint has been published.

Guidance input: (B, 3, H, W) in [-1, 1], −1 where nothing was retrieved — the official
composite is built in [0, 2] from zeros and shifted by −1, i.e. the uint8 0 that
:func:`engine.retrieval.compose_guidance` leaves. The official net takes no validity mask
(the RESAIL layer's first conv sees 3 channels); ``forward`` accepts one anyway and writes
−1 into the empty pixels itself, so whatever a caller left there cannot leak in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.networks.blocks import (
    PARAM_FREE_NORMS,
    UPSAMPLING_STEPS,
    SkeletonConfig,
    resize_nearest,
    skeleton_blocks,
    sn,
    upsamples_before,
)
from engine.networks.sesame_d import SesameDiscriminatorConfig

EMPTY_GUIDANCE = -1.0  # value of guidance pixels with no retrieved segment (official: uint8 0)
MIN_GRID = 3  # conv_s is 3×3 without padding: every feature map must be at least 3×3


@dataclass
class ResailGeneratorConfig(SkeletonConfig):
    FAMILY = "RESAIL"

    semantic_nc: int  # class one-hot channels, dontcare included, edge channel excluded
    instance_edges: bool = False  # an instance-edge channel follows the one-hot (official runs: off)
    ngf: int = 64  # base width (official 64)
    num_upsampling: str = "normal"  # "more": a ×2 before G_middle_1 (Cityscapes); "most": also up_4
    latent_size: tuple[int, int] = (8, 8)  # (h, w) grid fc starts from at the training size
    spectral_norm: bool = True  # on the res-block convs ("spectral" in norm_G)
    param_free_norm: str = "batch"  # the normaliser of x in every RESAIL layer (official syncbatch)
    norm_kernel: int = 3  # kernel of mlp_shared, mlp_gamma/beta, conv_gamma/beta ("3x3" of norm_G)
    spade_hidden: int = 128  # semantic branch width (n_hidden, a literal 128 officially)
    style_length: int = 128  # guidance branch width; conv_s makes 2 × this AdaIN parameters
    # "nearest" is the official ×2; "bilinear" (beyond the paper) against the grid/stripe
    # artefacts of early training. No parameters: weights load either way.
    upsample: str = "nearest"

    def __post_init__(self) -> None:
        if self.num_upsampling not in UPSAMPLING_STEPS:
            raise ValueError(
                f"num_upsampling must be one of {tuple(UPSAMPLING_STEPS)}, got {self.num_upsampling!r}"
            )
        if self.param_free_norm not in PARAM_FREE_NORMS:
            raise ValueError(
                f"param_free_norm must be one of {PARAM_FREE_NORMS}, got {self.param_free_norm!r}"
            )
        if self.upsample not in ("nearest", "bilinear"):
            raise ValueError(f"upsample must be 'nearest' or 'bilinear', got {self.upsample!r}")
        if self.num_upsampling == "most" and self.ngf < 2:
            raise ValueError("'most' upsampling halves ngf for up_4: ngf must be at least 2")
        self.latent_size = (int(self.latent_size[0]), int(self.latent_size[1]))
        if min(self.latent_size) < MIN_GRID:
            raise ValueError(
                f"RESAIL needs a latent grid of at least {MIN_GRID}×{MIN_GRID} (conv_s is an unpadded "
                f"3×3), got {self.latent_size[0]}×{self.latent_size[1]}"
            )


@dataclass
class ResailConfig:
    """The nets of one RESAIL model; stored in the weights folder's config.json."""

    generator: ResailGeneratorConfig
    discriminator: SesameDiscriminatorConfig = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        g = self.generator
        if self.discriminator is None:
            self.discriminator = SesameDiscriminatorConfig(g.semantic_nc, instance_edges=g.instance_edges)
        d = self.discriminator
        if (d.semantic_nc, d.instance_edges) != (g.semantic_nc, g.instance_edges):
            raise ValueError("the discriminator must read the generator's label channels")

    @classmethod
    def paper(cls, semantic_nc: int, instance_edges: bool = False) -> ResailConfig:
        """The official configuration at 256² (ngf 64, ndf 64, 2 scales × 4 layers)."""
        return cls(ResailGeneratorConfig.for_output(semantic_nc, 256, 256, instance_edges=instance_edges))

    @classmethod
    def small(cls, semantic_nc: int, instance_edges: bool = False, size: int = 96) -> ResailConfig:
        """A tiny model for tests and CPU runs: widths / 32, branch widths 8, D ndf 4.

        96² is the smallest ``normal`` size: the 3×3 latent grid conv_s needs.
        """
        g = ResailGeneratorConfig.for_output(
            semantic_nc, size, size, instance_edges=instance_edges, ngf=2, spade_hidden=8, style_length=8
        )
        return cls(g, SesameDiscriminatorConfig(semantic_nc, instance_edges=instance_edges, ndf=4))


def guidance_to_tensor(image: np.ndarray, valid: np.ndarray) -> torch.Tensor:
    """A guidance image (H×W×3 uint8) and its valid mask (H×W bool) → (3, H, W) float32 in
    [-1, 1], the empty value wherever ``valid`` is False."""
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(127.5).sub_(1.0)
    keep = torch.from_numpy(np.ascontiguousarray(valid, dtype=bool))[None]
    return torch.where(keep, x, torch.full_like(x, EMPTY_GUIDANCE))


# ------------------------------------------------------------------------ blocks
def adain(x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Affine-free InstanceNorm (eps 1e-5), then a per-image scale and bias (official
    ``AdaIN``, which holds no parameters; no "1 +")."""
    return scale * F.instance_norm(x, eps=1e-5) + bias


class ResailNorm(nn.Module):
    """The RESAIL layer (official ``SIN``): BN(x)·(1 + γ) + β, γ and β fused from both branches."""

    def __init__(
        self,
        *,
        norm_nc: int,  # channels of the normalised features
        cond_nc: int,  # channels of the semantic map
        kernel_size: int = 3,  # of mlp_shared, mlp_gamma/beta, conv_gamma/beta
        spade_hidden: int = 128,  # semantic branch width
        style_length: int = 128,  # guidance branch width
        param_free_norm: str = "batch",  # "batch" (running stats in eval) or "instance"
    ) -> None:
        super().__init__()
        pad = kernel_size // 2
        # Registered in the official order so state_dict() order matches too.
        self.blending_gamma = nn.Parameter(torch.zeros(1))  # σ(0) = ½: both branches equal at the start
        self.blending_beta = nn.Parameter(torch.zeros(1))
        self.param_free_norm = (
            nn.BatchNorm2d(norm_nc, affine=False)
            if param_free_norm == "batch"
            else nn.InstanceNorm2d(norm_nc, affine=False)
        )
        self.style_length = style_length
        self.conv1 = nn.Conv2d(3, style_length, 3, padding=1)
        self.conv2 = nn.Conv2d(style_length, style_length, 3, padding=1)
        self.conv3 = nn.Conv2d(style_length, style_length, 3, padding=1)
        self.conv_s = nn.Conv2d(cond_nc, 2 * style_length, 3, stride=2)
        self.conv_s2 = nn.Conv2d(2 * style_length, 2 * style_length, 1)
        self.conv_gamma = nn.Conv2d(style_length, norm_nc, kernel_size, padding=pad)
        self.conv_beta = nn.Conv2d(style_length, norm_nc, kernel_size, padding=pad)
        self.mlp_shared = nn.Sequential(nn.Conv2d(cond_nc, spade_hidden, kernel_size, padding=pad), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(spade_hidden, norm_nc, kernel_size, padding=pad)
        self.mlp_beta = nn.Conv2d(spade_hidden, norm_nc, kernel_size, padding=pad)

    def adain_params(self, seg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """c₁ = GAP(conv_s(seg)) and c₂ = conv_s2(c₁), each (B, 2·style_length, 1, 1).

        GAP of a conv is the conv of the GAP of its input windows: averaging the nine
        stride-2 sub-grids of ``seg`` that the 3×3 taps read, then applying conv_s to
        that 3×3 map, gives the official result without the full-resolution conv (which
        at 256² would cost ~5 GFLOP per layer for a 151-class map).
        """
        h, w = seg.shape[-2:]
        if h < MIN_GRID or w < MIN_GRID:
            raise ValueError(f"RESAIL layers need features of at least {MIN_GRID}×{MIN_GRID}, got {h}×{w}")
        ho, wo = (h - 3) // 2 + 1, (w - 3) // 2 + 1
        taps = [
            [seg[..., i : i + 2 * ho - 1 : 2, j : j + 2 * wo - 1 : 2].mean(dim=(-2, -1)) for j in range(3)]
            for i in range(3)
        ]
        window_means = torch.stack([torch.stack(row, dim=-1) for row in taps], dim=-2)  # (B, C, 3, 3)
        c1 = self.conv_s(window_means)
        return c1, self.conv_s2(c1)

    def modulation(self, seg: torch.Tensor, guidance: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Fused γ, β for a semantic map and a guidance image already at the feature size."""
        c1, c2 = self.adain_params(seg)
        n = self.style_length
        f = self.conv1(guidance)
        f = F.relu(adain(f, c1[:, :n], c1[:, n:]))
        f = self.conv2(f)
        f = F.relu(adain(f, c2[:, :n], c2[:, n:]))
        f = self.conv3(f)
        gamma_r, beta_r = self.conv_gamma(f), self.conv_beta(f)
        actv = self.mlp_shared(seg)
        gamma_s, beta_s = self.mlp_gamma(actv), self.mlp_beta(actv)
        a_gamma, a_beta = torch.sigmoid(self.blending_gamma), torch.sigmoid(self.blending_beta)
        gamma = a_gamma * gamma_r + (1 - a_gamma) * gamma_s
        beta = a_beta * beta_r + (1 - a_beta) * beta_s
        return gamma, beta

    def forward(self, x: torch.Tensor, seg: torch.Tensor, guidance: torch.Tensor) -> torch.Tensor:
        normalized = self.param_free_norm(x)
        size = (x.shape[-2], x.shape[-1])
        gamma, beta = self.modulation(resize_nearest(seg, size), resize_guidance(guidance, size))
        return normalized * (1 + gamma) + beta


def resize_guidance(guidance: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The guidance image at the feature size: bilinear, align_corners False, no antialias
    (the official ``F.interpolate(..., mode='bilinear')``)."""
    if tuple(guidance.shape[-2:]) == tuple(size):
        return guidance
    return F.interpolate(guidance, size=size, mode="bilinear", align_corners=False)


class ResailResBlock(nn.Module):
    """SPADE's residual block with a RESAIL layer before each conv, the shortcut's included."""

    def __init__(self, *, fin: int, fout: int, config: ResailGeneratorConfig) -> None:
        super().__init__()
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        self.conv_0 = sn(nn.Conv2d(fin, fmiddle, 3, padding=1), config.spectral_norm)
        self.conv_1 = sn(nn.Conv2d(fmiddle, fout, 3, padding=1), config.spectral_norm)
        if self.learned_shortcut:
            self.conv_s = sn(nn.Conv2d(fin, fout, 1, bias=False), config.spectral_norm)
        norm = {
            "cond_nc": config.cond_nc,
            "kernel_size": config.norm_kernel,
            "spade_hidden": config.spade_hidden,
            "style_length": config.style_length,
            "param_free_norm": config.param_free_norm,
        }
        self.norm_0 = ResailNorm(norm_nc=fin, **norm)
        self.norm_1 = ResailNorm(norm_nc=fmiddle, **norm)
        if self.learned_shortcut:
            self.norm_s = ResailNorm(norm_nc=fin, **norm)

    def forward(self, x: torch.Tensor, seg: torch.Tensor, guidance: torch.Tensor) -> torch.Tensor:
        x_s = self.conv_s(self.norm_s(x, seg, guidance)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, seg, guidance), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, seg, guidance), 0.2))
        return x_s + dx


# ------------------------------------------------------------------------ generator
class ResailGenerator(nn.Module):
    def __init__(self, config: ResailGeneratorConfig) -> None:
        super().__init__()
        self.config = config
        w = config.widths
        self.fc = nn.Conv2d(config.cond_nc, w[0], 3, padding=1)
        self.blocks = skeleton_blocks(config.num_upsampling)
        for i, name in enumerate(self.blocks):
            self.add_module(name, ResailResBlock(fin=w[i], fout=w[i + 1], config=config))
        self.conv_img = nn.Conv2d(w[-1], 3, 3, padding=1)

    def latent_grid(self, height: int, width: int) -> tuple[int, int]:
        """H/scale × W/scale when both divide (any such canvas at its own size); otherwise
        the training grid, as the official net always does."""
        s = self.config.scale
        if height % s == 0 and width % s == 0:
            return height // s, width // s
        return self.config.latent_size

    def forward(
        self, cond: torch.Tensor, guidance: torch.Tensor, valid: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Synthesise a (B, 3, H', W') image in [-1, 1].

        cond: (B, cond_nc, H, W) one-hot [+ instance edges]; guidance: (B, 3, H, W) in
        [-1, 1], −1 where empty; valid: optional (B, 1, H, W) or (B, H, W), nonzero where
        the guidance holds retrieved pixels — elsewhere the guidance is set to −1 here.
        """
        cfg = self.config
        if cond.shape[1] != cfg.cond_nc:
            edge = " + 1 instance-edge channel" if cfg.instance_edges else " (no edge channel)"
            raise ValueError(
                f"RESAIL expects {cfg.semantic_nc} one-hot channels{edge}, got {cond.shape[1]} channels"
            )
        if guidance.dim() != 4 or guidance.shape[1] != 3 or guidance.shape[0] != cond.shape[0]:
            raise ValueError(f"the guidance must be (B, 3, H, W) like the map; got {tuple(guidance.shape)}")
        if guidance.shape[-2:] != cond.shape[-2:]:
            raise ValueError(
                f"the guidance ({tuple(guidance.shape[-2:])}) must have the map's size "
                f"({tuple(cond.shape[-2:])})"
            )
        dtype = self.conv_img.weight.dtype
        cond, guidance = cond.to(dtype), guidance.to(dtype)
        if valid is not None:
            keep = (valid if valid.dim() == 4 else valid[:, None]) != 0
            guidance = torch.where(keep, guidance, torch.full_like(guidance, EMPTY_GUIDANCE))
        grid = self.latent_grid(*cond.shape[-2:])
        if min(grid) < MIN_GRID:
            raise ValueError(
                f"RESAIL needs maps of at least {MIN_GRID * cfg.scale}² pixels here (3×3 latent grid)"
            )
        x = self.fc(resize_nearest(cond, grid))
        resized: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor]] = {}
        for name in self.blocks:
            if upsamples_before(name, cfg.num_upsampling):
                x = (
                    F.interpolate(x, scale_factor=2.0, mode="nearest")
                    if cfg.upsample == "nearest"
                    else F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
                )
            size = (x.shape[-2], x.shape[-1])
            if size not in resized:  # every RESAIL layer at this size reads the same inputs
                resized[size] = (resize_nearest(cond, size), resize_guidance(guidance, size))
            x = getattr(self, name)(x, *resized[size])
        return torch.tanh(self.conv_img(F.leaky_relu(x, 0.2)))
