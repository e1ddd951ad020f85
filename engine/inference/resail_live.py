"""Live RESAIL synthesis: after a stroke, recompute each RESAIL layer's γ, β only near the change.

In a RESAIL generator almost all the arithmetic is in the RESAIL layers' two branches
(measured at 256², ngf 8: the trunk alone is ~6 % of a full pass); their γ, β maps depend
on the map and the guidance image, not on the trunk. This module caches them, with the
layer's *global* quantities — the AdaIN parameters c₁, c₂ (a global average over the map)
and the InstanceNorm statistics of the guidance branch — and after a stroke recomputes
γ, β in the window the changed labels and guidance pixels can reach, with those global
quantities held at their cached values. The trunk then runs in full on the cached maps.

Holding the globals is the one approximation: a stroke moves a map-wide mean by a
fraction of its area. So the live image can drift from an exact pass; ``drift_limit``
bounds it — once the pixels changed since the last exact pass exceed that share of the
map, the next image is an exact full pass (which refreshes every global). A full pass
matches :meth:`ResailGenerator.forward` to float rounding.

Not thread-safe: one thread (the synthesizer's, under its lock) calls it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.inference.onehot_conv import Box, area, clip, grow
from engine.networks.resail import ResailGenerator, ResailNorm

IN_EPS = 1e-5  # F.instance_norm's default, which the network's AdaIN uses


@dataclass
class _Cache:
    c1: torch.Tensor  # (1, 2n, 1, 1) AdaIN₁ scale ‖ bias
    c2: torch.Tensor
    stats1: tuple[torch.Tensor, torch.Tensor]  # per-channel mean and 1/std of conv1's output
    stats2: tuple[torch.Tensor, torch.Tensor]
    gamma: torch.Tensor
    beta: torch.Tensor


def _instance_stats(f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean = f.mean(dim=(-2, -1), keepdim=True)
    var = f.var(dim=(-2, -1), keepdim=True, unbiased=False)
    return mean, torch.rsqrt(var + IN_EPS)


def _branches(
    norm: ResailNorm,
    seg: torch.Tensor,
    guidance: torch.Tensor,
    c1: torch.Tensor,
    c2: torch.Tensor,
    stats: tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None,
) -> tuple[torch.Tensor, torch.Tensor, tuple]:
    """γ, β of ``norm`` on (a window of) its inputs, and the InstanceNorm statistics used:
    measured on these inputs when ``stats`` is None (a whole map), else the given ones."""
    n = norm.style_length
    f = norm.conv1(guidance)
    s1 = _instance_stats(f) if stats is None else stats[0]
    f = F.relu(c1[:, :n] * ((f - s1[0]) * s1[1]) + c1[:, n:])
    f = norm.conv2(f)
    s2 = _instance_stats(f) if stats is None else stats[1]
    f = F.relu(c2[:, :n] * ((f - s2[0]) * s2[1]) + c2[:, n:])
    f = norm.conv3(f)
    actv = norm.mlp_shared(seg)
    a_gamma, a_beta = torch.sigmoid(norm.blending_gamma), torch.sigmoid(norm.blending_beta)
    gamma = a_gamma * norm.conv_gamma(f) + (1 - a_gamma) * norm.mlp_gamma(actv)
    beta = a_beta * norm.conv_beta(f) + (1 - a_beta) * norm.mlp_beta(actv)
    return gamma, beta, (s1, s2)


def _halo(norm: ResailNorm) -> int:
    """How far a change of the inputs reaches into γ, β: 3 convs + conv_gamma on the guidance,
    mlp_shared + mlp_gamma on the map."""
    p = norm.conv_gamma.kernel_size[0] // 2
    q = norm.mlp_shared[0].kernel_size[0] // 2 + norm.mlp_gamma.kernel_size[0] // 2
    return max(3 + p, q)


def _level_box(box: Box | None, full: tuple[int, int], size: tuple[int, int], margin: int) -> Box | None:
    """A superset of the rows/cols at ``size`` whose resized input reads ``box`` (full-res pixels):
    nearest and bilinear both read within one source pixel of the scaled coordinate."""
    if box is None or area(box) == 0:
        return None
    sy, sx = size[0] / full[0], size[1] / full[1]
    y0, x0, y1, x1 = box
    scaled = (
        math.floor(y0 * sy) - 1,
        math.floor(x0 * sx) - 1,
        math.ceil(y1 * sy) + 1,
        math.ceil(x1 * sx) + 1,
    )
    return grow(scaled, margin)


def _union(a: Box | None, b: Box | None) -> Box | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


class ResailLive:
    def __init__(self, generator: ResailGenerator, drift_limit: float = 0.1) -> None:
        self.g = generator
        self.drift_limit = drift_limit
        self.norms = [m for m in generator.modules() if isinstance(m, ResailNorm)]
        self._cache: dict[int, _Cache] = {}
        self._shape: tuple[int, int] | None = None
        self._drift = 0.0  # share of the map changed since the last exact pass
        self._boxes: tuple[Box | None, Box | None] = (None, None)
        self.last_exact = True
        self.last_windows = 0  # pixels of γ, β recomputed by the last call (all levels)

    def reset(self) -> None:
        self._cache.clear()
        self._shape = None

    @torch.no_grad()
    def __call__(
        self,
        cond: torch.Tensor,
        guidance: torch.Tensor,
        label_box: Box | None = None,
        guidance_box: Box | None = None,
        *,
        exact: bool = False,
    ) -> torch.Tensor:
        """The image for (cond, guidance); the boxes (full-resolution pixels, (y0, x0, y1, x1))
        bound where they differ from the previous call's. The first call, a new size, or
        ``exact`` makes an exact full pass."""
        shape = (int(cond.shape[-2]), int(cond.shape[-1]))
        changed = area(_union(label_box, guidance_box) or (0, 0, 0, 0)) / (shape[0] * shape[1])
        full = exact or self._shape != shape or not self._cache or self._drift + changed > self.drift_limit
        self._boxes = (label_box, guidance_box)
        self.last_windows = 0
        with self._patched(full, shape):
            image = self.g(cond, guidance)
        self._shape = shape
        self._drift = 0.0 if full else self._drift + changed
        self.last_exact = full
        return image

    @contextmanager
    def _patched(self, full: bool, shape: tuple[int, int]) -> Iterator[None]:
        """Each RESAIL layer's modulation reads (and refreshes) the cache while the trunk runs."""
        for norm in self.norms:
            norm.modulation = self._modulation(norm, full, shape)  # type: ignore[method-assign]
        try:
            yield
        finally:
            for norm in self.norms:
                del norm.modulation  # back to the class's method

    def _modulation(self, norm: ResailNorm, full: bool, shape: tuple[int, int]):
        def modulation(seg: torch.Tensor, guidance: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            key = id(norm)
            if full:
                c1, c2 = norm.adain_params(seg)
                gamma, beta, stats = _branches(norm, seg, guidance, c1, c2, None)
                self._cache[key] = _Cache(c1, c2, stats[0], stats[1], gamma, beta)
                self.last_windows += gamma.shape[-2] * gamma.shape[-1]
                return gamma, beta
            cache = self._cache[key]
            size = (int(seg.shape[-2]), int(seg.shape[-1]))
            halo = _halo(norm)
            labels, guide = self._boxes
            window = _union(_level_box(labels, shape, size, halo), _level_box(guide, shape, size, halo))
            if window is None:
                return cache.gamma, cache.beta
            window = clip(window, *size)
            if area(window) == 0:
                return cache.gamma, cache.beta
            crop = clip(grow(window, halo), *size)
            rows, cols = slice(crop[0], crop[2]), slice(crop[1], crop[3])
            # Contiguous crops: a strided view sends every conv to PyTorch's slow fallback.
            gamma, beta, _ = _branches(
                norm, seg[..., rows, cols].contiguous(), guidance[..., rows, cols].contiguous(),
                cache.c1, cache.c2, (cache.stats1, cache.stats2),
            )  # fmt: skip
            wy, wx = (
                slice(window[0] - crop[0], window[2] - crop[0]),
                slice(window[1] - crop[1], window[3] - crop[1]),
            )
            cache.gamma[..., window[0] : window[2], window[1] : window[3]] = gamma[..., wy, wx]
            cache.beta[..., window[0] : window[2], window[1] : window[3]] = beta[..., wy, wx]
            self.last_windows += area(window)
            return cache.gamma, cache.beta

        return modulation
