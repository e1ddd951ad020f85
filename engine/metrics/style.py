"""How well an output took an exemplar's style (MSCA supplement, Table 1).

The paper measures style transfer by a Gram-matrix style loss on VGG features and by the
average nearest-neighbour distance from each output location to the exemplar, in pixel
space and in VGG conv1 space. VGG weights cannot be downloaded here: with a local VGG-19
file the feature measures use it (relu1_1, relu2_1), as the paper does; without one they
use our own segmenter's first two levels. The pixel measure needs no network.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from engine.networks.segmenter import Segmenter
from engine.networks.vgg import Vgg19Features


def _pixels(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image.astype(np.float32) / 255.0).permute(2, 0, 1)[None]


def nn_pixel_distance(output: np.ndarray, exemplar: np.ndarray, samples: int = 4096) -> float:
    """Mean over output locations of the squared distance (RGB in [0, 1]) to the nearest
    exemplar location; at most ``samples`` locations each side (evenly strided)."""
    a = _pixels(output)[0].flatten(1).T  # (P, 3)
    b = _pixels(exemplar)[0].flatten(1).T
    a = a[:: max(1, len(a) // samples)]
    b = b[:: max(1, len(b) // samples)]
    return float(torch.cdist(a, b).pow(2).min(dim=1).values.mean() / 3)


def _features(net: Segmenter | Vgg19Features, image: np.ndarray) -> list[torch.Tensor]:
    """VGG's relu1_1 … relu5_1, or the segmenter's encoder features at every level."""
    x = _pixels(image) * 2 - 1
    if isinstance(net, Vgg19Features):
        return net(x)
    m = net.config.size_multiple
    h, w = x.shape[-2:]
    x = F.interpolate(x, size=(max(m, h // m * m), max(m, w // m * m)), mode="bilinear", align_corners=False)
    return net.encoder_levels(x)


def _gram(f: torch.Tensor) -> torch.Tensor:
    b, c, h, w = f.shape
    flat = f.reshape(b, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


@torch.no_grad()
def style_distances(
    net: Segmenter | Vgg19Features, output: np.ndarray, exemplar: np.ndarray
) -> dict[str, float]:
    """Gram style loss on the first two feature levels, NN distance on the first, NN in pixels."""
    fo, fe = _features(net, output), _features(net, exemplar)
    gram = sum(float((_gram(a) - _gram(b)).pow(2).mean()) for a, b in zip(fo[:2], fe[:2]))
    a = fo[0][0].flatten(1).T
    b = fe[0][0].flatten(1).T
    a, b = a[:: max(1, len(a) // 4096)], b[:: max(1, len(b) // 4096)]
    nn_feat = float(torch.cdist(a, b).pow(2).min(dim=1).values.mean() / a.shape[1])
    return {"style_gram": gram, "nn_feature": nn_feat, "nn_pixel": nn_pixel_distance(output, exemplar)}


def class_colour_distance(
    output: np.ndarray,
    target_labels: np.ndarray,
    exemplar: np.ndarray,
    exemplar_labels: np.ndarray,
    min_fraction: float = 0.01,
) -> float | None:
    """Mean over the classes both maps show (each on at least ``min_fraction`` of its image)
    of the RGB distance (in [0, 1]) between the class's mean colour in the output and in
    the exemplar: did the sky take the exemplar's sky colour, the trees its trees'?
    ``None`` when the two share no class."""
    distances = []
    for c in np.intersect1d(np.unique(target_labels), np.unique(exemplar_labels)):
        mine, theirs = target_labels == c, exemplar_labels == c
        if mine.mean() < min_fraction or theirs.mean() < min_fraction:
            continue
        a = output[mine].astype(np.float64).mean(0) / 255
        b = exemplar[theirs].astype(np.float64).mean(0) / 255
        distances.append(float(np.linalg.norm(a - b) / np.sqrt(3)))
    return float(np.mean(distances)) if distances else None
