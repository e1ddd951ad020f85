"""MSCA: Zheng, Liao, Ahn, Luo. "Example-Guided Image Synthesis using Masked
Spatial-Channel Attention and Self-Supervision", ECCV 2020.

No official code or weights exist; this is our implementation of the paper and its
supplement (``shared/papers/msca-supplement.md``). Inputs: the target label map c₁, an
exemplar image x₂ and the exemplar's label map c₂. At every scale i:

* feature pyramids give F_x2 (exemplar image), F_c2 (exemplar labels), F_c1 (target labels);
* **spatial attention** pools the exemplar into K region descriptors: unnormalised
  α̃ = 1×1 conv([F_x2 ‖ F_c2]) (K maps), α = softmax over the exemplar's positions,
  V_k = Σ_p α_k(p) F_x2(p);
* **masking**: a 2-layer MLP scores each descriptor, m = σ(score), Ṽ = m · V — regions
  with no counterpart in the target can be switched off;
* **channel attention** redistributes them: β̃ = 1×1 conv(F_c1) (K maps), β = softmax
  over the K slots at each target position, F_x1(p) = Σ_k β_k(p) Ṽ_k;
* the synthesis module (supplement Sec. 6): SPADE residual blocks with upsampling,
  conditioned on [F_x1 ‖ F_c1] of their scale.

Style interpolation (supplement Sec. 1) works on the unnormalised attentions: *global*
— both exemplars' α̃ are concatenated along the positions, shifted by log γ and
log(1 − γ) (the paper's log(γ/(1−γ)) on one of them, up to a shift softmax ignores), and
the masking scores are interpolated; *spatial* — both exemplars' Ṽ are concatenated along
the slots and the channel attention shifted by log γ(p), log(1 − γ(p)) per position, so
a painted weight map blends two styles across the image. At γ = 0 or 1 the log of zero is
−∞ and the result is exactly the single-exemplar output.

``attention="gap"`` is the paper's no-attention baseline: every target position gets the
exemplar's globally average-pooled features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from engine.networks.blocks import SpadeResBlock
from engine.networks.patchgan import PatchGanConfig  # the SPADE-style multi-scale PatchGAN

ATTENTIONS = ("msca", "gap")


@dataclass
class MscaConfig:
    semantic_nc: int  # one-hot channels of both label maps
    base: int = 32  # width at the finest scale; doubles per coarser scale (capped at 8·base)
    scales: int = 4  # MSCA at 1/2 … 1/2^scales of the image size
    slots: int = 16  # K region descriptors per scale
    mask_hidden: int = 64  # width of the masking MLP
    spade_hidden: int = 64
    attention: str = "msca"  # "msca" or "gap" (the paper's baseline)
    # InstanceNorm in the exemplar-image pyramid divides out each channel's mean and spread
    # over the image — the global colour and contrast that make a style — so our configs
    # leave it out ("none"); "instance" is kept for weights trained with it (the default
    # of configs written before the field existed).
    image_norm: str = "instance"
    spectral_norm: bool = True

    def __post_init__(self) -> None:
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {self.attention!r}")
        if self.image_norm not in ("instance", "none"):
            raise ValueError(f"image_norm must be 'instance' or 'none', got {self.image_norm!r}")

    @property
    def widths(self) -> list[int]:
        """Feature width per scale, finest first (scale s has resolution 1/2^(s+1))."""
        return [min(self.base * 2**s, 8 * self.base) for s in range(self.scales)]

    @property
    def size_multiple(self) -> int:
        return 2**self.scales


class Exemplar(NamedTuple):
    """One exemplar's per-scale features: image features and unnormalised spatial attention."""

    features: list[torch.Tensor]  # (B, N, P) per scale, P = exemplar positions
    logits: list[torch.Tensor]  # (B, K, P) per scale


def _stage(cin: int, cout: int, normalise: bool) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=2, padding=1),
        nn.InstanceNorm2d(cout) if normalise else nn.Identity(),
        nn.LeakyReLU(0.2),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.LeakyReLU(0.2),
    )


class FeaturePyramid(nn.Module):
    """Strided conv stages: features at 1/2, 1/4, … 1/2^scales of the input, with or
    without InstanceNorm after each strided conv."""

    def __init__(self, cin: int, widths: list[int], normalise: bool = True) -> None:
        super().__init__()
        self.stages = nn.ModuleList(_stage(a, b, normalise) for a, b in zip([cin, *widths[:-1]], widths))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for stage in self.stages:
            x = stage(x)
            out.append(x)
        return out


class MaskedSpatialChannelAttention(nn.Module):
    """One scale's MSCA: exemplar (image, label) features → target-aligned image features."""

    def __init__(self, image_nc: int, label_nc: int, slots: int, mask_hidden: int) -> None:
        super().__init__()
        self.spatial = nn.Conv2d(image_nc + label_nc, slots, 1)
        self.channel = nn.Conv2d(label_nc, slots, 1)
        self.mask = nn.Sequential(
            nn.Linear(image_nc, mask_hidden), nn.LeakyReLU(0.2), nn.Linear(mask_hidden, 1)
        )

    def exemplar(self, fx: torch.Tensor, fc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Flattened image features (B, N, P) and unnormalised spatial attention (B, K, P)."""
        logits = self.spatial(torch.cat((fx, fc), 1))
        return fx.flatten(2), logits.flatten(2)

    @staticmethod
    def regions(features: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """Spatial aggregation: (B, N, P) features, (B, K, P) logits → (B, K, N) descriptors."""
        return torch.bmm(logits.softmax(dim=2), features.transpose(1, 2))

    def scores(self, regions: torch.Tensor) -> torch.Tensor:
        """Masking scores (B, K), before the sigmoid."""
        return self.mask(regions).squeeze(-1)

    @staticmethod
    def distribute(masked: torch.Tensor, logits: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Channel aggregation: (B, K, N) descriptors, (B, K, H·W) logits → (B, N, H, W)."""
        out = torch.bmm(masked.transpose(1, 2), logits.softmax(dim=1))
        return out.view(out.shape[0], out.shape[1], *size)

    def forward(self, fc1: torch.Tensor, fx2: torch.Tensor, fc2: torch.Tensor) -> torch.Tensor:
        features, logits = self.exemplar(fx2, fc2)
        return self.from_exemplar(fc1, features, logits)

    def from_exemplar(self, fc1: torch.Tensor, features: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        regions = self.regions(features, logits)
        masked = regions * torch.sigmoid(self.scores(regions))[..., None]
        return self.distribute(masked, self.channel(fc1).flatten(2), fc1.shape[-2:])

    def masked_regions(self, features: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        regions = self.regions(features, logits)
        return regions * torch.sigmoid(self.scores(regions))[..., None]

    def blend_global(
        self,
        fc1: torch.Tensor,
        a: tuple[torch.Tensor, torch.Tensor],
        b: tuple[torch.Tensor, torch.Tensor],
        gamma: float,
    ) -> torch.Tensor:
        """γ · style a + (1 − γ) · style b, through the joint spatial attention (supplement Sec. 1)."""
        (fa, la), (fb, lb) = a, b
        shift_a, shift_b = _log_weights(torch.tensor(float(gamma), device=fa.device))
        features = torch.cat((fa, fb), dim=2)
        logits = torch.cat((la + shift_a, lb + shift_b), dim=2)
        regions = self.regions(features, logits)
        score = gamma * self.scores(self.regions(fa, la)) + (1 - gamma) * self.scores(self.regions(fb, lb))
        masked = regions * torch.sigmoid(score)[..., None]
        return self.distribute(masked, self.channel(fc1).flatten(2), fc1.shape[-2:])

    def blend_spatial(
        self,
        fc1: torch.Tensor,
        a: tuple[torch.Tensor, torch.Tensor],
        b: tuple[torch.Tensor, torch.Tensor],
        gamma: torch.Tensor,
    ) -> torch.Tensor:
        """Style a where ``gamma`` (B, 1, H, W at this scale) is 1, b where it is 0, blended between."""
        va, vb = self.masked_regions(*a), self.masked_regions(*b)
        logits = self.channel(fc1).flatten(2)  # the same for both exemplars
        shift_a, shift_b = _log_weights(gamma.flatten(2))
        joint = torch.cat((logits + shift_a, logits + shift_b), dim=1)
        return self.distribute(torch.cat((va, vb), dim=1), joint, fc1.shape[-2:])


def _log_weights(gamma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """log γ and log(1 − γ), −∞ at the ends so the other exemplar drops out exactly."""
    gamma = gamma.clamp(0.0, 1.0)
    return torch.log(gamma), torch.log1p(-gamma)


class MscaGenerator(nn.Module):
    """Feature pyramids, one MSCA per scale, and the SPADE synthesis module."""

    def __init__(self, config: MscaConfig) -> None:
        super().__init__()
        self.config = config
        w = config.widths
        self.image_encoder = FeaturePyramid(3, w, normalise=config.image_norm == "instance")
        self.label_encoder = FeaturePyramid(config.semantic_nc, w)
        self.attention = nn.ModuleList(
            MaskedSpatialChannelAttention(n, n, config.slots, config.mask_hidden) for n in w
        )
        # Coarsest first: start from the coarsest conditioning, then one block per scale
        # (each doubling the size), the last one ending at full resolution.
        coarse = w[-1]
        self.head = nn.Conv2d(2 * coarse, coarse, 3, padding=1)
        widths_out = [*reversed(w), max(w[0] // 2, 16)]
        self.blocks = nn.ModuleList(
            SpadeResBlock(
                fin=widths_out[i],
                fout=widths_out[i + 1],
                cond_nc=2 * list(reversed(w))[i],
                spade_hidden=config.spade_hidden,
                spectral_norm=config.spectral_norm,
            )
            for i in range(config.scales)
        )
        self.to_rgb = nn.Conv2d(widths_out[-1], 3, 3, padding=1)

    # ---------------------------------------------------------------- pieces

    def check(self, *maps: torch.Tensor) -> None:
        m = self.config.size_multiple
        for x in maps:
            if x.shape[-2] % m or x.shape[-1] % m:
                raise ValueError(f"MSCA needs H and W divisible by {m}; got {tuple(x.shape[-2:])}")

    def encode_exemplar(self, image: torch.Tensor, onehot: torch.Tensor) -> Exemplar:
        """Per-scale features and spatial attention of one exemplar (reusable across targets)."""
        self.check(image, onehot)
        fx, fc = self.image_encoder(image), self.label_encoder(onehot)
        pairs = [att.exemplar(x, c) for att, x, c in zip(self.attention, fx, fc)]
        return Exemplar([p[0] for p in pairs], [p[1] for p in pairs])

    def aligned(
        self, target: torch.Tensor, exemplar: Exemplar
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The target's label features F_c1 and the aligned image features F_x1, per scale."""
        fc1 = self.label_encoder(target)
        if self.config.attention == "gap":
            fx1 = [
                f.mean(dim=2)[..., None, None].expand(-1, -1, *c.shape[-2:])
                for f, c in zip(exemplar.features, fc1)
            ]
        else:
            fx1 = [att.from_exemplar(c, f, lg) for att, c, f, lg in zip(self.attention, fc1, *exemplar)]
        return fc1, fx1

    def synthesise(self, fc1: list[torch.Tensor], fx1: list[torch.Tensor]) -> torch.Tensor:
        conds = [torch.cat((x, c), 1) for x, c in zip(fx1, fc1)][::-1]  # coarsest first
        x = self.head(conds[0])
        for block, cond in zip(self.blocks, conds):
            x = F.interpolate(block(x, cond), scale_factor=2.0, mode="nearest")
        return torch.tanh(self.to_rgb(F.leaky_relu(x, 0.2)))

    # ---------------------------------------------------------------- uses

    def forward(self, target: torch.Tensor, image: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        """Target one-hot (B, C, H, W), exemplar image (B, 3, H', W') in [-1, 1] and its one-hot → image."""
        self.check(target)
        return self.synthesise(*self.aligned(target, self.encode_exemplar(image, onehot)))

    def blend(
        self, target: torch.Tensor, a: Exemplar, b: Exemplar, gamma: float | torch.Tensor
    ) -> torch.Tensor:
        """Two exemplars' styles: ``gamma`` a number (global blend) or a (B, 1, H, W) map in
        [0, 1] at the target's size (spatial blend: 1 = style a, 0 = style b)."""
        self.check(target)
        fc1 = self.label_encoder(target)
        fx1 = []
        for s, (att, c) in enumerate(zip(self.attention, fc1)):
            pa, pb = (a.features[s], a.logits[s]), (b.features[s], b.logits[s])
            if self.config.attention == "gap":
                ga, gb = pa[0].mean(2)[..., None, None], pb[0].mean(2)[..., None, None]
                g = gamma if not torch.is_tensor(gamma) else F.adaptive_avg_pool2d(gamma, c.shape[-2:])
                fx1.append((g * ga + (1 - g) * gb).expand(-1, -1, *c.shape[-2:]))
            elif torch.is_tensor(gamma):
                fx1.append(att.blend_spatial(c, pa, pb, F.adaptive_avg_pool2d(gamma, c.shape[-2:])))
            else:
                fx1.append(att.blend_global(c, pa, pb, float(gamma)))
        return self.synthesise(fc1, fx1)


@dataclass
class MscaModelConfig:
    """What an MSCA weights folder holds: the generator and its multi-scale PatchGAN."""

    generator: MscaConfig
    discriminator: PatchGanConfig

    @classmethod
    def paper(cls, semantic_nc: int) -> MscaModelConfig:
        g = MscaConfig(semantic_nc, image_norm="none")
        return cls(g, PatchGanConfig(semantic_nc, instance_edges=False))

    @classmethod
    def small(cls, semantic_nc: int) -> MscaModelConfig:
        g = MscaConfig(
            semantic_nc, base=8, scales=3, slots=4, mask_hidden=8, spade_hidden=8, image_norm="none"
        )
        return cls(g, PatchGanConfig(semantic_nc, instance_edges=False, ndf=8))
