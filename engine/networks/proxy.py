"""Proxy masks for ugen (Chae, Cho, Go, Choi, Uh, "Semantic Image Synthesis with
Unconditional Generator", NeurIPS 2023; supplement A.2).

A frozen unconditional generator's intermediate feature maps (64² for 256² images, 32² for
128²) are clustered with K-means (K = 25, the supplement's choice) over the pixels of many
samples (256 in the supplement). The centroids are *global*: cluster k names the same part
(sky, a tree crown, a shore line …) in every sample, so the nearest-centroid map of any
sample — its proxy mask — is a free, consistent per-pixel annotation, and the rearranger's
mask loss can score features of one sample against the clusters of another.

Metric: cosine by default (spherical K-means: each pixel's feature vector is normalised to
unit length and centroids are normalised means). The supplement cites Collins et al.
("Editing in Style", CVPR 2020) for the clustering, which clusters StyleGAN activations by
direction as far as we know (not checked against their text here). Direction also suits the
generator: modulation scales a sample's features per channel with its style, so magnitudes
carry style as much as part. ``metric="l2"`` is plain K-means for comparison.

The K-means is ours, in torch: k-means++ seeding from a seeded ``torch.Generator``, Lloyd
iterations in chunks (so 256 × 64² pixels fit in memory), empty clusters re-seeded with the
worst-fitted point. Centroids are a buffer, so they travel in the model's safetensors file.

Each cluster's *swatch* (the mean colour the generator paints under it, what the studio's
proxy palette shows) is a buffer too, filled when the clusters are fitted: the generator is
frozen, so the colours never change, and a model opens without a few generator passes to
draw them. Folders written before the swatches were stored hold none (all −1) and the
synthesizer draws them when they are first asked for.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

METRICS = ("cosine", "l2")
CHUNK = 65536  # points per distance block: bounds memory at CHUNK × K floats


def _prepare(x: torch.Tensor, metric: str) -> torch.Tensor:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    x = x.float()
    return F.normalize(x, dim=-1) if metric == "cosine" else x


def _cost(x: torch.Tensor, centroids: torch.Tensor, metric: str) -> torch.Tensor:
    """(N, K) dissimilarity: 1 − cos for cosine (x, centroids unit length), ‖x − μ‖² for l2."""
    if metric == "cosine":
        return 1 - x @ centroids.T
    return (x.square().sum(1, keepdim=True) - 2 * x @ centroids.T + centroids.square().sum(1)).clamp_min(0)


def _nearest(x: torch.Tensor, centroids: torch.Tensor, metric: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of the nearest centroid and its cost for every row of ``x``, in chunks."""
    labels, costs = [], []
    for part in x.split(CHUNK):
        cost, label = _cost(part, centroids, metric).min(dim=1)
        labels.append(label)
        costs.append(cost)
    return torch.cat(labels), torch.cat(costs)


def kmeans(
    points: torch.Tensor,
    k: int,
    *,
    metric: str = "cosine",
    iterations: int = 50,
    seed: int = 0,
    tolerance: float = 1e-6,  # stop when the mean cost improves by less than this (relative)
) -> torch.Tensor:
    """Centroids (k, D) of ``points`` (N, D); the same points and seed give the same result."""
    if points.ndim != 2 or points.shape[0] < k or k < 1:
        raise ValueError(f"kmeans needs (N, D) points with N ≥ k ≥ 1; got {tuple(points.shape)}, k={k}")
    x = _prepare(points, metric)
    gen = torch.Generator().manual_seed(seed)

    # Greedy k-means++: candidates for each new seed are drawn with probability ∝ their
    # cost to the seeds so far (both costs are squared distances: 1 − cos = ‖a − b‖²/2 on
    # unit vectors), and the one that lowers the total cost most is kept. Plain k-means++
    # (one candidate) now and then puts two seeds in one cluster, which Lloyd never undoes.
    trials = 2 + int(math.log(k))
    first = int(torch.randint(x.shape[0], (), generator=gen))
    centroids = x[first : first + 1]
    nearest = _cost(x, centroids, metric)[:, 0]
    for _ in range(1, k):
        weights = nearest.clamp_min(0).cpu().double()
        if weights.sum() <= 0:  # fewer distinct points than k: any point will do
            picks = torch.zeros(1, dtype=torch.long)
        else:
            picks = torch.multinomial(weights, trials, replacement=True, generator=gen)
        options = torch.minimum(nearest[None], _cost(x, x[picks.to(x.device)], metric).T)  # (trials, N)
        best = int(options.sum(dim=1).argmin())
        centroids = torch.cat((centroids, x[picks[best] : picks[best] + 1]))
        nearest = options[best]

    previous = float("inf")
    for _ in range(iterations):
        labels, costs = _nearest(x, centroids, metric)
        sums = torch.zeros_like(centroids).index_add_(0, labels, x)
        counts = torch.bincount(labels, minlength=k)
        empty = counts == 0
        new = sums / counts.clamp_min(1)[:, None]
        if empty.any():
            # An empty cluster takes the points that fit their own cluster worst.
            worst = costs.topk(int(empty.sum())).indices
            new[empty] = x[worst]
        centroids = F.normalize(new, dim=1) if metric == "cosine" else new
        mean = float(costs.mean())
        if previous - mean <= tolerance * max(abs(previous), 1e-12):
            break
        previous = mean
    return centroids


def cluster_palette(num_clusters: int) -> np.ndarray:
    """(K, 3) uint8: one fixed colour per cluster for pictures of proxy masks (the sample
    grids of training and the studio's and ``app-train generate``'s proxy images agree)."""
    return np.random.default_rng(0).integers(0, 256, (num_clusters, 3), dtype=np.uint8)


class ProxyClusters(nn.Module):
    """Global K-means centroids of the generator's features and what to do with them."""

    OPTIONAL_STATE = ("swatches",)  # absent from folders written before they were stored

    def __init__(self, num_clusters: int, channels: int, *, metric: str = "cosine") -> None:
        super().__init__()
        _prepare(torch.zeros(1, 1), metric)  # validates the metric name
        self.metric = metric
        self.register_buffer("centroids", torch.zeros(num_clusters, channels))
        # (K, 3) mean colours in [0, 255]; −1 = not measured (see the module doc).
        self.register_buffer("swatches", torch.full((num_clusters, 3), -1.0))

    def _load_from_state_dict(
        self, state_dict: dict[str, torch.Tensor], prefix: str, *args: object, **kwargs: object
    ) -> None:
        # Files from before the swatches were stored load as "not measured".
        state_dict.setdefault(prefix + "swatches", torch.full_like(self.swatches, -1.0))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @property
    def known_swatches(self) -> np.ndarray | None:
        """(K, 3) uint8 swatch colours, or None when this file holds none."""
        if bool((self.swatches < 0).any()):
            return None
        return self.swatches.round().clamp(0, 255).to(torch.uint8).cpu().numpy()

    @property
    def num_clusters(self) -> int:
        return self.centroids.shape[0]

    def _pixels(self, features: torch.Tensor) -> torch.Tensor:
        if features.ndim != 4 or features.shape[1] != self.centroids.shape[1]:
            raise ValueError(
                f"expected features (B, {self.centroids.shape[1]}, H, W), got {tuple(features.shape)}"
            )
        return _prepare(features.permute(0, 2, 3, 1).reshape(-1, features.shape[1]), self.metric)

    def proxy_mask(self, features: torch.Tensor) -> torch.Tensor:
        """Features (B, C, H, W) → proxy mask (B, H, W) long: the nearest centroid per pixel."""
        b, _, h, w = features.shape
        labels, _ = _nearest(self._pixels(features), self.centroids.float(), self.metric)
        return labels.reshape(b, h, w)

    def logits(self, features: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
        """(B, K, H, W) scores for cross-entropy against a proxy mask: −cost / temperature
        (cosine: (cos − 1)/τ; l2: −‖f − μ‖²/τ). The argmax is ``proxy_mask``; the gradient
        pulls each pixel's features towards its target centroid and away from the others."""
        b, _, h, w = features.shape
        cost = _cost(self._pixels(features), self.centroids.float(), self.metric)
        return (-cost / temperature).reshape(b, h, w, -1).permute(0, 3, 1, 2)

    def save(self, path: Path | str) -> None:
        from safetensors.torch import save_file

        tensors = {
            name: t.contiguous().cpu()
            for name, t in (("centroids", self.centroids), ("swatches", self.swatches))
        }
        save_file(tensors, str(path), metadata={"metric": self.metric})

    @classmethod
    def load(cls, path: Path | str) -> ProxyClusters:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            metric = (f.metadata() or {}).get("metric", "cosine")
            centroids = f.get_tensor("centroids")
            swatches = f.get_tensor("swatches") if "swatches" in f.keys() else None
        clusters = cls(centroids.shape[0], centroids.shape[1], metric=metric)
        clusters.centroids.copy_(centroids)
        if swatches is not None:
            clusters.swatches.copy_(swatches)
        return clusters


SWATCH_SAMPLES = 8  # seeded samples whose pixels are averaged per cluster for the swatches


@torch.no_grad()
def measure_swatches(
    generator: nn.Module,  # a StyleGan2Generator (.mapping, .head, .tail)
    clusters: ProxyClusters,
    resolution: int,
    samples: int = SWATCH_SAMPLES,
) -> np.ndarray:
    """(K, 3) uint8: each cluster's mean colour over the pixels of ``samples`` seeded images
    under it (constant noise); grey for a cluster no sample uses. Also kept in
    ``clusters.swatches`` so that the model's file carries them."""
    k = clusters.num_clusters
    device = clusters.centroids.device
    z = torch.randn(samples, generator.config.z_dim, generator=torch.Generator().manual_seed(0))
    sums = torch.zeros(k, 3)
    counts = torch.zeros(k)
    for part in z.split(4):
        ws = generator.mapping(part.to(device))
        features, skip = generator.head(ws, resolution, noise_mode="const")
        masks = clusters.proxy_mask(features.float()).flatten().cpu()
        images = generator.tail(ws, features, skip, resolution, noise_mode="const").float()
        cell = images.shape[-1] // resolution
        small = F.avg_pool2d(images, cell).permute(0, 2, 3, 1).reshape(-1, 3).cpu()
        sums.index_add_(0, masks, small)
        counts += torch.bincount(masks, minlength=k).float()
    mean = torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], torch.zeros(3))
    colours = ((mean + 1) * 127.5).round().clamp(0, 255)
    clusters.swatches.copy_(colours.to(device))
    return colours.to(torch.uint8).numpy()


@torch.no_grad()
def sample_features(
    generator: nn.Module,  # a StyleGan2Generator (anything with .mapping, .features, .config.z_dim)
    num_samples: int,
    *,
    resolution: int = 64,
    seed: int = 0,
    batch_size: int = 16,
    truncation_psi: float = 1.0,
) -> torch.Tensor:
    """Feature maps (N, C, r, r) of ``num_samples`` seeded samples (constant noise images)."""
    gen = torch.Generator().manual_seed(seed)
    device = generator.mapping.w_avg.device
    z = torch.randn(num_samples, generator.config.z_dim, generator=gen)
    out = []
    for part in z.split(batch_size):
        ws = generator.mapping(part.to(device), truncation_psi=truncation_psi)
        out.append(generator.features(ws, resolution, noise_mode="const").float().cpu())
    return torch.cat(out)


@torch.no_grad()
def fit_proxy_clusters(
    generator: nn.Module,
    *,
    num_clusters: int = 25,  # K (supplement B.2)
    num_samples: int = 256,  # samples clustered (supplement A.2)
    resolution: int = 64,  # feature resolution: 64 for 256² models, 32 for 128²
    pixels_per_sample: int | None = 1024,  # random pixels kept per sample (None: all)
    metric: str = "cosine",
    seed: int = 0,
    iterations: int = 50,
) -> ProxyClusters:
    """Global centroids from the features of ``num_samples`` seeded samples.

    Keeping a random subset of each sample's pixels (1024 of 64² by default) bounds the
    memory (256 × 4096 × 512 floats would be 2 GB) while every sample still contributes.
    """
    feats = sample_features(generator, num_samples, resolution=resolution, seed=seed)
    n, c = feats.shape[:2]
    pixels = feats.permute(0, 2, 3, 1).reshape(n, -1, c)
    if pixels_per_sample is not None and pixels_per_sample < pixels.shape[1]:
        gen = torch.Generator().manual_seed(seed + 1)
        keep = torch.stack(
            [torch.randperm(pixels.shape[1], generator=gen)[:pixels_per_sample] for _ in range(n)]
        )
        pixels = torch.gather(pixels, 1, keep[..., None].expand(-1, -1, c))
    centroids = kmeans(pixels.reshape(-1, c), num_clusters, metric=metric, iterations=iterations, seed=seed)
    clusters = ProxyClusters(num_clusters, c, metric=metric)
    clusters.centroids.copy_(centroids)
    return clusters.to(generator.mapping.w_avg.device)
