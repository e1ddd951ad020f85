"""One MSCA training iteration: self-supervised patch cross-reconstruction.

Two patches of one training image are the target (its labels, and its pixels as ground
truth) and the exemplar (:mod:`engine.train.patches`); the generator reconstructs the
target from its labels and the exemplar. The paper does not state its losses; ours:
hinge GAN on a two-scale PatchGAN of [labels ‖ image], feature matching ×10 on all its
intermediate features, and L1 reconstruction ×10 of the target patch. The paper's VGG
perceptual loss and its auxiliary-decoder pretraining (supplement Sec. 8, which predicts
VGG features) need VGG-19 weights that cannot be downloaded here: they use a local file
when the user gives one (``--vgg FILE``), else our own segmenter's features
(``--feature-net``), else they are off; the run log says which. The global-scale stage
(¾ crops and whole images) starts halfway through ``--steps``. An EMA of the generator
is exported, as for the other families.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.checkpoints import load_weights
from engine.networks.msca import MscaGenerator, MscaModelConfig
from engine.networks.patchgan import MultiScalePatchGan
from engine.networks.vgg import Vgg19Features, load_vgg19, perceptual_loss
from engine.registry import ModelSpec
from engine.train.ema import ema_decay_at, ema_update, refreshed_copy
from engine.train.gan_base import GanTraining
from engine.train.gan_losses import feature_matching, hinge_d, hinge_g, split_fake_real
from engine.train.options import FitOptions
from engine.train.patches import patch_pairs
from engine.train.sampling import step_generator
from engine.train.spectrum_loss import spectrum_loss
from engine.train.visuals import grid_rows, to_uint8

LAMBDA_FEAT, LAMBDA_REC = 10.0, 10.0


class FeatureNet(nn.Module):
    """A frozen segmenter's encoder levels, standing in for VGG-19 features."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.net = load_weights(folder, family="segmenter", parts=("segmenter",)).nets["segmenter"]
        self.net.eval().requires_grad_(False)
        self.widths = list(self.net.config.level_channels)

    def train(self, mode: bool = True) -> FeatureNet:  # always eval: BatchNorm statistics stay
        return super().train(False)

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        return self.net.encoder_levels(image)


class MscaTraining(GanTraining):
    loss_names: ClassVar[list[str]] = [
        "loss_g",
        "loss_feat",
        "loss_rec",
        "loss_perc",
        "loss_spectrum",
        "loss_pre",
        "loss_d",
        "stage",
    ]

    @staticmethod
    def build_arch(options: FitOptions, semantic_nc: int) -> MscaModelConfig:
        paper = options.arch == "paper"
        config = MscaModelConfig.paper(semantic_nc) if paper else MscaModelConfig.small(semantic_nc)
        if options.channels_g is not None:
            config.generator.base = options.channels_g
        if options.spade_hidden is not None:
            config.generator.spade_hidden = options.spade_hidden
        if options.d_widths is not None:
            config.discriminator.ndf = options.d_widths[0]
        config.generator.attention = options.attention
        return config

    def __init__(self, spec: ModelSpec, options: FitOptions, device: torch.device) -> None:
        self.spec, self.options, self.device = spec, options, device
        arch: MscaModelConfig = spec.arch
        torch.manual_seed(options.seed)
        self.g = MscaGenerator(arch.generator).to(device)
        self.d = MultiScalePatchGan(arch.discriminator).to(device)
        self.ema = copy.deepcopy(self.g).eval().requires_grad_(False)
        self.G: nn.Module = self.g
        self.D: nn.Module = self.d
        betas = (options.beta1, options.beta2)
        # Supplement Sec. 8: at each scale a 1×1 conv predicts the target's (here: the
        # feature net's) features from [F_x1 ‖ F_c1], to pretrain extractors and MSCA.
        self.features: FeatureNet | Vgg19Features | None = None
        if options.vgg is not None:
            self.features = load_vgg19(options.vgg).to(device)
        elif options.feature_net is not None:
            self.features = FeatureNet(options.feature_net).to(device)
        self.aux = nn.ModuleList()
        if self.features is not None:
            last = len(self.features.widths) - 1
            for s, width in enumerate(arch.generator.widths):
                self.aux.append(nn.Conv2d(2 * width, self.features.widths[min(s + 1, last)], 1))
            self.aux.to(device)
        self.opt_g = torch.optim.Adam(
            [*self.g.parameters(), *self.aux.parameters()], lr=options.lr_g, betas=betas
        )
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=options.lr_d, betas=betas)
        self.encoder = spec.encoder

    @property
    def notes(self) -> list[str]:
        if self.features is None:
            return ["VGG perceptual loss and VGG-feature pretraining: off (see --vgg and --feature-net)"]
        source = (
            f"VGG-19 from {self.options.vgg}"
            if self.options.vgg is not None
            else f"VGG-19 replaced by the features of {self.options.feature_net}"
        )
        return [
            f"{source}: pretraining {self.options.pretrain_steps} steps, "
            f"feature loss ×{self.options.lambda_feature}"
        ]

    def extra_modules(self) -> dict[str, nn.Module]:
        return {"aux": self.aux}

    def stage(self, step: int) -> int:
        """1: half-size patches kept apart; 2 (second half of the GAN steps): larger crops, whole images."""
        start = self.options.pretrain_steps
        return 1 if step < start + (self.options.steps - start) // 2 else 2

    def _perceptual(self, fake: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """VGG: SPADE's weighted VGG loss; a segmenter: the mean L1 over its levels."""
        if isinstance(self.features, Vgg19Features):
            return perceptual_loss(self.features, fake, target)
        with torch.no_grad():
            real = self.features(target)
        mine = self.features(fake)
        return sum(F.l1_loss(a, b) for a, b in zip(mine, real)) / len(mine)

    def _targets(self, image: torch.Tensor) -> list[torch.Tensor]:
        """The feature net's features of ``image`` at each MSCA scale (1/2 … 1/2^scales)."""
        feats = self.features(image)
        out = []
        for s in range(len(self.aux)):
            f = feats[min(s + 1, len(feats) - 1)]
            size = (image.shape[-2] >> (s + 1), image.shape[-1] >> (s + 1))
            out.append(f if f.shape[-2:] == size else F.adaptive_avg_pool2d(f, size))
        return out

    def _pretrain(
        self, target: torch.Tensor, labels: torch.Tensor, ex_image: torch.Tensor, ex_labels: torch.Tensor
    ) -> dict:
        g = self.g
        fc1, fx1 = g.aligned(labels, g.encode_exemplar(ex_image, ex_labels))
        with torch.no_grad():
            wanted = self._targets(target)
        # Finer scales weigh more, as the features there carry the texture.
        loss = sum(
            F.l1_loss(aux(torch.cat((x, c), 1)), t) / 2**s
            for s, (aux, x, c, t) in enumerate(zip(self.aux, fx1, fc1, wanted))
        )
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        return {name: 0.0 for name in self.loss_names} | {"loss_pre": loss.item()}

    def step(self, batch: dict[str, torch.Tensor], step: int, rank: int) -> dict[str, float]:
        image = batch["image"].to(self.device, non_blocking=True)
        onehot = self.encoder.onehot(batch["labels"]).to(self.device)
        gen = step_generator(self.options.seed, step, rank)
        if step < self.options.pretrain_steps:
            return self._pretrain(*patch_pairs(image, onehot, 1, gen))
        stage = self.stage(step)
        target, labels, ex_image, ex_labels = patch_pairs(image, onehot, stage, gen)

        self.d.requires_grad_(False)
        with self._autocast():
            fake = self.G(labels, ex_image, ex_labels)
            fake_out, real_out = split_fake_real(
                self.D(torch.cat((labels, labels)), torch.cat((fake, target)))
            )
            loss_g = hinge_g(fake_out)
            loss_feat = LAMBDA_FEAT * feature_matching(real_out, fake_out, start=0)
            loss_rec = LAMBDA_REC * F.l1_loss(fake.float(), target)
            loss_perc = torch.zeros((), device=target.device)
            if self.features is not None and self.options.lambda_feature:
                loss_perc = self.options.lambda_feature * self._perceptual(fake.float(), target)
        loss_spectrum = spectrum_loss(fake, target, self.options.lambda_spectrum)  # float32 FFTs
        self.opt_g.zero_grad(set_to_none=True)
        (loss_g + loss_feat + loss_rec + loss_perc + loss_spectrum).backward()
        self.opt_g.step()
        self.d.requires_grad_(True)

        with self._autocast():
            both = self.D(torch.cat((labels, labels)), torch.cat((fake.detach().to(target.dtype), target)))
            fake_out, real_out = split_fake_real(both)
            loss_d = hinge_d(real_out, fake_out)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()

        ema_update(self.ema, self.g, ema_decay_at(step, self.options.ema_decay))
        return {
            "loss_g": loss_g.item(),
            "loss_feat": loss_feat.item(),
            "loss_rec": loss_rec.item(),
            "loss_perc": loss_perc.item(),
            "loss_spectrum": loss_spectrum.item(),
            "loss_pre": 0.0,
            "loss_d": loss_d.item(),
            "stage": float(stage),
        }

    def _refreshed(self, batches: Iterator[dict[str, torch.Tensor]]) -> nn.Module:
        """The EMA generator with BatchNorm statistics re-estimated on training patches."""

        def inputs() -> Iterator[tuple[tuple[torch.Tensor, ...], None]]:
            for k, batch in enumerate(batches):
                onehot = self.encoder.onehot(batch["labels"]).to(self.device)
                image = batch["image"].to(self.device)
                gen = step_generator(0, k, 0, stream=2)
                _, labels, ex_image, ex_labels = patch_pairs(image, onehot, 1, gen)
                yield (labels, ex_image, ex_labels), None

        with self._autocast():
            return refreshed_copy(self.ema, inputs(), forward=lambda net, args, _: net(*args))

    def sample_grid(
        self, batch: dict[str, torch.Tensor], refresh: Iterator[dict[str, torch.Tensor]]
    ) -> np.ndarray:
        """Rows: target labels, its photo, the exemplar (the next image of the batch), the output."""
        ema = self._refreshed(refresh)
        small = {k: v[:8] for k, v in batch.items()}
        onehot = self.encoder.onehot(small["labels"]).to(self.device)
        image = small["image"].to(self.device)
        exemplar = image.roll(1, dims=0)
        with torch.no_grad():
            fake = ema(onehot, exemplar, onehot.roll(1, dims=0)).float().cpu()
        colours = self.spec.label_set.colorize(small["labels"].numpy())
        return grid_rows(colours, to_uint8(small["image"]), to_uint8(exemplar.cpu()), to_uint8(fake))

    def export_states(self, refresh: Iterator[dict[str, torch.Tensor]]) -> dict[str, dict]:
        return {
            "generator": self._refreshed(refresh).state_dict(),
            "generator_live": self.g.state_dict(),
            "discriminator": self.d.state_dict(),
        }
