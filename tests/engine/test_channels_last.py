"""Channels-last training on CPU: same steps as NCHW up to rounding, and nothing that
leaves the trainer (checkpoint, export) depends on the layout."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.train.inade_step import InadeTraining
from engine.train.oasis_step import OasisTraining
from tests.engine.test_oasis_paired import _batch, _training


def test_only_checked_families_opt_in() -> None:
    assert OasisTraining.channels_last_on_cpu
    # INADE's instance pooling is slower with it (measured 1.50 → 1.62 s per step).
    assert not InadeTraining.channels_last_on_cpu


def test_an_oasis_step_is_the_same_in_either_layout(tmp_path: Path) -> None:
    options = {"style_encoder": True, "lambda_perceptual": 1.0, "lambda_pair_l1": 1.0}
    plain, fast = _training(tmp_path / "a", **options), _training(tmp_path / "b", **options)
    fast.use_channels_last()
    conv = next(m for m in fast.g.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert not conv.weight.is_contiguous()
    start = [p.detach().clone() for p in plain.g.parameters()]
    for step in range(2):
        ours, theirs = plain.step(_batch(), step, 0), fast.step(_batch(), step, 0)
        assert ours.keys() == theirs.keys()
        for key in ours:
            assert theirs[key] == pytest.approx(ours[key], rel=1e-3, abs=1e-4), key
    # Adam turns rounding in near-zero gradients into whole steps of either sign, so compare
    # the two trajectories on average: they differ by a small part of how far they moved.
    moved = torch.cat([(p.detach() - p0).abs().flatten() for p, p0 in zip(plain.g.parameters(), start)])
    apart = torch.cat(
        [(p.detach() - q.detach()).abs().flatten() for p, q in zip(plain.g.parameters(), fast.g.parameters())]
    )
    assert apart.mean() < 0.05 * moved.mean()
    # The state a checkpoint holds loads into an NCHW trainer.
    _training(tmp_path / "c", **options).load_state_dict(fast.state_dict())
