"""One INADE training iteration: an E+G step and a D step, then the EMA update.

The objective is the paper's (supplement, Eq. 5): hinge GAN on the two-scale PatchGAN,
feature matching ×10 on its deepest features, KL ×0.05 on the encoder's per-instance
distributions; the generator's instance noise is the encoder's remapping of a standard
normal draw, as the README's ``--use_vae`` training command does. The VGG perceptual
loss (×10) needs VGG-19 weights, which nothing here may download: it runs when the user
passes a local file (``--vgg FILE``); ``--lambda-perceptual W`` puts frozen ImageNet
EfficientNet-Lite0 features (installed offline) in its place; else it is off and the
run log says so. Beyond the
paper, as for OASIS: an EMA of the generator (exported, with its BatchNorm statistics
refreshed) and the optional low-frequency paired L1.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from engine.networks.inade import (
    InadeConfig,
    InadeDiscriminator,
    InadeDiscriminatorConfig,
    InadeEncoder,
    InadeGenerator,
    InadeGeneratorConfig,
    instance_edges,
    instance_onehot,
    number_instances,
    remap_noise,
)
from engine.networks.vgg import load_vgg19, perceptual_loss
from engine.registry import ModelSpec
from engine.train.ema import ema_decay_at, ema_update, refreshed_copy
from engine.train.gan_base import GanTraining
from engine.train.gan_losses import (
    feature_matching,
    hinge_d,
    hinge_g,
    kl_divergence,
    pair_l1,
    split_fake_real,
)
from engine.train.options import FitOptions
from engine.train.sampling import step_generator
from engine.train.seg_loss import segmentation_loss
from engine.train.spectrum_loss import spectrum_loss
from engine.train.stripe_loss import stripe_loss
from engine.train.visuals import grid_rows, to_uint8

LAMBDA_FEAT, LAMBDA_VGG = 10.0, 10.0  # the paper's; its KL ×0.05 is --lambda-kl's default


class InadeTraining(GanTraining):
    """Nets, optimisers and the step. ``G``/``E``/``D`` may be DDP wrappers; ``g``/``e``/``d`` never are."""

    loss_names: ClassVar[list[str]] = [
        "loss_g",
        "loss_feat",
        "loss_kld",
        "loss_vgg",
        "loss_pair_l1",
        "loss_stripe",
        "loss_spectrum",
        "loss_seg",
        "loss_d",
    ]

    @property
    def notes(self) -> list[str]:
        seg = [self.seg_loss.note] if self.seg_loss is not None else []
        if self.vgg is None and self.options.lambda_perceptual > 0:
            return [
                f"perceptual loss ×{self.options.lambda_perceptual} on ImageNet EfficientNet-Lite0 features "
                "in place of VGG-19 (no VGG-19 weights given)",
                *seg,
            ]
        if self.vgg is None:
            return ["VGG perceptual loss: off (no VGG-19 weights given; --vgg FILE turns it on)", *seg]
        return [f"VGG perceptual loss ×{self.lambda_vgg} with {self.options.vgg}", *seg]

    @staticmethod
    def build_arch(options: FitOptions, semantic_nc: int) -> InadeConfig:
        h, w = options.size
        if options.arch == "paper":
            g = InadeGeneratorConfig.for_output(semantic_nc, h, w)
            d = InadeDiscriminatorConfig(semantic_nc=semantic_nc)
        else:
            g = InadeGeneratorConfig.for_output(semantic_nc, h, w, ngf=4, z_dim=32, noise_nc=8)
            d = InadeDiscriminatorConfig(semantic_nc=semantic_nc, ndf=8)
        if options.channels_g is not None:
            g.ngf = options.channels_g
        if options.d_widths is not None:
            d.ndf = options.d_widths[0]
        return InadeConfig(g, discriminator=d)

    @staticmethod
    def adapt_arch(arch: InadeConfig, options: FitOptions) -> None:
        if options.upsample is not None:
            arch.generator.upsample = options.upsample

    def __init__(self, spec: ModelSpec, options: FitOptions, device: torch.device) -> None:
        self.spec, self.options, self.device = spec, options, device
        arch: InadeConfig = spec.arch
        torch.manual_seed(options.seed)  # initial weights only; steps use step_generator
        self.g = InadeGenerator(arch.generator).to(device)
        self.e = InadeEncoder(arch.encoder).to(device)
        self.d = InadeDiscriminator(arch.discriminator).to(device)
        self.ema = copy.deepcopy(self.g).eval().requires_grad_(False)
        self.G: nn.Module = self.g
        self.E: nn.Module = self.e
        self.D: nn.Module = self.d
        betas = (options.beta1, options.beta2)
        # The encoder trains with the generator's optimiser, as in the official code.
        g_and_e = [*self.g.parameters(), *self.e.parameters()]
        self.opt_g = torch.optim.Adam(g_and_e, lr=options.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=options.lr_d, betas=betas)
        self.encoder = spec.encoder
        # The paper's VGG-19 perceptual loss (×10), when the user has the weights file.
        self.vgg = load_vgg19(options.vgg).to(device) if options.vgg is not None else None
        self.lambda_vgg = options.lambda_feature or LAMBDA_VGG
        # Without VGG-19: the same role played by frozen ImageNet EfficientNet-Lite0 features.
        self.effnet: nn.Module | None = None
        if self.vgg is None and options.lambda_perceptual > 0:
            from engine.train.perceptual import EfficientNetPerceptual

            self.effnet = EfficientNetPerceptual().to(device)
        self.seg_loss = segmentation_loss(options, spec.label_set, device)
        self.noise_nc = arch.generator.noise_nc
        self.z_dim = arch.generator.z_dim

    def extra_modules(self) -> dict[str, nn.Module]:
        return {"E": self.e}

    def wrap_ddp(self) -> None:
        from torch.nn.parallel import DistributedDataParallel as DDP

        super().wrap_ddp()
        self.E = DDP(self.e, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def load_weights(self, parts: dict[str, nn.Module]) -> None:
        super().load_weights(parts)
        if "encoder" in parts:
            self.e.load_state_dict(parts["encoder"].state_dict())

    # ---- inputs -----------------------------------------------------------------------------
    def _inputs(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """One-hot classes, instance one-hot, D's label input (one-hot ‖ edges), which instances exist."""
        channels = self.encoder.channels(batch["labels"])
        ids, count = number_instances(channels, batch["instances"])
        onehot = self.encoder.onehot_channels(channels).to(self.device)
        instances = instance_onehot(ids, count).to(self.device)
        d_labels = torch.cat((onehot, instance_edges(ids).to(self.device)), 1)
        present = instances.sum(dim=(2, 3)) > 0
        return onehot, instances, d_labels, present

    def _draws(self, b: int, k: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        noise = torch.randn(b, k, 2, self.noise_nc, generator=gen).to(self.device)
        z = torch.randn(b, self.z_dim, generator=gen).to(self.device)
        return noise, z

    def _pair_l1(self, fake: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        return pair_l1(fake, image, self.options.lambda_pair_l1, self.options.pair_pool)

    def step(self, batch: dict[str, torch.Tensor], step: int, rank: int) -> dict[str, float]:
        image = batch["image"].to(self.device, non_blocking=True)
        onehot, instances, d_labels, present = self._inputs(batch)
        gen = step_generator(self.options.seed, step, rank)
        noise, z = self._draws(image.shape[0], instances.shape[1], gen)

        # Encoder + generator: fool D, match its deep features, keep q close to the prior.
        # With --free-half only the first half is encoded (and paired); the rest keeps its
        # prior draw, the noise a re-roll in the studio uses, and meets D alone.
        b = image.shape[0]
        paired = max(1, b // 2) if self.options.free_half else b
        self.d.requires_grad_(False)
        with self._autocast():
            style = self.E(image[:paired], instances[:paired])
            encoded = remap_noise(noise[:paired], style)
            noise = torch.cat((encoded, noise[paired:].to(encoded.dtype)))
            fake = self.G(onehot, instances, noise, z)
            both = self.D(torch.cat((d_labels, d_labels)), torch.cat((fake, image)))
            out_fake, out_real = split_fake_real(both)
            loss_g = hinge_g(out_fake)
            loss_feat = LAMBDA_FEAT * feature_matching(_first(out_real, paired), _first(out_fake, paired))
            kl = kl_divergence(InadeTraining._float(style), present[:paired])
            loss_kld = self.options.lambda_kl * kl / paired
            fake_p, image_p = fake[:paired], image[:paired]
            loss_pair = self._pair_l1(fake_p.float(), image_p)
            if self.vgg is not None:
                loss_vgg = self.lambda_vgg * perceptual_loss(self.vgg, fake_p.float(), image_p)
            elif self.effnet is not None:
                loss_vgg = self.options.lambda_perceptual * self.effnet(fake_p, image_p)
            else:
                loss_vgg = torch.zeros((), device=image.device)
            zero = torch.zeros((), device=image.device)
            loss_seg = self.seg_loss(fake, batch["labels"]) if self.seg_loss is not None else zero
        # float32 FFTs, outside autocast
        loss_stripe = stripe_loss(fake, image, self.options.lambda_stripe)
        loss_spectrum = spectrum_loss(fake, image, self.options.lambda_spectrum)
        self.opt_g.zero_grad(set_to_none=True)
        total = loss_g + loss_feat + loss_kld + loss_vgg + loss_pair + loss_stripe + loss_spectrum + loss_seg
        total.backward()
        self.opt_g.step()
        self.d.requires_grad_(True)

        # Discriminator: real vs the (detached) fake, both scales, one forward.
        with self._autocast():
            both = self.D(torch.cat((d_labels, d_labels)), torch.cat((fake.detach().to(image.dtype), image)))
            out_fake, out_real = split_fake_real(both)
            loss_d = hinge_d(out_real, out_fake)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()

        ema_update(self.ema, self.g, ema_decay_at(step, self.options.ema_decay))
        return {
            "loss_g": loss_g.item(),
            "loss_feat": loss_feat.item(),
            "loss_kld": loss_kld.item(),
            "loss_vgg": loss_vgg.item(),
            "loss_pair_l1": loss_pair.item(),
            "loss_stripe": loss_stripe.item(),
            "loss_spectrum": loss_spectrum.item(),
            "loss_seg": loss_seg.item(),
            "loss_d": loss_d.item(),
        }

    @staticmethod
    def _float(style: tuple) -> tuple:
        return type(style)(*(t.float() for t in style))

    # ---- sampling -------------------------------------------------------------------------------
    def _prior_inputs(self, batch: dict[str, torch.Tensor], gen: torch.Generator) -> tuple[torch.Tensor, ...]:
        onehot, instances, _, _ = self._inputs(batch)
        noise, z = self._draws(onehot.shape[0], instances.shape[1], gen)
        return onehot, instances, noise, z

    def refreshed_ema(self, batches: Iterator[dict[str, torch.Tensor]], seed: int) -> nn.Module:
        """The EMA generator with BatchNorm statistics re-estimated on training batches
        (prior noise, as the studio samples it)."""

        def inputs() -> Iterator[tuple[tuple[torch.Tensor, ...], None]]:
            for k, batch in enumerate(batches):
                yield self._prior_inputs(batch, step_generator(seed, k, 0, stream=1)), None

        with self._autocast():
            return refreshed_copy(self.ema, inputs(), forward=lambda net, args, _: net(*args))

    def sample_grid(
        self, batch: dict[str, torch.Tensor], refresh: Iterator[dict[str, torch.Tensor]]
    ) -> np.ndarray:
        """Rows: label colours, real photos, EMA samples with prior noise (fixed seed) — uint8 H×W×3."""
        ema = self.refreshed_ema(refresh, self.options.seed)
        small = {k: v[:8] for k, v in batch.items()}
        gen = torch.Generator().manual_seed(self.options.seed)
        with torch.no_grad():
            fake = ema(*self._prior_inputs(small, gen)).float().cpu()
        return grid_rows(
            self.spec.label_set.colorize(small["labels"].numpy()), to_uint8(small["image"]), to_uint8(fake)
        )

    def export_states(self, refresh: Iterator[dict[str, torch.Tensor]]) -> dict[str, dict]:
        return {
            "generator": self.refreshed_ema(refresh, self.options.seed).state_dict(),
            "generator_live": self.g.state_dict(),
            "encoder": self.e.state_dict(),
            "discriminator": self.d.state_dict(),
        }


def _first(outputs: list[list[torch.Tensor]], n: int) -> list[list[torch.Tensor]]:
    """The discriminator's per-scale, per-layer outputs for the first ``n`` samples."""
    return [[t[:n] for t in scale] for scale in outputs]
