"""Label maps ↔ network channels.

Label maps hold the ids of a ``LabelSet``; a network sees one-hot channels in an order
fixed when it was trained. The order is stored with the weights as ``channel_ids``
(channel i is label id ``channel_ids[i]``), so every official convention fits one rule:
ADE20K "other" first, OASIS-COCO "unknown" first, SPADE-COCO "unknown" last,
Cityscapes with no dontcare channel. Callers never build one-hot maps themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from engine.errors import InputError


def default_channel_ids(ids: Sequence[int], dontcare: int | None) -> list[int]:
    """Dontcare first (as OASIS does for ADE20K and COCO-Stuff), then the ids ascending."""
    rest = sorted(i for i in ids if i != dontcare)
    return ([dontcare] if dontcare is not None else []) + rest


class LabelEncoder:
    """Maps label ids to one-hot channels and channel indices back to ids."""

    def __init__(self, channel_ids: Sequence[int], dontcare_channel: int | None = None) -> None:
        self.channel_ids = [int(i) for i in channel_ids]
        if len(set(self.channel_ids)) != len(self.channel_ids):
            raise ValueError("channel_ids must not repeat an id")
        self.dontcare_channel = dontcare_channel
        lut = np.full(max(self.channel_ids) + 1, -1, dtype=np.int64)
        lut[self.channel_ids] = np.arange(len(self.channel_ids))
        self._lut = torch.from_numpy(lut)

    @property
    def num_channels(self) -> int:
        return len(self.channel_ids)

    def channels(self, labels: torch.Tensor | np.ndarray, source: str = "label map") -> torch.Tensor:
        """Channel index per pixel (int64), with a clear error for ids the net lacks."""
        t = torch.as_tensor(np.asarray(labels, dtype=np.int64) if isinstance(labels, np.ndarray) else labels)
        t = t.long()
        too_big = t >= self._lut.numel()
        ch = self._lut[t.clamp(max=self._lut.numel() - 1)]
        bad = (ch < 0) | too_big
        if bool(bad.any()):
            unknown = sorted({int(v) for v in torch.unique(t[bad])})[:10]
            raise InputError(
                f"label ids {unknown} are not classes of this model",
                source=source,
                fix="repaint those pixels with a class from the model's palette, "
                "or pick a model trained on this label set",
            )
        return ch

    def onehot(
        self,
        labels: torch.Tensor | np.ndarray,
        *,
        dtype: torch.dtype = torch.float32,
        source: str = "label map",
    ) -> torch.Tensor:
        """(B, H, W) or (H, W) ids → (B, C, H, W) one-hot."""
        return self.onehot_channels(self.channels(labels, source), dtype=dtype)

    def onehot_channels(self, channels: torch.Tensor, *, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """(B, H, W) or (H, W) channel indices → (B, C, H, W) one-hot."""
        ch = channels[None] if channels.dim() == 2 else channels
        out = torch.zeros(ch.shape[0], self.num_channels, *ch.shape[1:], dtype=dtype, device=ch.device)
        return out.scatter_(1, ch[:, None], 1.0)

    def ids_from_channels(self, channels: torch.Tensor) -> torch.Tensor:
        """Channel indices → label ids (the inverse of ``channels``)."""
        table = torch.tensor(self.channel_ids, dtype=torch.int64, device=channels.device)
        return table[channels.long()]
