"""ugen's label mapper for painting: logits recomputed only where a stroke reaches.

:class:`~engine.networks.semantic_mapper.LabelMapper` is an OASIS generator without noise:
a trunk of SPADE residual blocks from a tiny grid (2² for 64² logits) up, each SPADE layer
reading the one-hot map resized (legacy nearest) to its resolution. Two things change
when a stroke changes labels in a box:

* every SPADE layer's γ, β — most of the arithmetic — but only where its resized
  conditioning changed, grown by its two 3×3 convs: a stroke picks few pixels of the coarse
  grids (often none), so these are small windows, kept in a per-layer cache;
* the trunk (BatchNorm in eval mode is a per-channel affine map; the block's 3×3 convs;
  nearest ×2 upsampling), from the lowest level whose γ, β changed, on the changed box
  grown by two pixels per block (:mod:`engine.inference.windows`).

The logits equal ``LabelMapper.forward`` up to float rounding (tests: within 1e-4).
Not thread-safe: the synthesizer calls it under its lock.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.inference.onehot_conv import Box
from engine.inference.windows import changed_box, crop, full_box, grown, paste, scaled, union
from engine.networks.blocks import SPADE, SpadeResBlock, resize_nearest
from engine.networks.semantic_mapper import LabelMapper

LEAK = 0.2
SPADE_MARGIN = 2  # γ, β at a pixel read the conditioning through two 3×3 convs
BLOCK_MARGIN = 2  # a block's output reads its input (and γ, β) through two 3×3 convs


def _spades(block: SpadeResBlock) -> list[str]:
    return ["norm_0", "norm_1", *(["norm_s"] if block.learned_shortcut else [])]


class LiveLabelMapper:
    def __init__(self, mapper: LabelMapper, size: tuple[int, int]) -> None:
        """``mapper`` in eval mode with spectral norm folded; ``size``: the logits' (h, w)."""
        for module in mapper.modules():
            if isinstance(module, SPADE) and not isinstance(module.param_free, nn.BatchNorm2d):
                raise ValueError(
                    "the live label mapper needs BatchNorm SPADE layers (a pointwise map in eval)"
                )
        self.mapper = mapper
        m = mapper.config.size_multiple
        base = (size[0] // m, size[1] // m)
        self.sizes = [(base[0] << i, base[1] << i) for i in range(len(mapper.body))]
        self.size = size
        self._conds: list[torch.Tensor | None] = [None] * len(self.sizes)  # resized one-hot per level
        self._maps: dict[str, torch.Tensor] = {}  # full-size maps: inputs, outputs, γ and β per level
        self.logits: torch.Tensor | None = None  # (1, K, h, w), the cache: do not modify
        self.last_box: Box | None = None  # where the last call changed the logits (None: nowhere)

    @torch.no_grad()
    def __call__(self, onehot: torch.Tensor) -> torch.Tensor:
        """(1, semantic_nc, H, W) one-hot label map → logits (1, K, h, w)."""
        mapper, maps = self.mapper, self._maps
        conds = [resize_nearest(onehot, s) for s in self.sizes]
        changes = [changed_box(c, old) for c, old in zip(conds, self._conds, strict=True)]
        self._conds = conds
        dirty: Box | None = None
        if changes[0] is not None:  # the head conv reads the coarsest grid: a few pixels, redone whole
            maps["in0"] = mapper.fc(conds[0])
            dirty = full_box(*self.sizes[0])
        for i, block in enumerate(mapper.body):
            h, w = self.sizes[i]
            if i > 0 and dirty is not None:  # nearest ×2 of the level below's changed box
                below = crop(maps[f"out{i - 1}"], dirty)
                dirty = scaled(dirty, 2)
                target = self._map(f"in{i}", below, below.shape[1], (h, w))
                target[..., dirty[0] : dirty[2], dirty[1] : dirty[3]] = F.interpolate(
                    below, scale_factor=2.0, mode="nearest"
                )
            mod_box = None
            if changes[i] is not None:
                mod_box = grown(changes[i], SPADE_MARGIN, h, w)
                self._modulation(i, block, conds[i], mod_box)
            reach = union(dirty, mod_box)
            if reach is None:
                continue
            dirty = grown(reach, BLOCK_MARGIN, h, w)
            self._trunk(i, block, dirty)
        self.last_box = None
        if dirty is not None:
            h, w = self.size
            self.last_box = grown(dirty, 1, h, w)  # to_logits is a 3×3 conv
            window = grown(self.last_box, 1, h, w)
            out = mapper.to_logits(F.leaky_relu(crop(maps[f"out{len(self.sizes) - 1}"], window), LEAK))
            if self.logits is None:
                self.logits = out.new_zeros(out.shape[0], out.shape[1], h, w)
            paste(self.logits, out, self.last_box, window)
        assert self.logits is not None
        return self.logits

    def _map(self, name: str, like: torch.Tensor, channels: int, size: tuple[int, int]) -> torch.Tensor:
        if name not in self._maps:
            self._maps[name] = like.new_zeros(like.shape[0], channels, *size)
        return self._maps[name]

    def _modulation(self, i: int, block: SpadeResBlock, cond: torch.Tensor, box: Box) -> None:
        """γ, β of the block's SPADE layers in ``box``, from the conditioning around it."""
        h, w = self.sizes[i]
        window = grown(box, SPADE_MARGIN, h, w)
        part = crop(cond, window)
        for name in _spades(block):
            spade: SPADE = getattr(block, name)
            gamma, beta = spade.modulation(part)
            channels = spade.mlp_gamma.out_channels
            paste(self._map(f"gamma{i}.{name}", gamma, channels, (h, w)), gamma, box, window)
            paste(self._map(f"beta{i}.{name}", beta, channels, (h, w)), beta, box, window)

    def _trunk(self, i: int, block: SpadeResBlock, box: Box) -> None:
        """``SpadeResBlock.forward`` on cached γ, β, written into the level's output in ``box``."""
        h, w = self.sizes[i]
        maps = self._maps
        window = grown(box, BLOCK_MARGIN, h, w)
        x = crop(maps[f"in{i}"], window)

        def spade(name: str, t: torch.Tensor) -> torch.Tensor:
            gamma, beta = crop(maps[f"gamma{i}.{name}"], window), crop(maps[f"beta{i}.{name}"], window)
            return getattr(block, name).param_free(t) * (1 + gamma) + beta

        x_s = block.conv_s(spade("norm_s", x)) if block.learned_shortcut else x
        dx = block.conv_0(F.leaky_relu(spade("norm_0", x), LEAK))
        dx = block.conv_1(F.leaky_relu(spade("norm_1", dx), LEAK))
        out = x_s + dx
        paste(self._map(f"out{i}", out, out.shape[1], (h, w)), out, box, window)
