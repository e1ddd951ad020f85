"""Training the depth estimator (:mod:`engine.networks.depth`) on images with depth maps.

Supervised regression of the renderer's depth (``app-train data landscapes`` writes it):

- **L1** between the predicted and the true depth, per pixel;
- **gradient matching** ×``GRADIENT_WEIGHT`` (Li & Snavely, "MegaDepth", CVPR 2018; the
  multi-scale form MiDaS uses): the L1 of the horizontal and vertical differences of the
  error map at four scales. It costs nothing where the error is constant and everything
  where an edge is blurred or misplaced, so depth steps land where objects end — the
  edges a depth mapper reads.

Adam at ``--lr``; with the EfficientNet-Lite0 backbone the ImageNet trunk starts from its
weights and moves ten times slower, as for the segmenter. The sample grid shows photo,
true depth and prediction (black = near).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import InputError
from engine.networks.depth import DepthNet, DepthNetConfig
from engine.registry import ModelSpec
from engine.train.options import FitOptions
from engine.train.single_net import SingleNetTraining
from engine.train.visuals import grid_rows, to_uint8

GRADIENT_WEIGHT = 0.5  # MiDaS's α for its gradient-matching term
GRADIENT_SCALES = 4  # error map at full, ½, ¼ and ⅛ resolution


def gradient_matching(
    pred: torch.Tensor, target: torch.Tensor, scales: int = GRADIENT_SCALES
) -> torch.Tensor:
    """Mean over ``scales`` of the L1 norm of the error map's x and y differences; the error
    map is subsampled by 2 per scale (as MegaDepth's), so coarse steps count as well."""
    error = (pred - target).float()
    total = error.new_zeros(())
    for _ in range(scales):
        dx = (error[..., :, 1:] - error[..., :, :-1]).abs().mean() if error.shape[-1] > 1 else 0.0
        dy = (error[..., 1:, :] - error[..., :-1, :]).abs().mean() if error.shape[-2] > 1 else 0.0
        total = total + dx + dy
        error = error[..., ::2, ::2]
    return total / scales


def depth_colours(depth: torch.Tensor) -> np.ndarray:
    """(B, 1, H, W) depth in [0, 1] → (B, H, W, 3) uint8 grey, black = near."""
    return to_uint8(depth.detach().float().clamp(0, 1).repeat(1, 3, 1, 1) * 2 - 1)


class DepthTraining(SingleNetTraining):
    part = "depth"
    loss_names: ClassVar[list[str]] = ["loss_l1", "loss_grad"]

    @staticmethod
    def build_arch(options: FitOptions, num_channels: int) -> DepthNetConfig:
        """The segmenter's widths per backbone (``--arch small`` and ``--d-widths`` as for it);
        the label set's channels do not matter: depth is one channel."""
        if options.backbone == "efficientnet-lite0":
            widths = (8, 8, 16, 16, 32) if options.arch == "small" else (16, 32, 48, 64, 96)
            config = DepthNetConfig(widths=widths, backbone=options.backbone)
        else:
            config = DepthNetConfig(widths=(8, 16, 32, 64) if options.arch == "small" else (32, 64, 128, 256))
        if options.d_widths is not None:
            config = DepthNetConfig(widths=tuple(options.d_widths), backbone=config.backbone)
        return config

    @staticmethod
    def adapt_arch(arch: DepthNetConfig, options: FitOptions) -> None:
        """Nothing to change on loaded weights."""

    def __init__(self, spec: ModelSpec, options: FitOptions, device: torch.device) -> None:
        self.spec, self.options, self.device = spec, options, device
        torch.manual_seed(options.seed)
        self.net = DepthNet(spec.arch).to(device)
        self.model: nn.Module = self.net
        self._make_optimiser(
            options.lr, self.net.net.backbone if spec.arch.backbone == "efficientnet-lite0" else None
        )
        m = spec.arch.size_multiple
        if options.size[0] % m or options.size[1] % m:
            raise InputError(
                f"this depth net needs sides divisible by {m}, not {options.size[0]}×{options.size[1]}",
                source="--size",
                fix=f"pass a --size that is a multiple of {m}",
            )

    def _target(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        if "depth" not in batch:
            raise InputError(
                "the training data has no depth maps (no depth/ folder beside images/ and labels/)",
                source=self.options.data,
                fix="render the data again with `app-train data landscapes` (it writes depth/), "
                "or add depth/*.png (16-bit grey, 0 = near, 65535 = far)",
            )
        return batch["depth"].to(self.device, non_blocking=True)

    def step(self, batch: dict[str, torch.Tensor], step: int, rank: int) -> dict[str, float]:
        image = batch["image"].to(self.device, non_blocking=True)
        target = self._target(batch)
        ctx = (
            torch.autocast(self.device.type, dtype=torch.bfloat16)
            if self.options.precision == "bf16"
            else torch.autocast(self.device.type, enabled=False)
        )
        self.net.train()
        with ctx:
            pred = self.model(image).float()
        loss_l1 = F.l1_loss(pred, target)
        loss_grad = gradient_matching(pred, target)
        self.opt.zero_grad(set_to_none=True)
        (loss_l1 + GRADIENT_WEIGHT * loss_grad).backward()
        self.opt.step()
        return {"loss_l1": loss_l1.item(), "loss_grad": loss_grad.item()}

    def sample_grid(
        self, batch: dict[str, torch.Tensor], refresh: Iterator[dict[str, torch.Tensor]]
    ) -> np.ndarray:
        image = batch["image"][:8]
        self.net.eval()
        with torch.no_grad():
            pred = self.net(image.to(self.device)).cpu()
        return grid_rows(to_uint8(image), depth_colours(self._target(batch)[:8].cpu()), depth_colours(pred))

    def export_states(self, refresh: Iterator[dict[str, torch.Tensor]]) -> dict[str, dict]:
        return {"depth": self.net.state_dict()}
