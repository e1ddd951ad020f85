"""ugen's image from a proxy mask and a style, recomputed only where the mask changed.

The plain pipeline (:mod:`engine.networks.rearranger`, ``StyleGan2Generator.head/tail``)
redoes everything per call: G₁ (the style → the features at the proxy resolution), the keys and
values, the rearranger and G₂ — about 2 s at 256² on one CPU thread for a paper-width
rearranger and a StyleGAN2 of widths 128. While a user paints, the style does not change
and a stroke changes the proxy mask in a small box, so:

* per style (:class:`Style`, keyed by the ws — a z's mapped ws, or a w inverted from a
  photo): G₁'s features and skip image, the attention's keys and values,
  and G₂'s modulated, demodulated kernels (they depend on the style only);
* per mask: the queries (mask embedding + position encoding → the residual block →
  W_q) are local — a query sees its mask within the block's margin;
* attention rows are independent of each other: only the changed queries attend again,
  over all cached keys;
* the block after the attention and G₂ are convolutional: they are recomputed on the box
  grown by their margins (:mod:`engine.inference.windows`), level by level up to the image.

The result equals the plain pipeline up to float rounding (the tests hold them within
1e-4). Maps and kernels are kept channels-last, oneDNN's own layout (~1.4× faster convs in
fp32 on CPU). ``bf16`` keeps them in bf16 (the attention's softmax stays fp32): about twice
as fast again on CPUs with AVX512-BF16 or AMX, within the bf16 tolerance of the fp32 image.
Not thread-safe: the synthesizer calls it under its lock.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.inference.onehot_conv import Box
from engine.inference.windows import changed_box, changed_groups, crop, full_box, grown, paste, scaled, union
from engine.networks.rearranger import Rearranger, position_encoding
from engine.networks.stylegan2 import StyleGan2Generator
from engine.networks.stylegan2_layers import lrelu, modulated_kernels, upsample2x

G2_MARGIN = 3  # per G₂ block, at its input: the upsampling's neighbour, then two 3×3 convs


@dataclass
class _Conv:
    """One StyleConv of G₂ for one style."""

    kernel: torch.Tensor  # (O, I, 3, 3), modulated and demodulated
    noise: torch.Tensor  # (S, S): the constant noise image times its learned strength
    bias: torch.Tensor  # (O,)


@dataclass
class _Block:
    convs: tuple[_Conv, _Conv]  # the first upsamples
    rgb_kernel: torch.Tensor  # (3, I, 1, 1), modulated, not demodulated
    rgb_bias: torch.Tensor


@dataclass
class Style:
    """Everything about one style that the painting does not change."""

    ws: torch.Tensor  # (1, num_ws, w_dim): what it was made from, the cache's key
    features: torch.Tensor  # (1, C, r, r): G₁'s output
    skip: torch.Tensor  # (1, 3, r, r): the skip image at the split
    key: torch.Tensor  # (r·r, d)
    value: torch.Tensor  # (r·r, C + 3): what is rearranged, features ‖ skip image
    blocks: list[_Block]  # G₂


def _tokens(x: torch.Tensor) -> torch.Tensor:
    """(1, C, h, w) → (1, 1, h·w, C), the attention's layout (one head)."""
    return x.flatten(2).transpose(1, 2)[:, None]


class UgenRenderer:
    def __init__(
        self,
        generator: StyleGan2Generator,  # eval mode, frozen
        rearranger: Rearranger,
        resolution: int,  # the proxy resolution r (G₁ ends there)
        *,
        bf16: bool = False,
    ) -> None:
        self.g = generator
        self.dtype = torch.bfloat16 if bf16 else torch.float32
        # Channels-last convs are ~1.4× faster in fp32 on CPU (oneDNN's native layout).
        self.r = copy.deepcopy(rearranger).to(self.dtype, memory_format=torch.channels_last)
        self.resolution = resolution
        self.first = generator.config.resolutions.index(resolution) + 1  # G₂'s first block
        self.margin = rearranger.config.block_layers  # 3×3 convs per residual block
        self.device = generator.mapping.w_avg.device
        d = rearranger.config.attention_dim
        self.position = (
            position_encoding(d, resolution, resolution, self.device)[None]
            if rearranger.config.position_encoding
            else torch.zeros(1, d, resolution, resolution, device=self.device)
        ).to(self.dtype)
        self.style: Style | None = None
        self._mask: torch.Tensor | None = None  # (r, r) long: the mask the caches hold
        self._maps: dict[str, torch.Tensor] = {}  # full-size intermediate maps
        self.last_boxes: list[Box] = []  # the proxy-grid boxes the last call recomputed

    def _layout(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.dtype).contiguous(memory_format=torch.channels_last)

    # ---- per style -------------------------------------------------------------------------
    @torch.no_grad()
    def make_style(self, ws: torch.Tensor) -> Style:
        g, r = self.g, self.r
        ws = ws.to(self.device)
        features, skip = g.head(ws, self.resolution, noise_mode="const")
        features, skip = self._layout(features), self._layout(skip)
        key = r.to_key(features) + self.position
        value = torch.cat((r.to_value(features), skip), dim=1)
        blocks = []
        for i in range(self.first, len(g.blocks)):
            block, w0 = g.blocks[i], g.w_starts[i]
            convs = tuple(
                _Conv(
                    self._layout(
                        modulated_kernels(
                            conv.weight * conv.weight_gain, conv.affine(ws[:, w0 + k]), demodulate=True
                        )[0]
                    ),
                    (conv.noise_const * conv.noise_strength).to(self.dtype),
                    conv.bias.to(self.dtype),
                )
                for k, conv in enumerate(block.convs)
            )
            rgb = block.to_rgb
            kernel = modulated_kernels(
                rgb.weight * rgb.weight_gain, rgb.affine(ws[:, w0 + 2]), demodulate=False
            )
            blocks.append(_Block((convs[0], convs[1]), self._layout(kernel[0]), rgb.bias.to(self.dtype)))
        return Style(ws.clone(), features, skip, _tokens(key)[0, 0], _tokens(value)[0, 0], blocks)

    # ---- per call ----------------------------------------------------------------------------
    @torch.no_grad()
    def render(self, ws: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The image (1, 3, R, R) in about [-1, 1] (a cache: do not modify) of the style
        ``ws`` (1, num_ws, w_dim) laid out by the proxy mask ``mask`` (r, r) of cluster ids."""
        r = self.resolution
        if tuple(mask.shape) != (r, r):
            raise ValueError(f"expected a {r}×{r} proxy mask, got {tuple(mask.shape)}")
        mask = mask.to(self.device, torch.long)
        ws = ws.to(self.device)
        new_style = self.style is None or not torch.equal(self.style.ws, ws)
        if new_style:
            self.style = self.make_style(ws)
        if not self._maps:
            self._allocate()
        if new_style:  # new keys and values: every query attends again
            dirty = changed_box(mask, self._mask)
            if dirty is not None:
                self._queries(mask, dirty)
            self.last_boxes = [full_box(r, r)]
            self._after_queries(full_box(r, r))
        else:
            # Changed cells in groups (a change reaches two blocks' margins before G₂), each
            # group on its own windows. Done one after the other, each group's windows see
            # the caches the groups before it left: a pixel one group reads stale lies in a
            # later group's reach and is redone there.
            assert self._mask is not None  # the first call has a new style
            self.last_boxes = changed_groups(mask, self._mask, grow_by=2 * self.margin)
            for box in self.last_boxes:
                self._after_queries(self._queries(mask, box))
        self._mask = mask.clone()
        return self._maps["image"]

    def _after_queries(self, box: Box) -> None:
        """Attention for the queries in ``box``, then the block after it and G₂ where they reach."""
        r = self.resolution
        self._attend(box)
        post = grown(box, self.margin, r, r)
        self._after(post)
        self._g2(post)

    @property
    def last_box(self) -> Box | None:
        """The bounding box of what the last call changed on the proxy grid (None: nothing)."""
        box = None
        for part in self.last_boxes:
            box = union(box, part)
        return box

    def _allocate(self) -> None:
        assert self.style is not None
        c, d, r = self.style.features.shape[1], self.r.config.attention_dim, self.resolution
        k = self.r.config.num_clusters

        def zeros(channels: int, side: int) -> torch.Tensor:
            return self._layout(torch.zeros(1, channels, side, side, device=self.device))

        self._maps = {
            "onehot": zeros(k, r),
            "query": zeros(d, r),
            "attended": zeros(c + 3, r),
            "features": zeros(c, r),
        }
        side = r
        for j in range(self.first, len(self.g.blocks)):
            side *= 2
            self._maps[f"x{j}"] = zeros(self.g.blocks[j].to_rgb.weight.shape[1], side)
            self._maps[f"img{j}"] = zeros(3, side)
        self._maps["image"] = self._maps[f"img{len(self.g.blocks) - 1}"]

    def _queries(self, mask: torch.Tensor, dirty: Box) -> Box:
        """Refresh the one-hot mask in ``dirty`` and the queries it reaches; returns their box."""
        r, m, rr = self.resolution, self.margin, self.r
        maps = self._maps
        onehot = F.one_hot(crop(mask, dirty), rr.config.num_clusters).permute(2, 0, 1)[None]
        maps["onehot"][..., dirty[0] : dirty[2], dirty[1] : dirty[3]] = onehot
        out = grown(dirty, m, r, r)
        window = grown(out, m, r, r)
        emb = rr.embed(crop(maps["onehot"], window)) + crop(self.position, window)
        paste(maps["query"], rr.to_query(rr.block_pre(emb)), out, window)
        return out

    def _attend(self, box: Box) -> None:
        """The attention rows of the queries in ``box`` over all cached keys."""
        assert self.style is not None
        q = crop(self._maps["query"], box)
        h, w = q.shape[-2:]
        # SDPA's scaling and softmax written out: on CPU, SDPA takes its generic path for
        # these shapes (values narrower than keys), which is 2.5× slower in bf16 than two
        # matmuls; the softmax is taken in fp32 whatever the precision.
        scores = _tokens(q)[0, 0] @ self.style.key.T * self.style.key.shape[1] ** -0.5
        out = torch.softmax(scores, dim=-1, dtype=torch.float32).to(self.dtype) @ self.style.value
        self._maps["attended"][..., box[0] : box[2], box[1] : box[3]] = out.T.reshape(1, -1, h, w)

    def _after(self, box: Box) -> None:
        r, c = self.resolution, self._maps["features"].shape[1]
        window = grown(box, self.margin, r, r)
        out = self.r.block_post(crop(self._maps["attended"][:, :c], window))
        paste(self._maps["features"], out, box, window)

    def _g2(self, box: Box) -> None:
        """G₂ from the rearranged features and skip image, block by block, on the grown boxes."""
        assert self.style is not None
        maps, c = self._maps, self._maps["features"].shape[1]
        x_prev, img_prev, side = maps["features"], maps["attended"][:, c:], self.resolution
        for j, block in zip(range(self.first, len(self.g.blocks)), self.style.blocks, strict=True):
            window = grown(box, G2_MARGIN, side, side)
            side *= 2
            out_box, origin = grown(scaled(box, 2), G2_MARGIN, side, side), scaled(window, 2)
            x = upsample2x(crop(x_prev, window))
            for conv in block.convs:
                x = F.conv2d(x, conv.kernel, padding=1) + crop(conv.noise, origin)
                x = lrelu(x + conv.bias[None, :, None, None])
            rgb = F.conv2d(x, block.rgb_kernel) + block.rgb_bias[None, :, None, None]
            img = upsample2x(crop(img_prev, window)) + rgb
            paste(maps[f"x{j}"], x, out_box, origin)
            paste(maps[f"img{j}"], img, out_box, origin)
            x_prev, img_prev, box = maps[f"x{j}"], maps[f"img{j}"], out_box
