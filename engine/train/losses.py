"""OASIS losses: class-balanced (N+1)-way cross-entropy and LabelMix.

Faithful to boschresearch/OASIS ``models/losses.py`` with two clarifications:
* class weights count pixels per one-hot channel over the whole batch,
  α_c = B·H·W / (K_present · n_c), and the dontcare channel (if any) weighs 0;
* the LabelMix mask gives every class present an *independent* random bit. The
  official loop assigns bits in place class by class, so a class whose id equals an
  earlier bit value can be relabelled twice; the paper describes independent bits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def class_balance_weights(channels: torch.Tensor, num_channels: int, dontcare: int | None) -> torch.Tensor:
    """Per-pixel weights (B, H, W) from per-pixel channel indices (B, H, W)."""
    counts = torch.bincount(channels.flatten(), minlength=num_channels).float()
    if dontcare is not None:
        counts[dontcare] = 0
    present = (counts > 0).sum().clamp(min=1)
    coeff = torch.where(counts > 0, channels.numel() / (present * counts.clamp(min=1)), 0.0)
    return coeff[channels]


def n1_loss(logits: torch.Tensor, channels: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """(N+1)-way CE: real pixels target class k+1 weighted by ``weights``; fake target 0."""
    if weights is None:  # fake image: every pixel is "fake" (channel 0), unweighted
        target = torch.zeros_like(channels)
        return F.cross_entropy(logits, target)
    return (F.cross_entropy(logits, channels + 1, reduction="none") * weights).mean()


def labelmix_mask(channels: torch.Tensor, num_channels: int, generator: torch.Generator) -> torch.Tensor:
    """Binary (B, 1, H, W) mask: each class gets one random bit, shared across the batch."""
    bits = torch.randint(0, 2, (num_channels,), generator=generator).to(channels.device)
    return bits[channels].float()[:, None]


def labelmix_loss(
    mask: torch.Tensor, out_mixed: torch.Tensor, out_real: torch.Tensor, out_fake: torch.Tensor
) -> torch.Tensor:
    """D must be consistent: D(mix(real, fake)) ≈ mix(D(real), D(fake)) on all logits."""
    return F.mse_loss(out_mixed, mask * out_real + (1 - mask) * out_fake)
