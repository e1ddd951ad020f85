"""The conditioning of a painted scene as a token map: few distinct [noise ‖ one-hot] vectors.

OASIS conditions every SPADE layer on the per-pixel vector [z ‖ one-hot(class)]. In a
painted scene z is piecewise constant (a :class:`engine.noise.NoiseField` holds one
vector per noise region) and so is the class, so the whole map takes only as many
distinct values as there are (noise region, class) pairs — a few dozen. A k×k conv over
such a map is then a gather: tap t at a pixel whose neighbour carries token v adds
``W[:, :, t] @ vectors[v]``, which is computed once per token and tap. That replaces the
largest convs of the generator (the SPADE shared convs, 64 noise + all class channels
in) by k² row lookups per pixel, exactly (up to float summation order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.encoding import LabelEncoder
from engine.noise import NoiseField


@dataclass(frozen=True)
class Tokens:
    """``index`` (B, H, W) int64 picks each pixel's row of ``vectors`` (T, z_dim + classes),
    whose rows are [noise ‖ one-hot] as the generator's conditioning orders them."""

    index: torch.Tensor
    vectors: torch.Tensor

    def __post_init__(self) -> None:
        if self.index.dim() != 3 or self.index.dtype != torch.int64:
            raise ValueError(
                f"token index must be (B, H, W) int64, got {tuple(self.index.shape)} {self.index.dtype}"
            )
        if self.vectors.dim() != 2:
            raise ValueError(f"token vectors must be (T, channels), got {tuple(self.vectors.shape)}")

    @property
    def count(self) -> int:
        return int(self.vectors.shape[0])

    def dense(self) -> torch.Tensor:
        """The (B, channels, H, W) conditioning map these tokens stand for (tests, fallbacks)."""
        return self.vectors[self.index].permute(0, 3, 1, 2).contiguous()


def scene_tokens(
    labels: np.ndarray, noise: NoiseField, encoder: LabelEncoder, source: str = "label map"
) -> Tokens:
    """Tokens for one H×W label-id map and its noise field (same size; checked by the caller)."""
    channels = encoder.channels(labels, source).numpy()
    ids = np.array(noise.region_ids, np.int64)
    region = np.searchsorted(ids, noise.region_map)  # 0 … R-1 per pixel
    n_channels = encoder.num_channels
    key = region.astype(np.int64) * n_channels + channels
    # Number the (region, channel) pairs that occur, in O(pixels): no sort needed.
    present = np.zeros(len(ids) * n_channels, bool)
    present[key.ravel()] = True
    used = np.flatnonzero(present)
    number = np.cumsum(present) - 1
    index = torch.from_numpy(number[key])[None]
    vectors = noise.vectors()
    z = torch.stack([vectors[int(ids[r])] for r in used // n_channels])
    onehot = torch.zeros(len(used), n_channels)
    onehot[torch.arange(len(used)), torch.from_numpy(used % n_channels)] = 1.0
    return Tokens(index, torch.cat((z, onehot), dim=1))


def token_table(weight: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    """(out, C, k, k) conv weights and (T, C) token vectors → (k²·T + 1, out) gather table.

    Row ``tap·T + v`` is what tap ``tap`` (row-major over the kernel) adds for a neighbour
    carrying token v; the last row is zeros, for padding and unlabelled pixels.
    """
    out, _, kh, kw = weight.shape
    table = torch.einsum("ocyx,tc->yxto", weight, vectors.to(weight.dtype)).reshape(
        kh * kw * vectors.shape[0], out
    )
    return torch.cat((table, table.new_zeros(1, out)))


class TableCache:
    """Gather-table rows per (conv weight, token vector), kept from call to call.

    Between two strokes the scene's tokens barely change (a new class or noise region
    adds one or two), but their numbering may; rows are therefore keyed by the token's
    vector itself. Without this, an update of the paper model (151 class tokens) spends
    more time building tables than recomputing the dirty box.
    """

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit  # distinct vectors per weight before the cache starts afresh
        self._rows: dict[int, dict[bytes, torch.Tensor]] = {}

    @staticmethod
    def keys(vectors: torch.Tensor) -> list[bytes]:
        return [row.tobytes() for row in vectors.detach().float().cpu().numpy()]

    def table(self, weight: torch.Tensor, vectors: torch.Tensor, keys: list[bytes]) -> torch.Tensor:
        """``token_table(weight, vectors)``, computing only rows not seen before."""
        rows = self._rows.setdefault(id(weight), {})
        missing = [i for i, key in enumerate(keys) if key not in rows]
        if len(rows) + len(missing) > self.limit:
            rows.clear()
            missing = list(range(len(keys)))
        if missing:
            out, _, kh, kw = weight.shape
            fresh = torch.einsum("ocyx,tc->tyxo", weight, vectors[missing].to(weight.dtype))
            for i, taps in zip(missing, fresh.reshape(len(missing), kh * kw, out)):
                rows[keys[i]] = taps
        stacked = torch.stack([rows[key] for key in keys], dim=1)  # (k², T, out)
        table = stacked.reshape(-1, stacked.shape[-1])
        return torch.cat((table, table.new_zeros(1, table.shape[1])))
