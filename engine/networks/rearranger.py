"""The rearranger of ugen (Chae, Cho, Go, Choi, Uh, "Semantic Image Synthesis with
Unconditional Generator", NeurIPS 2023; supplement A.1).

It moves the features of one sample of a frozen StyleGAN2 (G₁'s output at the proxy
resolution) so that they follow a target proxy mask; G₂ renders the result. Per the
supplement: one single-head cross-attention between two 4-layer residual blocks, the query
from the proxy mask, key and value from the feature maps, and a sinusoidal position encoding
added before the residual block that precedes the attention. Our reading of the parts the
text leaves open:

* **query** = W_q · Block_pre(E · mask + P): the mask (one-hot, or soft probabilities from
  the semantic mapper) embedded by a 1×1 conv E, the position encoding P added, then the
  preceding residual block (3×3 convs: a query sees its mask neighbourhood).
* **key** = W_k · f + P: 1×1 on the features, plus the same encoding. Without P on both
  sides every pixel of one cluster would make the same query and receive the same average
  feature (the "dissimilarity between different pixels in a mask" the supplement wants);
  with it a query prefers source pixels at a similar place.
* **value** = [W_v · f ‖ skip image]: W_v starts as the identity, and StyleGAN2's skip image
  at the split is rearranged with the same weights, since G₂ adds it to its output — left in
  place it would paint the source layout back in.
* **after**: Block_post on the attended features. Both residual blocks start as the identity
  (their last conv is zero), so the untrained rearranger already hands G₂ averages of real
  features, the inputs G₂ knows.

Key and value are per-pixel (1×1), so without the position encoding the attention does not
depend on the order of the source pixels; the tests check that and the other invariances.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class RearrangerConfig:
    feature_channels: int  # C of G₁'s features at the proxy resolution (512 for config F at 64²)
    num_clusters: int = 25  # K of the proxy masks
    attention_dim: int = 256  # query/key width, also the mask embedding width
    hidden: int = 256  # width inside the residual block after the attention
    block_layers: int = 4  # conv layers per residual block (the supplement's "4-layer")
    position_encoding: bool = True  # off only for tests of the attention's invariances

    def __post_init__(self) -> None:
        if min(self.feature_channels, self.num_clusters, self.hidden, self.block_layers) < 1:
            raise ValueError("rearranger widths and depths must be at least 1")
        if self.attention_dim < 4 or self.attention_dim % 4:
            raise ValueError(
                f"attention_dim must be a multiple of 4 (2-D sin/cos pairs), got {self.attention_dim}"
            )

    @classmethod
    def small(cls, feature_channels: int, num_clusters: int = 6) -> RearrangerConfig:
        return cls(feature_channels, num_clusters, attention_dim=16, hidden=16)


def position_encoding(
    channels: int, height: int, width: int, device: torch.device | None = None
) -> torch.Tensor:
    """(channels, H, W) sinusoidal 2-D encoding: half the channels encode the row, half the
    column, each as sin/cos pairs of geometrically spaced frequencies (periods 2π … ~2π·256 px,
    in pixels of the proxy grid). Dot products of two encodings peak where the positions meet."""
    quarter = channels // 4
    freq = torch.exp(-math.log(256.0) * torch.arange(quarter, device=device) / max(quarter - 1, 1))

    def axis(n: int) -> torch.Tensor:
        angles = torch.arange(n, device=device, dtype=torch.float32)[:, None] * freq[None]
        return torch.cat((angles.sin(), angles.cos()), dim=1)  # (n, channels/2)

    rows = axis(height).T[:, :, None].expand(-1, height, width)
    cols = axis(width).T[:, None, :].expand(-1, height, width)
    # Scaled to unit mean square per channel, the scale of the embedded mask and the keys.
    return torch.cat((rows, cols)) * math.sqrt(2.0)


class ResidualBlock(nn.Module):
    """x + body(x), body = ``layers`` 3×3 convs with leaky ReLU between; the last conv is
    zero-initialised, so the block starts as the identity."""

    def __init__(self, channels: int, hidden: int, layers: int) -> None:
        super().__init__()
        widths = [channels] + [hidden] * (layers - 1) + [channels]
        convs: list[nn.Module] = []
        for i in range(layers):
            convs.append(nn.Conv2d(widths[i], widths[i + 1], 3, padding=1))
            if i < layers - 1:
                convs.append(nn.LeakyReLU(0.2))
        self.body = nn.Sequential(*convs)
        nn.init.zeros_(self.body[-1].weight)
        nn.init.zeros_(self.body[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Rearranger(nn.Module):
    def __init__(self, config: RearrangerConfig) -> None:
        super().__init__()
        self.config = config
        d, c = config.attention_dim, config.feature_channels
        self.embed = nn.Conv2d(config.num_clusters, d, 1)  # one-hot (or soft) mask → embedding
        self.block_pre = ResidualBlock(d, d, config.block_layers)
        self.to_query = nn.Conv2d(d, d, 1)
        self.to_key = nn.Conv2d(c, d, 1)
        self.to_value = nn.Conv2d(c, c, 1)
        with torch.no_grad():  # the value path starts as the identity (see the module docstring)
            self.to_value.weight.copy_(torch.eye(c)[:, :, None, None])
            self.to_value.bias.zero_()
        self.block_post = ResidualBlock(c, config.hidden, config.block_layers)

    def _encoding(self, x: torch.Tensor) -> torch.Tensor | float:
        if not self.config.position_encoding:
            return 0.0
        h, w = x.shape[-2:]
        return position_encoding(self.config.attention_dim, h, w, x.device).to(x.dtype)[None]

    def mask_input(self, mask: torch.Tensor) -> torch.Tensor:
        """A (B, H, W) long proxy mask as one-hot (B, K, H, W); (B, K, H, W) maps pass through."""
        if mask.ndim == 3:
            return F.one_hot(mask.long(), self.config.num_clusters).permute(0, 3, 1, 2).float()
        if mask.ndim != 4 or mask.shape[1] != self.config.num_clusters:
            raise ValueError(f"expected a (B, H, W) mask or (B, {self.config.num_clusters}, H, W) map")
        return mask

    def forward(
        self,
        features: torch.Tensor,  # (B, C, h, w): G₁'s features of the source samples
        image: torch.Tensor,  # (B, 3, h, w): StyleGAN2's skip image at the same resolution
        mask: torch.Tensor,  # (B, H, W) long target proxy mask, or (B, K, H, W) probabilities
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The rearranged (features (B, C, H, W), skip image (B, 3, H, W)) for G₂."""
        onehot = self.mask_input(mask).to(features.dtype)
        b, c = features.shape[:2]
        emb = self.embed(onehot)
        query = self.to_query(self.block_pre(emb + self._encoding(emb)))
        key = self.to_key(features) + self._encoding(features)
        value = torch.cat((self.to_value(features), image.to(features.dtype)), dim=1)
        out = F.scaled_dot_product_attention(
            query.flatten(2).transpose(1, 2)[:, None],  # (B, 1, HW_q, d): one head
            key.flatten(2).transpose(1, 2)[:, None],
            value.flatten(2).transpose(1, 2)[:, None],
        )[:, 0]
        out = out.transpose(1, 2).reshape(b, c + 3, *emb.shape[-2:])
        return self.block_post(out[:, :c]), out[:, c:]
