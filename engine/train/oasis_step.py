"""One OASIS training iteration: a G step, a D step with LabelMix, an EMA update.

The objective is the paper's: the generator is trained only through the segmenting
discriminator's class-balanced (N+1)-way loss (no VGG loss), the discriminator with
the same loss on real images, "fake" on generated ones, and LabelMix consistency.

Beyond the paper, for exactly paired data such as the rendered landscapes (all off by
default): ``--style-encoder`` encodes the real image of the first half of each batch into
the noise (reparameterised, KL ×``lambda_kl``), so that half has a well-posed target;
``--lambda-perceptual`` (EfficientNet-Lite0 features) and ``--lambda-pair-l1`` then tie
it to its pair. The other half keeps random noise, so sampling stays trained adversarially.
Without the encoder the paired losses apply to every sample with random noise (the first
shipped model's recipe, which pulls every look towards the average).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from engine.encoding import LabelEncoder
from engine.networks.blocks import init_official
from engine.networks.oasis import (
    PROJECTED_D_LAST_WIDTH,
    PROJECTED_D_WIDTHS,
    OasisConfig,
    OasisDiscriminatorConfig,
    OasisGenerator,
    OasisStyleEncoder,
    OasisStyleEncoderConfig,
    expand_noise,
    oasis_discriminator,
)
from engine.registry import ModelSpec
from engine.train.ema import ema_decay_at, ema_update, refreshed_copy
from engine.train.gan_base import GanTraining
from engine.train.gan_losses import pair_l1
from engine.train.losses import class_balance_weights, labelmix_loss, labelmix_mask, n1_loss
from engine.train.options import FitOptions
from engine.train.sampling import step_generator
from engine.train.seg_loss import segmentation_loss
from engine.train.spectrum_loss import spectrum_loss
from engine.train.stripe_loss import stripe_loss
from engine.train.visuals import grid_rows, to_uint8


class OasisTraining(GanTraining):
    """Nets, optimisers and the step. ``G``/``D`` may be DDP wrappers; ``g``/``d`` never are."""

    channels_last_on_cpu: ClassVar[bool] = True

    loss_names: ClassVar[list[str]] = [
        "loss_g",
        "loss_pair_l1",
        "loss_perceptual",
        "loss_stripe",
        "loss_spectrum",
        "loss_seg",
        "loss_kl",
        "loss_d_real",
        "loss_d_fake",
        "loss_labelmix",
    ]
    g_loss_names: ClassVar[list[str]] = loss_names[:-3]  # the rest are the discriminator's

    @staticmethod
    def build_arch(options: FitOptions, semantic_nc: int) -> OasisConfig:
        config = OasisConfig.paper(semantic_nc) if options.arch == "paper" else OasisConfig.small(semantic_nc)
        g, d = config.generator, config.discriminator
        if options.channels_g is not None:
            g.channels_g = options.channels_g
        if options.spade_hidden is not None:
            g.spade_hidden = options.spade_hidden
        if options.d_widths is not None:
            d.widths = tuple(options.d_widths)
        if options.d_last_width is not None:
            d.last_width = options.d_last_width
        return config

    @staticmethod
    def adapt_arch(arch: OasisConfig, options: FitOptions) -> None:
        if options.upsample is not None:
            arch.generator.upsample = options.upsample
        backbone = options.backbone
        if backbone is not None and backbone != arch.discriminator.backbone:
            # Another discriminator (--init-from then keeps G and starts this one afresh).
            projected = backbone != "unet"
            arch.discriminator = OasisDiscriminatorConfig(
                semantic_nc=arch.generator.semantic_nc,
                widths=tuple(
                    options.d_widths or (PROJECTED_D_WIDTHS if projected else (128, 128, 256, 256, 512, 512))
                ),
                last_width=options.d_last_width or (PROJECTED_D_LAST_WIDTH if projected else 64),
                backbone=backbone,
            )
        if options.style_encoder and arch.encoder is None:
            arch.encoder = OasisStyleEncoderConfig(z_dim=arch.generator.z_dim)

    def __init__(self, spec: ModelSpec, options: FitOptions, device: torch.device) -> None:
        self.spec, self.options, self.device = spec, options, device
        arch: OasisConfig = spec.arch
        torch.manual_seed(options.seed)  # initial weights only; steps use step_generator
        self.g = OasisGenerator(arch.generator).to(device)
        self.d = oasis_discriminator(arch.discriminator).to(device)
        init_official(self.g)
        init_official(self.d)
        if arch.discriminator.backbone == "efficientnet-lite0":
            from engine.networks.pretrained import load_imagenet_trunk

            load_imagenet_trunk(self.d.backbone)
        self.ema = copy.deepcopy(self.g).eval().requires_grad_(False)
        self.G: nn.Module = self.g
        self.D: nn.Module = self.d
        # The encoder exists when the architecture has one (trained now or before); it is
        # only used while --style-encoder is on.
        self.e = OasisStyleEncoder(arch.encoder).to(device) if arch.encoder is not None else None
        self.E: nn.Module | None = self.e
        self.perceptual: nn.Module | None = None
        if options.lambda_perceptual > 0:
            from engine.train.perceptual import EfficientNetPerceptual

            self.perceptual = EfficientNetPerceptual().to(device)
        betas = (options.beta1, options.beta2)
        g_params = list(self.g.parameters()) + (list(self.e.parameters()) if self.e is not None else [])
        self.opt_g = torch.optim.Adam(g_params, lr=options.lr_g, betas=betas)
        trained_d = [p for p in self.d.parameters() if p.requires_grad]  # not a frozen trunk
        self.opt_d = torch.optim.Adam(trained_d, lr=options.lr_d, betas=betas)
        self.encoder: LabelEncoder = spec.encoder
        self.z_dim = arch.generator.z_dim
        self.seg_loss = segmentation_loss(options, spec.label_set, device)
        self._fresh_d = False  # set when --init-from could not bring the discriminator

    @property
    def notes(self) -> list[str]:
        notes = [self.seg_loss.note] if self.seg_loss is not None else []
        if self.spec.arch.discriminator.backbone == "efficientnet-lite0":
            notes.append(
                "discriminator: frozen ImageNet EfficientNet-Lite0 trunk + trained decoder and "
                "full-resolution branch (beyond the paper)"
            )
        if self.options.d_warmup:
            notes.append(f"the first {self.options.d_warmup} steps train the discriminator only")
        if self._fresh_d:
            notes.append(
                "--init-from: the discriminator starts afresh (the folder's has another architecture)"
            )
        return notes

    def extra_modules(self) -> dict[str, nn.Module]:
        return {"E": self.e} if self.e is not None else {}

    def wrap_ddp(self) -> None:
        from torch.nn.parallel import DistributedDataParallel as DDP

        super().wrap_ddp()
        if self.e is not None:
            self.E = DDP(self.e, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def load_weights(self, parts: dict[str, nn.Module]) -> None:
        theirs = parts.get("discriminator")
        if theirs is not None and getattr(theirs, "config", None) != self.spec.arch.discriminator:
            # --backbone chose another discriminator: keep G (and E), train this D from its start.
            parts = {k: v for k, v in parts.items() if k != "discriminator"}
            self._fresh_d = True
        super().load_weights(parts)
        if self.e is not None and "encoder" in parts:
            self.e.load_state_dict(parts["encoder"].state_dict())

    # ---- one iteration ---------------------------------------------------------------
    def _noise(self, n: int, h: int, w: int, gen: torch.Generator) -> torch.Tensor:
        return expand_noise(torch.randn(n, self.z_dim, generator=gen).to(self.device), h, w)

    def _pair_l1(self, fake: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        return pair_l1(fake, image, self.options.lambda_pair_l1, self.options.pair_pool)

    def _perceptual(self, fake: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        if self.perceptual is None or fake.shape[0] == 0:
            return torch.zeros((), device=fake.device)
        return self.options.lambda_perceptual * self.perceptual(fake, image)

    def _seg(self, fake: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.seg_loss is None:
            return torch.zeros((), device=fake.device)
        return self.seg_loss(fake, labels)

    def _g_noise(self, image: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, int, torch.Tensor]:
        """Noise for the G step: (B, z_dim, H, W), how many samples are paired, and the KL term.

        With the style encoder the first half (at least one) is encoded from its real image;
        otherwise every sample draws random noise and all of them are "paired".
        """
        b, _, h, w = image.shape
        if not (self.options.style_encoder and self.E is not None):
            return self._noise(b, h, w, gen), b, torch.zeros((), device=image.device)
        paired = max(1, b // 2)
        mu, logvar = self.E(image[:paired])
        mu, logvar = mu.float(), logvar.float().clamp(-10, 10)
        eps = torch.randn(mu.shape, generator=gen).to(mu.device)
        free = torch.randn(b - paired, self.z_dim, generator=gen).to(mu.device)
        z = torch.cat((mu + eps * torch.exp(0.5 * logvar), free))
        kl = -0.5 * torch.mean(torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1))
        return expand_noise(z, h, w), paired, self.options.lambda_kl * kl

    def _g_step(
        self,
        image: torch.Tensor,
        onehot: torch.Tensor,
        channels: torch.Tensor,
        weights: torch.Tensor | None,
        labels: torch.Tensor,
        gen: torch.Generator,
    ) -> dict[str, float]:
        """Generator: fool the segmenter into the right class at every pixel (+ the paired losses)."""
        self.d.requires_grad_(False)
        with self._autocast():
            noise, paired, loss_kl = self._g_noise(image, gen)
            fake = self.G(onehot, noise)
            loss_g = n1_loss(self.d(fake).float(), channels, weights)
            loss_pair = self._pair_l1(fake[:paired].float(), image[:paired])
            loss_perc = self._perceptual(fake[:paired], image[:paired])
            loss_seg = self._seg(fake, labels)
        # float32 FFTs, outside autocast
        loss_stripe = stripe_loss(fake, image, self.options.lambda_stripe)
        loss_spectrum = spectrum_loss(fake, image, self.options.lambda_spectrum)
        self.opt_g.zero_grad(set_to_none=True)
        (loss_g + loss_pair + loss_perc + loss_stripe + loss_spectrum + loss_seg + loss_kl).backward()
        self.opt_g.step()
        self.d.requires_grad_(True)
        losses = (loss_g, loss_pair, loss_perc, loss_stripe, loss_spectrum, loss_seg, loss_kl)
        return {name: value.item() for name, value in zip(self.g_loss_names, losses, strict=True)}

    def step(self, batch: dict[str, torch.Tensor], step: int, rank: int) -> dict[str, float]:
        image = batch["image"].to(self.device, non_blocking=True)
        channels = self.encoder.channels(batch["labels"]).to(self.device)
        onehot = self.encoder.onehot_channels(channels)
        b, _, h, w = onehot.shape
        gen = step_generator(self.options.seed, step, rank)
        weights = class_balance_weights(channels, self.encoder.num_channels, self.encoder.dontcare_channel)

        g_losses = (
            self._g_step(image, onehot, channels, weights, batch["labels"], gen)
            if step >= self.options.d_warmup
            else {}
        )

        # Discriminator: real, fake and LabelMix in one forward (one DDP reduction).
        with torch.no_grad(), self._autocast():
            fake = self.G(onehot, self._noise(b, h, w, gen)).to(image.dtype)
        mask = labelmix_mask(channels, self.encoder.num_channels, gen)
        mixed = mask * image + (1 - mask) * fake
        with self._autocast():
            logits = self.D(torch.cat((image, fake, mixed))).float()
        out_real, out_fake, out_mixed = logits.chunk(3)
        loss_real = n1_loss(out_real, channels, weights)
        loss_fake = n1_loss(out_fake, channels, None)
        loss_lm = self.options.lambda_labelmix * labelmix_loss(mask, out_mixed, out_real, out_fake)
        self.opt_d.zero_grad(set_to_none=True)
        (loss_real + loss_fake + loss_lm).backward()
        self.opt_d.step()

        if g_losses:  # the EMA follows G's steps (none in the discriminator's warm-up)
            ema_update(self.ema, self.g, ema_decay_at(step, self.options.ema_decay))
        return {
            **{name: g_losses.get(name, 0.0) for name in self.g_loss_names},
            "loss_d_real": loss_real.item(),
            "loss_d_fake": loss_fake.item(),
            "loss_labelmix": loss_lm.item(),
        }

    # ---- sampling ---------------------------------------------------------------------
    def refreshed_ema(self, batches: Iterator[dict[str, torch.Tensor]], seed: int) -> nn.Module:
        """The EMA generator with BatchNorm statistics re-estimated on training batches."""

        def pairs() -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
            for k, batch in enumerate(batches):
                onehot = self.encoder.onehot(batch["labels"]).to(self.device)
                gen = step_generator(seed, k, 0, stream=1)
                yield onehot, self._noise(onehot.shape[0], *onehot.shape[-2:], gen)

        with self._autocast():
            return refreshed_copy(self.ema, pairs())

    def sample_grid(
        self, batch: dict[str, torch.Tensor], refresh: Iterator[dict[str, torch.Tensor]]
    ) -> np.ndarray:
        """Rows: label colours, real photos, EMA samples (fixed noise) — uint8 H×W×3."""
        ema = self.refreshed_ema(refresh, self.options.seed)
        labels = batch["labels"][:8]
        onehot = self.encoder.onehot(labels).to(self.device)
        gen = torch.Generator().manual_seed(self.options.seed)
        with torch.no_grad():
            fake = ema(onehot, self._noise(onehot.shape[0], *onehot.shape[-2:], gen)).float().cpu()
        return grid_rows(
            self.spec.label_set.colorize(labels.numpy()), to_uint8(batch["image"][:8]), to_uint8(fake)
        )

    def export_states(self, refresh: Iterator[dict[str, torch.Tensor]]) -> dict[str, dict]:
        return {
            "generator": self.refreshed_ema(refresh, self.options.seed).state_dict(),
            "generator_live": self.g.state_dict(),
            "discriminator": self.d.state_dict(),
            **({"encoder": self.e.state_dict()} if self.e is not None else {}),
        }
