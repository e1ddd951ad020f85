"""Distances between sets of images: Fréchet distance of features, colour and texture.

Colour: the earth mover's distance between LAB histograms of all real and all generated
pixels (per channel, where EMD is the L1 distance between the cumulative histograms),
averaged over L, a, b. Texture: the χ² distance between histograms of 8-neighbour local
binary patterns of the grey image. Both follow the OASIS paper's description (Sec. 3).
"""

from __future__ import annotations

import cv2
import numpy as np

LAB_BINS = 64


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature sets a (N×D) and b (M×D).

    tr((Σa Σb)^½) is taken as Σ √λ of Σa^½ Σb Σa^½, which is symmetric, so only
    symmetric eigendecompositions are needed (no scipy, no complex parts). With fewer
    samples than dimensions (small FID runs: a handful of images, 2048-d) the same trace
    comes from an N×M matrix instead of two D×D decompositions.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    if min(len(a), len(b)) < a.shape[1]:
        trace_a, trace_b, trace_sqrt = _traces_from_samples(a - mu_a, b - mu_b)
    else:
        trace_a, trace_b, trace_sqrt = _traces_from_covariances(a, b)
    return float(((mu_a - mu_b) ** 2).sum() + trace_a + trace_b - 2 * trace_sqrt)


def _traces_from_covariances(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """tr Σa, tr Σb and tr((Σa Σb)^½) via D×D eigendecompositions."""
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(cov_a)
    sqrt_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = np.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a)
    return float(np.trace(cov_a)), float(np.trace(cov_b)), float(np.sqrt(np.clip(middle, 0, None)).sum())


def _traces_from_samples(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """The same traces from centred samples a (N×D), b (M×D), without forming Σa, Σb.

    Σa = AᵀA/(N-1) and Σb = BᵀB/(M-1), so the non-zero eigenvalues of Σa Σb are those of
    (ABᵀ)(ABᵀ)ᵀ/((N-1)(M-1)): tr((Σa Σb)^½) is the sum of the singular values of ABᵀ
    divided by √((N-1)(M-1)).
    """
    n, m = len(a) - 1, len(b) - 1
    singular = np.linalg.svd(a @ b.T, compute_uv=False)
    return float((a**2).sum() / n), float((b**2).sum() / m), float(singular.sum() / np.sqrt(n * m))


def lbp_codes(grey: np.ndarray) -> np.ndarray:
    """8-neighbour LBP code (0..255) of every interior pixel of a uint8 grey image."""
    g = grey.astype(np.int16)
    centre = g[1:-1, 1:-1]
    code = np.zeros(centre.shape, np.uint8)
    offsets = [(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]
    h, w = g.shape
    for bit, (dy, dx) in enumerate(offsets):
        neighbour = g[1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx]
        code |= (neighbour >= centre).astype(np.uint8) << bit
    return code


class ColourTextureStats:
    """Accumulates LAB and LBP histograms of a set of RGB uint8 images."""

    def __init__(self) -> None:
        self.lab = np.zeros((3, LAB_BINS), np.float64)
        self.lbp = np.zeros(256, np.float64)

    def add(self, rgb: np.ndarray) -> None:
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)  # uint8: all three channels in 0..255
        for c in range(3):
            self.lab[c] += np.bincount(lab[..., c].ravel() // (256 // LAB_BINS), minlength=LAB_BINS)
        self.lbp += np.bincount(lbp_codes(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)).ravel(), minlength=256)

    def colour_emd(self, other: ColourTextureStats) -> float:
        """Mean over L, a, b of the 1-D EMD, in bins (0 = identical distributions)."""
        p = self.lab / self.lab.sum(1, keepdims=True)
        q = other.lab / other.lab.sum(1, keepdims=True)
        return float(np.abs(np.cumsum(p - q, axis=1)).sum(1).mean())

    def texture_chi2(self, other: ColourTextureStats) -> float:
        p, q = self.lbp / self.lbp.sum(), other.lbp / other.lbp.sum()
        denom = p + q
        return float(0.5 * np.sum(np.where(denom > 0, (p - q) ** 2 / np.where(denom > 0, denom, 1), 0)))
