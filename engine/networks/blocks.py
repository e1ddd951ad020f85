"""Blocks shared by the SPADE-family generators and their discriminators.

Everything here keeps the parameter names of the official code (``first_norm``,
``mlp_shared.0``, ``weight_orig``/``weight_u``/``weight_v``) so published state dicts
load without renaming.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm as _torch_spectral_norm
from torch.nn.utils.spectral_norm import SpectralNorm


def sn(module: nn.Module, enabled: bool = True) -> nn.Module:
    """Wrap a conv in the hook-based spectral norm (dim 0, one power iteration).

    The old hook API is used on purpose: it is what the official code used, so its
    state-dict keys (``weight_orig``, ``weight_u``, ``weight_v``) and its eval-mode
    behaviour (stored u, v used as they are, no re-normalisation) match the releases.
    """
    return _torch_spectral_norm(module) if enabled else module


def has_spectral_norm(module: nn.Module) -> bool:
    return any(isinstance(h, SpectralNorm) for h in module._forward_pre_hooks.values())


def fold_spectral_norm(net: nn.Module) -> nn.Module:
    """Replace every spectral-norm hook by the plain weight it currently computes.

    In eval mode the hook computes ``weight_orig / (u · W v)`` from the stored u, v;
    folding that once is exact for inference, drops the per-call power-iteration cost
    and makes the net exportable to ONNX. The net must not be trained afterwards.
    """
    for module in net.modules():
        for key, hook in list(module._forward_pre_hooks.items()):
            if isinstance(hook, SpectralNorm):
                with torch.no_grad():
                    weight = hook.compute_weight(module, do_power_iteration=False)
                del module._forward_pre_hooks[key]
                delattr(module, hook.name)
                del module._parameters[hook.name + "_orig"]
                del module._buffers[hook.name + "_u"]
                del module._buffers[hook.name + "_v"]
                module.register_parameter(hook.name, nn.Parameter(weight.detach().clone()))
    return net


def resize_nearest(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Legacy nearest resize (source index = floor(dst · in/out)), as the official nets.

    ``nearest-exact`` is a different operation and changes the outputs noticeably.
    """
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="nearest")


class SPADE(nn.Module):
    """Spatially-adaptive denormalisation (Park et al., CVPR 2019).

    ``out = BN(x) · (1 + γ(c)) + β(c)`` with a parameter-free BatchNorm and γ, β
    predicted by a small conv net from the conditioning map ``c`` resized (nearest)
    to the feature size. In OASIS ``c`` is [3D noise ‖ one-hot labels].
    """

    def __init__(
        self,
        *,
        norm_nc: int,  # channels of the normalised features
        cond_nc: int,  # channels of the conditioning map
        hidden: int = 128,  # width of the shared conv (128 in every official net)
        kernel_size: int = 3,  # kernel of all three convs
    ) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.first_norm = nn.BatchNorm2d(norm_nc, affine=False)
        self.mlp_shared = nn.Sequential(nn.Conv2d(cond_nc, hidden, kernel_size, padding=pad), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden, norm_nc, kernel_size, padding=pad)
        self.mlp_beta = nn.Conv2d(hidden, norm_nc, kernel_size, padding=pad)

    def modulation(self, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """γ and β for a conditioning map already at the feature size."""
        actv = self.mlp_shared(cond)
        return self.mlp_gamma(actv), self.mlp_beta(actv)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        normalized = self.first_norm(x)
        gamma, beta = self.modulation(resize_nearest(cond, x.shape[-2:]))
        return normalized * (1 + gamma) + beta


class SpadeResBlock(nn.Module):
    """Residual block with SPADE before each conv; learned 1×1 shortcut when widths differ."""

    def __init__(
        self,
        *,
        fin: int,  # input channels
        fout: int,  # output channels
        cond_nc: int,  # conditioning channels seen by every SPADE layer
        spade_hidden: int = 128,  # SPADE shared-conv width
        spade_kernel: int = 3,  # SPADE conv kernel
        spectral_norm: bool = True,  # spectral norm on conv_0, conv_1, conv_s
    ) -> None:
        super().__init__()
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        self.conv_0 = sn(nn.Conv2d(fin, fmiddle, 3, padding=1), spectral_norm)
        self.conv_1 = sn(nn.Conv2d(fmiddle, fout, 3, padding=1), spectral_norm)
        if self.learned_shortcut:
            self.conv_s = sn(nn.Conv2d(fin, fout, 1, bias=False), spectral_norm)
        spade = {"cond_nc": cond_nc, "hidden": spade_hidden, "kernel_size": spade_kernel}
        self.norm_0 = SPADE(norm_nc=fin, **spade)
        self.norm_1 = SPADE(norm_nc=fmiddle, **spade)
        if self.learned_shortcut:
            self.norm_s = SPADE(norm_nc=fin, **spade)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x_s = self.conv_s(self.norm_s(x, cond)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, cond), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, cond), 0.2))
        return x_s + dx


def init_official(net: nn.Module, gain: float = 0.02) -> None:
    """The official OASIS/SPADE initialisation: Xavier-normal (gain 0.02), zero bias.

    As in the official code this reaches only convs *without* spectral norm: there the
    init writes to the hook's temporary ``weight`` copy, so ``weight_orig`` keeps
    PyTorch's default init (harmless, since spectral norm rescales it anyway).
    """
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)) and not has_spectral_norm(module):
            nn.init.xavier_normal_(module.weight, gain=gain)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
