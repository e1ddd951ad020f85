"""What the one-network supervised families (segmenter, depth) share: the optimiser with an
ImageNet trunk started from its weights and moved ten times slower than the rest, DDP,
checkpoint state and --init-from."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from engine.networks.pretrained import EfficientNetLite0, load_imagenet_trunk


class SingleNetTraining:
    part: ClassVar[str]  # the net's name in a weights folder
    net: nn.Module
    model: nn.Module
    device: torch.device

    def _make_optimiser(self, lr: float, trunk: EfficientNetLite0 | None) -> None:
        """Adam over the net; a pretrained trunk starts from ImageNet (resume and --init-from
        overwrite it afterwards) and moves ten times slower than the new decoder."""
        groups: list[dict] = [{"params": list(self.net.parameters()), "lr": lr}]
        if trunk is not None:
            load_imagenet_trunk(trunk)
            ids = {id(p) for p in trunk.parameters()}
            groups = [
                {"params": list(trunk.parameters()), "lr": lr / 10},
                {"params": [p for p in self.net.parameters() if id(p) not in ids], "lr": lr},
            ]
        self.opt = torch.optim.Adam(groups)

    def wrap_ddp(self) -> None:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [self.device.index] if self.device.type == "cuda" else None
        self.model = DDP(self.net, device_ids=ids)

    def state_dict(self) -> dict:
        return {"net": self.net.state_dict(), "opt": self.opt.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.net.load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])

    def load_weights(self, parts: dict[str, nn.Module]) -> None:
        self.net.load_state_dict(parts[self.part].state_dict())
