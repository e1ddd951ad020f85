"""One training iteration of ugen's rearranger (Chae et al., NeurIPS 2023; supplement A.2)
on a frozen StyleGAN2 split at the proxy resolution into G₁ (``head``) and G₂ (``tail``).

Per iteration, for a batch of fresh z's (the sources):

- **targets alternate** (supplement A.2): even iterations take the source's own proxy mask
  (same noise), odd ones the proxy mask of another random z (random noise);
- **L_self ×10** (same-noise iterations): the rearranged features and skip image must equal
  the target sample's. Against the shortcut of copying the source in place, each target is
  the source flipped horizontally with probability ½ — its mask flipped too — so the
  rearranger has to move features to where the mask puts them;
- **L_mask ×1** (every iteration): cross-entropy of the rearranged features' scores against
  the global centroids (``ProxyClusters.logits``) with the target mask, so the features at
  each pixel belong to the cluster the mask asks for — what keeps a random-noise target
  from being ignored (supplement B.1);
- **L_adv ×1**: the non-saturating logistic loss of G₂'s image through a StyleGAN2
  discriminator, every ``adv_every``-th (5th) iteration during the first ``phase1_steps``,
  then every iteration. The supplement trains the discriminator as StyleGAN2 does (lr
  0.002, R1 weight 10); its "real" images here are the frozen generator's own samples — the
  domain G₂ should stay in — unless the caller passes data images. Start D from the
  StyleGAN2 weights' discriminator when the folder has one (it already knows the domain).

Adam lr 0.002, β (0, 0.99) as StyleGAN2 (supplement A.2). The generator is frozen and run
with its constant noise images, so a target and its rearranged copy differ only by the
rearrangement. The step is a plain object with explicit arguments, so a CLI family and the
tests drive it alike.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.networks.proxy import ProxyClusters
from engine.networks.rearranger import Rearranger
from engine.networks.stylegan2 import StyleGan2Discriminator, StyleGan2Generator
from engine.train.gan_losses import logistic_d, logistic_g, r1_penalty
from engine.train.sampling import step_generator


@dataclass
class RearrangerLosses:
    lambda_self: float = 10.0  # supplement A.2
    lambda_mask: float = 1.0
    lambda_adv: float = 1.0
    adv_every: int = 5  # L_adv (and the D step) every 5th iteration in the first phase …
    phase1_steps: int = 100_000  # … for this many iterations, then every iteration
    mask_temperature: float = 0.1  # τ of the cluster scores (cosine: cos − 1 ∈ [−2, 0])
    flip_probability: float = 0.5  # of a same-noise target being the flipped source
    r1_gamma: float = 10.0
    r1_every: int = 16  # lazy R1, counted in D steps, weighted ×r1_every
    lr: float = 0.002
    betas: tuple[float, float] = (0.0, 0.99)
    truncation_psi: float = 1.0  # of the sampled z's (1: the generator's full range)

    def adversarial_at(self, step: int) -> bool:
        return self.lambda_adv > 0 and (step >= self.phase1_steps or step % self.adv_every == 0)


def discriminator_step(
    d: nn.Module,
    opt_d: torch.optim.Optimizer,
    real: torch.Tensor,
    fake: torch.Tensor,  # detached
    *,
    r1: bool,  # add the lazy R1 penalty this step
    r1_gamma: float,
    r1_every: int,  # R1's weight multiplier (lazy regularisation)
) -> dict[str, float]:
    """StyleGAN2's D update (logistic loss, lazy R1 on the reals), shared by the rearranger's
    and the semantic mapper's adversarial phases."""
    real = real.to(fake.device, fake.dtype)
    b = real.shape[0]
    logits = d(torch.cat((real, fake))).float()
    loss_real, loss_fake = logistic_d(logits[:b], logits[b:])
    opt_d.zero_grad(set_to_none=True)
    (loss_real + loss_fake).backward()
    loss_r1 = torch.zeros(())
    if r1:
        x = real.detach().requires_grad_(True)
        loss_r1 = r1_gamma / 2 * r1_penalty(d(x).float(), x)
        (loss_r1 * r1_every).backward()
    opt_d.step()
    return {"loss_d_real": loss_real.item(), "loss_d_fake": loss_fake.item(), "loss_r1": loss_r1.item()}


def _frozen(net: nn.Module) -> nn.Module:
    return net.eval().requires_grad_(False)


class RearrangerTraining:
    def __init__(
        self,
        generator: StyleGan2Generator,  # pretrained; frozen here
        clusters: ProxyClusters,  # global centroids of its features at ``resolution``
        rearranger: Rearranger,
        discriminator: StyleGan2Discriminator | None,  # None: no L_adv
        *,
        resolution: int = 64,  # proxy resolution: where G splits into G₁ and G₂
        losses: RearrangerLosses | None = None,
        seed: int = 0,
        device: torch.device | str = "cpu",
    ) -> None:
        self.device = torch.device(device)
        self.g = _frozen(generator.to(self.device))
        self.clusters = clusters.to(self.device)
        self.rearranger = rearranger.to(self.device).train()
        self.d = discriminator.to(self.device) if discriminator is not None else None
        self.resolution, self.seed = resolution, seed
        self.losses = losses or RearrangerLosses()
        if self.d is None:  # a copy: the caller's settings object stays as it was
            self.losses = dataclasses.replace(self.losses, lambda_adv=0.0)
        lo = self.losses
        self.opt_r = torch.optim.Adam(self.rearranger.parameters(), lr=lo.lr, betas=lo.betas)
        self.opt_d = (
            torch.optim.Adam(self.d.parameters(), lr=lo.lr, betas=lo.betas) if self.d is not None else None
        )
        self.d_steps = 0

    # ---- pieces -----------------------------------------------------------------------
    def _ws(self, z: torch.Tensor) -> torch.Tensor:
        return self.g.mapping(z.to(self.device), truncation_psi=self.losses.truncation_psi)

    @torch.no_grad()
    def _head(self, ws: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.g.head(ws, self.resolution, noise_mode="const")

    def _render(self, ws: torch.Tensor, feats: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.g.tail(ws, feats, skip, self.resolution, noise_mode="const")

    def _targets(
        self,
        step: int,
        feats: torch.Tensor,
        skip: torch.Tensor,
        z_target: torch.Tensor | None,
        gen: torch.Generator,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """(target mask, target features, target skip image); no features on random-noise steps."""
        b = feats.shape[0]
        if step % 2 == 0:
            flip = (torch.rand(b, generator=gen) < self.losses.flip_probability).to(self.device)
            flip = flip[:, None, None, None]
            target_f = torch.where(flip, feats.flip(-1), feats)
            target_i = torch.where(flip, skip.flip(-1), skip)
            return self.clusters.proxy_mask(target_f), target_f, target_i
        if z_target is None:
            z_target = torch.randn(b, self.g.config.z_dim, generator=gen)
        other, _ = self._head(self._ws(z_target))
        return self.clusters.proxy_mask(other), None, None

    # ---- one iteration ----------------------------------------------------------------
    def step(
        self,
        step: int,
        *,
        batch_size: int = 4,
        z: torch.Tensor | None = None,  # sources (default: fresh, from the step's generator)
        z_target: torch.Tensor | None = None,  # random-noise targets (default: fresh)
        real: torch.Tensor | None = None,  # D's real images (default: the generator's samples)
    ) -> dict[str, float]:
        lo = self.losses
        gen = step_generator(self.seed, step, 0)
        if z is None:
            z = torch.randn(batch_size, self.g.config.z_dim, generator=gen)
        ws = self._ws(z)
        feats, skip = self._head(ws)
        mask, target_f, target_i = self._targets(step, feats, skip, z_target, gen)

        out_f, out_i = self.rearranger(feats, skip, mask)
        loss_mask = F.cross_entropy(self.clusters.logits(out_f.float(), lo.mask_temperature), mask)
        loss_self = torch.zeros((), device=self.device)
        if target_f is not None and target_i is not None:
            loss_self = F.mse_loss(out_f, target_f) + F.mse_loss(out_i, target_i)
        adversarial = self.d is not None and lo.adversarial_at(step)
        loss_adv = torch.zeros((), device=self.device)
        fake = None
        if adversarial:
            assert self.d is not None
            self.d.requires_grad_(False)
            fake = self._render(ws, out_f, out_i)
            loss_adv = logistic_g(self.d(fake).float())
            self.d.requires_grad_(True)
        total = lo.lambda_self * loss_self + lo.lambda_mask * loss_mask + lo.lambda_adv * loss_adv
        self.opt_r.zero_grad(set_to_none=True)
        total.backward()
        self.opt_r.step()

        losses = {"loss_self": loss_self.item(), "loss_mask": loss_mask.item(), "loss_adv": loss_adv.item()}
        if adversarial and fake is not None:
            losses.update(self._d_step(fake.detach(), real, gen))
        return losses

    def _d_step(
        self, fake: torch.Tensor, real: torch.Tensor | None, gen: torch.Generator
    ) -> dict[str, float]:
        assert self.d is not None and self.opt_d is not None
        if real is None:
            with torch.no_grad():
                z = torch.randn(fake.shape[0], self.g.config.z_dim, generator=gen)
                real = self.g.synthesis(self._ws(z), noise_mode="const")
        lo = self.losses
        losses = discriminator_step(
            self.d,
            self.opt_d,
            real,
            fake,
            r1=self.d_steps % lo.r1_every == 0,
            r1_gamma=lo.r1_gamma,
            r1_every=lo.r1_every,
        )
        self.d_steps += 1
        return losses

    # ---- use --------------------------------------------------------------------------
    @torch.no_grad()
    def rearrange(self, z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Images (B, 3, R, R) of the z's styles laid out by ``mask`` (B, r, r) or probabilities."""
        ws = self._ws(z)
        feats, skip = self._head(ws)
        out_f, out_i = self.rearranger(feats, skip, mask.to(self.device))
        return self._render(ws, out_f, out_i)

    def state_dict(self) -> dict:
        state = {
            "rearranger": self.rearranger.state_dict(),
            "opt_R": self.opt_r.state_dict(),
            "d_steps": self.d_steps,
        }
        if self.d is not None and self.opt_d is not None:
            state.update(D=self.d.state_dict(), opt_D=self.opt_d.state_dict())
        return state

    def load_state_dict(self, state: dict) -> None:
        self.rearranger.load_state_dict(state["rearranger"])
        self.opt_r.load_state_dict(state["opt_R"])
        self.d_steps = int(state["d_steps"])
        if self.d is not None and self.opt_d is not None:
            self.d.load_state_dict(state["D"])
            self.opt_d.load_state_dict(state["opt_D"])
