"""ugen proxy masks (engine/networks/proxy.py): our K-means and the global clusters."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.networks.proxy import ProxyClusters, fit_proxy_clusters, kmeans, sample_features
from engine.networks.stylegan2 import StyleGan2Config, StyleGan2Generator


def _blobs(metric: str, k: int = 5, per: int = 200, dim: int = 8, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Points around k well-separated centres (unit directions for cosine), their labels."""
    gen = torch.Generator().manual_seed(seed)
    centres = torch.nn.functional.normalize(torch.randn(k, dim, generator=gen), dim=1)
    if metric == "l2":
        centres = centres * 10
    labels = torch.arange(k).repeat_interleave(per)
    points = centres[labels] + 0.05 * torch.randn(k * per, dim, generator=gen)
    if metric == "cosine":  # magnitudes must not matter to cosine clustering
        points = points * torch.empty(k * per, 1).uniform_(0.2, 5.0, generator=gen)
    return points, labels, centres


def _match(found: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """For every true centre, the distance to its nearest found centroid."""
    return torch.cdist(true, found).min(dim=1).values


@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_kmeans_recovers_the_centres_of_clustered_data(metric: str) -> None:
    points, labels, centres = _blobs(metric)
    found = kmeans(points, 5, metric=metric, seed=3)
    tolerance = 0.05 if metric == "cosine" else 0.1
    assert _match(found, centres).max() < tolerance
    # Every true cluster maps to exactly one found cluster.
    clusters = ProxyClusters(5, points.shape[1], metric=metric)
    clusters.centroids.copy_(found)
    assigned = clusters.proxy_mask(points.T[None, :, :, None])[0, :, 0]
    for k in range(5):
        assert assigned[labels == k].unique().numel() == 1
    assert assigned.unique().numel() == 5


def test_kmeans_is_seeded_and_kmeans_plus_plus_separates_the_seeds() -> None:
    points, _, centres = _blobs("l2", k=8, per=50, seed=1)
    a = kmeans(points, 8, metric="l2", seed=7)
    b = kmeans(points, 8, metric="l2", seed=7)
    assert torch.equal(a, b)
    # One Lloyd iteration from k-means++ seeds already covers every blob (random seeds
    # would often leave two in one blob at this k).
    assert _match(kmeans(points, 8, metric="l2", seed=11, iterations=1), centres).max() < 1.0


def test_kmeans_refuses_too_few_points() -> None:
    with pytest.raises(ValueError, match="N ≥ k"):
        kmeans(torch.randn(3, 4), 5)
    with pytest.raises(ValueError, match="metric"):
        ProxyClusters(3, 4, metric="manhattan")


@pytest.fixture(scope="module")
def fitted() -> tuple[StyleGan2Generator, ProxyClusters]:
    torch.manual_seed(0)
    g = StyleGan2Generator(StyleGan2Config.small(32).generator).eval()
    return g, fit_proxy_clusters(g, num_clusters=6, num_samples=24, resolution=16, pixels_per_sample=64)


def test_proxy_masks_are_consistent_per_sample_and_equivariant_under_batch_permutation(
    fitted: tuple[StyleGan2Generator, ProxyClusters],
) -> None:
    g, clusters = fitted
    feats = sample_features(g, 6, resolution=16, seed=5)
    masks = clusters.proxy_mask(feats)
    assert masks.shape == (6, 16, 16) and masks.dtype == torch.long
    assert 0 <= int(masks.min()) and int(masks.max()) < 6
    assert masks.unique().numel() > 1  # the clusters split the pixels, not one label everywhere
    # The same sample alone, or in another batch order, gets the same mask.
    assert torch.equal(clusters.proxy_mask(feats[2:3])[0], masks[2])
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    assert torch.equal(clusters.proxy_mask(feats[perm]), masks[perm])
    # A horizontally flipped feature map gets the flipped mask (pixelwise assignment).
    assert torch.equal(clusters.proxy_mask(feats.flip(-1)), masks.flip(-1))
    # Cosine clusters ignore a per-pixel scale of the features.
    assert torch.equal(clusters.proxy_mask(feats * 3.0), masks)


def test_logits_argmax_is_the_mask_and_cross_entropy_prefers_the_own_mask(
    fitted: tuple[StyleGan2Generator, ProxyClusters],
) -> None:
    g, clusters = fitted
    feats = sample_features(g, 2, resolution=16, seed=9)
    masks = clusters.proxy_mask(feats)
    logits = clusters.logits(feats)
    assert logits.shape == (2, 6, 16, 16)
    assert torch.equal(logits.argmax(dim=1), masks)
    ce = torch.nn.functional.cross_entropy
    assert ce(logits, masks) < ce(logits, masks.roll(1, dims=0))


def test_global_centroids_are_fitted_reproducibly_and_round_trip_through_safetensors(
    fitted: tuple[StyleGan2Generator, ProxyClusters], tmp_path: Path
) -> None:
    g, clusters = fitted
    again = fit_proxy_clusters(g, num_clusters=6, num_samples=24, resolution=16, pixels_per_sample=64)
    assert torch.equal(again.centroids, clusters.centroids)
    other = fit_proxy_clusters(g, num_clusters=6, num_samples=24, resolution=16, pixels_per_sample=64, seed=1)
    assert not torch.equal(other.centroids, clusters.centroids)
    path = tmp_path / "proxy.safetensors"
    clusters.save(path)
    loaded = ProxyClusters.load(path)
    assert loaded.metric == "cosine" and torch.equal(loaded.centroids, clusters.centroids)
    # The state dict carries the centroids too (a buffer), for the model's own weights file,
    # and the swatches: "not measured" (−1) until measure_swatches fills them.
    assert set(clusters.state_dict()) == {"centroids", "swatches"}
    assert clusters.known_swatches is None and loaded.known_swatches is None
