"""The OASIS trunk run on cached SPADE modulation maps, in fp32 or in bfloat16.

:class:`engine.inference.incremental.IncrementalOasis` computes every SPADE layer's
[1 + γ ‖ β] map itself (only where an edit reaches) and hands them here; the trunk —
BatchNorm, modulation, the residual blocks' convs, upsampling, the image conv — runs in
full. Both trunks mirror ``SpadeResBlock.forward`` and ``OasisGenerator.forward``; the
tests hold them equal to the generator (fp32 ≤ 1e-4, bf16 ≤ the bf16 tolerance).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import nn

from engine.networks.oasis import OasisGenerator

LEAK = 0.2


class ModulationCache(Protocol):
    mod: dict[str, torch.Tensor]  # SPADE name → (B, 2C, h, w) [1 + γ ‖ β]


def _modulate(normalized: torch.Tensor, scale_shift: torch.Tensor) -> torch.Tensor:
    """normalized · (1 + γ) + β, written over ``normalized``."""
    n = scale_shift.shape[1] // 2
    return torch.addcmul(scale_shift[:, n:], normalized, scale_shift[:, :n], out=normalized)


class Fp32Trunk:
    """The generator's own layers in fp32: equal to a full forward pass up to rounding."""

    dtype = torch.float32

    def __init__(self, generator: OasisGenerator) -> None:
        self.generator = generator

    @staticmethod
    def _spade(block: nn.Module, cache: ModulationCache, name: str, x: torch.Tensor) -> torch.Tensor:
        return _modulate(getattr(block, name).first_norm(x), cache.mod[name])

    def run(self, head: torch.Tensor, caches: Iterable[ModulationCache]) -> torch.Tensor:
        g = self.generator
        x = head  # the cache's own tensor: every op below writes into tensors made here
        last = len(g.body) - 1
        for i, (block, cache) in enumerate(zip(g.body, caches)):
            mod = cache.mod
            x_s = (
                block.conv_s(_modulate(block.norm_s.first_norm(x), mod["norm_s"]))
                if block.learned_shortcut
                else x
            )
            dx = block.conv_0(F.leaky_relu_(_modulate(block.norm_0.first_norm(x), mod["norm_0"]), LEAK))
            x = block.conv_1(F.leaky_relu_(_modulate(block.norm_1.first_norm(dx), mod["norm_1"]), LEAK)).add_(
                x_s
            )
            if i < last:
                x = g.up(x)
        return torch.tanh_(g.conv_img(F.leaky_relu_(x, LEAK)))


def _bn_affine(norm: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode, parameter-free BatchNorm as x · a + b, per channel."""
    a = torch.rsqrt(norm.running_var + norm.eps)
    return a, -norm.running_mean * a


def _bf16(t: torch.Tensor | None) -> torch.Tensor | None:
    if t is None:
        return None
    t = t.detach().to(torch.bfloat16)
    return t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t


@dataclass
class _Conv:
    weight: torch.Tensor
    bias: torch.Tensor | None
    padding: tuple[int, int]

    @classmethod
    def of(
        cls, conv: nn.Conv2d, scale: torch.Tensor | None = None, shift: torch.Tensor | None = None
    ) -> _Conv:
        """bf16 copy of ``conv``, optionally with a per-output-channel affine map folded in."""
        weight, bias = conv.weight.detach(), conv.bias
        if scale is not None:
            weight = weight * scale.view(-1, 1, 1, 1)
            bias = (bias if bias is not None else torch.zeros_like(scale)) * scale + shift
        return cls(_bf16(weight), _bf16(bias), conv.padding)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight, self.bias, padding=self.padding)


class Bf16Trunk:
    """Every conv in bfloat16 with channels-last tensors; everything between convs in fp32.

    bf16's 8-bit mantissa is fine for conv inputs and weights (oneDNN accumulates in
    fp32), but not for the residual stream, for BatchNorm's x − mean, or for 1 + γ: with
    those in bf16 the shipped model's image moved by up to 0.05 (the limit is 0.03);
    this way by ≤ 0.03 on the sample scenes, for ~10 % more time. conv_0 feeds only
    norm_1, so that BatchNorm is folded into conv_0's weights (exact algebra) and its
    output arrives normalised.
    """

    dtype = torch.bfloat16

    def __init__(self, generator: OasisGenerator) -> None:
        self.generator = generator
        self.blocks = []
        for block in generator.body:
            parts = {"norm_0": _bn_affine(block.norm_0.first_norm)}
            a1, b1 = _bn_affine(block.norm_1.first_norm)
            convs = {"conv_0": _Conv.of(block.conv_0, a1, b1), "conv_1": _Conv.of(block.conv_1)}
            if block.learned_shortcut:
                parts["norm_s"] = _bn_affine(block.norm_s.first_norm)
                convs["conv_s"] = _Conv.of(block.conv_s)
            self.blocks.append(
                ({k: (a.view(1, -1, 1, 1), b.view(1, -1, 1, 1)) for k, (a, b) in parts.items()}, convs)
            )
        self.conv_img = _Conv.of(generator.conv_img)

    @staticmethod
    def _spade(
        x: torch.Tensor, affine: tuple[torch.Tensor, torch.Tensor], scale_shift: torch.Tensor
    ) -> torch.Tensor:
        a, b = affine
        return _modulate(torch.addcmul(b, x, a), scale_shift)

    def run(self, head: torch.Tensor, caches: Iterable[ModulationCache]) -> torch.Tensor:
        bf16 = torch.bfloat16
        x = head.float().contiguous(memory_format=torch.channels_last)  # one layout throughout
        last = len(self.blocks) - 1
        for i, ((norms, convs), cache) in enumerate(zip(self.blocks, caches)):
            mod = cache.mod
            x_s = x
            if "conv_s" in convs:
                x_s = convs["conv_s"](self._spade(x, norms["norm_s"], mod["norm_s"]).to(bf16)).float()
            dx = convs["conv_0"](F.leaky_relu_(self._spade(x, norms["norm_0"], mod["norm_0"]), LEAK).to(bf16))
            n = mod["norm_1"].shape[1] // 2  # dx is already normalised: modulate it (→ fp32)
            h = torch.addcmul(mod["norm_1"][:, n:], dx, mod["norm_1"][:, :n])
            x = torch.add(x_s, convs["conv_1"](F.leaky_relu_(h, LEAK).to(bf16)))  # fp32 + bf16 → fp32
            if i < last:
                x = self.generator.up(x)
        out = self.conv_img(F.leaky_relu(x, LEAK).to(bf16))
        return torch.tanh_(out.float())


def make_trunk(generator: OasisGenerator, precision: str) -> Fp32Trunk | Bf16Trunk:
    if precision == "fp32":
        return Fp32Trunk(generator)
    if precision == "bf16":
        return Bf16Trunk(generator)
    raise ValueError(f"precision must be 'fp32' or 'bf16', got {precision!r}")
