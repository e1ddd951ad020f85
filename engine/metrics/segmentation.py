"""mIoU from an accumulated confusion matrix, as segmentation benchmarks compute it."""

from __future__ import annotations

import numpy as np


class ConfusionMatrix:
    def __init__(self, num_classes: int, ignore: int | None = None) -> None:
        self.num_classes = num_classes
        self.ignore = ignore
        self.matrix = np.zeros((num_classes, num_classes), np.int64)

    def update(self, target: np.ndarray, pred: np.ndarray) -> None:
        """Channel indices of the same shape; pixels whose target is ``ignore`` are skipped."""
        t, p = target.ravel().astype(np.int64), pred.ravel().astype(np.int64)
        keep = t != self.ignore if self.ignore is not None else np.ones_like(t, bool)
        n = self.num_classes
        self.matrix += np.bincount(t[keep] * n + p[keep], minlength=n * n).reshape(n, n)

    def iou(self) -> np.ndarray:
        """Per-class IoU; NaN for classes absent from both target and prediction."""
        tp = np.diag(self.matrix).astype(np.float64)
        union = self.matrix.sum(0) + self.matrix.sum(1) - tp
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(union > 0, tp / union, np.nan)

    def miou(self) -> float:
        """Mean over classes that occur in the targets (the usual convention)."""
        present = self.matrix.sum(1) > 0
        if self.ignore is not None:
            present[self.ignore] = False
        return float(np.nanmean(self.iou()[present])) if present.any() else float("nan")

    def pixel_accuracy(self) -> float:
        total = self.matrix.sum()
        return float(np.trace(self.matrix) / total) if total else float("nan")
