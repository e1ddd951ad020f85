"""ugen inference (Chae et al., "Semantic Image Synthesis with Unconditional Generator",
NeurIPS 2023): a condition → proxy mask → a frozen StyleGAN2's features rearranged to it.

The flow of the paper's figure: the semantic mapper turns the user's condition (a label
map; an edge or sketch image; a depth map) into proxy-mask logits at the proxy resolution; their argmax
is the proxy mask; the rearranger moves the features G₁ made from z so they follow it, and
G₂ renders them. The style is z, one vector for the whole image (the noise field's oldest
region's vector, as for SPADE's VAE models): a re-roll draws a new z and keeps the layout,
since the mask depends on the condition only. A proxy mask can also be given directly —
the paper's free-form manipulation — and ``last_proxy`` is the mask of the latest image,
so a studio can show it, let the user edit it, and render the edit.

The style can also be a w given directly (``set_style_w``), e.g. one inverted from a photo
(:mod:`engine.inference.ugen_invert`, the paper's exemplar-guided generation): its G₁
features are rearranged to the user's layout, while the noise field's z is ignored until
the override is cleared. ``image_of_w`` and ``proxy_of_w`` give the generator's own picture
of such a w and its proxy mask (a starting mask to edit: the paper's real-image editing).

The rearranger reads the *hard* mask (one-hot of the argmax), not the mapper's softmax:
it was trained on hard K-means masks, the image is then a function of the mask a studio
shows, and a stroke recomputes only where the mask changed.

Two paths make the same image: the plain one runs every net in full (the reference,
``fast=False``); the fast one (default) keeps per-style state and recomputes only what a
change reaches (:mod:`engine.inference.ugen_mapper_live` for the label mapper,
:mod:`engine.inference.ugen_render` for the rest). ``backend`` "bf16" — or "auto" on a
CPU with native bf16 — runs the fast path's rearranger and G₂ in bf16; the mapper stays
fp32, so the proxy masks are the plain path's.

The model paints at its StyleGAN2's size only (G₁ starts from a learned 4×4 constant, and
the features are rearranged at the proxy grid of that size).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch

from engine.checkpoints import LoadedWeights, load_weights
from engine.errors import InputError, WeightsError
from engine.inference.backends.torch_backends import bf16_sensible
from engine.inference.depth_estimator import DepthEstimator
from engine.inference.synthesizer import require_noise_fits, to_uint8_image
from engine.inference.ugen_mapper_live import LiveLabelMapper
from engine.inference.ugen_render import UgenRenderer
from engine.networks.blocks import fold_spectral_norm
from engine.networks.proxy import ProxyClusters, cluster_palette, measure_swatches
from engine.networks.rearranger import Rearranger
from engine.networks.stylegan2 import StyleGan2Generator
from engine.networks.ugen import (
    IMAGE_CONDITIONS,
    LINE_CONDITIONS,
    MAPPER_PARTS,
    UgenConfig,
    depth_net_folder,
    stylegan2_folder,
)
from engine.noise import NoiseField

BF16_CHOICES = ("bf16", "gather-bf16")


class UgenSynthesizer:
    family = "ugen"
    backend_report = None
    last_decision = None
    discriminator = None  # nothing here segments photos
    style_encoder = None  # a photo's style comes from GAN inversion (ugen_invert), not an encoder
    deterministic = False
    no_noise = ""
    global_style = True  # one z per image: a re-roll restyles all of it, never one region

    def __init__(
        self,
        weights: LoadedWeights,
        generator: StyleGan2Generator,
        device: str | torch.device = "cpu",
        backend: str = "eager",
        *,
        fast: bool = True,  # False: every net in full on every call (the reference path)
    ) -> None:
        self.weights = weights
        self.spec = weights.spec
        self.arch: UgenConfig = self.spec.arch
        self.device = torch.device(device)
        self.encoder = self.spec.encoder  # labels → one-hot channels, as the other synthesizers
        self.generator = generator.to(self.device).eval().requires_grad_(False)
        rearranger = weights.nets["rearranger"]
        assert isinstance(rearranger, Rearranger)
        self.rearranger = rearranger.to(self.device).eval()
        clusters = weights.nets["proxy"]
        assert isinstance(clusters, ProxyClusters)
        self.clusters = clusters.to(self.device)
        self.mappers = {  # in MAPPER_PARTS order (the loader's order of optional parts is not fixed)
            part.removeprefix("mapper_"): fold_spectral_norm(weights.nets[part]).to(self.device).eval()
            for part in MAPPER_PARTS
            if part in weights.nets
        }
        self.backend = backend
        bf16 = backend in BF16_CHOICES or (backend == "auto" and bf16_sensible(self.device))
        self.fast = fast
        self.renderer = UgenRenderer(self.generator, self.rearranger, self.arch.proxy_resolution, bf16=bf16)
        self._live_labels: LiveLabelMapper | None = None
        self.last_proxy: np.ndarray | None = None  # (r, r) cluster ids of the latest image
        self._style_w: torch.Tensor | None = None  # (w_dim,) in place of the noise's z, if set
        self._swatches: np.ndarray | None = clusters.known_swatches
        self._depth_net: DepthEstimator | None = None  # loaded on first use (depth_estimator)
        self._lock = threading.RLock()

    @classmethod
    def from_folder(
        cls, folder: Path | str, *, device: str = "cpu", segmenter: bool = False, backend: str = "eager"
    ) -> UgenSynthesizer:
        """The ugen folder's parts and the StyleGAN2 its config.json names (``segmenter`` is
        accepted for the studio's sake: ugen has no segmenting discriminator)."""
        weights = load_weights(folder, family="ugen")
        arch: UgenConfig = weights.spec.arch
        sg_folder = stylegan2_folder(folder, arch.stylegan2)
        g = load_weights(sg_folder, family="stylegan2", parts=("generator",)).nets["generator"]
        assert isinstance(g, StyleGan2Generator)
        side, proxy = g.config.resolution, arch.proxy_resolution
        channels = g.config.channels(proxy) if proxy in g.config.resolutions else None
        if side != arch.image_resolution or channels != arch.feature_channels:
            raise WeightsError(
                f"the StyleGAN2 there makes {side}² images with {channels} channels at {proxy}²; this "
                f"ugen model was trained on one of {arch.image_resolution}² with {arch.feature_channels}",
                source=sg_folder,
                fix=f"put the StyleGAN2 weights the model was trained on at {arch.stylegan2}",
            )
        return cls(weights, g, device, backend)

    # ---- what the studio asks ---------------------------------------------------------------
    @property
    def backend_name(self) -> str:
        precision = "bf16" if self.renderer.dtype == torch.bfloat16 else "fp32"
        path = "incremental" if self.fast else "full recompute"
        return f"ugen {path}, torch {precision}" + (" (auto)" if self.backend == "auto" else "")

    @property
    def z_dim(self) -> int:
        return self.generator.config.z_dim

    @property
    def image_side(self) -> int:
        return self.arch.image_resolution

    @property
    def size_multiple(self) -> int:
        return self.arch.image_resolution

    @property
    def proxy_resolution(self) -> int:
        return self.arch.proxy_resolution

    @property
    def num_clusters(self) -> int:
        return self.arch.num_clusters

    @property
    def conditions(self) -> tuple[str, ...]:
        """The conditions this model's mappers read (a proxy mask always works)."""
        return tuple(self.mappers)

    def decision_for(self, height: int, width: int) -> None:
        return None

    def check_size(self, height: int, width: int, source: str) -> None:
        side = self.image_side
        if (height, width) != (side, side):
            raise InputError(
                f"the map is {width}×{height}; this ugen model paints {side}×{side} images "
                "(its StyleGAN2's size)",
                source=source,
                fix=f"resize or crop it to {side}×{side}",
            )

    # ---- images ---------------------------------------------------------------------------------
    @property
    def w_dim(self) -> int:
        return self.generator.config.w_dim

    @property
    def style_w(self) -> torch.Tensor | None:
        """The w set by ``set_style_w`` (a copy), or None while the noise field's z rules."""
        w = self._style_w
        return None if w is None else w.clone()

    def set_style_w(self, w: np.ndarray | torch.Tensor | None, source: str = "style w") -> None:
        """Render every following image in the style of ``w`` (w_dim,) — e.g.
        ``InvertedStyle.w`` — instead of the noise field's z; None goes back to z."""
        with self._lock:
            self._style_w = None if w is None else self._check_w(w, source)

    def _check_w(self, w: np.ndarray | torch.Tensor, source: str) -> torch.Tensor:
        t = torch.as_tensor(np.asarray(w, dtype=np.float32) if isinstance(w, np.ndarray) else w)
        if t.shape != (self.w_dim,) or not bool(torch.isfinite(t).all()):
            raise InputError(
                f"a style w must be {self.w_dim} finite numbers, got shape {tuple(t.shape)}",
                source=source,
                fix="pass the w of an inversion made with this model's StyleGAN2",
            )
        return t.detach().float().clone().to(self.device)

    def ws_of_w(self, w: torch.Tensor) -> torch.Tensor:
        """One w (w_dim,) as the per-layer ws (1, num_ws, w_dim) the synthesis reads."""
        return w.reshape(1, 1, -1).to(self.device).repeat(1, self.generator.config.num_ws, 1)

    def _style(self, noise: NoiseField, source: str) -> torch.Tensor:
        """The ws of this image: the style override's, else those of the noise field's z."""
        require_noise_fits(noise, self.image_side, self.image_side, self.z_dim, source)
        if self._style_w is not None:
            return self.ws_of_w(self._style_w)
        return self.generator.mapping(noise.global_vector().reshape(1, -1).to(self.device))

    def mapper_for(self, condition: str) -> torch.nn.Module:
        """The mapper of ``condition``, or an error that says how to train one."""
        if condition not in self.mappers:
            folder = self.weights.folder
            trained = ", ".join(self.mappers) or "none"
            raise InputError(
                f"this ugen model has no {condition} mapper (mappers trained: {trained})",
                source=str(folder),
                fix=f"train one into it (app-train fit --family ugen --condition {condition} "
                f"--init-from {folder} --rearranger-steps 0 …), or draw another condition",
            )
        return self.mappers[condition]

    @torch.no_grad()
    def generate(
        self,
        labels: np.ndarray,
        noise: NoiseField,
        source: str = "label map",
        instances: np.ndarray | None = None,
    ) -> np.ndarray:
        """H×W label ids and a noise field (its z) → H×W×3 uint8 (ugen reads no instances)."""
        h, w = labels.shape
        self.check_size(h, w, source)
        mapper = self.mapper_for("labels")
        onehot = self.encoder.onehot(labels, source=source).to(self.device)
        r = self.proxy_resolution
        with self._lock:
            ws = self._style(noise, source)
            if self.fast:
                if self._live_labels is None:
                    self._live_labels = LiveLabelMapper(mapper, (r, r))
                logits = self._live_labels(onehot)
            else:
                logits = mapper(onehot, (r, r))
            return self._render(logits.argmax(dim=1)[0], ws)

    @torch.no_grad()
    def generate_condition(
        self, condition: str, image: np.ndarray, noise: NoiseField, source: str = "condition image"
    ) -> np.ndarray:
        """An H×W one-channel condition image in 0–1 — a line image of "edges" or "sketch"
        (bool or float, 1 = line) or a "depth" map (float, 0 = near, 1 = far) — and a noise
        field → H×W×3 uint8, through that condition's ConditionMapper."""
        if condition not in IMAGE_CONDITIONS:
            raise InputError(
                f"'{condition}' is not an image condition",
                source=source,
                fix=f"use one of {IMAGE_CONDITIONS}",
            )
        mapper = self.mapper_for(condition)
        what, meaning = (
            ("a depth map", "0 = near, 1 = far") if condition == "depth" else ("a line image", "1 = line")
        )
        image = np.asarray(image)
        if image.ndim != 2:
            raise InputError(
                f"{what} must be H×W, got shape {image.shape}", source=source, fix="pass one channel"
            )
        self.check_size(*image.shape, source)
        x = torch.from_numpy(image.astype(np.float32))
        if not bool(torch.isfinite(x).all()) or float(x.min()) < 0 or float(x.max()) > 1:
            raise InputError(
                f"{what}'s values must lie in 0–1 ({meaning})", source=source, fix="scale it to 0–1"
            )
        with self._lock:
            ws = self._style(noise, source)
            logits = mapper(x[None, None].to(self.device))
            return self._render(logits.argmax(dim=1)[0], ws)

    def generate_lines(
        self, condition: str, lines: np.ndarray, noise: NoiseField, source: str = "line image"
    ) -> np.ndarray:
        """An H×W line image (bool or float in 0–1, 1 = line) of ``condition`` ("edges" or
        "sketch") and a noise field → H×W×3 uint8."""
        if condition not in LINE_CONDITIONS:
            raise InputError(
                f"'{condition}' is not a line condition", source=source, fix=f"use one of {LINE_CONDITIONS}"
            )
        return self.generate_condition(condition, lines, noise, source)

    def generate_depth(
        self, depth_map: np.ndarray, noise: NoiseField, source: str = "depth map"
    ) -> np.ndarray:
        """An H×W depth map (float in 0–1, 0 = near, 1 = far and sky; :mod:`engine.depth_image`)
        and a noise field → H×W×3 uint8."""
        return self.generate_condition("depth", depth_map, noise, source)

    def depth_estimator(self) -> DepthEstimator:
        """The depth estimator the depth mapper was trained with (config.json's ``depth_net``),
        loaded once: a photo's depth must come from it (``engine.conditions.photo_condition``).
        A model without a depth mapper, or whose estimator is not there, says what to do."""
        with self._lock:
            if self._depth_net is None:
                folder = depth_net_folder(self.weights.folder, self.arch)
                self._depth_net = DepthEstimator.load(folder, self.device)
            return self._depth_net

    def generate_edges(self, edges: np.ndarray, noise: NoiseField, source: str = "edge map") -> np.ndarray:
        return self.generate_lines("edges", edges, noise, source)

    def generate_sketch(self, sketch: np.ndarray, noise: NoiseField, source: str = "sketch") -> np.ndarray:
        return self.generate_lines("sketch", sketch, noise, source)

    @torch.no_grad()
    def generate_proxy(self, proxy: np.ndarray, noise: NoiseField, source: str = "proxy mask") -> np.ndarray:
        """An r×r proxy mask of cluster ids (e.g. ``last_proxy`` edited) and a noise field →
        the image (the paper's free-form manipulation)."""
        proxy = np.asarray(proxy)
        r, k = self.proxy_resolution, self.num_clusters
        if proxy.shape != (r, r) or proxy.dtype.kind not in "iu":
            raise InputError(
                f"a proxy mask must be a {r}×{r} integer array, got {proxy.dtype} of shape {proxy.shape}",
                source=source,
                fix="edit last_proxy, which has the right shape",
            )
        if proxy.size and (proxy.min() < 0 or proxy.max() >= k):
            raise InputError(
                f"proxy-mask ids must lie in 0–{k - 1}, got {proxy.min()}–{proxy.max()}",
                source=source,
                fix=f"use cluster ids of this model (K = {k})",
            )
        with self._lock:
            return self._render(torch.from_numpy(proxy.astype(np.int64)), self._style(noise, source))

    def _render(self, proxy: torch.Tensor, ws: torch.Tensor) -> np.ndarray:
        """The image of proxy mask (r, r) and style ws (1, num_ws, w_dim), on the fast or the
        plain path."""
        if self.fast:
            image = self.renderer.render(ws, proxy)
        else:
            g, r = self.generator, self.proxy_resolution
            features, skip = g.head(ws, r, noise_mode="const")
            out_f, out_i = self.rearranger(features, skip, proxy[None].to(self.device))
            image = g.tail(ws, out_f, out_i, r, noise_mode="const")
        self.last_proxy = proxy.cpu().numpy().astype(np.int32)
        return to_uint8_image(image)

    # ---- a w on its own (exemplar-guided generation) --------------------------------------
    @torch.no_grad()
    def image_of_w(self, w: np.ndarray | torch.Tensor, source: str = "style w") -> np.ndarray:
        """The unconditional generator's image of ``w`` (w_dim,): H×W×3 uint8, nothing rearranged."""
        ws = self.ws_of_w(self._check_w(w, source))
        return to_uint8_image(self.generator.synthesis(ws, noise_mode="const"))

    @torch.no_grad()
    def proxy_of_w(self, w: np.ndarray | torch.Tensor, source: str = "style w") -> np.ndarray:
        """The proxy mask (r, r) int32 of ``w``'s own G₁ features: the layout of its image,
        which ``generate_proxy`` renders back and a user can edit."""
        ws = self.ws_of_w(self._check_w(w, source))
        features = self.generator.features(ws, self.proxy_resolution, noise_mode="const")
        return self.clusters.proxy_mask(features)[0].cpu().numpy().astype(np.int32)

    # ---- proxy masks for people -----------------------------------------------------------
    @torch.no_grad()
    def cluster_swatches(self) -> np.ndarray:
        """(K, 3) uint8: each cluster's mean colour in the generator's own samples
        (:func:`measure_swatches`): stored in the folder, else measured once, now."""
        with self._lock:
            if self._swatches is None:
                self._swatches = measure_swatches(self.generator, self.clusters, self.proxy_resolution)
            return self._swatches

    @property
    def known_swatches(self) -> np.ndarray | None:
        """The swatches if they cost nothing (stored, or measured before), else None."""
        return self._swatches

    def proxy_image(self, proxy: np.ndarray | None = None) -> np.ndarray:
        """A proxy mask (default ``last_proxy``) as an image-size H×W×3 uint8 picture, one
        fixed colour per cluster (``cluster_palette``)."""
        proxy = self.last_proxy if proxy is None else np.asarray(proxy)
        if proxy is None:
            raise InputError("no image was made yet, so there is no proxy mask", fix="generate first")
        scale = self.image_side // self.proxy_resolution
        return cluster_palette(self.num_clusters)[proxy].repeat(scale, axis=0).repeat(scale, axis=1)

    # ---- what ugen does not do ---------------------------------------------------------------
    def style_of(
        self, labels: np.ndarray, instances: np.ndarray | None, noise: NoiseField, mask: np.ndarray
    ) -> torch.Tensor:
        """The style for "copy style": ugen's is global, so the scene's z."""
        return noise.global_vector().clone()

    def encode_photo(self, photo: np.ndarray) -> torch.Tensor:
        raise InputError(
            "ugen has no style encoder: a photo's style comes from GAN inversion, which takes a while",
            source=str(self.weights.folder),
            fix="invert it (engine.inference.ugen_invert.invert_photo, or app-train generate "
            "--style-photo) and set the result's w with set_style_w",
        )

    def segment(self, image: np.ndarray, work_size: int | None = None) -> np.ndarray:
        raise InputError(
            "ugen models cannot turn a photo into a label map",
            source=str(self.weights.folder),
            fix="open the photo with an OASIS model (its discriminator segments), then switch back",
        )
