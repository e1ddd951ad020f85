"""What ``app-train eval --condition`` draws from: a test sample → the images the model paints.

A label-map generator draws from the sample's label map, the only condition every family
reads. A ugen model also draws from HED edges, a sketch or a depth map through its other
semantic mappers (:meth:`UgenSynthesizer.generate_condition`); to measure those, each test
sample's condition is taken from its *real* image — by the extractor the mapper was trained
with (:func:`engine.conditions.photo_condition`) — or, for depth, from the dataset's own
depth map when it has one (the renderer's exact depth; else the model's depth estimator sees
the real image). Everything else stays the label path's: the same noise seeds, and the
same real images and label maps to compare with, so mIoU against the test label map says
whether an image drawn from edges still has the right things in the right places.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, Protocol

import numpy as np

from engine.checkpoints import read_spec
from engine.conditions import photo_condition
from engine.data import Sample
from engine.errors import InputError
from engine.inference.ugen_synth import UgenSynthesizer
from engine.networks.ugen import IMAGE_CONDITIONS
from engine.noise import NoiseField

LABELS = "labels"
EVAL_CONDITIONS = (LABELS, *IMAGE_CONDITIONS)
EXTRACTOR_NAMES = {"hed": "HED", "canny": "Canny"}  # UgenConfig.edge_extractor, as the report says it
Paint = Callable[[NoiseField], np.ndarray]  # a noise field → H×W×3 uint8 image of one sample


def refuse_condition_for(weights: Path | str, condition: str | None) -> None:
    """Refuse ``--condition`` (any value, when given) for a folder that is not ugen: no other
    family has a mapper that reads anything but label maps, and depth estimators and
    example-guided models are measured on their own terms."""
    if condition is not None:
        family = read_spec(weights).family  # a missing or broken folder says so itself
        if family != "ugen":
            _refuse_family(weights, family)


def _refuse_family(weights: Path | str, family: str) -> NoReturn:
    raise InputError(
        f"--condition is for ugen models (they also draw from edges, sketches or depth); "
        f"this is a '{family}' model",
        source=str(weights),
        fix="drop --condition (this model is measured on what it draws from), or pass ugen weights",
    )


class LabelSynth(Protocol):
    """What the label path needs of a synthesizer (every family's ``generate`` but MSCA's)."""

    def generate(
        self,
        labels: np.ndarray,
        noise: NoiseField,
        source: str = "label map",
        instances: np.ndarray | None = None,
    ) -> np.ndarray: ...


class ConditionPainter:
    """Paints a test sample from ``condition``: :meth:`prepare` once per sample (it extracts
    the condition), then the painter it returns once per noise field."""

    def __init__(self, synth: LabelSynth, condition: str, weights: Path | str) -> None:
        if condition not in EVAL_CONDITIONS:
            raise InputError(
                f"unknown condition '{condition}'", source="--condition", fix=f"use one of {EVAL_CONDITIONS}"
            )
        self.synth = synth
        self.condition = condition
        self.sources: Counter[str] = Counter()  # where the samples' conditions came from
        if condition == LABELS:
            return
        if not isinstance(synth, UgenSynthesizer):
            _refuse_family(weights, str(getattr(synth, "family", "unknown")))
        if condition not in synth.conditions:  # now, not after the segmenter and data are loaded
            trained = ", ".join(synth.conditions) or "none"
            raise InputError(
                f"this ugen model has no {condition} mapper (mappers trained: {trained})",
                source=str(weights),
                fix=f"pass --condition with one of: {trained}; or train a {condition} mapper into it "
                f"(app-train fit --family ugen --condition {condition} --init-from {weights} "
                "--rearranger-steps 0 …)",
            )

    def prepare(self, sample: Sample) -> tuple[Paint, np.ndarray | None]:
        """The painter of ``sample`` and its condition image (None for label maps)."""
        synth = self.synth
        if self.condition == LABELS:  # exactly the call eval always made
            labels, instances = sample.labels, sample.instances
            return lambda noise: synth.generate(labels, noise, instances=instances), None
        assert isinstance(synth, UgenSynthesizer)  # checked in __init__
        image = self._condition_of(sample, synth)
        condition, source = self.condition, f"{self.condition} of test image {sample.stem}"
        return lambda noise: synth.generate_condition(condition, image, noise, source), image

    def _condition_of(self, sample: Sample, synth: UgenSynthesizer) -> np.ndarray:
        side, extractor = synth.image_side, synth.arch.edge_extractor
        if self.condition == "depth" and sample.depth is not None:
            self.sources["the dataset's depth maps (measured, not estimated)"] += 1
            # Resampling to the evaluation size can step a rounding error outside [0, 1],
            # which the mapper refuses.
            return np.clip(sample.depth, 0.0, 1.0).astype(np.float32)
        if self.condition == "depth":
            self.sources[
                f"the model's depth estimator ({synth.arch.depth_net}) on the real images, "
                "since the dataset has no depth maps"
            ] += 1
            return photo_condition(sample.image, "depth", extractor, side, synth.depth_estimator())
        drawn = (
            f"{EXTRACTOR_NAMES.get(extractor, extractor)} edges"
            if self.condition == "edges"
            else "the OpenCV sketch"
        )
        self.sources[f"{drawn} of the real images, the extractor the mapper was trained with"] += 1
        return photo_condition(sample.image, self.condition, extractor, side)

    def report(self) -> dict:
        """The report's record of what the images were drawn from."""
        if self.condition == LABELS:
            return {"condition": LABELS}
        return {
            "condition": self.condition,
            "condition_source": "; ".join(
                f"{what} ({n} map{'s' * (n != 1)})" for what, n in self.sources.items()
            ),
            "painted_note": "skipped: the hand-painted sample scenes are label maps, with no "
            f"real image to take {self.condition} from",
        }


def condition_picture(condition: np.ndarray) -> np.ndarray:
    """A condition image as H×W×3 uint8 for eval.png: lines black on white, depth grey
    (black = near), as the studio's .ora export pictures them."""
    if condition.dtype == bool:
        grey = np.where(condition, 0, 255).astype(np.uint8)
    else:
        grey = (np.clip(condition, 0, 1) * 255).round().astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def condition_lines(report: dict) -> list[str]:
    """eval.md's lines that name the condition (none for label maps, whose report reads as before)."""
    condition = report.get("condition", LABELS)
    if condition == LABELS:
        return []
    return [
        f"Drawn from **{condition}**: {report['condition_source']}. mIoU compares the segmenter's "
        f"reading of each image drawn from {condition} with the test label map (are the right "
        "things in the right places); the hand-painted scenes are label maps and are not measured.",
        "",
    ]


def card_folder(condition: str | None) -> str:
    """The weights folder's subfolder for ``eval --card``'s files: eval/ for label maps (as
    before), eval-CONDITION/ for the others, so no run overwrites another's pictures."""
    return "eval" if condition in (None, LABELS) else f"eval-{condition}"
