"""Incremental OASIS synthesis: cache every SPADE layer's γ, β and recompute them only where an edit reaches.

In OASIS the modulation maps γ, β of each SPADE layer (and the head conv's output)
depend only on the conditioning [noise ‖ one-hot], resized with a legacy *nearest*
resize to the layer's resolution, through two k×k convs. They hold most of the
arithmetic (≈ 80 % for the paper model at 256²). After an edit inside a full-resolution
box, a layer's γ, β can change only at

    grow(nearest-preimage of the box at that resolution, pad(shared conv) + pad(γ/β conv))

— nearest resizing has no interpolation footprint, it only picks pixels (and may pick
none of the box at coarse scales). Only there are γ, β recomputed; the trunk (BatchNorm
in eval mode is a per-channel affine map, the 3×3 convs, the upsampling) then runs in
full on the cached maps, so the image equals a full recompute up to float rounding.

The shared conv of all SPADEs of a block reads the same map, so the block runs them as
one conv; when the labels are an exact one-hot map its label part is a per-class kernel
gather (:mod:`engine.inference.onehot_conv`).
"""

from __future__ import annotations

from bisect import bisect_left

import torch
import torch.nn.functional as F
from torch import nn

from engine.inference.onehot_conv import (
    UNLABELLED,
    Box,
    area,
    clip,
    conv,
    gather_conv,
    gather_table,
    grow,
    onehot_labels,
    pads,
    take,
)
from engine.networks.blocks import SpadeResBlock, has_spectral_norm, resize_nearest
from engine.networks.oasis import OasisGenerator
from engine.scene import Scene

FULL_FRACTION = 0.9
"""Above this share of a full recompute's modulation work an update recomputes everything.
Measured (paper model, 256², one thread): a 224² box, ~80 % of the work, still updates
12 % faster than a full pass, so the windowed path's copies cost little."""


def _same_padding(layer: nn.Conv2d) -> int:
    """The padding of a stride-1, square, 'same' conv; the window arithmetic assumes that."""
    k, pad = layer.kernel_size, layer.padding
    if (
        k[0] != k[1]
        or k[0] % 2 == 0
        or pad != (k[0] // 2,) * 2
        or layer.stride != (1, 1)
        or layer.dilation != (1, 1)
        or layer.groups != 1
    ):
        raise ValueError(f"incremental synthesis needs stride-1 'same' convs, got {layer}")
    return pad[0]


def _one(values: set[int]) -> int:
    if len(values) != 1:
        raise ValueError(f"the SPADE layers of a block use different kernels: paddings {sorted(values)}")
    return values.pop()


def _bias(layer: nn.Conv2d) -> torch.Tensor:
    return layer.bias if layer.bias is not None else layer.weight.new_zeros(layer.out_channels)


def _source_index(n_in: int, n_out: int, device: torch.device) -> tuple[torch.Tensor | None, list[int]]:
    """Which input row feeds each output row of ``resize_nearest`` (taken from the resize itself)."""
    src = torch.arange(n_in, dtype=torch.float32).view(1, 1, n_in, 1)
    index = resize_nearest(src, (n_out, 1)).view(-1).long()
    as_list = index.tolist()
    if as_list == list(range(n_in)):
        return None, as_list
    return index.to(device), as_list


class _Level:
    """One resolution that reads the conditioning: its nearest-resize indices and the
    preimage of a full-resolution box."""

    size: tuple[int, int]
    rows: torch.Tensor | None
    cols: torch.Tensor | None

    def place(self, height: int, width: int, out: tuple[int, int], device: torch.device) -> None:
        self.size = out
        self.rows, self._rows = _source_index(height, out[0], device)
        self.cols, self._cols = _source_index(width, out[1], device)

    def preimage(self, box: Box) -> Box:
        """The rows/columns of this level whose source pixel lies in ``box`` (monotone index)."""
        y0, x0, y1, x1 = box
        r, c = self._rows, self._cols
        return bisect_left(r, y0), bisect_left(c, x0), bisect_left(r, y1), bisect_left(c, x1)


class _Head(_Level):
    """The fc conv on the latent grid: its output depends only on the conditioning too."""

    def __init__(self, fc: nn.Conv2d) -> None:
        self.weight, self.bias = fc.weight, _bias(fc)
        self.pad = _same_padding(fc)
        self.grow_by = self.pad
        self.out: torch.Tensor | None = None
        self.cost_per_pixel = fc.weight.numel()

    def compute(self, target: Box, cond: _Conditioning) -> None:
        src = grow(target, self.pad)
        inside = clip(src, *self.size)
        x = cond.window(self, inside)
        out = conv(x, self.weight, self.bias, pads(inside, src))
        if target == (0, 0, *self.size):
            self.out = out
        else:
            self.out[..., target[0] : target[2], target[1] : target[3]] = out


class _Block(_Level):
    """The SPADE layers of one residual block, with their cached [1 + γ ‖ β] maps."""

    def __init__(self, block: SpadeResBlock, z_dim: int, use_gather: bool) -> None:
        self.names = [n for n in ("norm_s", "norm_0", "norm_1") if hasattr(block, n)]
        spades = [getattr(block, n) for n in self.names]
        shared = [s.mlp_shared[0] for s in spades]
        self.pad_shared = _one({_same_padding(c) for c in shared})
        self.pad_gb = _one({_same_padding(c) for s in spades for c in (s.mlp_gamma, s.mlp_beta)})
        self.grow_by = self.pad_shared + self.pad_gb
        self.kernel = 2 * self.pad_shared + 1
        self.hidden = [c.out_channels for c in shared]
        # One conv for all SPADEs of the block: they all read the same conditioning window.
        self.shared_w = torch.cat([c.weight for c in shared])
        self.shared_b = torch.cat([_bias(c) for c in shared])
        self.noise_w = self.shared_w[:, :z_dim].contiguous()
        self.classes = self.shared_w.shape[1] - z_dim
        self.table = gather_table(self.shared_w[:, z_dim:]) if use_gather else None
        # γ and β of one SPADE read the same activations: one conv with both as outputs.
        self.gb = [
            (
                torch.cat((s.mlp_gamma.weight, s.mlp_beta.weight)),
                torch.cat((_bias(s.mlp_gamma), _bias(s.mlp_beta))),
            )
            for s in spades
        ]
        self.mod: dict[str, torch.Tensor] = {}  # name → (B, 2C, h, w): [1 + γ ‖ β]
        self.shared_cost = self.shared_w.numel()
        self.cost_per_pixel = self.shared_cost + sum(w.numel() for w, _ in self.gb)

    def cost(self, target: Box) -> int:
        actv = clip(grow(target, self.pad_gb), *self.size)
        return area(actv) * self.shared_cost + area(target) * (self.cost_per_pixel - self.shared_cost)

    def compute(self, target: Box, cond: _Conditioning) -> None:
        want = grow(target, self.pad_gb)  # the γ/β convs read the activations here ...
        have = clip(want, *self.size)  # ... which are zero (padding) outside the map
        src = grow(have, self.pad_shared)
        inside = clip(src, *self.size)
        pad = pads(inside, src)
        if self.table is not None and cond.labels is not None:
            actv = conv(cond.noise_window(self, inside), self.noise_w, self.shared_b, pad)
            labels = F.pad(take(cond.labels, self.rows, self.cols, inside), pad, value=UNLABELLED)
            actv += gather_conv(labels, self.table, self.classes, self.kernel)
        else:
            actv = conv(cond.window(self, inside), self.shared_w, self.shared_b, pad)
        actv.relu_()
        whole = target == (0, 0, *self.size)
        start = 0
        for name, hidden, (weight, bias) in zip(self.names, self.hidden, self.gb):
            out = conv(actv[:, start : start + hidden], weight, bias, pads(have, want))
            start += hidden
            out[:, : out.shape[1] // 2] += 1  # store 1 + γ, as the trunk multiplies by it
            if whole:
                self.mod[name] = out
            else:
                self.mod[name][..., target[0] : target[2], target[1] : target[3]] = out

    def spade(self, block: SpadeResBlock, name: str, x: torch.Tensor) -> torch.Tensor:
        """BN(x) · (1 + γ) + β with the cached maps, written over the fresh BN output."""
        scale_shift = self.mod[name]
        n = scale_shift.shape[1] // 2
        normalized = getattr(block, name).first_norm(x)
        return torch.addcmul(scale_shift[:, n:], normalized, scale_shift[:, :n], out=normalized)


class _Conditioning:
    """The new inputs of one call, read window by window at each level's resolution."""

    def __init__(self, onehot: torch.Tensor, noise: torch.Tensor, labels: torch.Tensor | None) -> None:
        self.onehot, self.noise, self.labels = onehot, noise, labels

    def noise_window(self, level: _Level, box: Box) -> torch.Tensor:
        return take(self.noise, level.rows, level.cols, box)

    def window(self, level: _Level, box: Box) -> torch.Tensor:
        onehot = take(self.onehot, level.rows, level.cols, box)
        return torch.cat((self.noise_window(level, box), onehot), dim=1)  # noise first, as OASIS


class IncrementalOasis:
    """An OASIS generator with cached modulation maps: :meth:`full` once, then :meth:`update` per edit.

    ``generator`` must be in eval mode with spectral norm folded
    (:func:`engine.networks.blocks.fold_spectral_norm`), as the Synthesizer prepares it;
    its weights are read once here, so build a new instance after changing them.
    ``onehot_gather``: compute the label part of the SPADE shared convs as a per-class
    kernel gather whenever the label map is an exact one-hot map.

    The cache costs 2 × (SPADE channels) floats per pixel of each level: ≈ 0.33 GB for
    the paper model at 256², ≈ 1.3 GB at 512². Returned images are the cache's own
    (``self.image``): do not modify them in place.
    """

    def __init__(self, generator: OasisGenerator, *, onehot_gather: bool = True) -> None:
        if generator.training:
            raise ValueError("IncrementalOasis needs the generator in eval mode (BatchNorm must be affine)")
        if any(has_spectral_norm(m) for m in generator.modules()):
            raise ValueError("fold the generator's spectral norm first (blocks.fold_spectral_norm)")
        if any(isinstance(m, nn.BatchNorm2d) and m.running_mean is None for m in generator.modules()):
            raise ValueError("BatchNorm without running statistics normalises over the image, not per pixel")
        self.generator = generator
        self.onehot_gather = onehot_gather
        z_dim = generator.config.z_dim
        with torch.no_grad():
            self._head = _Head(generator.fc)
            self._blocks = [_Block(b, z_dim, onehot_gather) for b in generator.body]
        self._key: tuple | None = None  # shapes/dtype/device the cache was built for
        self._labels: torch.Tensor | None = None  # full-resolution class indices (gather path)
        self.image: torch.Tensor | None = None  # the last output
        self.last_was_full = False  # whether the last call recomputed everything (for callers' stats)

    @staticmethod
    def _inputs(onehot: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, tuple]:
        z = z.to(onehot.dtype)
        if z.shape[0] != onehot.shape[0] or z.shape[-2:] != onehot.shape[-2:]:
            raise ValueError(f"noise {tuple(z.shape)} does not match labels {tuple(onehot.shape)}")
        return z, (tuple(onehot.shape), tuple(z.shape), onehot.dtype, onehot.device)

    @torch.no_grad()
    def full(self, onehot: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The output for (B, C, H, W) one-hot labels and (B, z_dim, H, W) noise; fills the cache."""
        z, key = self._inputs(onehot, z)
        height, width = onehot.shape[-2:]
        latent = self.generator.latent_size(height, width)
        self._head.place(height, width, latent, onehot.device)
        for i, block in enumerate(self._blocks):
            block.place(height, width, (latent[0] << i, latent[1] << i), onehot.device)
            block.mod.clear()
        self._labels = onehot_labels(onehot) if self.onehot_gather else None
        cond = _Conditioning(onehot, z, self._labels)
        self._head.out = None
        for level in (self._head, *self._blocks):
            level.compute((0, 0, *level.size), cond)
        self._key = key
        self.last_was_full = True
        return self._run_trunk()

    @torch.no_grad()
    def update(self, onehot: torch.Tensor, z: torch.Tensor, box: Box | None) -> torch.Tensor:
        """The image for new inputs that differ from the last call's only inside ``box``.

        ``box`` is (y0, x0, y1, x1), half-open, in full-resolution pixels (it may reach
        past the borders); None means "unknown", an empty box "nothing changed". Falls
        back to :meth:`full` without a cache, on other shapes, or for large boxes.
        """
        z, key = self._inputs(onehot, z)
        if box is None or key != self._key or self.image is None:
            return self.full(onehot, z)
        box = clip(box, *onehot.shape[-2:])
        if area(box) == 0:
            self.last_was_full = False
            return self.image
        targets = []
        for level in (self._head, *self._blocks):
            hit = level.preimage(box)
            targets.append(clip(grow(hit, level.grow_by), *level.size) if area(hit) else None)
        work = self._head.cost_per_pixel * area(targets[0] or (0, 0, 0, 0))
        work += sum(b.cost(t) for b, t in zip(self._blocks, targets[1:]) if t is not None)
        total = sum(level.cost_per_pixel * area((0, 0, *level.size)) for level in (self._head, *self._blocks))
        if work > FULL_FRACTION * total:
            return self.full(onehot, z)
        if self._labels is not None:
            region = onehot_labels(onehot[..., box[0] : box[2], box[1] : box[3]])
            if region is None:  # no longer one-hot: the conv path from now on
                self._labels = None
            else:
                self._labels[..., box[0] : box[2], box[1] : box[3]] = region
        cond = _Conditioning(onehot, z, self._labels)
        for level, target in zip((self._head, *self._blocks), targets):
            if target is not None:
                level.compute(target, cond)
        self.last_was_full = False
        return self._run_trunk()

    def _run_trunk(self) -> torch.Tensor:
        """The generator's forward pass with every SPADE's γ, β taken from the cache.

        Mirrors SpadeResBlock.forward and OasisGenerator.forward (the tests hold them
        equal); activations work in place on tensors made here, never on the cache.
        """
        g = self.generator
        x = self._head.out
        last = len(self._blocks) - 1
        for i, (block, cache) in enumerate(zip(g.body, self._blocks)):
            x_s = block.conv_s(cache.spade(block, "norm_s", x)) if block.learned_shortcut else x
            dx = block.conv_0(F.leaky_relu_(cache.spade(block, "norm_0", x), 0.2))
            x = block.conv_1(F.leaky_relu_(cache.spade(block, "norm_1", dx), 0.2)).add_(x_s)
            if i < last:
                x = g.up(x)
        self.image = torch.tanh_(g.conv_img(F.leaky_relu_(x, 0.2)))
        return self.image


def changed_box(before: torch.Tensor, after: torch.Tensor) -> Box | None:
    """Bounding box (y0, x0, y1, x1) of the pixels where two (…, H, W) tensors differ; None if equal."""
    if before.shape != after.shape:
        raise ValueError(f"shapes differ: {tuple(before.shape)} vs {tuple(after.shape)}")
    diff = (before != after).reshape(-1, *before.shape[-2:]).any(dim=0)
    return Scene.bbox(diff.cpu().numpy())
