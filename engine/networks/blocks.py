"""Blocks shared by the SPADE-family generators and their discriminators.

Everything here keeps the parameter names of the official code (``first_norm`` in
OASIS, ``param_free_norm`` in SPADE, ``mlp_shared.0``, ``weight_orig``/``weight_u``/
``weight_v``) so published state dicts load without renaming.
"""

from __future__ import annotations

from typing import Self

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
    h, w = x.shape[-2:]
    if (h, w) == tuple(size):
        return x
    if h % size[0] == 0 and w % size[1] == 0:
        # An integer shrink picks every f-th pixel from the first (floor(dst · f) = dst · f):
        # the same values as F.interpolate, which on CPU spends ~20 ms on a 4×77×128² label
        # map whatever the output size — about a third of an OASIS training step at 128²,
        # where every SPADE layer shrinks the full-size map.
        return x[..., :: h // size[0], :: w // size[1]]
    return F.interpolate(x, size=size, mode="nearest")


PARAM_FREE_NORMS = ("batch", "instance")


class SPADE(nn.Module):
    """Spatially-adaptive denormalisation (Park et al., CVPR 2019).

    ``out = norm(x) · (1 + γ(c)) + β(c)`` with a parameter-free BatchNorm (or
    InstanceNorm) and γ, β predicted by a small conv net from the conditioning map ``c``
    resized (nearest) to the feature size. In OASIS ``c`` is [3D noise ‖ one-hot
    labels]; in SPADE it is [one-hot labels ‖ instance edges].
    """

    def __init__(
        self,
        *,
        norm_nc: int,  # channels of the normalised features
        cond_nc: int,  # channels of the conditioning map
        hidden: int = 128,  # width of the shared conv (128 in every official net)
        kernel_size: int = 3,  # kernel of all three convs
        param_free_norm: str = "batch",  # "batch" (running stats in eval) or "instance"
        norm_name: str = "first_norm",  # the norm's key: OASIS "first_norm", SPADE "param_free_norm"
    ) -> None:
        super().__init__()
        if param_free_norm not in PARAM_FREE_NORMS:
            raise ValueError(f"param_free_norm must be one of {PARAM_FREE_NORMS}, got {param_free_norm!r}")
        pad = kernel_size // 2
        self.norm_name = norm_name
        # Registered first so its buffers lead this layer's state dict, as in both releases.
        norm = (
            nn.BatchNorm2d(norm_nc, affine=False)
            if param_free_norm == "batch"
            else nn.InstanceNorm2d(norm_nc, affine=False)
        )
        self.add_module(norm_name, norm)
        self.mlp_shared = nn.Sequential(nn.Conv2d(cond_nc, hidden, kernel_size, padding=pad), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden, norm_nc, kernel_size, padding=pad)
        self.mlp_beta = nn.Conv2d(hidden, norm_nc, kernel_size, padding=pad)

    def modulation(self, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """γ and β for a conditioning map already at the feature size."""
        actv = self.mlp_shared(cond)
        return self.mlp_gamma(actv), self.mlp_beta(actv)

    @property
    def param_free(self) -> nn.Module:
        """The parameter-free normalisation, whatever its key."""
        return getattr(self, self.norm_name)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        normalized = self.param_free(x)
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
        param_free_norm: str = "batch",  # inside every SPADE layer: "batch" or "instance"
        norm_name: str = "first_norm",  # that norm's key (OASIS "first_norm", SPADE "param_free_norm")
    ) -> None:
        super().__init__()
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        self.conv_0 = sn(nn.Conv2d(fin, fmiddle, 3, padding=1), spectral_norm)
        self.conv_1 = sn(nn.Conv2d(fmiddle, fout, 3, padding=1), spectral_norm)
        if self.learned_shortcut:
            self.conv_s = sn(nn.Conv2d(fin, fout, 1, bias=False), spectral_norm)
        spade = {
            "cond_nc": cond_nc,
            "hidden": spade_hidden,
            "kernel_size": spade_kernel,
            "param_free_norm": param_free_norm,
            "norm_name": norm_name,
        }
        self.norm_0 = SPADE(norm_nc=fin, **spade)
        self.norm_1 = SPADE(norm_nc=fmiddle, **spade)
        if self.learned_shortcut:
            self.norm_s = SPADE(norm_nc=fin, **spade)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x_s = self.conv_s(self.norm_s(x, cond)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, cond), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, cond), 0.2))
        return x_s + dx


def instance_edges(ids: torch.Tensor) -> torch.Tensor:
    """The instance-edge channel (B, 1, H, W) of an id map (B, H, W) or (B, 1, H, W):
    1 where a 4-neighbour has another id, both pixels of a differing pair marked
    (SPADE's ``get_edges``, which INADE's discriminator and SPADE's generator read)."""
    if ids.dim() == 3:
        ids = ids[:, None]
    edge = torch.zeros_like(ids, dtype=torch.bool)
    dx = ids[..., :, 1:] != ids[..., :, :-1]
    dy = ids[..., 1:, :] != ids[..., :-1, :]
    edge[..., :, 1:] |= dx
    edge[..., :, :-1] |= dx
    edge[..., 1:, :] |= dy
    edge[..., :-1, :] |= dy
    return edge.float()


# The SPADE generator skeleton, shared by SPADE and INADE (and RESAIL): res-blocks in this
# order, a nearest ×2 before each but head_0; before G_middle_1 only in "more"/"most";
# up_4 exists only in "most". The number of ×2 steps fixes output size / latent grid.
SKELETON_BLOCKS = ("head_0", "G_middle_0", "G_middle_1", "up_0", "up_1", "up_2", "up_3", "up_4")
UPSAMPLING_STEPS = {"normal": 5, "more": 6, "most": 7}


class SkeletonConfig:
    """What SPADE's generator skeleton derives from a config's ``semantic_nc``,
    ``instance_edges``, ``ngf``, ``num_upsampling`` and ``latent_size`` — shared by the SPADE
    and RESAIL generator configs (dataclasses that inherit it; it holds no fields)."""

    FAMILY = ""  # named in for_output's error
    semantic_nc: int
    instance_edges: bool
    ngf: int
    num_upsampling: str
    latent_size: tuple[int, int]

    @property
    def cond_nc(self) -> int:
        """Channels of the semantic input: the one-hot plus the edge channel if any."""
        return self.semantic_nc + int(self.instance_edges)

    @property
    def widths(self) -> list[int]:
        """Input width of each block of ``skeleton_blocks`` and, last, conv_img's input."""
        w = [m * self.ngf for m in (16, 16, 16, 16, 8, 4, 2, 1)]
        return [*w, self.ngf // 2] if self.num_upsampling == "most" else w

    @property
    def scale(self) -> int:
        """Output size / latent size: 32 (normal), 64 (more) or 128 (most)."""
        return 2 ** UPSAMPLING_STEPS[self.num_upsampling]

    @property
    def output_size(self) -> tuple[int, int]:
        """(H, W) at the training size."""
        return self.latent_size[0] * self.scale, self.latent_size[1] * self.scale

    @classmethod
    def for_output(
        cls, semantic_nc: int, height: int, width: int, *, num_upsampling: str = "normal", **kwargs: object
    ) -> Self:
        """The config trained at height × width (the latent grid follows from it)."""
        s = 2 ** UPSAMPLING_STEPS.get(num_upsampling, 5)
        if height % s or width % s:
            raise ValueError(
                f"{cls.FAMILY} ({num_upsampling}) needs H and W divisible by {s}; got {height}×{width}"
            )
        return cls(
            semantic_nc=semantic_nc,  # type: ignore[call-arg]
            latent_size=(height // s, width // s),
            num_upsampling=num_upsampling,
            **kwargs,
        )


def skeleton_blocks(mode: str) -> tuple[str, ...]:
    """The res-blocks of a ``normal``/``more``/``most`` generator, in forward order."""
    if mode not in UPSAMPLING_STEPS:
        raise ValueError(f"num_upsampling must be one of {tuple(UPSAMPLING_STEPS)}, got {mode!r}")
    return SKELETON_BLOCKS if mode == "most" else SKELETON_BLOCKS[:-1]


def upsamples_before(block: str, mode: str) -> bool:
    """Whether the skeleton doubles the features' size right before ``block``."""
    if block == "head_0":
        return False
    return block != "G_middle_1" or mode in ("more", "most")


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
