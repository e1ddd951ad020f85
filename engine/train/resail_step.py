"""One RESAIL training iteration: two generator passes on one map, a D step, the EMA update.

The objective is the official code's (method notes §4; ``compute_generator_loss`` and
``compute_retrieval_generator_loss``):

- pass (A), guidance = the distorted ground truth: hinge GAN + feature matching ×10 on
  every intermediate layer of the SESAME discriminator + perceptual ×10 + segmentation ×5;
- pass (B), guidance = the retrieval composite: hinge GAN + segmentation ×5 only, since
  its output is not meant to match the photo pixel for pixel;
- D: hinge on real against fake (A), and on real against fake (B).

Departures, each because of what this machine has: VGG-19 cannot be downloaded, so the
perceptual loss is an L1 on frozen ImageNet EfficientNet-Lite0 features
(``--lambda-perceptual``, as for OASIS and INADE); the segmentation loss's frozen
segmenter is one we trained (``--seg-net``, e.g. ``weights/landscapes-unet``) — refused
when it is the evaluation segmenter, which must stay independent of what it scores; an
EMA of the generator is exported (beyond the paper, as for the other families), its
BatchNorm statistics refreshed on retrieval-guided batches, the way the studio runs it.
The guidance images come with the batch (:mod:`engine.train.resail_data`).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from engine.networks.blocks import init_official
from engine.networks.resail import ResailConfig, ResailGenerator, ResailGeneratorConfig, ResailNorm
from engine.networks.sesame_d import SesameDiscriminatorConfig, SesameMultiScaleDiscriminator
from engine.registry import ModelSpec
from engine.retrieval import RetrievalParams, SegmentDatabase
from engine.train.ema import ema_decay_at, ema_update, refreshed_copy
from engine.train.gan_base import GanTraining
from engine.train.gan_losses import feature_matching, hinge_d, hinge_g, pair_l1
from engine.train.options import FitOptions
from engine.train.resail_data import GuidanceMaker, ResailDataset
from engine.train.sampling import AugmentedDataset
from engine.train.seg_loss import segmentation_loss
from engine.train.visuals import grid_rows, to_uint8

LAMBDA_FEAT = 10.0


def open_database(options: FitOptions, log: object = None) -> SegmentDatabase:
    """``--database``, or one built now from the training split (≈ 20 s for 2400 images)."""
    from engine.retrieval import build_database, load_database

    if options.database is not None:
        return load_database(options.database)
    from engine.data import open_dataset

    dataset = open_dataset(options.data, split="train", skip_bad=options.skip_bad)
    start = time.perf_counter()
    db = build_database(
        (dataset[i] for i in range(len(dataset))),
        dataset.label_set,
        info={"command": f"app-train retrieval build --data {options.data} --out FOLDER"},
    )
    if callable(log):
        log(f"built the segment database: {len(db)} segments in {time.perf_counter() - start:.0f} s")
    return db


def _thirds(out: list[list[torch.Tensor]]) -> tuple[list[list[torch.Tensor]], ...]:
    """D's per-scale outputs for one batch of [fake (A) ‖ fake (B) ‖ real] → the three parts,
    each per scale, in fp32 (``split_fake_real`` for two)."""
    parts: tuple[list[list[torch.Tensor]], ...] = ([], [], [])
    for scale in out:
        pieces = [t.float().chunk(3) for t in scale]
        for k, part in enumerate(parts):
            part.append([p[k] for p in pieces])
    return parts


def open_guidance(g: nn.Module) -> None:
    """Start every AdaIN of the guidance branch as a plain InstanceNorm (scale 1, bias 0).

    Beyond the paper. With the official init (Xavier, gain 0.02, zero bias) the AdaIN
    parameters that conv_s / conv_s2 make from the map start at ≈ 0, so AdaIN multiplies
    the guidance features by ≈ 0 and the generator cannot see the guidance until those
    scales have grown: measured here, passes (A) and (B) gave the same loss to four digits
    after six steps. A scale bias of 1 lets the guidance through from the first step; the
    layers and their names are unchanged, so official checkpoints load as before.
    """
    for norm in g.modules():
        if isinstance(norm, ResailNorm):
            n = norm.style_length
            with torch.no_grad():
                norm.conv_s.bias[:n].fill_(1.0)
                norm.conv_s2.bias[:n].fill_(1.0)


class ResailTraining(GanTraining):
    """Nets, optimisers, the database and the step. ``G``/``D`` may be DDP wrappers."""

    loss_names: ClassVar[list[str]] = [
        "loss_g_a",
        "loss_g_b",
        "loss_feat",
        "loss_perceptual",
        "loss_seg",
        "loss_pair_l1",
        "loss_d",
    ]

    @staticmethod
    def build_arch(options: FitOptions, semantic_nc: int) -> ResailConfig:
        h, w = options.size
        if options.arch == "paper":
            g = ResailGeneratorConfig.for_output(semantic_nc, h, w)
            d = SesameDiscriminatorConfig(semantic_nc)
        else:
            g = ResailGeneratorConfig.for_output(semantic_nc, h, w, ngf=2, spade_hidden=8, style_length=8)
            d = SesameDiscriminatorConfig(semantic_nc, ndf=4)
        if options.channels_g is not None:
            g.ngf = options.channels_g
        if options.spade_hidden is not None:  # both branch widths: they cost alike
            g.spade_hidden = g.style_length = options.spade_hidden
        if options.d_widths is not None:
            d.ndf = options.d_widths[0]
        return ResailConfig(g, d)

    @staticmethod
    def adapt_arch(arch: ResailConfig, options: FitOptions) -> None:
        if options.upsample is not None:
            arch.generator.upsample = options.upsample

    def __init__(self, spec: ModelSpec, options: FitOptions, device: torch.device) -> None:
        self.spec, self.options, self.device = spec, options, device
        arch: ResailConfig = spec.arch
        torch.manual_seed(options.seed)  # initial weights only
        self.g = ResailGenerator(arch.generator).to(device)
        self.d = SesameMultiScaleDiscriminator(arch.discriminator).to(device)
        init_official(self.g)
        open_guidance(self.g)
        init_official(self.d)
        self.ema = copy.deepcopy(self.g).eval().requires_grad_(False)
        self.G: nn.Module = self.g
        self.D: nn.Module = self.d
        betas = (options.beta1, options.beta2)
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=options.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=options.lr_d, betas=betas)
        self.encoder = spec.encoder
        self.perceptual: nn.Module | None = None
        if options.lambda_perceptual > 0:
            from engine.train.perceptual import EfficientNetPerceptual

            self.perceptual = EfficientNetPerceptual().to(device)
        self.seg_loss = segmentation_loss(options, spec.label_set, device)
        self._db: SegmentDatabase | None = None
        self._notes: list[str] = []

    # ---- data ----------------------------------------------------------------------------
    @property
    def db(self) -> SegmentDatabase:
        if self._db is None:
            self._db = open_database(self.options, log=self._notes.append)
        return self._db

    def wrap_dataset(self, augmented: AugmentedDataset) -> Dataset:
        """The loader's dataset: each item also carries its two guidance images."""
        params = RetrievalParams(threshold=self.options.retrieval_threshold)
        return ResailDataset(augmented, GuidanceMaker(self.db, params))

    @property
    def notes(self) -> list[str]:
        self.db  # opened (or built) now, so its note is among these  # noqa: B018
        notes = list(self._notes)
        if self.perceptual is not None:
            notes.append(
                f"perceptual loss ×{self.options.lambda_perceptual} on ImageNet EfficientNet-Lite0 features "
                "in place of VGG-19 (no VGG-19 weights here)"
            )
        if self.seg_loss is None:
            notes.append("segmentation loss: off (--seg-net FOLDER: not the evaluation segmenter)")
        else:
            notes.append(self.seg_loss.note)
        return notes

    def export_extras(self, folder: Path) -> None:
        """The weights folder keeps the database the model was trained with (the studio retrieves from it)."""
        from engine.retrieval import WEIGHTS_SUBFOLDER, save_database

        save_database(self.db, Path(folder) / WEIGHTS_SUBFOLDER)

    # ---- losses ----------------------------------------------------------------------------
    def _perceptual(self, fake: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        if self.perceptual is None:
            return torch.zeros((), device=fake.device)
        return self.options.lambda_perceptual * self.perceptual(fake, image)

    def step(self, batch: dict[str, torch.Tensor], step: int, rank: int) -> dict[str, float]:
        image = batch["image"].to(self.device, non_blocking=True)
        labels = batch["labels"]
        onehot = self.encoder.onehot(labels).to(self.device)
        guide_a = batch["guidance_a"].to(self.device)
        guide_b = batch["guidance_b"].to(self.device)
        b = image.shape[0]
        three = torch.cat((onehot, onehot, onehot))

        # Generator: both passes in one forward (BatchNorm sees them together, as one batch).
        self.d.requires_grad_(False)
        with self._autocast():
            fakes = self.G(torch.cat((onehot, onehot)), torch.cat((guide_a, guide_b)))
            fake_a = fakes[:b]
            out_a, out_b, out_real = _thirds(self.D(three, torch.cat((fakes, image.to(fakes.dtype)))))
            loss_g_a = hinge_g(out_a)
            loss_g_b = hinge_g(out_b)
            loss_feat = LAMBDA_FEAT * feature_matching(out_real, out_a, start=0)
            loss_perc = self._perceptual(fake_a, image)
            loss_seg = (
                self.seg_loss(fakes, torch.cat((labels, labels)))
                if self.seg_loss is not None
                else torch.zeros((), device=image.device)
            )
            loss_pair = pair_l1(fake_a.float(), image, self.options.lambda_pair_l1, self.options.pair_pool)
        self.opt_g.zero_grad(set_to_none=True)
        (loss_g_a + loss_g_b + loss_feat + loss_perc + loss_seg + loss_pair).backward()
        self.opt_g.step()
        self.d.requires_grad_(True)

        # Discriminator: real against each pass's fakes.
        with self._autocast():
            out_a, out_b, out_real = _thirds(
                self.D(three, torch.cat((fakes.detach(), image.to(fakes.dtype))))
            )
            loss_d = hinge_d(out_real, out_a) + hinge_d(out_real, out_b)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()

        ema_update(self.ema, self.g, ema_decay_at(step, self.options.ema_decay))
        return {
            "loss_g_a": loss_g_a.item(),
            "loss_g_b": loss_g_b.item(),
            "loss_feat": loss_feat.item(),
            "loss_perceptual": loss_perc.item(),
            "loss_seg": loss_seg.item(),
            "loss_pair_l1": loss_pair.item(),
            "loss_d": loss_d.item(),
        }

    # ---- sampling -----------------------------------------------------------------------------
    def refreshed_ema(self, batches: Iterator[dict[str, torch.Tensor]]) -> nn.Module:
        """The EMA generator with BatchNorm statistics re-estimated on retrieval-guided batches."""

        def inputs() -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
            for batch in batches:
                onehot = self.encoder.onehot(batch["labels"]).to(self.device)
                yield onehot, batch["guidance_b"].to(self.device)

        with self._autocast():
            return refreshed_copy(self.ema, inputs())

    def sample_grid(
        self, batch: dict[str, torch.Tensor], refresh: Iterator[dict[str, torch.Tensor]]
    ) -> np.ndarray:
        """Rows: label colours, real photos, retrieval guidance, EMA samples from it — uint8."""
        ema = self.refreshed_ema(refresh)
        labels = batch["labels"][:8]
        guide = batch["guidance_b"][:8]
        with torch.no_grad():
            fake = ema(self.encoder.onehot(labels).to(self.device), guide.to(self.device)).float().cpu()
        return grid_rows(
            self.spec.label_set.colorize(labels.numpy()),
            to_uint8(batch["image"][:8]),
            to_uint8(guide),
            to_uint8(fake),
        )

    def export_states(self, refresh: Iterator[dict[str, torch.Tensor]]) -> dict[str, dict]:
        return {
            "generator": self.refreshed_ema(refresh).state_dict(),
            "generator_live": self.g.state_dict(),
            "discriminator": self.d.state_dict(),
        }
