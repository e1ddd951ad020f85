"""What every inference backend offers, and the yardsticks they are held to.

A backend runs one generator on one device: ``run(onehot, noise) → image``, with
onehot (1, C, H, W), noise (1, Z, H, W) and the image (1, 3, H, W) in [-1, 1], fp32, on
the device of the inputs. torch eager fp32 is the reference; every other backend must
stay within its ``tolerance`` (max abs difference on the image) of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from engine.errors import InputError
from engine.inference.tokens import Tokens


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


class Inputs:
    """One generator input: dense (one-hot, noise) and, when known, as tokens.

    Backends with ``run_tokens`` (the gather backends) take the tokens; the others the
    dense tensors, which are made on first use only (``make_dense``), so a token backend
    never pays for them.
    """

    def __init__(
        self,
        tokens: Tokens | None = None,
        *,
        dense: tuple[torch.Tensor, torch.Tensor] | None = None,
        make_dense: Callable[[], tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> None:
        if dense is None and make_dense is None:
            raise ValueError("Inputs need dense tensors or a way to make them")
        self.tokens = tokens
        self._dense = dense
        self._make_dense = make_dense

    @property
    def dense(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._dense is None:
            self._dense = self._make_dense()
        return self._dense

    @property
    def size(self) -> tuple[int, int]:
        h, w = (self.tokens.index if self.tokens is not None else self.dense[0]).shape[-2:]
        return int(h), int(w)


def run_on(backend: Backend, inputs: Inputs) -> torch.Tensor:
    """``backend``'s image for ``inputs``: through tokens where it takes them."""
    if inputs.tokens is not None and hasattr(backend, "run_tokens"):
        return backend.run_tokens(inputs.tokens)
    return backend.run(*inputs.dense)


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


def example_scene(
    semantic_nc: int, z_dim: int, height: int, width: int, seed: int = 0, device: torch.device | str = "cpu"
) -> Inputs:
    """``example_inputs`` with its tokens: (class, noise half) pairs."""
    onehot, noise = example_inputs(semantic_nc, z_dim, height, width, seed)
    classes = onehot[0].argmax(0)
    half = (torch.arange(width) >= width // 2).long().expand(height, width)
    key = half * semantic_nc + classes
    used, index = torch.unique(key, return_inverse=True)
    z = noise[0, :, 0, [0, -1]].T[used // semantic_nc]  # the left and right halves' vectors
    vectors = torch.cat((z, torch.eye(semantic_nc)[used % semantic_nc]), 1)
    tokens = Tokens(index[None].to(device), vectors.to(device))
    return Inputs(tokens, dense=(onehot.to(device), noise.to(device)))
