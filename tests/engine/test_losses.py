"""OASIS loss pieces and the label encoder."""

from __future__ import annotations

import pytest
import torch

from engine.encoding import LabelEncoder, default_channel_ids
from engine.errors import InputError
from engine.train.losses import class_balance_weights, labelmix_mask, n1_loss


def test_class_balance_matches_paper_formula() -> None:
    ch = torch.tensor([[[0, 1, 1, 1], [2, 2, 2, 2]]])  # B=1, 8 px: dontcare 1, class1 3, class2 4
    w = class_balance_weights(ch, 3, dontcare=0)
    # α_c = B·H·W / (K_present · n_c), K_present = 2 (dontcare excluded)
    assert w[0, 0, 0] == 0
    assert torch.allclose(w[0, 0, 1], torch.tensor(8 / (2 * 3)))
    assert torch.allclose(w[0, 1, 0], torch.tensor(8 / (2 * 4)))


def test_n1_targets() -> None:
    logits = torch.full((1, 4, 1, 2), -10.0)
    ch = torch.tensor([[[0, 2]]])
    logits[0, 1, 0, 0] = 10  # class 0 → channel 1
    logits[0, 3, 0, 1] = 10  # class 2 → channel 3
    assert n1_loss(logits, ch, torch.ones(1, 1, 2)) < 1e-6
    assert n1_loss(logits, ch, None) > 10  # as fake, channel 0 is wanted


def test_labelmix_mask_is_per_class() -> None:
    ch = torch.randint(0, 5, (2, 16, 16))
    mask = labelmix_mask(ch, 5, torch.Generator().manual_seed(0))
    for c in range(5):
        values = mask[:, 0][ch == c].unique()
        assert len(values) <= 1, "every pixel of a class shares the bit"


def test_encoder_conventions_and_errors() -> None:
    assert default_channel_ids([255, 0, 1, 2], 255) == [255, 0, 1, 2]
    enc = LabelEncoder([255, 0, 1, 2], 0)
    labels = torch.tensor([[255, 0], [2, 1]])
    onehot = enc.onehot(labels)
    assert onehot.shape == (1, 4, 2, 2) and onehot[0, 0, 0, 0] == 1 and onehot[0, 3, 1, 0] == 1
    assert torch.equal(enc.ids_from_channels(enc.channels(labels)), labels)
    with pytest.raises(InputError, match=r"\[7\]"):
        enc.onehot(torch.tensor([[7, 0]]), source="map.png")
