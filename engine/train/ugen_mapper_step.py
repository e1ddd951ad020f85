"""One training iteration of ugen's semantic mapper (Chae et al., NeurIPS 2023; supplement A.2).

Pairs come from the generator itself: the condition is a condition extractor's output on a
generated image (a segmenter for label maps, HED for edges, …; the caller's job), the
target is that sample's proxy mask. The losses:

- **L_recon**: cross-entropy of the mapper's logits against the target proxy mask, ×10 for
  the first ``recon_steps`` iterations (the supplement's first 100k);
- then **L_adv** joins, ×1, with L_recon raised to ×100: the mapper's soft mask
  (softmax of its logits, so the gradient reaches the mapper) goes through the trained,
  frozen rearranger on a random z's features and the frozen G₂, and a StyleGAN2
  discriminator judges the image — this calibrates the masks to ones that render well.
  D is trained alongside as StyleGAN2's (logistic loss, lazy R1 γ = 10); its real images
  are the generator's own samples.

Adam lr 0.002, β (0, 0.99) for the mapper and D (supplement A.2).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.networks.rearranger import Rearranger
from engine.networks.semantic_mapper import LabelMapper
from engine.networks.stylegan2 import StyleGan2Discriminator, StyleGan2Generator
from engine.train.gan_losses import logistic_g
from engine.train.sampling import step_generator
from engine.train.ugen_step import discriminator_step


@dataclass
class MapperLosses:
    lambda_recon: float = 10.0  # first phase (the supplement's λ for L_recon then)
    lambda_recon_adv: float = 100.0  # L_recon's weight once L_adv has joined
    lambda_adv: float = 1.0
    recon_steps: int = 100_000  # iterations with L_recon alone
    r1_gamma: float = 10.0
    r1_every: int = 16
    lr: float = 0.002
    betas: tuple[float, float] = (0.0, 0.99)


class MapperTraining:
    def __init__(
        self,
        mapper: nn.Module,  # LabelMapper (takes one-hot, size) or ConditionMapper (takes the condition)
        *,
        resolution: int = 64,  # the proxy resolution
        generator: StyleGan2Generator | None = None,  # frozen; with the next two: the L_adv phase
        rearranger: Rearranger | None = None,  # trained; frozen here
        discriminator: StyleGan2Discriminator | None = None,
        losses: MapperLosses | None = None,
        seed: int = 0,
        device: torch.device | str = "cpu",
    ) -> None:
        self.device = torch.device(device)
        self.mapper = mapper.to(self.device).train()
        self.resolution, self.seed = resolution, seed
        self.losses = losses or MapperLosses()
        lo = self.losses
        self.adversarial = generator is not None and rearranger is not None and discriminator is not None
        self.g = generator.to(self.device).eval().requires_grad_(False) if generator is not None else None
        self.r = rearranger.to(self.device).eval().requires_grad_(False) if rearranger is not None else None
        self.d = discriminator.to(self.device) if discriminator is not None else None
        self.opt_m = torch.optim.Adam(self.mapper.parameters(), lr=lo.lr, betas=lo.betas)
        self.opt_d = (
            torch.optim.Adam(self.d.parameters(), lr=lo.lr, betas=lo.betas) if self.d is not None else None
        )
        self.d_steps = 0

    def logits(self, condition: torch.Tensor) -> torch.Tensor:
        if isinstance(self.mapper, LabelMapper):  # SPADE reads the map at any size; say the output's
            return self.mapper(condition, (self.resolution, self.resolution))
        return self.mapper(condition)

    def _render(self, probs: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Images of random z's styles laid out by the soft masks ``probs``."""
        assert self.g is not None and self.r is not None
        z = torch.randn(probs.shape[0], self.g.config.z_dim, generator=gen).to(self.device)
        ws = self.g.mapping(z)
        with torch.no_grad():
            feats, skip = self.g.head(ws, self.resolution, noise_mode="const")
        out_f, out_i = self.r(feats, skip, probs)
        return self.g.tail(ws, out_f, out_i, self.resolution, noise_mode="const")

    def step(self, step: int, condition: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        """condition: the mapper's input (one-hot label map or condition image); target: the
        proxy masks (B, r, r) long of the samples the conditions were extracted from."""
        lo = self.losses
        logits = self.logits(condition.to(self.device))
        loss_recon = F.cross_entropy(logits.float(), target.to(self.device))
        adversarial = self.adversarial and step >= lo.recon_steps
        loss_adv = torch.zeros((), device=self.device)
        gen = step_generator(self.seed, step, 0)
        fake = None
        if adversarial:
            assert self.d is not None
            self.d.requires_grad_(False)
            fake = self._render(logits.softmax(dim=1), gen)
            loss_adv = logistic_g(self.d(fake).float())
            self.d.requires_grad_(True)
        weight = lo.lambda_recon_adv if adversarial else lo.lambda_recon
        total = weight * loss_recon + lo.lambda_adv * loss_adv
        self.opt_m.zero_grad(set_to_none=True)
        total.backward()
        self.opt_m.step()
        losses = {"loss_recon": loss_recon.item(), "loss_adv": loss_adv.item()}
        if fake is not None:
            assert self.g is not None and self.d is not None and self.opt_d is not None
            with torch.no_grad():
                z = torch.randn(fake.shape[0], self.g.config.z_dim, generator=gen).to(self.device)
                real = self.g.synthesis(self.g.mapping(z), noise_mode="const")
            r1 = self.d_steps % lo.r1_every == 0
            losses.update(
                discriminator_step(
                    self.d, self.opt_d, real, fake.detach(), r1=r1, r1_gamma=lo.r1_gamma, r1_every=lo.r1_every
                )
            )
            self.d_steps += 1
        return losses

    @torch.no_grad()
    def proxy_mask(self, condition: torch.Tensor) -> torch.Tensor:
        """The mapper's proxy mask (B, r, r) long for a condition."""
        return self.logits(condition.to(self.device)).argmax(dim=1)
