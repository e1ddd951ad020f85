"""Evaluate an example-guided (MSCA) model: style taken from exemplars, layout kept.

As in the MSCA supplement's Table 1: random (target label map, exemplar) pairs from the
test split — the exemplar is another scene — and the distances of each output to its
exemplar (:mod:`engine.metrics.style`). The output must still show the target layout,
so the segmenter's mIoU against the target labels is reported too. With ``baseline``
(the GAP model, ``attention="gap"``, trained the same way) both are measured on the same
pairs — the comparison the paper makes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from engine.checkpoints import load_weights
from engine.data import EvalTransform, open_dataset
from engine.inference.msca_synth import Exemplar, MscaSynthesizer, StyleMix
from engine.metrics.realism import RealismStats
from engine.metrics.segmentation import ConfusionMatrix
from engine.metrics.style import class_colour_distance, style_distances
from engine.networks.segmenter import Segmenter
from engine.networks.vgg import Vgg19Features, load_vgg19
from engine.paths import portable

MEASURES = {  # key: (what the card calls it, which way is better)
    "style_gram": ("Gram style distance, feature levels 1–2", "↓"),
    "nn_feature": ("NN distance, feature level 1", "↓"),
    "nn_pixel": ("NN distance in pixels (RGB)", "↓"),
    "class_colour": ("per-class mean colour distance to the exemplar (RGB)", "↓"),
    "miou_to_target": ("mIoU of the output against the target layout", "↑"),
    "fed": ("FED: Fréchet distance to the real test images, EfficientNet-Lite0 features", "↓"),
    "fhd": ("FHD: the same in HED's VGG16 features (no model trains against it)", "↓"),
    "stripe_ratio": ("stripe ratio (axis share of high-pass energy / the real images')", "↓"),
    "colour_delta_e": ("colour ΔE to the renderer's nearest look of the target map", "↓"),
}
REALISM = ("fed", "fhd", "stripe_ratio", "colour_delta_e")


def _measure(
    synth: MscaSynthesizer,
    net: Segmenter,
    features: Segmenter | Vgg19Features,
    pairs: list[tuple],
    num_channels: int,
    dontcare: int | None,
    log: Callable[[str], None],
) -> dict[str, float]:
    cm = ConfusionMatrix(num_channels, dontcare)
    totals: dict[str, list[float]] = {k: [] for k in MEASURES if k != "miou_to_target" and k not in REALISM}
    realism = RealismStats(
        num_classes=len(synth.spec.label_set.ids),
        landscapes=synth.spec.label_set.name == "landscapes",
        colour_maps=50,
    )
    for n, (target, exemplar, name) in enumerate(pairs):
        output = synth.generate(target.labels, StyleMix(Exemplar(exemplar.image, exemplar.labels, name)))
        for key, value in style_distances(features, output, exemplar.image).items():
            totals[key].append(value)
        colour = class_colour_distance(output, target.labels, exemplar.image, exemplar.labels)
        if colour is not None:
            totals["class_colour"].append(colour)
        with torch.no_grad():
            x = torch.from_numpy(output.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
            pred = net(x).argmax(1).numpy()
        cm.update(synth.encoder.channels(target.labels).numpy()[None], pred)
        realism.add(target.image, output, target.labels, target.instances, target.stem)
        if (n + 1) % 25 == 0:
            log(f"style pairs {n + 1}/{len(pairs)}")
    # Three significant digits (the Gram distances are of order 1e-4); None where no pair
    # had a class in common.
    means = {k: float(f"{np.mean(v):.3g}") if v else None for k, v in totals.items()}
    real = realism.report()
    return {**means, "miou_to_target": round(cm.miou(), 4), **{k: real[k] for k in REALISM}}


def evaluate_style(
    weights: Path | str,
    data: str,
    segmenter: Path | str,
    *,
    pairs: int = 100,
    split: str = "test",
    seed: int = 0,
    baseline: Path | str | None = None,
    vgg: Path | str | None = None,
    out: Path | str | None = None,
    size: tuple[int, int] | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    synth = MscaSynthesizer.from_folder(weights)
    seg = load_weights(segmenter, family="segmenter", parts=("segmenter",))
    if seg.spec.label_set != synth.spec.label_set:
        raise ValueError("the segmenter and the generator use different label sets")
    net = seg.nets["segmenter"].eval()
    features = load_vgg19(vgg) if vgg is not None else net  # the paper's measures use VGG-19
    dataset = open_dataset(data, split=split)
    size = size or synth.spec.image_size
    transform = EvalTransform(size)
    rng = np.random.default_rng(seed)
    count = min(pairs, len(dataset))
    chosen = []
    for t in rng.choice(len(dataset), size=count, replace=False):
        e = int(rng.integers(len(dataset) - 1))
        e += e >= t  # another scene than the target
        chosen.append((transform(dataset[int(t)]), transform(dataset[e]), str(e)))
    channels, dontcare = seg.spec.encoder.num_channels, seg.spec.encoder.dontcare_channel
    report = {
        "weights": portable(str(weights)),
        "attention": synth.generator.config.attention,
        "data": portable(data),
        "split": split,
        "pairs": count,
        "size": list(size),
        "features": portable(f"VGG-19 ({vgg})" if vgg is not None else f"segmenter ({segmenter})"),
        **_measure(synth, net, features, chosen, channels, dontcare, log),
    }
    if baseline is not None:
        other = MscaSynthesizer.from_folder(baseline)
        if other.spec.label_set != synth.spec.label_set:
            raise ValueError(f"the baseline {baseline} uses another label set than {weights}")
        report["baseline"] = {
            "weights": str(baseline),
            "attention": other.generator.config.attention,
            **_measure(other, net, features, chosen, channels, dontcare, log),
        }
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "style_eval.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def style_markdown(report: dict) -> str:
    """The report as the card's table (a baseline column when there is one)."""
    base = report.get("baseline")
    h, w = report["size"]
    lines = [
        f"Style transfer on `{report['data']}` ({report['split']}, {report['pairs']} random "
        f"(target, exemplar) pairs of different scenes, {h}×{w}); distances of each output to its "
        f"exemplar, as in the MSCA supplement's Table 1; features: {report['features']}:",
        "",
    ]
    if base:
        mine, theirs = report["attention"].upper(), base["attention"].upper()
        lines += [
            f"| measure | {mine} (this model) | {theirs} baseline | better |",
            "|---|---:|---:|:-:|",
            *[f"| {name} | {report[k]} | {base[k]} | {arrow} |" for k, (name, arrow) in MEASURES.items()],
        ]
    else:
        lines += [
            "| measure | value | better |",
            "|---|---:|:-:|",
            *[f"| {name} | {report[k]} | {arrow} |" for k, (name, arrow) in MEASURES.items()],
        ]
    return "\n".join(lines)
