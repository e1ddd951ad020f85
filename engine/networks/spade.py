"""SPADE / GauGAN: Park, Liu, Wang, Zhu.
"Semantic Image Synthesis with Spatially-Adaptive Normalization", CVPR 2019.

Generator: the SPADE skeleton (head_0, G_middle_0, G_middle_1, up_0 … up_3, and up_4 in
``most`` mode, on widths ngf × [16, 16, 16, 16, 8, 4, 2, 1, ½]) with a SPADE layer before
every conv of every residual block. It starts either from the label map itself —
``fc`` is a 3×3 conv on the map nearest-sampled to the latent grid, so the output is
deterministic (the released models) — or, with ``use_vae``, from a noise vector z
through a Linear whose output is viewed as the latent grid.

Encoder (``use_vae`` only): six stride-2 3×3 convs (spectral norm, no bias, affine-free
InstanceNorm, LeakyReLU 0.2) on the photo resized to 256², then two Linears give μ and
log σ² of the z that reproduces the photo's style.

Parameter names and registration order follow NVlabs/SPADE so the released
``latest_net_G.pth`` (and ``latest_net_E.pth``) load with ``strict=True`` (see
``shared/fixtures/official``). Unlike the official generator, z is an input: a
``use_vae`` net never draws its own noise.

Input layout: ``cond`` (B, semantic_nc [+ 1], H, W) = the class one-hot (dontcare channel
where the dataset has one) followed, with ``instance_edges``, by the instance-edge map
(:func:`engine.networks.blocks.instance_edges`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from engine.networks.blocks import (
    PARAM_FREE_NORMS,
    UPSAMPLING_STEPS,
    SkeletonConfig,
    SpadeResBlock,
    resize_nearest,
    skeleton_blocks,
    sn,
    upsamples_before,
)


# ------------------------------------------------------------------------ configs
@dataclass
class SpadeGeneratorConfig(SkeletonConfig):
    FAMILY = "SPADE"

    semantic_nc: int  # class one-hot channels, dontcare included, edge channel excluded
    instance_edges: bool = True  # an instance-edge channel follows the one-hot (official no_instance off)
    ngf: int = 64  # base width; the released models use 64
    num_upsampling: str = "normal"  # "more": a ×2 before G_middle_1; "most": also up_4 at the end
    latent_size: tuple[int, int] = (8, 8)  # (h, w) grid fc starts from at the training size
    use_vae: bool = False  # start from a noise vector (Linear fc) instead of the label map (conv fc)
    z_dim: int = 256  # length of that vector (use_vae only; no weight depends on it otherwise)
    spectral_norm: bool = True  # on the res-block convs ("spectral" in the official norm_G)
    param_free_norm: str = "batch"  # SPADE's normaliser: "batch" (syncbatch) or "instance"
    spade_kernel: int = 3  # SPADE conv kernel (the "3x3" of norm_G)
    spade_hidden: int = 128  # SPADE shared-conv width (hard-coded 128 officially)

    def __post_init__(self) -> None:
        if self.num_upsampling not in UPSAMPLING_STEPS:
            raise ValueError(
                f"num_upsampling must be one of {tuple(UPSAMPLING_STEPS)}, got {self.num_upsampling!r}"
            )
        if self.param_free_norm not in PARAM_FREE_NORMS:
            raise ValueError(
                f"param_free_norm must be one of {PARAM_FREE_NORMS}, got {self.param_free_norm!r}"
            )
        if self.num_upsampling == "most" and self.ngf < 2:
            raise ValueError("'most' upsampling halves ngf for up_4: ngf must be at least 2")
        self.latent_size = (int(self.latent_size[0]), int(self.latent_size[1]))


@dataclass
class SpadeEncoderConfig:
    """The VAE image encoder (official ``ConvEncoder``, norm_E ``spectralinstance``)."""

    ndf: int = 64  # base width (the official code reuses the generator's ngf)
    z_dim: int = 256  # length of μ and log σ² (a literal 256 in the official code)
    layers: int = 6  # stride-2 convs; the photo is resized to 4 · 2^layers (256 for six)
    spectral_norm: bool = True

    @property
    def widths(self) -> list[int]:
        return [m * self.ndf for m in (1, 2, 4, 8, 8, 8, 8, 8)[: self.layers]]

    @property
    def input_size(self) -> int:
        """The side the photo is resized to; the last conv leaves a 4×4 grid."""
        return 4 * 2**self.layers


# Released models: dataset → (one-hot channels, (H, W), upsampling mode, instance edges)
PAPER_DATASETS: dict[str, tuple[int, tuple[int, int], str, bool]] = {
    "ade20k": (151, (256, 256), "normal", False),
    "cityscapes": (35, (256, 512), "more", True),
    "coco": (183, (256, 256), "normal", True),
}


@dataclass
class SpadeConfig:
    """The nets of one SPADE model; stored in the weights folder's config.json."""

    generator: SpadeGeneratorConfig
    encoder: SpadeEncoderConfig | None = field(default=None)  # only with use_vae

    def __post_init__(self) -> None:
        if self.encoder is not None:
            if not self.generator.use_vae:
                raise ValueError("an encoder needs a use_vae generator (the label-map generator takes no z)")
            if self.encoder.z_dim != self.generator.z_dim:
                e, g = self.encoder.z_dim, self.generator.z_dim
                raise ValueError(f"the encoder makes {e}-long codes; the generator takes {g}")

    @classmethod
    def paper(cls, dataset: str) -> SpadeConfig:
        """The released configuration for ade20k, cityscapes or coco (use_vae off)."""
        if dataset not in PAPER_DATASETS:
            raise ValueError(f"unknown SPADE dataset {dataset!r} (released: {', '.join(PAPER_DATASETS)})")
        nc, (h, w), mode, edges = PAPER_DATASETS[dataset]
        return cls(SpadeGeneratorConfig.for_output(nc, h, w, num_upsampling=mode, instance_edges=edges))


# ------------------------------------------------------------------------ generator
class SpadeGenerator(nn.Module):
    def __init__(self, config: SpadeGeneratorConfig) -> None:
        super().__init__()
        self.config = config
        w = config.widths
        h, ww = config.latent_size
        # Registration order matches the official module so state_dict() order does too.
        if config.use_vae:
            self.fc: nn.Module = nn.Linear(config.z_dim, w[0] * h * ww)
        else:
            self.fc = nn.Conv2d(config.cond_nc, w[0], 3, padding=1)
        self.blocks = skeleton_blocks(config.num_upsampling)
        for i, name in enumerate(self.blocks):
            block = SpadeResBlock(
                fin=w[i],
                fout=w[i + 1],
                cond_nc=config.cond_nc,
                spade_hidden=config.spade_hidden,
                spade_kernel=config.spade_kernel,
                spectral_norm=config.spectral_norm,
                param_free_norm=config.param_free_norm,
                norm_name="param_free_norm",
            )
            self.add_module(name, block)
        self.conv_img = nn.Conv2d(w[-1], 3, 3, padding=1)

    def latent_grid(self, height: int, width: int) -> tuple[int, int]:
        """The grid fc starts from for an H × W map. The official net always uses the
        training grid (a map of another size gives an image of the training size); when
        H and W are multiples of ``config.scale`` we use H/scale × W/scale instead, so one
        model paints any such canvas at its own size — the same at the training size."""
        s = self.config.scale
        if height % s == 0 and width % s == 0:
            return height // s, width // s
        return self.config.latent_size

    def forward(self, cond: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """Synthesise a (B, 3, H', W') image in [-1, 1] from ``cond`` (B, cond_nc, H, W).

        ``z`` (B, z_dim) is required with ``use_vae`` (standard normal for a random style,
        or the encoder's μ for a photo's) and refused without it.
        """
        cfg = self.config
        if cond.shape[1] != cfg.cond_nc:
            edge = " + 1 instance-edge channel" if cfg.instance_edges else " (no edge channel)"
            raise ValueError(
                f"SPADE expects {cfg.semantic_nc} one-hot channels{edge}, got {cond.shape[1]} channels"
            )
        dtype = self.conv_img.weight.dtype
        cond = cond.to(dtype)
        grid = self.latent_grid(*cond.shape[-2:])
        if cfg.use_vae:
            if z is None:
                raise ValueError("this SPADE generator starts from noise: pass z (B, z_dim)")
            x = self.fc(z.to(dtype)).view(z.shape[0], cfg.widths[0], *cfg.latent_size)
            if grid != cfg.latent_size:  # beyond the paper: fc fixes the grid, resize it
                x = F.interpolate(x, size=grid, mode="bilinear", align_corners=False)
        else:
            if z is not None:
                raise ValueError("this SPADE generator is deterministic (no use_vae): it takes no z")
            x = self.fc(resize_nearest(cond, grid))
        resized: dict[tuple[int, int], torch.Tensor] = {}
        for name in self.blocks:
            if upsamples_before(name, cfg.num_upsampling):
                x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            size = (x.shape[-2], x.shape[-1])
            if size not in resized:  # every SPADE layer at this size reads the same map
                resized[size] = resize_nearest(cond, size)
            x = getattr(self, name)(x, resized[size])
        return torch.tanh(self.conv_img(F.leaky_relu(x, 0.2)))


# ------------------------------------------------------------------------ encoder
class SpadeEncoder(nn.Module):
    """Photo in [-1, 1] → (μ, log σ²) of the z whose style it has (official ``ConvEncoder``)."""

    def __init__(self, config: SpadeEncoderConfig) -> None:
        super().__init__()
        self.config = config
        fin = 3
        for i, width in enumerate(config.widths):
            # No bias: the official code removes it, as the InstanceNorm after it cancels it.
            conv = sn(nn.Conv2d(fin, width, 3, stride=2, padding=1, bias=False), config.spectral_norm)
            self.add_module(f"layer{i + 1}", nn.Sequential(conv, nn.InstanceNorm2d(width, affine=False)))
            fin = width
        self.fc_mu = nn.Linear(fin * 4 * 4, config.z_dim)
        self.fc_var = nn.Linear(fin * 4 * 4, config.z_dim)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        size = self.config.input_size
        x = image
        if tuple(x.shape[-2:]) != (size, size):
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        for i in range(self.config.layers):
            x = F.leaky_relu(getattr(self, f"layer{i + 1}")(x), 0.2)
        x = x.flatten(1)
        return self.fc_mu(x), self.fc_var(x)
