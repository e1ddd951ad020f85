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
from collections.abc import Iterator

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
    gather_index,
    gather_rows,
    gather_table,
    grow,
    onehot_labels,
    pads,
    take,
)
from engine.inference.tokens import TableCache, Tokens
from engine.inference.trunk import make_trunk
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
        if cond.tokens is not None:
            index, shape = gather_index(
                cond.token_window(self, inside, src), cond.tokens.count, 2 * self.pad + 1
            )
            out = (
                gather_rows(index, shape, cond.table(self.weight)).add_(self.bias.view(-1, 1, 1)).contiguous()
            )
        else:
            out = conv(cond.window(self, inside), self.weight, self.bias, pads(inside, src))
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
        self.shared_parts = [(c.weight, _bias(c).view(-1, 1, 1)) for c in shared]
        self.compute_dtype = torch.float32
        # The trunk's layout: elementwise ops over maps in two layouts are several times slower.
        self.memory_format = torch.contiguous_format
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
        if cond.tokens is not None:
            # Each SPADE's shared conv as its own gather: contiguous, channels-last outputs.
            index, shape = gather_index(cond.token_window(self, inside, src), cond.tokens.count, self.kernel)
            actvs = [gather_rows(index, shape, cond.table(w)).add_(b).relu_() for w, b in self.shared_parts]
        else:
            if self.table is not None and cond.labels is not None:
                actv = conv(cond.noise_window(self, inside), self.noise_w, self.shared_b, pad)
                labels = F.pad(take(cond.labels, self.rows, self.cols, inside), pad, value=UNLABELLED)
                actv += gather_conv(labels, self.table, self.classes, self.kernel)
            else:
                actv = conv(cond.window(self, inside), self.shared_w, self.shared_b, pad)
            actv.relu_()
            starts = [sum(self.hidden[:i]) for i in range(len(self.hidden))]
            actvs = [actv[:, a : a + h] for a, h in zip(starts, self.hidden)]
        whole = target == (0, 0, *self.size)
        for name, actv, (weight, bias) in zip(self.names, actvs, self.gb):
            # The maps stay fp32 even when the convs run in bf16: rounding 1 + γ to bf16
            # alone costs ~0.01 of the image's [-1, 1] range on the shipped model.
            actv = actv.to(self.compute_dtype, memory_format=self.memory_format)
            out = conv(actv, weight, bias, pads(have, want)).float()
            out[:, : out.shape[1] // 2] += 1  # store 1 + γ, as the trunk multiplies by it
            if whole:
                self.mod[name] = out
            else:
                self.mod[name][..., target[0] : target[2], target[1] : target[3]] = out

    def use_dtype(self, dtype: torch.dtype) -> None:
        """Run the γ/β convs in ``dtype`` (the trunk's)."""
        self.compute_dtype = dtype
        if dtype != torch.float32:
            self.memory_format = torch.channels_last
            self.gb = [
                (w.to(dtype).contiguous(memory_format=torch.channels_last), b.to(dtype)) for w, b in self.gb
            ]


class _Conditioning:
    """The new inputs of one call, read window by window at each level's resolution:
    dense maps (``onehot``, ``noise``, optionally ``labels`` for the class gather) or
    ``tokens``, with which every conv over the conditioning is a gather."""

    def __init__(
        self,
        onehot: torch.Tensor | None,
        noise: torch.Tensor | None,
        labels: torch.Tensor | None,
        tokens: Tokens | None = None,
        cache: TableCache | None = None,
    ) -> None:
        self.onehot, self.noise, self.labels, self.tokens = onehot, noise, labels, tokens
        self._cache = cache or TableCache()
        self._keys = TableCache.keys(tokens.vectors) if tokens is not None else []
        self._tables: dict[int, torch.Tensor] = {}

    def table(self, weight: torch.Tensor) -> torch.Tensor:
        """The gather table of a conv over the conditioning, for this call's token vectors."""
        key = id(weight)
        if key not in self._tables:
            self._tables[key] = self._cache.table(weight, self.tokens.vectors, self._keys)
        return self._tables[key]

    def token_window(self, level: _Level, inside: Box, src: Box) -> torch.Tensor:
        """Token indices of ``inside`` at the level's resolution, padded out to ``src``."""
        index = take(self.tokens.index, level.rows, level.cols, inside)
        return F.pad(index, pads(inside, src), value=UNLABELLED)

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
    ``precision``: "fp32" equals the generator (≤ 1e-4); "bf16" runs every conv in
    bfloat16 with channels-last tensors (AMX/AVX512-BF16 CPUs, GPUs) and keeps the
    residual stream and BatchNorm in fp32 (:mod:`engine.inference.trunk`).
    ``keep_cache=False``: full passes only (every update is one), holding one block's
    modulation maps at a time — what a plain backend wants.

    Conditioning comes either dense (:meth:`full`/:meth:`update`: one-hot labels and a
    noise tensor) or as :class:`~engine.inference.tokens.Tokens`
    (:meth:`full_tokens`/:meth:`update_tokens`), with which every conv over it is a gather.

    The cache costs 2 × (SPADE channels) fp32 values per pixel of each level: ≈ 0.33 GB
    for the paper model at 256², ≈ 1.3 GB at 512²; ≈ 80 MB for the shipped landscapes
    model at 256². With the cache kept, returned images are the cache's own
    (``self.image``): do not modify them in place.
    """

    def __init__(
        self,
        generator: OasisGenerator,
        *,
        onehot_gather: bool = True,
        precision: str = "fp32",
        keep_cache: bool = True,
    ) -> None:
        if generator.training:
            raise ValueError("IncrementalOasis needs the generator in eval mode (BatchNorm must be affine)")
        if any(has_spectral_norm(m) for m in generator.modules()):
            raise ValueError("fold the generator's spectral norm first (blocks.fold_spectral_norm)")
        if any(isinstance(m, nn.BatchNorm2d) and m.running_mean is None for m in generator.modules()):
            raise ValueError("BatchNorm without running statistics normalises over the image, not per pixel")
        self.generator = generator
        self.onehot_gather = onehot_gather
        self.precision = precision
        self.keep_cache = keep_cache
        z_dim = generator.config.z_dim
        with torch.no_grad():
            self._head = _Head(generator.fc)
            self._blocks = [_Block(b, z_dim, onehot_gather) for b in generator.body]
            self._trunk = make_trunk(generator, precision)
        for block in self._blocks:
            block.use_dtype(self._trunk.dtype)
        self._tables = TableCache()  # gather-table rows of the token vectors seen so far
        self._key: tuple | None = None  # shapes/dtype/device the cache was built for
        self._labels: torch.Tensor | None = None  # full-resolution class indices (gather path)
        self.image: torch.Tensor | None = None  # the last output
        self.last_was_full = False  # whether the last call recomputed everything (for callers' stats)

    @property
    def _levels(self) -> tuple[_Level, ...]:
        return (self._head, *self._blocks)

    @staticmethod
    def _inputs(onehot: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, tuple]:
        z = z.to(onehot.dtype)
        if z.shape[0] != onehot.shape[0] or z.shape[-2:] != onehot.shape[-2:]:
            raise ValueError(f"noise {tuple(z.shape)} does not match labels {tuple(onehot.shape)}")
        return z, ("dense", tuple(onehot.shape), tuple(z.shape), onehot.dtype, onehot.device)

    def _tokens_key(self, tokens: Tokens) -> tuple:
        want = self.generator.config.z_dim + self._blocks[0].classes
        if tokens.vectors.shape[1] != want:
            raise ValueError(
                f"token vectors have {tokens.vectors.shape[1]} channels, the generator reads {want}"
            )
        return ("tokens", tuple(tokens.index.shape), tokens.index.device)

    # ------------------------------------------------------------------ dense conditioning

    @torch.no_grad()
    def full(self, onehot: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The output for (B, C, H, W) one-hot labels and (B, z_dim, H, W) noise; fills the cache."""
        z, key = self._inputs(onehot, z)
        self._labels = onehot_labels(onehot) if self.onehot_gather else None
        return self._full(_Conditioning(onehot, z, self._labels), key, onehot.shape[-2:], onehot.device)

    @torch.no_grad()
    def update(self, onehot: torch.Tensor, z: torch.Tensor, box: Box | None) -> torch.Tensor:
        """The image for new inputs that differ from the last call's only inside ``box``.

        ``box`` is (y0, x0, y1, x1), half-open, in full-resolution pixels (it may reach
        past the borders); None means "unknown", an empty box "nothing changed". Falls
        back to :meth:`full` without a cache, on other shapes, or for large boxes.
        """
        z, key = self._inputs(onehot, z)
        targets = self._targets(key, box, onehot.shape[-2:])
        if targets is None:
            return self.full(onehot, z)
        if targets == "same":
            return self.image
        box = clip(box, *onehot.shape[-2:])
        if self._labels is not None:
            region = onehot_labels(onehot[..., box[0] : box[2], box[1] : box[3]])
            if region is None:  # no longer one-hot: the conv path from now on
                self._labels = None
            else:
                self._labels[..., box[0] : box[2], box[1] : box[3]] = region
        return self._update(_Conditioning(onehot, z, self._labels), targets)

    # ------------------------------------------------------------------ token conditioning

    @torch.no_grad()
    def full_tokens(self, tokens: Tokens) -> torch.Tensor:
        """The output for a token map (see :mod:`engine.inference.tokens`); fills the cache."""
        key = self._tokens_key(tokens)
        self._labels = None
        cond = _Conditioning(None, None, None, tokens, self._tables)
        return self._full(cond, key, tokens.index.shape[-2:], tokens.index.device)

    @torch.no_grad()
    def update_tokens(self, tokens: Tokens, box: Box | None) -> torch.Tensor:
        """As :meth:`update`, for token conditioning. Token numbers need not match the last
        call's: only the vectors they stand for must be unchanged outside ``box``."""
        targets = self._targets(self._tokens_key(tokens), box, tokens.index.shape[-2:])
        if targets is None:
            return self.full_tokens(tokens)
        if targets == "same":
            return self.image
        return self._update(_Conditioning(None, None, None, tokens, self._tables), targets)

    # ------------------------------------------------------------------ shared

    def _full(self, cond: _Conditioning, key: tuple, size: torch.Size, device: torch.device) -> torch.Tensor:
        height, width = size
        latent = self.generator.latent_size(height, width)
        self._head.place(height, width, latent, device)
        for i, block in enumerate(self._blocks):
            block.place(height, width, (latent[0] << i, latent[1] << i), device)
            block.mod.clear()
        self._head.out = None
        self.last_was_full = True
        if not self.keep_cache:  # one block's maps at a time, computed as the trunk reaches it
            self._key = self.image = None
            self._head.compute((0, 0, *self._head.size), cond)
            image = self._trunk.run(self._head.out, self._streamed(cond))
            self._head.out = None
            self._blocks[-1].mod.clear()  # the trunk stops pulling after the last block
            return image
        for level in self._levels:
            level.compute((0, 0, *level.size), cond)
        self._key = key
        self.image = self._trunk.run(self._head.out, self._blocks)
        return self.image

    def _streamed(self, cond: _Conditioning) -> Iterator[_Block]:
        for block in self._blocks:
            block.compute((0, 0, *block.size), cond)
            yield block
            block.mod.clear()

    def _targets(self, key: tuple, box: Box | None, size: torch.Size) -> list[Box | None] | str | None:
        """Per level, the box of γ, β to recompute; "same" if nothing changed; None for a full pass."""
        if box is None or key != self._key or self.image is None:
            return None
        box = clip(box, *size)
        if area(box) == 0:
            self.last_was_full = False
            return "same"
        targets = []
        for level in self._levels:
            hit = level.preimage(box)
            targets.append(clip(grow(hit, level.grow_by), *level.size) if area(hit) else None)
        work = self._head.cost_per_pixel * area(targets[0] or (0, 0, 0, 0))
        work += sum(b.cost(t) for b, t in zip(self._blocks, targets[1:]) if t is not None)
        total = sum(level.cost_per_pixel * area((0, 0, *level.size)) for level in self._levels)
        return None if work > FULL_FRACTION * total else targets

    def _update(self, cond: _Conditioning, targets: list[Box | None]) -> torch.Tensor:
        for level, target in zip(self._levels, targets):
            if target is not None:
                level.compute(target, cond)
        self.last_was_full = False
        self.image = self._trunk.run(self._head.out, self._blocks)
        return self.image


def changed_box(before: torch.Tensor, after: torch.Tensor) -> Box | None:
    """Bounding box (y0, x0, y1, x1) of the pixels where two (…, H, W) tensors differ; None if equal."""
    if before.shape != after.shape:
        raise ValueError(f"shapes differ: {tuple(before.shape)} vs {tuple(after.shape)}")
    diff = (before != after).reshape(-1, *before.shape[-2:]).any(dim=0)
    return Scene.bbox(diff.cpu().numpy())
