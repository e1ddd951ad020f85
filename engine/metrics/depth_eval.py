"""Evaluate a depth estimator against a dataset's depth maps: the two standard measures of
monocular depth (Eigen et al. 2014), abs-rel and δ < 1.25, and the plain mean error.

The maps hold the landscapes renderer's depth d = 1 − z^(−0.8) of the ground distance z
(z = 1 at the bottom row; :data:`engine.data.landscapes.canvas.DEPTH_EXP`), so abs-rel and
δ are measured on z recovered from d, on pixels nearer than ``FAR_CAP`` — the horizon and
the sky have no finite distance (as KITTI's evaluations stop at 80 m). Predictions are
capped there too, so a pixel predicted as sky counts as the farthest distance measured.
The mean absolute error of d itself covers every pixel, the sky included.

- abs-rel: mean |z_pred − z| / z (lower is better);
- δ < 1.25: share of pixels with max(z_pred / z, z / z_pred) < 1.25 (higher is better);
- MAE: mean |d_pred − d| over all pixels (lower is better).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine.data import EvalTransform, open_dataset
from engine.data.landscapes.canvas import DEPTH_EXP
from engine.errors import DatasetError
from engine.inference.depth_estimator import DepthEstimator
from engine.paths import portable

FAR_CAP = 0.99  # d of the farthest pixels measured: z ≈ 316 bottom-row distances


def distance(depth: np.ndarray) -> np.ndarray:
    """The renderer's d ∈ [0, FAR_CAP] → ground distance z ≥ 1 (inverse of 1 − z^(−DEPTH_EXP))."""
    return (1.0 - np.minimum(depth, FAR_CAP)) ** (-1.0 / DEPTH_EXP)


class DepthErrors:
    """Running sums of the measures over images."""

    def __init__(self) -> None:
        self.abs_rel = self.within = self.measured = 0.0
        self.abs_err = self.pixels = 0.0

    def add(self, pred: np.ndarray, true: np.ndarray) -> None:
        near = true < FAR_CAP
        z_true, z_pred = distance(true[near]), distance(pred[near])
        self.abs_rel += float((np.abs(z_pred - z_true) / z_true).sum())
        self.within += float((np.maximum(z_pred / z_true, z_true / z_pred) < 1.25).sum())
        self.measured += int(near.sum())
        self.abs_err += float(np.abs(pred - true).sum())
        self.pixels += true.size

    def report(self) -> dict[str, float | None]:
        n = self.measured
        return {
            "abs_rel": round(self.abs_rel / n, 4) if n else None,
            "delta_1_25": round(self.within / n, 4) if n else None,
            "mae": round(self.abs_err / self.pixels, 4) if self.pixels else None,
            "near_share": round(n / self.pixels, 4) if self.pixels else None,
        }


def evaluate_depth(
    weights: Path | str,
    data: str,
    *,
    split: str = "test",
    limit: int | None = None,
    size: tuple[int, int] | None = None,
    out: Path | str | None = None,
) -> dict:
    """Measure the estimator of ``weights`` on ``split`` of ``data`` (at the data's size, or
    resized to ``size``); writes depth_eval.json into ``out`` if given."""
    estimator = DepthEstimator.load(weights)
    dataset = open_dataset(data, split=split)
    count = len(dataset) if limit is None else min(limit, len(dataset))
    errors = DepthErrors()
    for i in range(count):
        sample = dataset[i] if size is None else EvalTransform(size)(dataset[i])
        if sample.depth is None:
            raise DatasetError(
                "the data has no depth maps to measure against (no depth/ folder)",
                source=data,
                fix="render it with app-train data landscapes, which writes depth/",
            )
        errors.add(estimator.of_rgb(sample.image), sample.depth)
    report = {
        "weights": portable(str(weights)),
        "data": portable(data),
        "split": split,
        "images": count,
        "far_cap": FAR_CAP,
        **errors.report(),
    }
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "depth_eval.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def depth_markdown(report: dict) -> str:
    """The report as the card's table."""
    z_cap = float(distance(np.array(FAR_CAP)))
    return "\n".join(
        [
            f"Depth on `{report['data']}` ({report['split']}, {report['images']} images). abs-rel and δ "
            f"on the ground distance z recovered from the maps, over pixels nearer than d = {FAR_CAP} "
            f"(z ≈ {z_cap:.0f} bottom-row distances; {report['near_share']:.0%} of the pixels); MAE on "
            "the stored depth d ∈ [0, 1] over all pixels, the sky included:",
            "",
            "| measure | value | better |",
            "|---|---:|:-:|",
            f"| abs-rel | {report['abs_rel']} | ↓ |",
            f"| δ < 1.25 | {report['delta_1_25']} | ↑ |",
            f"| MAE of d | {report['mae']} | ↓ |",
        ]
    )
