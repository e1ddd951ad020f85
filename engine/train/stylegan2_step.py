"""One StyleGAN2 training iteration: a G step, a D step (with R1 every 16th), the EMA update.

Unconditional: the label maps of the dataset are ignored, only its images are used.
The objective is StyleGAN2's (config F), as the ugen supplement (A.2) also states it:

- non-saturating logistic loss: G minimises softplus(−D(G(z))), D minimises
  softplus(−D(x)) + softplus(D(G(z)));
- R1 on real images, γ = 10, applied lazily: every 16th iteration, weighted ×16 so its
  average strength is that of R1 every iteration. StyleGAN2 gives it an Adam update of its
  own and shrinks Adam's lr and β by 16/17 to compensate; here it joins that iteration's
  D update, so D still takes one step per iteration and needs no such correction;
- Adam lr 0.002, β = (0, 0.99) for G and D (``app-train fit``'s defaults for this family);
- style mixing: with probability 0.9 the ws from a random layer on come from a second z;
- an EMA of G (:mod:`engine.train.ema`) is what is sampled and exported; its ``w_avg``
  is re-estimated from 10 000 fixed z's before use, since the averaged buffer lags the
  averaged mapping network.

Not implemented: path-length regularisation (StyleGAN2's smoother-w prior, which costs a
second G pass every 4th step); ugen needs the features, not an invertible-smooth w.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from engine.errors import InputError
from engine.networks.stylegan2 import StyleGan2Config, StyleGan2Discriminator, StyleGan2Generator
from engine.registry import ModelSpec
from engine.train.ema import ema_decay_at, ema_update
from engine.train.gan_base import GanTraining
from engine.train.gan_losses import logistic_d, logistic_g, r1_penalty
from engine.train.options import FitOptions
from engine.train.sampling import step_generator
from engine.train.visuals import grid_rows, to_uint8

R1_GAMMA = 10.0  # the paper's γ for 256² data, and the ugen supplement's "R1 weight 10"
R1_EVERY = 16  # lazy regularisation interval
STYLE_MIXING = 0.9  # probability of mixing two zs in a training batch
SAMPLE_PSI = 0.7  # the truncated row of the sample grid


class StyleGan2Training(GanTraining):
    """Nets, optimisers and the step. ``G``/``D`` may be DDP wrappers; ``g``/``d`` never are."""

    loss_names: ClassVar[list[str]] = ["loss_g", "loss_d_real", "loss_d_fake", "loss_r1"]

    @staticmethod
    def build_arch(options: FitOptions, num_channels: int) -> StyleGan2Config:
        """``--arch`` paper (config F) or small at ``--size``; ``--channels-g C`` caps G's width at
        C and ``--d-widths C,…`` D's (first value), keeping the arch's widths-per-resolution shape."""
        config = StyleGan2Config.paper if options.arch == "paper" else StyleGan2Config.small
        arch = config(options.size[0])
        for part, width in (("generator", options.channels_g), ("discriminator", options.d_widths)):
            if width is None:
                continue
            old = getattr(arch, part)
            top = width if isinstance(width, int) else width[0]
            ratio = old.channel_base // old.channel_max
            setattr(arch, part, dataclasses.replace(old, channel_max=top, channel_base=top * ratio))
        return arch

    @staticmethod
    def adapt_arch(arch: StyleGan2Config, options: FitOptions) -> None:
        side = arch.generator.resolution
        if tuple(options.size) != (side, side):
            raise InputError(
                f"these StyleGAN2 weights make {side}×{side} images, not {options.size[0]}×{options.size[1]}",
                source="--size",
                fix=f"pass --size {side}",
            )

    def __init__(self, spec: ModelSpec, options: FitOptions, device: torch.device) -> None:
        self.spec, self.options, self.device = spec, options, device
        arch: StyleGan2Config = spec.arch
        torch.manual_seed(options.seed)  # initial weights only; steps use step_generator
        self.g = StyleGan2Generator(arch.generator).to(device)
        self.d = StyleGan2Discriminator(arch.discriminator).to(device)
        self.ema = copy.deepcopy(self.g).eval().requires_grad_(False)
        self.G: nn.Module = self.g
        self.D: nn.Module = self.d
        betas = (options.beta1, options.beta2)
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=options.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=options.lr_d, betas=betas)
        self.z_dim, self.num_ws = arch.generator.z_dim, arch.generator.num_ws

    @property
    def notes(self) -> list[str]:
        return [
            "stylegan2 is unconditional: the label maps of the data are not used",
            f"R1 γ={R1_GAMMA} every {R1_EVERY} steps, style mixing {STYLE_MIXING}; "
            "no path-length regularisation",
        ]

    # ---- one iteration ---------------------------------------------------------------
    def _generate(self, net: nn.Module, b: int, gen: torch.Generator, *, track: bool) -> torch.Tensor:
        """B images from fresh zs (style-mixed with probability 0.9), all randomness from ``gen``."""
        z = torch.randn(b, self.z_dim, generator=gen).to(self.device)
        mix_z, cutoff = None, None
        if float(torch.rand((), generator=gen)) < STYLE_MIXING:
            cutoff = int(torch.randint(1, self.num_ws, (), generator=gen))
            mix_z = torch.randn(b, self.z_dim, generator=gen).to(self.device)
        noise = torch.Generator(device=self.device)
        noise.manual_seed(int(torch.randint(0, 2**62, (), generator=gen)))
        return net(z, mix_z=mix_z, mix_cutoff=cutoff, track_w_avg=track, generator=noise)

    def step(self, batch: dict[str, torch.Tensor], step: int, rank: int) -> dict[str, float]:
        real = batch["image"].to(self.device, non_blocking=True)
        b = real.shape[0]
        gen = step_generator(self.options.seed, step, rank)

        # Generator: make D call the fakes real (D frozen; its bare module, no DDP reduction).
        self.d.requires_grad_(False)
        with self._autocast():
            loss_g = logistic_g(self.d(self._generate(self.G, b, gen, track=True)).float())
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.d.requires_grad_(True)

        # Discriminator: real against fake in one forward; R1 (fp32) every R1_EVERY steps.
        with torch.no_grad(), self._autocast():
            fake = self._generate(self.G, b, gen, track=False).to(real.dtype)
        with self._autocast():
            logits = self.D(torch.cat((real, fake))).float()
        loss_real, loss_fake = logistic_d(logits[:b], logits[b:])
        self.opt_d.zero_grad(set_to_none=True)
        (loss_real + loss_fake).backward()
        loss_r1 = torch.zeros(())
        if step % R1_EVERY == 0:
            x = real.detach().requires_grad_(True)
            real_logits = self.D(x).float()
            loss_r1 = R1_GAMMA / 2 * r1_penalty(real_logits, x)
            # + 0 · logits: the last bias has no R1 gradient; DDP wants one for every parameter.
            (loss_r1 * R1_EVERY + 0 * real_logits.sum()).backward()
        self.opt_d.step()

        ema_update(self.ema, self.g, ema_decay_at(step, self.options.ema_decay))
        return {
            "loss_g": loss_g.item(),
            "loss_d_real": loss_real.item(),
            "loss_d_fake": loss_fake.item(),
            "loss_r1": loss_r1.item(),
        }

    # ---- sampling ---------------------------------------------------------------------
    def ema_for_use(self) -> StyleGan2Generator:
        """A copy of the EMA generator with ``w_avg`` re-estimated (deterministic)."""
        ema = copy.deepcopy(self.ema)
        ema.estimate_w_avg(seed=self.options.seed)
        return ema.eval()

    def sample_grid(
        self, batch: dict[str, torch.Tensor], refresh: Iterator[dict[str, torch.Tensor]]
    ) -> np.ndarray:
        """Rows: real photos, EMA samples of fixed zs, the same zs truncated (ψ 0.7) — uint8."""
        real = batch["image"][:8]
        z = torch.randn(real.shape[0], self.z_dim, generator=torch.Generator().manual_seed(self.options.seed))
        ema = self.ema_for_use()
        with torch.no_grad():
            z = z.to(self.device)
            fake = ema(z, noise_mode="const")
            truncated = ema(z, truncation_psi=SAMPLE_PSI, noise_mode="const")
        return grid_rows(to_uint8(real), to_uint8(fake), to_uint8(truncated))

    def export_states(self, refresh: Iterator[dict[str, torch.Tensor]]) -> dict[str, dict]:
        return {
            "generator": self.ema_for_use().state_dict(),
            "generator_live": self.g.state_dict(),
            "discriminator": self.d.state_dict(),
        }
