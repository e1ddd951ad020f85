"""What every inference backend offers, and the yardsticks they are held to.

A backend runs one generator on one device: ``run(onehot, noise) → image``, with
onehot (1, C, H, W), noise (1, Z, H, W) and the image (1, 3, H, W) in [-1, 1], fp32, on
the device of the inputs. torch eager fp32 is the reference; every other backend must
stay within its ``tolerance`` (max abs difference on the image) of it.
"""

from __future__ import annotations

import hashlib
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from engine.errors import InputError


class BackendUnavailable(InputError):
    """A requested backend cannot run here: its library, provider or device is missing."""


@runtime_checkable
class Backend(Protocol):
    name: str  # a key of DESCRIPTIONS
    description: str
    tolerance: float  # allowed max abs difference to eager fp32

    def run(self, onehot: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """(1, C, H, W) one-hot + (1, Z, H, W) noise → (1, 3, H, W) fp32 image in [-1, 1]."""
        ...


def max_abs_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.detach().float().cpu() - b.detach().float().cpu()).abs().max())


def weights_hash(net: nn.Module) -> str:
    """A digest of every tensor of ``net`` (names, dtypes, shapes, values).

    It keys exported ONNX files and measured backend choices, so retrained or edited
    weights never reuse a stale export. Costs ≈ 0.1 s per 100 MB of weights.
    """
    h = hashlib.blake2b(digest_size=16)
    for key, value in sorted(net.state_dict().items()):
        t = value.detach().cpu().contiguous()  # raw bytes: exact, any dtype
        h.update(f"{key}:{t.dtype}:{tuple(t.shape)};".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def example_inputs(
    semantic_nc: int, z_dim: int, height: int, width: int, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """A blocky random label layout (one-hot) and a two-region noise field, for parity checks.

    Blocks of 8 px exercise label edges; two noise vectors exercise region-wise noise.
    """
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, semantic_nc, (max(1, height // 8), max(1, width // 8)))
    ids = np.kron(cells, np.ones((8, 8), np.int64))[:height, :width]
    ids = np.pad(ids, ((0, height - ids.shape[0]), (0, width - ids.shape[1])), mode="edge")
    onehot = torch.zeros(1, semantic_nc, height, width)
    onehot.scatter_(1, torch.from_numpy(ids)[None, None], 1.0)
    vectors = torch.from_numpy(rng.standard_normal((2, z_dim)).astype(np.float32))
    noise = vectors[0][:, None, None].expand(z_dim, height, width).clone()
    noise[:, :, width // 2 :] = vectors[1][:, None, None]
    return onehot, noise[None]
