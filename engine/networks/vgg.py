"""VGG-19's convolutional part, for perceptual losses, read from a local weights file.

The papers' VGG losses (SPADE, INADE, MSCA) use torchvision's ImageNet VGG-19. We never
download it; a user who has the file (``vgg19-dcbb9e9d.pth`` or any torchvision-layout
state dict, also as .safetensors) passes it with ``app-train fit --vgg FILE``. Only
``features.0`` … ``features.28`` (conv1_1 … conv5_1) are used; the classifier is ignored.
Images come in [-1, 1] and are normalised with ImageNet's mean and deviation, which the
weights expect.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from engine.state_files import read_state_dict, require_layout

# torchvision's configuration "E" up to conv5_1; "M" is a 2×2 max-pool.
LAYERS: list[int | str] = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512]
TAPS = (1, 6, 11, 20, 29)  # indices of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
# SPADE's VGGLoss weights per tap: the deeper, the heavier.
TAP_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)
FIX = "pass torchvision's ImageNet VGG-19 weights (vgg19-dcbb9e9d.pth) or leave out --vgg"


class Vgg19Features(nn.Module):
    widths = (64, 128, 256, 512, 512)  # channels at each tap (full, ½, ¼, ⅛, 1/16 resolution)

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for item in LAYERS:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, int(item), 3, padding=1), nn.ReLU(inplace=True)]
                cin = int(item)
        self.features = nn.Sequential(*layers[: TAPS[-1] + 1])
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> Vgg19Features:  # frozen: no mode to switch
        return super().train(False)

    def forward(self, image: Tensor) -> list[Tensor]:
        x = ((image + 1) / 2 - self.mean) / self.std
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in TAPS:
                out.append(x)
        return out


def load_vgg19(path: Path | str) -> Vgg19Features:
    """The frozen features of a local VGG-19 file; a clear error for anything else."""
    path = Path(path)
    state = read_state_dict(path, "VGG-19 weights", FIX)
    net = Vgg19Features()
    wanted = net.state_dict()
    require_layout(state, wanted, path, "VGG-19 weights in torchvision's layout", FIX)
    net.load_state_dict({k: state[k].float() for k in wanted})
    return net.eval().requires_grad_(False)


def perceptual_loss(net: Vgg19Features, fake: Tensor, real: Tensor) -> Tensor:
    """SPADE/INADE's VGG loss: weighted L1 between the taps of ``fake`` and of ``real``."""
    with torch.no_grad():
        targets = net(real)
    return sum(w * torch.nn.functional.l1_loss(a, b) for w, a, b in zip(TAP_WEIGHTS, net(fake), targets))
