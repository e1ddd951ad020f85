"""The Inception-v3 variant that standard FID is defined with, for a local weights file.

Standard FID (Heusel et al. 2017) uses the TensorFlow Inception graph of 2015-12-05. Its
weights, ported to PyTorch, are the file the pytorch-fid project publishes:
``pt_inception-2015-12-05-6726825d.pth``, a plain state dict whose keys follow
torchvision's Inception3 naming (``Conv2d_1a_3x3`` … ``Mixed_7c``, ``fc``). The port
differs from torchvision's ImageNet network in ways that change the numbers, so this
module builds that variant exactly:

* BatchNorm eps 0.001 (TensorFlow's), convolutions without bias;
* the pool branches of the A, C and E blocks average over valid pixels only
  (``count_include_pad=False``), and the last E block (Mixed_7c) max-pools instead;
* no auxiliary classifier; the 1008-way ``fc`` in the file is checked but not used —
  FID reads the 2048-d global average pool ("pool3").

Input: uint8 RGB images, resized to 299×299 bilinearly (no antialiasing, as pytorch-fid
does) and scaled to [-1, 1]. The file is read with ``torch.load(weights_only=True)``, so
no pickled code runs; every key and shape is checked before anything is loaded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.errors import WeightsError
from engine.state_files import read_state_dict

FID_WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"
FID_WEIGHTS_SHA256_PREFIX = "6726825d"  # torch.hub convention: the name carries the sha256 prefix
FEATURE_DIM = 2048
INPUT_SIZE = 299
# In the file but unused here: the 1008-way ImageNet classifier of the TF graph.
UNUSED_KEYS = {"fc.weight": (1008, FEATURE_DIM), "fc.bias": (1008,)}
GET_WEIGHTS = (
    f"pass the FID Inception weights {FID_WEIGHTS_NAME} (the 'fid_weights' release of the "
    "pytorch-fid project) with --inception; torchvision's ImageNet Inception-v3 is a different "
    "network and does not give standard FID"
)


class ConvBN(nn.Module):
    """Convolution without bias, BatchNorm (eps 0.001), ReLU: Inception's unit layer."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int | tuple[int, int],
        *,
        stride: int = 1,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


def avg_pool_valid(x: Tensor) -> Tensor:
    # TF's average pool ignores padding; torch's default would count the zero border.
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class BlockA(nn.Module):
    """35×35 block (Mixed_5b–5d): 1×1, 5×5, double 3×3 and pooled branches."""

    def __init__(self, cin: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = ConvBN(cin, 64, 1)
        self.branch5x5_1 = ConvBN(cin, 48, 1)
        self.branch5x5_2 = ConvBN(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = ConvBN(cin, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, padding=1)
        self.branch_pool = ConvBN(cin, pool_features, 1)

    def forward(self, x: Tensor) -> Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(avg_pool_valid(x))], 1)


class BlockB(nn.Module):
    """35→17 reduction (Mixed_6a): strided 3×3, strided double 3×3, max pool."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3 = ConvBN(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = ConvBN(cin, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, 3, stride=2)], 1)


class BlockC(nn.Module):
    """17×17 block (Mixed_6b–6e): factorised 7×7 convolutions (1×7 then 7×1)."""

    def __init__(self, cin: int, c7: int) -> None:
        super().__init__()
        row, col = ((1, 7), (0, 3)), ((7, 1), (3, 0))  # (kernel, padding) of a 1×7 and a 7×1
        self.branch1x1 = ConvBN(cin, 192, 1)
        self.branch7x7_1 = ConvBN(cin, c7, 1)
        self.branch7x7_2 = ConvBN(c7, c7, row[0], padding=row[1])
        self.branch7x7_3 = ConvBN(c7, 192, col[0], padding=col[1])
        self.branch7x7dbl_1 = ConvBN(cin, c7, 1)
        self.branch7x7dbl_2 = ConvBN(c7, c7, col[0], padding=col[1])
        self.branch7x7dbl_3 = ConvBN(c7, c7, row[0], padding=row[1])
        self.branch7x7dbl_4 = ConvBN(c7, c7, col[0], padding=col[1])
        self.branch7x7dbl_5 = ConvBN(c7, 192, row[0], padding=row[1])
        self.branch_pool = ConvBN(cin, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = layer(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(avg_pool_valid(x))], 1)


class BlockD(nn.Module):
    """17→8 reduction (Mixed_7a): strided 3×3, 7×7 then strided 3×3, max pool."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3_1 = ConvBN(cin, 192, 1)
        self.branch3x3_2 = ConvBN(192, 320, 3, stride=2)
        self.branch7x7x3_1 = ConvBN(cin, 192, 1)
        self.branch7x7x3_2 = ConvBN(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = ConvBN(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = ConvBN(192, 192, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_1(x)
        for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = layer(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, 3, stride=2)], 1)


class BlockE(nn.Module):
    """8×8 block (Mixed_7b, 7c): 3×3 convolutions split into parallel 1×3 and 3×1.

    ``max_pool_branch``: the TF graph's last block (Mixed_7c) max-pools in its pool
    branch where the others average; FID features depend on it.
    """

    def __init__(self, cin: int, *, max_pool_branch: bool) -> None:
        super().__init__()
        self.max_pool_branch = max_pool_branch
        self.branch1x1 = ConvBN(cin, 320, 1)
        self.branch3x3_1 = ConvBN(cin, 384, 1)
        self.branch3x3_2a = ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = ConvBN(cin, 448, 1)
        self.branch3x3dbl_2 = ConvBN(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = ConvBN(cin, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        s = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(s), self.branch3x3_2b(s)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool_branch else avg_pool_valid(x)
        return torch.cat([self.branch1x1(x), b3, bd, self.branch_pool(pooled)], 1)


class FidInceptionV3(nn.Module):
    """Inception-v3 up to the 2048-d pool3 features, with the FID graph's pooling."""

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = ConvBN(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = ConvBN(32, 32, 3)
        self.Conv2d_2b_3x3 = ConvBN(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = ConvBN(64, 80, 1)
        self.Conv2d_4a_3x3 = ConvBN(80, 192, 3)
        self.Mixed_5b = BlockA(192, pool_features=32)
        self.Mixed_5c = BlockA(256, pool_features=64)
        self.Mixed_5d = BlockA(288, pool_features=64)
        self.Mixed_6a = BlockB(288)
        self.Mixed_6b = BlockC(768, c7=128)
        self.Mixed_6c = BlockC(768, c7=160)
        self.Mixed_6d = BlockC(768, c7=160)
        self.Mixed_6e = BlockC(768, c7=192)
        self.Mixed_7a = BlockD(768)
        self.Mixed_7b = BlockE(1280, max_pool_branch=False)
        self.Mixed_7c = BlockE(2048, max_pool_branch=True)

    def forward(self, x: Tensor) -> Tensor:
        """x: N×3×299×299 in [-1, 1] (see ``prepare``) → N×2048 pool3 features."""
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        return x.mean((2, 3))


def prepare(images: Sequence[np.ndarray] | np.ndarray) -> Tensor:
    """uint8 RGB images (H×W×3, all the same size) → N×3×299×299 in [-1, 1]."""
    batch = np.stack(images)
    if batch.dtype != np.uint8 or batch.ndim != 4 or batch.shape[-1] != 3:
        raise ValueError(f"expected uint8 N×H×W×3 images, got {batch.dtype} {batch.shape}")
    x = torch.from_numpy(batch).permute(0, 3, 1, 2).float() / 255.0
    # Resize before scaling, bilinear without antialiasing: what pytorch-fid does, so our
    # numbers match its for the same images.
    x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
    return x * 2 - 1


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _read_state(path: Path) -> dict[str, Tensor]:
    return read_state_dict(path, "Inception weights", fix=GET_WEIGHTS)


def check_fid_state(net: FidInceptionV3, state: dict[str, Tensor], source: Path) -> None:
    """Every layer's keys present with the right shapes; only fc and BN counters optional."""
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()} | UNUSED_KEYS
    # Files written before torch 0.4.1, or by converters, may lack the BatchNorm step counters.
    optional = {k for k in expected if k.endswith("num_batches_tracked")} | set(UNUSED_KEYS)
    got = {k: tuple(v.shape) for k, v in state.items()}
    missing = sorted(set(expected) - set(got) - optional)
    extra = sorted(set(got) - set(expected))
    shapes = sorted(k for k in set(expected) & set(got) if expected[k] != got[k])
    if not (missing or extra or shapes):
        return
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing keys, e.g. {missing[:3]}")
    if extra:
        problems.append(f"{len(extra)} unexpected keys, e.g. {extra[:3]}")
    problems += [f"{k}: shape {list(got[k])}, expected {list(expected[k])}" for k in shapes[:3]]
    raise WeightsError(
        "not the FID Inception-v3 weights: " + "; ".join(problems), source=source, fix=GET_WEIGHTS
    )


def load_fid_inception(path: Path | str) -> FidInceptionV3:
    """Build the network from a weights file, checked key by key; in eval mode, on the CPU."""
    path = Path(path)
    state = _read_state(path)
    net = FidInceptionV3()
    check_fid_state(net, state, path)
    own = net.state_dict()
    # Keep the network's own BN counters where the file has none; they do not affect eval.
    own.update({k: v.to(own[k].dtype) for k, v in state.items() if k in own})
    net.load_state_dict(own)
    return net.eval()


class FidFeatures:
    """Pool3 features of uint8 images with the FID Inception, plus a note on the file used."""

    def __init__(self, path: Path | str, *, batch: int = 8) -> None:
        self.path = Path(path)
        self.net = load_fid_inception(self.path)
        self.batch = batch
        self.sha256 = sha256_of(self.path)

    @property
    def note(self) -> str:
        note = f"Inception weights {self.path.name} (sha256 {self.sha256[:12]}…)"
        if not self.sha256.startswith(FID_WEIGHTS_SHA256_PREFIX):
            note += (
                f"; not the pytorch-fid release {FID_WEIGHTS_NAME}, "
                "so the value is not comparable with published FIDs"
            )
        return note

    def __call__(self, images: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        """N uint8 RGB images → N×2048 float64 features."""
        out = []
        with torch.no_grad():
            for start in range(0, len(images), self.batch):
                out.append(self.net(prepare(images[start : start + self.batch])).double().numpy())
        return np.concatenate(out) if out else np.zeros((0, FEATURE_DIM))
