"""Per-class colour: how far a generated image's materials are from any real look.

For every class of the map the mean colour in CIELAB (L in 0..100); the distance of two
images of the same map is the area-weighted mean ΔE*ab (CIE76, Euclidean in Lab) between
their per-class means, over the classes covering at least ``MIN_AREA`` of the image.
Against a set of references — the renderer's images of the map in every style — the
distance is that to the nearest one: a sunset-coloured sample is right if the renderer
has a sunset that looks like it, wrong if no style has grey water.
"""

from __future__ import annotations

import cv2
import numpy as np

MIN_AREA = 0.005  # classes below half a percent of the image are noise in a mean


def to_lab(image: np.ndarray) -> np.ndarray:
    """H×W×3 uint8 sRGB → float32 CIELAB (L 0..100, a/b about −128..127)."""
    return cv2.cvtColor(np.asarray(image, np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def class_means(image: np.ndarray, labels: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(num_classes×3 mean Lab colours, num_classes area shares); absent classes have area 0."""
    if image.shape[:2] != labels.shape:
        raise ValueError(f"image {image.shape[:2]} and labels {labels.shape} differ in size")
    lab = to_lab(image).reshape(-1, 3).astype(np.float64)
    flat = np.asarray(labels, np.int64).ravel()
    counts = np.bincount(flat, minlength=num_classes)[:num_classes].astype(np.float64)
    sums = np.stack(
        [np.bincount(flat, weights=lab[:, c], minlength=num_classes)[:num_classes] for c in range(3)], 1
    )
    means = sums / np.maximum(counts, 1)[:, None]
    return means, counts / max(flat.size, 1)


class ColourReferences:
    """The per-class mean colours of reference images of one label map, computed once, so
    many images (a model's sample, the real image, several seeds) are measured against
    them without decoding the references' colours again each time."""

    def __init__(self, references: list[np.ndarray], labels: np.ndarray, num_classes: int) -> None:
        if not references:
            raise ValueError("no reference images")
        self.labels, self.num_classes = labels, num_classes
        per_reference = [class_means(ref, labels, num_classes) for ref in references]
        self.means = np.stack([means for means, _ in per_reference])  # R × num_classes × 3
        area = per_reference[0][1]
        keep = area >= MIN_AREA
        self.keep = keep if keep.any() else area > 0
        self.weights = area[self.keep]

    def distances(self, image: np.ndarray) -> np.ndarray:
        """Area-weighted mean ΔE*ab of ``image`` to each reference (R values)."""
        means, _ = class_means(image, self.labels, self.num_classes)
        per_class = np.linalg.norm(self.means[:, self.keep] - means[self.keep], axis=2)
        return (per_class * self.weights).sum(axis=1) / self.weights.sum()

    def nearest(self, image: np.ndarray) -> float:
        """ΔE to the nearest reference."""
        return float(self.distances(image).min())


def delta_e(image: np.ndarray, reference: np.ndarray, labels: np.ndarray, num_classes: int) -> float:
    """Area-weighted mean ΔE*ab between the per-class mean colours of two images of ``labels``."""
    return ColourReferences([reference], labels, num_classes).nearest(image)


def nearest_delta_e(
    image: np.ndarray, references: list[np.ndarray], labels: np.ndarray, num_classes: int
) -> float:
    """ΔE to the nearest reference (e.g. the renderer's image of the map in each style)."""
    return ColourReferences(references, labels, num_classes).nearest(image)
