"""Training the evaluation segmenter: per-pixel cross-entropy on real images.

Plain supervised training (Adam, ``--lr``); the dontcare channel, if the label set has
one, is ignored. Its sample grid shows photo, labels and prediction.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.networks.segmenter import Segmenter, SegmenterConfig
from engine.registry import ModelSpec
from engine.train.losses import class_balance_weights
from engine.train.options import FitOptions
from engine.train.single_net import SingleNetTraining
from engine.train.visuals import grid_rows, to_uint8


class SegmenterTraining(SingleNetTraining):
    part = "segmenter"
    loss_names: ClassVar[list[str]] = ["loss_ce", "pixel_accuracy"]

    @staticmethod
    def build_arch(options: FitOptions, num_channels: int) -> SegmenterConfig:
        if options.backbone == "efficientnet-lite0":
            config = SegmenterConfig(
                num_classes=num_channels, widths=(16, 32, 48, 64, 96), backbone=options.backbone
            )
            if options.arch == "small":
                config.widths = (8, 8, 16, 16, 32)
        else:
            config = SegmenterConfig(num_classes=num_channels)
        if options.arch == "small" and config.backbone == "unet":
            config.widths = (8, 16, 32, 64)
        if options.d_widths is not None:
            config.widths = tuple(options.d_widths)
        return config

    @staticmethod
    def adapt_arch(arch: SegmenterConfig, options: FitOptions) -> None:
        """Nothing to change on loaded weights."""

    def __init__(self, spec: ModelSpec, options: FitOptions, device: torch.device) -> None:
        self.spec, self.options, self.device = spec, options, device
        torch.manual_seed(options.seed)
        self.net = Segmenter(spec.arch).to(device)
        self.model: nn.Module = self.net
        self._make_optimiser(
            options.lr, self.net.backbone if spec.arch.backbone == "efficientnet-lite0" else None
        )
        self.encoder = spec.encoder
        dc = self.encoder.dontcare_channel
        self.ignore = dc if dc is not None else -100

    def step(self, batch: dict[str, torch.Tensor], step: int, rank: int) -> dict[str, float]:
        image = batch["image"].to(self.device, non_blocking=True)
        target = self.encoder.channels(batch["labels"]).to(self.device)
        ctx = (
            torch.autocast(self.device.type, dtype=torch.bfloat16)
            if self.options.precision == "bf16"
            else torch.autocast(self.device.type, enabled=False)
        )
        self.net.train()
        with ctx:
            logits = self.model(image).float()
        if self.options.class_balance:
            weights = class_balance_weights(target, self.encoder.num_channels, self.encoder.dontcare_channel)
            per_pixel = F.cross_entropy(logits, target, ignore_index=self.ignore, reduction="none")
            loss = (per_pixel * weights).mean()
        else:
            loss = F.cross_entropy(logits, target, ignore_index=self.ignore)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        valid = target != self.ignore
        accuracy = (logits.argmax(1) == target)[valid].float().mean()
        return {"loss_ce": loss.item(), "pixel_accuracy": accuracy.item()}

    def sample_grid(
        self, batch: dict[str, torch.Tensor], refresh: Iterator[dict[str, torch.Tensor]]
    ) -> np.ndarray:
        labels = batch["labels"][:8]
        self.net.eval()
        with torch.no_grad():
            pred = self.net(batch["image"][:8].to(self.device)).argmax(1).cpu()
        colour = self.spec.label_set.colorize
        pred_ids = self.encoder.ids_from_channels(pred).numpy()
        return grid_rows(to_uint8(batch["image"][:8]), colour(labels.numpy()), colour(pred_ids))

    def export_states(self, refresh: Iterator[dict[str, torch.Tensor]]) -> dict[str, dict]:
        return {"segmenter": self.net.state_dict()}
