"""Which training object each family uses; the loop talks to them through ``Training``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from engine.networks.ugen import MAPPER_PARTS
from engine.registry import ModelSpec
from engine.train.depth_step import DepthTraining
from engine.train.inade_step import InadeTraining
from engine.train.msca_step import MscaTraining
from engine.train.oasis_step import OasisTraining
from engine.train.options import FitOptions
from engine.train.resail_step import ResailTraining
from engine.train.segmenter_step import SegmenterTraining
from engine.train.stylegan2_step import StyleGan2Training
from engine.train.ugen_training import UgenTraining


class Training(Protocol):
    loss_names: list[str]

    @staticmethod
    def build_arch(options: FitOptions, num_channels: int) -> Any: ...

    @staticmethod
    def adapt_arch(arch: Any, options: FitOptions) -> None: ...

    def __init__(self, spec: ModelSpec, options: FitOptions, device: torch.device) -> None: ...
    def wrap_ddp(self) -> None: ...
    def state_dict(self) -> dict: ...
    def load_state_dict(self, state: dict) -> None: ...
    def load_weights(self, parts: dict[str, nn.Module]) -> None: ...
    def step(self, batch: dict[str, torch.Tensor], step: int, rank: int) -> dict[str, float]: ...
    def sample_grid(self, batch: dict[str, torch.Tensor], refresh: Iterator[dict]) -> np.ndarray: ...
    def export_states(self, refresh: Iterator[dict]) -> dict[str, dict]: ...


TRAINERS: dict[str, type] = {
    "oasis": OasisTraining,
    "inade": InadeTraining,
    "msca": MscaTraining,
    "resail": ResailTraining,
    "segmenter": SegmenterTraining,
    "depth": DepthTraining,
    "stylegan2": StyleGan2Training,
    "ugen": UgenTraining,
}
# Weights files --init-from reads: required, then optional.
INIT_PARTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "oasis": (("generator",), ("generator_live", "discriminator", "encoder")),
    "inade": (("generator",), ("generator_live", "encoder", "discriminator")),
    "msca": (("generator",), ("generator_live", "discriminator")),
    "resail": (("generator",), ("generator_live", "discriminator")),
    "segmenter": (("segmenter",), ()),
    "depth": (("depth",), ()),
    "stylegan2": (("generator",), ("generator_live", "discriminator")),
    "ugen": (("rearranger", "proxy"), MAPPER_PARTS),
}
