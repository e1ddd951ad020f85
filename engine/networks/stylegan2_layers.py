"""The layers of StyleGAN2 (Karras et al., CVPR 2020), written for Tessera.

* **Equalised learning rate**: weights are stored as N(0, 1/lr_mul²) and multiplied at
  run time by ``lr_mul / sqrt(fan_in)``. The effective weights start at the He scale,
  and Adam's step on the stored weight moves the effective one by ``lr_mul / sqrt(fan_in)``
  times as much, so every layer learns at a similar speed whatever its fan-in (and the
  mapping network, with lr_mul 0.01, a hundred times slower).
* **Modulated convolution**: the style scales the input channels of the kernel, and
  demodulation rescales each output channel of the modulated kernel to unit L2 norm, so
  the output's scale does not depend on the style's (what replaced AdaIN's normalisation).
* **Resampling** (our choice, not the official upfirdn kernels): bilinear ×2 upsampling,
  which for a ×2 step *is* the separable [1, 3, 3, 1]/4 filter StyleGAN2 applies after
  its transposed convolution, except that borders repeat the edge pixel instead of
  padding with zeros; and 2×2 average pooling for the discriminator's ×½ steps (a box
  filter, slightly less smooth than [1, 3, 3, 1]). Both are one stock op, export to ONNX
  and keep the nets small to read.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

NOISE_MODES = ("random", "const", "none")
LRELU_GAIN = math.sqrt(2.0)  # keeps the activations' second moment through leaky ReLU(0.2)


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2) * LRELU_GAIN


def upsample2x(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)


def downsample2x(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 2)


class EqualLinear(nn.Module):
    """A fully connected layer with equalised learning rate (see the module docstring)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias_init: float = 0.0,  # the effective bias at initialisation (1 for style affines)
        lr_mul: float = 1.0,  # learning-rate multiplier (0.01 in the mapping network)
        activation: bool = False,  # leaky ReLU with gain √2 after the bias
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), bias_init / lr_mul))
        self.weight_gain = lr_mul / math.sqrt(in_features)
        self.bias_gain = lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.weight_gain, self.bias * self.bias_gain)
        return lrelu(x) if self.activation else x


class EqualConv2d(nn.Module):
    """A stride-1 'same' convolution with equalised learning rate."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        bias: bool = True,
        activation: bool = False,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = self.weight.shape[-1] // 2
        x = F.conv2d(x, self.weight * self.weight_gain, self.bias, padding=pad)
        return lrelu(x) if self.activation else x


def modulated_kernels(weight: torch.Tensor, styles: torch.Tensor, *, demodulate: bool) -> torch.Tensor:
    """Per-sample kernels (B, O, I, k, k): ``weight`` (O, I, k, k) with its input channels
    scaled by ``styles`` (B, I), each output channel rescaled to unit norm if ``demodulate``.
    They depend on the style only, so ugen's renderer makes them once per z."""
    kernels = weight[None] * styles[:, None, :, None, None]
    if demodulate:
        kernels = kernels * torch.rsqrt(kernels.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
    return kernels


def modulated_conv2d(
    x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, *, demodulate: bool
) -> torch.Tensor:
    """Convolve each sample of ``x`` (B, I, H, W) with ``weight`` (O, I, k, k) whose input
    channels are scaled by that sample's ``styles`` (B, I); with ``demodulate`` each output
    channel's kernel is rescaled to unit norm. One grouped convolution for the batch."""
    b, cin, h, w = x.shape
    cout, _, k, _ = weight.shape
    kernels = modulated_kernels(weight, styles, demodulate=demodulate)
    out = F.conv2d(
        x.reshape(1, b * cin, h, w), kernels.reshape(b * cout, cin, k, k), padding=k // 2, groups=b
    )
    return out.reshape(b, cout, h, w)


class StyleConv(nn.Module):
    """Modulated, demodulated 3×3 conv (after a ×2 upsampling when ``up``), per-pixel
    noise with a learned strength, bias, leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, *, up: bool) -> None:
        super().__init__()
        self.up = up
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)  # style starts at 1: identity
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3))
        self.weight_gain = 1 / math.sqrt(in_channels * 9)
        # Starts at 0: noise only enters where the generator finds it useful.
        self.noise_strength = nn.Parameter(torch.zeros(()))
        # A fixed noise image, saved with the weights, for reproducible renders ("const").
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(
        self,
        x: torch.Tensor,
        w: torch.Tensor,
        noise_mode: str = "random",
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        if self.up:
            x = upsample2x(x)
        x = modulated_conv2d(x, self.weight * self.weight_gain, self.affine(w), demodulate=True)
        if noise_mode == "random":
            b, _, h, w_ = x.shape
            device = generator.device if generator is not None else x.device
            noise = torch.randn(b, 1, h, w_, generator=generator, device=device).to(x)
            x = x + noise * self.noise_strength
        elif noise_mode == "const":
            x = x + self.noise_const.to(x) * self.noise_strength
        elif noise_mode != "none":
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        return lrelu(x + self.bias[None, :, None, None])


class ToRGB(nn.Module):
    """Modulated 1×1 conv to RGB, without demodulation (the skip images must keep scale)."""

    def __init__(self, in_channels: int, w_dim: int) -> None:
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(3, in_channels, 1, 1))
        self.weight_gain = 1 / math.sqrt(in_channels)
        self.bias = nn.Parameter(torch.zeros(3))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        out = modulated_conv2d(x, self.weight * self.weight_gain, self.affine(w), demodulate=False)
        return out + self.bias[None, :, None, None]


def minibatch_stddev(x: torch.Tensor, group_size: int, num_channels: int) -> torch.Tensor:
    """Append ``num_channels`` feature maps holding the standard deviation of the features
    across a group of samples, so D can see a lack of variety (mode collapse) in a batch.

    Groups take every M-th sample (M = B / group); the group is the largest divisor of
    the batch not above ``group_size``, so any batch size works.
    """
    b, c, h, w = x.shape
    g = max(d for d in range(1, min(group_size, b) + 1) if b % d == 0)
    y = x.float().reshape(g, -1, num_channels, c // num_channels, h, w)
    y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt()  # (M, F, c/F, H, W)
    y = y.mean(dim=(2, 3, 4)).reshape(-1, num_channels, 1, 1).repeat(g, 1, h, w)
    return torch.cat((x, y.to(x.dtype)), dim=1)
