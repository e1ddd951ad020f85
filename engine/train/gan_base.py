"""What the GAN families' trainers share: G, D, an EMA of G, two Adams, DDP, state, autocast.

Each family (:mod:`oasis_step`, :mod:`inade_step`, :mod:`msca_step`) builds its nets and
writes its step; checkpoints, ``--init-from`` and multi-GPU wrapping work the same for
all, so they live here once. ``g``/``d`` are always the bare modules, ``G``/``D`` may be
DDP wrappers. Modules beyond these (INADE's encoder, MSCA's auxiliary decoders) join
through :meth:`GanTraining.extra_modules`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import ClassVar

import torch
from torch import nn

from engine.train.options import FitOptions


class GanTraining:
    options: FitOptions
    device: torch.device
    g: nn.Module
    d: nn.Module
    ema: nn.Module
    G: nn.Module
    D: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    # Families whose nets are plain convolutions (no views of weights or maps that assume
    # the NCHW layout) train faster with channels-last tensors on CPU: oneDNN's own layout,
    # so it reorders nothing around each convolution (OASIS step at 128², batch 4, bf16, one
    # thread: −12 %). Families opt in once measured: INADE's step is slower with it (+8 %).
    channels_last_on_cpu: ClassVar[bool] = False

    def use_channels_last(self) -> None:
        """Every net of this trainer (G, D, the EMA, encoders, frozen loss networks) in the
        channels-last layout, in place: the optimisers keep their parameters. Numbers are
        the same up to float rounding; checkpoints and exports do not depend on it."""
        for value in vars(self).values():
            if isinstance(value, nn.Module):
                value.to(memory_format=torch.channels_last)

    @staticmethod
    def adapt_arch(arch: object, options: FitOptions) -> None:
        """Architecture changes that options may make, also to weights loaded by --init-from."""

    def extra_modules(self) -> dict[str, nn.Module]:
        """Checkpoint key → module, for trained modules besides G and D (none by default)."""
        return {}

    # ---- distributed ------------------------------------------------------------------
    def wrap_ddp(self) -> None:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [self.device.index] if self.device.type == "cuda" else None
        if self.device.type == "cuda":
            # Batch statistics over all GPUs, as the official sync-BN does.
            self.g = nn.SyncBatchNorm.convert_sync_batchnorm(self.g)
        self.G = DDP(self.g, device_ids=ids)
        self.D = DDP(self.d, device_ids=ids)

    # ---- state ------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            **{key: module.state_dict() for key, module in self.extra_modules().items()},
            "G": self.g.state_dict(),
            "D": self.d.state_dict(),
            "EMA": self.ema.state_dict(),
            "opt_G": self.opt_g.state_dict(),
            "opt_D": self.opt_d.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        for key, module in self.extra_modules().items():
            if state.get(key) or list(module.parameters()):  # empty modules save empty states
                module.load_state_dict(state[key])
        self.g.load_state_dict(state["G"])
        self.d.load_state_dict(state["D"])
        self.ema.load_state_dict(state["EMA"])
        self.opt_g.load_state_dict(state["opt_G"])
        self.opt_d.load_state_dict(state["opt_D"])

    def load_weights(self, parts: dict[str, nn.Module]) -> None:
        """--init-from: continue from exported weights (optimiser state starts fresh). The
        EMA generator seeds both G and its EMA unless the folder also has the live G."""
        ema = parts["generator"].state_dict()
        self.g.load_state_dict(parts["generator_live"].state_dict() if "generator_live" in parts else ema)
        self.ema.load_state_dict(ema)
        if "discriminator" in parts:
            self.d.load_state_dict(parts["discriminator"].state_dict())

    # ---- precision --------------------------------------------------------------------
    def _autocast(self) -> AbstractContextManager:
        if self.options.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return nullcontext()
