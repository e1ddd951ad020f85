"""EMA of the generator, and the BatchNorm-statistics refresh OASIS needs before use.

The EMA averages the whole state (parameters and buffers), as the official
``update_EMA`` does. Averaged BatchNorm statistics do not match the averaged weights,
so before sampling or export a copy of the EMA is run in train mode over training
batches to re-estimate them. Two deliberate refinements over the official code:
* the decay warms up as min(decay, (1 + step) / (10 + step)), so short runs (all a CPU
  can afford) export an average of recent weights rather than of the initial ones;
  after ~10⁵ steps it is the paper's constant decay;
* the refresh resets the statistics and takes their exact mean over the batches
  (``momentum=None``) instead of a running average with momentum 0.1, so a few
  batches already give the right statistics. It works on a copy: the EMA trajectory
  does not depend on how often one samples.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

import torch
from torch import nn


def ema_decay_at(step: int, decay: float) -> float:
    return min(decay, (1 + step) / (10 + step))


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    ema_state = ema.state_dict()
    for key, value in model.state_dict().items():
        target = ema_state[key]
        if target.is_floating_point():
            target.mul_(decay).add_(value.detach().to(target.dtype), alpha=1 - decay)
        else:
            target.copy_(value)


@torch.no_grad()
def refreshed_copy(
    ema: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    forward: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> nn.Module:
    """A copy of ``ema`` whose BatchNorm statistics are re-estimated on ``batches``.

    ``batches`` yields (onehot, noise) pairs. The copy is returned in eval mode.
    """
    net = copy.deepcopy(ema)
    bns = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the refresh batches
    net.train()
    ran = False
    for onehot, noise in batches:
        (forward or (lambda m, a, b: m(a, b)))(net, onehot, noise)
        ran = True
    if not ran:
        raise ValueError("BatchNorm refresh needs at least one batch")
    for bn in bns:
        bn.momentum = 0.1
    return net.eval()
