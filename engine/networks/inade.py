"""INADE: Tan, Chai, Chen, Liao, Chu, Liu, Hua, Yu.
"Diverse Semantic Image Synthesis via Probability Distribution Modeling", CVPR 2021.

Generator: the SPADE skeleton (head_0, G_middle_0, G_middle_1, up_0 … up_3 on widths
ngf × [16, 16, 16, 8, 4, 2, 1]) started from a Linear on a global noise vector, with
every normalisation layer an ILADE ("instance-level adaptive denormalisation") layer:

    n     = BN(x)                                   (parameter-free, running stats in eval)
    m_k   = fc_noise(noise[k, 0]), fc_noise(noise[k, 1])      one (scale, bias) per instance k
    γ(p)  = weight[class(p), :, 0] · m_{inst(p), 0} + bias[class(p), :, 0]
    β(p)  = weight[class(p), :, 1] · m_{inst(p), 1} + bias[class(p), :, 1]
    out   = γ · n + β                                (no "1 +", unlike SPADE)

so each class defines a Gaussian over modulation parameters and each instance draws
one sample from it; the same per-instance noise reaches every layer.

Encoder ("prior noise remapping"): a small U-Net of instance-aware 3×3 convs (a
neighbour only contributes when it has the centre pixel's instance id), InstanceNorm
without affine, bilinear ×2 upsampling; four full-resolution heads averaged inside each
instance give (μ, log σ²) for the scale and the bias noise; ``remap_noise`` turns a
standard-normal draw into a draw from that distribution (n · exp(½ log σ²) + μ).

Discriminator: the multi-scale PatchGAN of SPADE (pix2pixHD layout), fed the class
one-hot, the instance-edge map and the image.

Parameter names follow tzt101/INADE so the released ``best_net_G.pth`` and
``best_net_IE.pth`` load with ``strict=True`` (see ``shared/fixtures/official``).

Tensor layouts used throughout (B = batch, K = number of instances, varies per image):

* ``onehot``     (B, semantic_nc, H, W)  class one-hot, dontcare channel included, **no**
  instance-edge channel (the official generator receives one and drops it unread);
* ``instances``  (B, K, H, W)            instance one-hot (``instance_onehot``);
* ``noise``      (B, K, 2, noise_nc)     per-instance noise, [:, :, 0] drives γ, [:, :, 1] β;
* ``z``          (B, z_dim)              the global vector that feeds ``fc`` (official
  ``noise_ins``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from engine.networks.blocks import instance_edges as instance_edges  # re-exported: INADE's D reads it
from engine.networks.blocks import resize_nearest, skeleton_blocks, sn, upsamples_before
from engine.networks.patchgan import MultiScalePatchGan, PatchGanConfig

UPSAMPLING_MODES = ("normal", "more")


# ------------------------------------------------------------------------ configs
@dataclass
class InadeGeneratorConfig:
    semantic_nc: int  # class one-hot channels, dontcare included, edge channel excluded
    ngf: int = 64  # base width; the released models use 64
    z_dim: int = 256  # length of the global noise vector fed to fc
    noise_nc: int = 64  # per-instance noise length (8 for the DeepFashion release)
    latent_size: tuple[int, int] = (8, 8)  # (h, w) grid fc's output is viewed as
    num_upsampling: str = "normal"  # "more" adds a ×2 between G_middle_0 and G_middle_1
    spectral_norm: bool = True  # on the res-block convs (conv_0, conv_1, conv_s)
    # "nearest" is the official layout; "bilinear" (beyond the paper) against the grid and
    # stripe artefacts of early training. No parameters: weights load either way.
    upsample: str = "nearest"

    def __post_init__(self) -> None:
        if self.upsample not in ("nearest", "bilinear"):
            raise ValueError(f"upsample must be 'nearest' or 'bilinear', got {self.upsample!r}")
        if self.num_upsampling not in UPSAMPLING_MODES:
            raise ValueError(f"num_upsampling must be one of {UPSAMPLING_MODES}, got {self.num_upsampling!r}")
        self.latent_size = (int(self.latent_size[0]), int(self.latent_size[1]))

    @property
    def widths(self) -> list[int]:
        return [m * self.ngf for m in (16, 16, 16, 16, 8, 4, 2, 1)]

    @property
    def scale(self) -> int:
        """Output size / latent size: 32 (``normal``) or 64 (``more``)."""
        return 2 ** (5 if self.num_upsampling == "normal" else 6)

    @property
    def output_size(self) -> tuple[int, int]:
        """(H, W) of every image this generator makes (fc fixes the latent grid)."""
        return self.latent_size[0] * self.scale, self.latent_size[1] * self.scale

    @classmethod
    def for_output(
        cls,
        semantic_nc: int,
        height: int,
        width: int,
        *,
        num_upsampling: str = "normal",
        **kwargs: int | bool,
    ) -> InadeGeneratorConfig:
        """The config whose output is height × width (the latent grid follows from it)."""
        s = 2 ** (5 if num_upsampling == "normal" else 6)
        if height % s or width % s:
            raise ValueError(f"INADE ({num_upsampling}) needs H and W divisible by {s}; got {height}×{width}")
        return cls(
            semantic_nc=semantic_nc,
            latent_size=(height // s, width // s),
            num_upsampling=num_upsampling,
            **kwargs,  # type: ignore[arg-type]
        )


@dataclass
class InadeEncoderConfig:
    ngf: int = 64  # base width of the U-Net (the official code reuses the generator's ngf)
    noise_nc: int = 64  # length of each predicted μ / log σ² vector

    @property
    def size_multiple(self) -> int:
        """The image's H and W must be multiples of this (four stride-2 convs)."""
        return 16


# Released models: dataset → (class channels, (H, W), upsampling mode, noise_nc)
PAPER_DATASETS: dict[str, tuple[int, tuple[int, int], str, int]] = {
    "ade20k": (151, (256, 256), "normal", 64),
    "cityscapes": (35, (256, 512), "more", 64),
    "celeba": (19, (256, 256), "normal", 64),
    "deepfashion": (8, (256, 256), "normal", 8),
}


@dataclass
class InadeConfig:
    """The three nets of one INADE model; stored in the weights folder's config.json."""

    generator: InadeGeneratorConfig
    encoder: InadeEncoderConfig = field(default=None)  # type: ignore[assignment]
    discriminator: InadeDiscriminatorConfig = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        g = self.generator
        if self.encoder is None:
            self.encoder = InadeEncoderConfig(ngf=g.ngf, noise_nc=g.noise_nc)
        if self.discriminator is None:
            self.discriminator = InadeDiscriminatorConfig(semantic_nc=g.semantic_nc)
        if self.encoder.noise_nc != g.noise_nc:
            raise ValueError(
                f"encoder noise_nc {self.encoder.noise_nc} differs from the generator's {g.noise_nc}"
            )

    @classmethod
    def paper(cls, dataset: str) -> InadeConfig:
        """The released configuration for ade20k, cityscapes, celeba or deepfashion."""
        if dataset not in PAPER_DATASETS:
            raise ValueError(f"unknown INADE dataset {dataset!r} (released: {', '.join(PAPER_DATASETS)})")
        nc, (h, w), mode, noise_nc = PAPER_DATASETS[dataset]
        return cls(InadeGeneratorConfig.for_output(nc, h, w, num_upsampling=mode, noise_nc=noise_nc))

    @classmethod
    def small(
        cls, semantic_nc: int, ngf: int = 2, size: tuple[int, int] = (64, 128), noise_nc: int = 8
    ) -> InadeConfig:
        """A tiny model for tests: the fixture's generator and encoder, D widths / 16."""
        return cls(
            InadeGeneratorConfig.for_output(semantic_nc, *size, ngf=ngf, z_dim=32, noise_nc=noise_nc),
            InadeEncoderConfig(ngf=ngf, noise_nc=noise_nc),
            InadeDiscriminatorConfig(semantic_nc=semantic_nc, ndf=4),
        )


# ------------------------------------------------------------------------ helpers
def instance_onehot(ids: torch.Tensor, num: int | None = None) -> torch.Tensor:
    """Instance ids (B, H, W) or (B, 1, H, W), 0 … K−1 → one-hot (B, K, H, W) float32.

    K defaults to max id + 1, as the official preprocessing does.
    """
    ids = ids.long()
    if ids.dim() == 4:
        ids = ids[:, 0]
    k = int(ids.max()) + 1 if num is None else num
    out = torch.zeros(ids.shape[0], k, *ids.shape[1:], device=ids.device)
    return out.scatter_(1, ids[:, None], 1.0)


def number_instances(channels: torch.Tensor, instances: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Per image, ids 0 … K−1: each object instance (id > 0) is one instance, and the
    rest of every class is that class's one "stuff" instance (as the official code
    treats datasets without instance maps). ``channels``, ``instances``: (B, H, W).
    Returns the ids (B, H, W) and K, the largest count in the batch.
    """
    stuff = int(channels.max()) + 1
    key = torch.where(instances > 0, instances + stuff, channels)
    ids = torch.empty_like(key)
    count = 0
    for b in range(key.shape[0]):
        used, ids[b] = torch.unique(key[b], return_inverse=True)
        count = max(count, int(used.numel()))
    return ids, count


class InstanceStyle(NamedTuple):
    """What the encoder predicts per instance, each (B, K, noise_nc)."""

    scale_mu: torch.Tensor
    scale_logvar: torch.Tensor
    bias_mu: torch.Tensor
    bias_logvar: torch.Tensor


def remap_noise(noise: torch.Tensor, style: InstanceStyle) -> torch.Tensor:
    """Move standard-normal instance noise (B, K, 2, d) to the encoded distributions.

    scale row: n · exp(½ log σ²_γ) + μ_γ; bias row: n · exp(½ log σ²_β) + μ_β. With
    μ = 0, log σ² = 0 (the prior) the noise is unchanged.
    """
    scale = noise[:, :, 0] * torch.exp(0.5 * style.scale_logvar) + style.scale_mu
    bias = noise[:, :, 1] * torch.exp(0.5 * style.bias_logvar) + style.bias_mu
    return torch.stack((scale, bias), dim=2)


# ------------------------------------------------------------------------ generator
@dataclass(frozen=True)
class Pairs:
    """The (image, class, instance) triples of a batch and, at one resolution, which
    triple each pixel has: ``index`` (B, h, w) into the other three (T,) tensors."""

    index: torch.Tensor
    images: torch.Tensor
    classes: torch.Tensor
    instances: torch.Tensor

    @classmethod
    def of(cls, onehot: torch.Tensor, instances: torch.Tensor) -> Pairs | None:
        """The triples of exact one-hot maps; None when either map is soft or empty somewhere."""
        for m in (onehot, instances):
            top, _ = m.max(dim=1)
            if not bool((top == 1).all()) or not bool((m.sum(dim=1) == 1).all()):
                return None
        b, k = instances.shape[0], instances.shape[1]
        classes, ids = onehot.argmax(1), instances.argmax(1)
        key = (torch.arange(b, device=ids.device).view(b, 1, 1) * onehot.shape[1] + classes) * k + ids
        used, index = torch.unique(key, return_inverse=True)
        return cls(index, used // (onehot.shape[1] * k), used // k % onehot.shape[1], used % k)

    def resized(self, size: tuple[int, int]) -> Pairs:
        index = resize_nearest(self.index[:, None].float(), size)[:, 0].long()
        return Pairs(index, self.images, self.classes, self.instances)


class Ilade(nn.Module):
    """One ILADE layer (official class ``ILADE``); see the module docstring."""

    def __init__(self, *, norm_nc: int, classes: int, noise_nc: int) -> None:
        super().__init__()
        # [class, channel, 0 = γ / 1 = β]: per-class scale of the projected noise …
        self.weight = nn.Parameter(torch.empty(classes, norm_nc, 2))
        # … and per-class mean
        self.bias = nn.Parameter(torch.empty(classes, norm_nc, 2))
        self.param_free_norm = nn.BatchNorm2d(norm_nc, affine=False)
        self.fc_noise = nn.Linear(noise_nc, norm_nc)
        nn.init.uniform_(self.weight)  # U(0, 1), as the official layer
        nn.init.zeros_(self.bias)

    def forward(
        self,
        x: torch.Tensor,
        onehot: torch.Tensor | Pairs,
        instances: torch.Tensor | None,
        noise: torch.Tensor,
    ) -> torch.Tensor:
        """x (B, C, h, w); onehot, instances already resized to (h, w); noise (B, K, 2, d).

        With exact one-hot maps the generator passes :class:`Pairs` instead (``instances``
        None): γ and β are then computed once per (image, class, instance) that occurs
        and gathered — the same numbers without the per-pixel products.
        """
        normalized = self.param_free_norm(x)
        c = x.shape[1]
        projected = self.fc_noise(noise)  # (B, K, 2, C)
        if isinstance(onehot, Pairs):
            p = onehot
            scale = self.weight[p.classes].transpose(1, 2)  # (T, 2, C)
            shift = self.bias[p.classes].transpose(1, 2)
            rows = (scale * projected[p.images, p.instances] + shift).reshape(len(p.classes), 2 * c)
            # Gather columns of the (2C, T) table straight into channel-first maps.
            b, h, w = p.index.shape
            mod = rows.t().contiguous().index_select(1, p.index.reshape(-1)).view(2 * c, b, h, w)
            mod = mod.transpose(0, 1)  # (B, 2C, h, w); a view, contiguous when B = 1
            return torch.addcmul(mod[:, c:], mod[:, :c], normalized)
        # Per-pixel class parameters in one product: [w_γ, w_β, b_γ, b_β] (each C wide).
        table = torch.cat((self.weight.unbind(-1) + self.bias.unbind(-1)), dim=1)  # (L, 4C)
        per_class = torch.einsum("lc,blhw->bchw", table, onehot)
        per_inst = torch.einsum("bksc,bkhw->bschw", projected, instances)  # (B, 2, C, h, w)
        w_gamma, w_beta, b_gamma, b_beta = per_class.split(c, dim=1)
        gamma = w_gamma * per_inst[:, 0] + b_gamma
        beta = w_beta * per_inst[:, 1] + b_beta
        return gamma * normalized + beta


class InadeResBlock(nn.Module):
    """SPADE's residual block with ILADE layers (learned shortcut when widths differ)."""

    def __init__(self, *, fin: int, fout: int, classes: int, noise_nc: int, spectral_norm: bool) -> None:
        super().__init__()
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        self.conv_0 = sn(nn.Conv2d(fin, fmiddle, 3, padding=1), spectral_norm)
        self.conv_1 = sn(nn.Conv2d(fmiddle, fout, 3, padding=1), spectral_norm)
        if self.learned_shortcut:
            self.conv_s = sn(nn.Conv2d(fin, fout, 1, bias=False), spectral_norm)
        norm = {"classes": classes, "noise_nc": noise_nc}
        self.norm_0 = Ilade(norm_nc=fin, **norm)
        self.norm_1 = Ilade(norm_nc=fmiddle, **norm)
        if self.learned_shortcut:
            self.norm_s = Ilade(norm_nc=fin, **norm)

    def forward(
        self,
        x: torch.Tensor,
        onehot: torch.Tensor | Pairs,
        instances: torch.Tensor | None,
        noise: torch.Tensor,
    ) -> torch.Tensor:
        cond = (onehot, instances, noise)
        x_s = self.conv_s(self.norm_s(x, *cond)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, *cond), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, *cond), 0.2))
        return x_s + dx


class InadeGenerator(nn.Module):
    BLOCKS = skeleton_blocks("normal")  # "more" has the same blocks, with one more ×2

    def __init__(self, config: InadeGeneratorConfig) -> None:
        super().__init__()
        self.config = config
        w = config.widths
        h, ww = config.latent_size
        # Registration order matches the official module so state_dict() order does too.
        self.fc = nn.Linear(config.z_dim, w[0] * h * ww)
        for i, name in enumerate(self.BLOCKS):
            block = InadeResBlock(
                fin=w[i],
                fout=w[i + 1],
                classes=config.semantic_nc,
                noise_nc=config.noise_nc,
                spectral_norm=config.spectral_norm,
            )
            self.add_module(name, block)
        self.conv_img = nn.Conv2d(w[-1], 3, 3, padding=1)

    def forward(
        self, onehot: torch.Tensor, instances: torch.Tensor, noise: torch.Tensor, z: torch.Tensor
    ) -> torch.Tensor:
        """Synthesise a (B, 3, H', W') image in [-1, 1].

        onehot (B, semantic_nc, H, W) without the edge channel; instances (B, K, H, W);
        noise (B, K, 2, noise_nc), e.g. standard normal or ``remap_noise`` of it;
        z (B, z_dim). In the official code ``fc`` fixes the output size and other label
        sizes are nearest-resized to it; we keep that when H, W are not multiples of
        ``config.scale``. When they are, the image comes out at H × W: ``fc``'s latent
        grid is resized (bilinear) to H/scale × W/scale first — beyond the paper, so one
        model paints any canvas size; at the trained size nothing changes.
        """
        cfg = self.config
        if onehot.shape[1] != cfg.semantic_nc:
            raise ValueError(
                f"INADE expects {cfg.semantic_nc} one-hot channels (no edge channel), got {onehot.shape[1]}"
            )
        if noise.shape[1] != instances.shape[1] or noise.shape[2:] != (2, cfg.noise_nc):
            raise ValueError(
                f"noise must be (B, K={instances.shape[1]}, 2, {cfg.noise_nc}), got {tuple(noise.shape)}"
            )
        dtype = self.fc.weight.dtype
        onehot, instances, noise = onehot.to(dtype), instances.to(dtype), noise.to(dtype)
        x = self.fc(z.to(dtype)).view(z.shape[0], cfg.widths[0], *cfg.latent_size)
        h, w = onehot.shape[-2:]
        if h % cfg.scale == 0 and w % cfg.scale == 0 and (h // cfg.scale, w // cfg.scale) != cfg.latent_size:
            x = F.interpolate(x, size=(h // cfg.scale, w // cfg.scale), mode="bilinear", align_corners=False)
        pairs = Pairs.of(onehot, instances)
        resized: dict[tuple[int, int], tuple] = {}
        for name in self.BLOCKS:
            if upsamples_before(name, cfg.num_upsampling):  # the schedule SPADE's fixture pins
                if cfg.upsample == "bilinear":
                    x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
                else:
                    x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            size = (x.shape[-2], x.shape[-1])
            if size not in resized:  # every layer of a block (and of G_middle_*) shares it
                if pairs is not None:
                    resized[size] = (pairs.resized(size), None)
                else:
                    resized[size] = (resize_nearest(onehot, size), resize_nearest(instances, size))
            x = getattr(self, name)(x, *resized[size], noise)
        return torch.tanh(self.conv_img(F.leaky_relu(x, 0.2)))


# ------------------------------------------------------------------------ encoder
def _instance_aware_conv(
    x: torch.Tensor, ids: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, stride: int
) -> torch.Tensor:
    """3×3 conv (padding 1) in which a neighbour counts only if it shares the centre's id.

    ``ids`` (B, 1, h, w) float instance ids at x's resolution. Computed as nine masked
    1×1 convs, one per kernel tap, which needs no unfolded copy of x.
    """
    _, _, h, w = x.shape
    ho, wo = (h - 1) // stride + 1, (w - 1) // stride + 1
    xp = F.pad(x, (1, 1, 1, 1))
    ip = F.pad(ids, (1, 1, 1, 1), value=-1.0)  # padded x is 0, so the pad id is irrelevant
    centre = ids[:, :, ::stride, ::stride]
    out = None
    for dy in range(3):
        rows = slice(dy, dy + stride * (ho - 1) + 1, stride)
        for dx in range(3):
            cols = slice(dx, dx + stride * (wo - 1) + 1, stride)
            same = (ip[:, :, rows, cols] == centre).to(x.dtype)
            term = F.conv2d(xp[:, :, rows, cols] * same, weight[:, :, dy : dy + 1, dx : dx + 1])
            out = term if out is None else out + term
    assert out is not None
    return out + bias[None, :, None, None]


def _instance_pooled_conv(
    x: torch.Tensor, ids: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, instances: torch.Tensor
) -> torch.Tensor:
    """Σ over each instance's pixels of ``_instance_aware_conv(x, ids, weight, bias, 1)``,
    (B, K, O), without the (B, O, h, w) map: the conv is linear, so each tap's masked input
    is summed over the instance first (C_in wide) and the tap's weights applied after.
    For the encoder's heads (O = 4 × noise_nc = 256 on nf = 16 inputs at full resolution)
    this skips sixteen times the channels, forward and backward.
    """
    _, _, h, w = x.shape
    xp = F.pad(x, (1, 1, 1, 1))
    ip = F.pad(ids, (1, 1, 1, 1), value=-1.0)
    out = None
    for dy in range(3):
        for dx in range(3):
            same = (ip[:, :, dy : dy + h, dx : dx + w] == ids).to(x.dtype)
            summed = torch.einsum("bchw,bkhw->bkc", xp[:, :, dy : dy + h, dx : dx + w] * same, instances)
            term = summed @ weight[:, :, dy, dx].t()
            out = term if out is None else out + term
    assert out is not None
    return out + instances.sum(dim=(2, 3))[..., None] * bias  # the bias once per pixel of the instance


class InstanceAwareConv2d(nn.Module):
    """The official ``InstanceAwareConv2d`` (3×3, padding 1, bias; keys weight, bias)."""

    def __init__(self, fin: int, fout: int, stride: int = 1) -> None:
        super().__init__()
        self.stride = stride
        self.weight = nn.Parameter(torch.empty(fout, fin, 3, 3))
        self.bias = nn.Parameter(torch.empty(fout))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # nn.Conv2d's default
        bound = 1 / math.sqrt(fin * 9)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        return _instance_aware_conv(x, resize_nearest(ids, x.shape[-2:]), self.weight, self.bias, self.stride)


class InadeEncoder(nn.Module):
    """Instance-adaptive encoder (official ``instanceAdaptiveEncoder``)."""

    HEADS = ("scale_conv_mu", "scale_conv_var", "bias_conv_mu", "bias_conv_var")

    def __init__(self, config: InadeEncoderConfig) -> None:
        super().__init__()
        self.config = config
        nf = config.ngf
        self.layer1 = InstanceAwareConv2d(3, nf, stride=2)
        self.layer2 = InstanceAwareConv2d(nf, 2 * nf, stride=2)
        self.layer3 = InstanceAwareConv2d(2 * nf, 4 * nf, stride=2)
        self.layer4 = InstanceAwareConv2d(4 * nf, 8 * nf, stride=2)
        self.middle = InstanceAwareConv2d(8 * nf, 4 * nf)
        self.up1 = InstanceAwareConv2d(8 * nf, 2 * nf)
        self.up2 = InstanceAwareConv2d(4 * nf, nf)
        self.up3 = InstanceAwareConv2d(2 * nf, nf)
        for name in self.HEADS:
            self.add_module(name, InstanceAwareConv2d(nf, config.noise_nc))

    @staticmethod
    def _norm_act(x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(F.instance_norm(x, eps=1e-5), 0.2)

    @staticmethod
    def _up(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)

    def forward(self, image: torch.Tensor, instances: torch.Tensor) -> InstanceStyle:
        """image (B, 3, H, W) in [-1, 1], H and W multiples of 16; instances (B, K, H, W).

        Returns per-instance (μ, log σ²) for the scale and the bias noise, each
        (B, K, noise_nc); an instance without pixels gets zeros.
        """
        m = self.config.size_multiple
        if image.shape[-2] % m or image.shape[-1] % m:
            raise ValueError(
                f"the INADE encoder needs H and W divisible by {m}; got {tuple(image.shape[-2:])}"
            )
        if instances.shape[-2:] != image.shape[-2:]:
            raise ValueError("the instance map must have the image's size")
        instances = instances.to(image.dtype)
        ids = instances.argmax(dim=1, keepdim=True).to(image.dtype)
        x1 = self._norm_act(self.layer1(image, ids))
        x2 = self._norm_act(self.layer2(x1, ids))
        x3 = self._norm_act(self.layer3(x2, ids))
        x4 = self._norm_act(self.layer4(x3, ids))
        y = self._up(self._norm_act(self.middle(x4, ids)))
        y = self._up(self._norm_act(self.up1(torch.cat((y, x3), 1), ids)))
        y = self._up(self._norm_act(self.up2(torch.cat((y, x2), 1), ids)))
        y = self._up(self._norm_act(self.up3(torch.cat((y, x1), 1), ids)))
        # The four heads share their input and mask: run them as one conv.
        heads = [getattr(self, n) for n in self.HEADS]
        weight = torch.cat([h.weight for h in heads])
        bias = torch.cat([h.bias for h in heads])
        # Instance average pooling of the heads' maps (an empty instance divides by 1, giving 0).
        area = instances.sum(dim=(2, 3)).clamp(min=1)  # (B, K)
        pooled = _instance_pooled_conv(y, ids, weight, bias, instances) / area[..., None]
        return InstanceStyle(*pooled.split(self.config.noise_nc, dim=2))


# INADE's names for the shared discriminator (engine/networks/patchgan.py).
InadeDiscriminatorConfig = PatchGanConfig
InadeDiscriminator = MultiScalePatchGan
