"""The gather backends: OASIS with every conv over the conditioning done as a token gather.

A painted scene's conditioning [noise ‖ one-hot] takes a few dozen distinct values
(:mod:`engine.inference.tokens`), so the SPADE shared convs — the largest convs of the
generator — become row lookups. The rest runs through the trunk of
:class:`~engine.inference.incremental.IncrementalOasis` in fp32 ("gather") or with
bf16 convs ("gather-bf16"). Given dense inputs only, they run the dense path of the same
class (still exact, but without the gather's saving).
"""

from __future__ import annotations

import torch

from engine.inference.backends.names import DESCRIPTIONS, TOLERANCES
from engine.inference.incremental import IncrementalOasis
from engine.inference.tokens import Tokens
from engine.networks.oasis import OasisGenerator


class GatherBackend:
    def __init__(self, generator: OasisGenerator, precision: str) -> None:
        self.name = "gather" if precision == "fp32" else f"gather-{precision}"
        self.description = DESCRIPTIONS[self.name]
        self.tolerance = TOLERANCES[self.name]
        self.precision = precision
        self.net = IncrementalOasis(generator, precision=precision, keep_cache=False)

    @torch.no_grad()
    def run(self, onehot: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.net.full(onehot, noise)

    @torch.no_grad()
    def run_tokens(self, tokens: Tokens) -> torch.Tensor:
        return self.net.full_tokens(tokens)
