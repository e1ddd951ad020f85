"""The torch backends: eager fp32 (the reference) and bf16 autocast with channels_last."""

from __future__ import annotations

import copy

import torch
from torch import nn

from engine.hardware import cpu_has_native_bf16
from engine.inference.backends.names import BF16_TOLERANCE, DESCRIPTIONS, FP32_TOLERANCE


class TorchEager:
    name = "eager"
    description = DESCRIPTIONS["eager"]
    tolerance = FP32_TOLERANCE

    def __init__(self, generator: nn.Module) -> None:
        self.generator = generator.eval()

    @torch.no_grad()
    def run(self, onehot: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.generator(onehot, noise)


def bf16_sensible(device: torch.device) -> bool:
    """bf16 pays off on GPUs that support it and on CPUs with AMX/AVX512-BF16; elsewhere
    oneDNN emulates bf16 and it is slower than fp32, so ``auto`` does not try it."""
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_native_bf16()


# Convs whose outputs form the residual stream and feed BatchNorm (OASIS/SPADE names).
TRUNK_CONVS = ("fc", "conv_0", "conv_1", "conv_s")


def _to_fp32(module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
    return output.float()


class TorchBF16:
    """``torch.autocast(bfloat16)`` with channels_last tensors, the layout oneDNN's AMX and
    cuDNN's tensor-core kernels want; the image comes back in fp32.

    Every conv runs in bf16, but the trunk convs hand their output on in fp32, so residual
    sums and BatchNorm's (x - mean) are not computed in bf16, where cancellation loses most
    of the precision. Measured on the landscapes model at 256²–512²: max abs difference to
    eager 0.014–0.023 instead of 0.017–0.035 (the limit is 0.03), for 10–25 % of the time.

    It keeps its own copy of the generator so the layout and the hooks never change what
    the eager reference computes (costs one more copy of the weights in memory).
    """

    name = "bf16"
    description = DESCRIPTIONS["bf16"]
    tolerance = BF16_TOLERANCE

    def __init__(self, generator: nn.Module, device: torch.device) -> None:
        self.device_type = torch.device(device).type
        self.generator = copy.deepcopy(generator).eval().to(memory_format=torch.channels_last)
        for name, module in self.generator.named_modules():
            if isinstance(module, nn.Conv2d) and name.rsplit(".", 1)[-1] in TRUNK_CONVS:
                module.register_forward_hook(_to_fp32)

    @torch.no_grad()
    def run(self, onehot: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        onehot = onehot.contiguous(memory_format=torch.channels_last)
        noise = noise.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device_type, dtype=torch.bfloat16):
            out = self.generator(onehot, noise)
        return out.float().contiguous()
