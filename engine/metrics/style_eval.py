"""Evaluate an example-guided (MSCA) model: style taken from exemplars, layout kept.

As in the MSCA supplement's Table 1: random (target label map, exemplar) pairs from the
test split — the exemplar is another scene — and the distances of each output to its
exemplar (:mod:`engine.metrics.style`). The output must still show the target layout,
so the segmenter's mIoU against the target labels is reported too. Running the same
command on the GAP baseline (``attention="gap"``, trained the same way) gives the
comparison the paper makes.
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
from engine.metrics.segmentation import ConfusionMatrix
from engine.metrics.style import style_distances


def evaluate_style(
    weights: Path | str,
    data: str,
    segmenter: Path | str,
    *,
    pairs: int = 100,
    split: str = "test",
    seed: int = 0,
    out: Path | str | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    synth = MscaSynthesizer.from_folder(weights)
    seg = load_weights(segmenter, family="segmenter", parts=("segmenter",))
    if seg.spec.label_set != synth.spec.label_set:
        raise ValueError("the segmenter and the generator use different label sets")
    net = seg.nets["segmenter"].eval()
    dataset = open_dataset(data, split=split)
    transform = EvalTransform(synth.spec.image_size)
    rng = np.random.default_rng(seed)
    count = min(pairs, len(dataset))
    targets = rng.choice(len(dataset), size=count, replace=False)
    cm = ConfusionMatrix(seg.spec.encoder.num_channels, seg.spec.encoder.dontcare_channel)
    totals: dict[str, list[float]] = {"style_gram": [], "nn_feature": [], "nn_pixel": []}
    for n, t in enumerate(targets):
        e = int(rng.integers(len(dataset) - 1))
        e += e >= t  # another scene than the target
        target, exemplar = transform(dataset[int(t)]), transform(dataset[e])
        output = synth.generate(target.labels, StyleMix(Exemplar(exemplar.image, exemplar.labels, str(e))))
        for key, value in style_distances(net, output, exemplar.image).items():
            totals[key].append(value)
        with torch.no_grad():
            x = torch.from_numpy(output.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
            pred = net(x).argmax(1).numpy()
        cm.update(seg.spec.encoder.channels(target.labels).numpy()[None], pred)
        if (n + 1) % 25 == 0:
            log(f"style pairs {n + 1}/{count}")
    report = {
        "weights": str(weights),
        "attention": synth.generator.config.attention,
        "data": data,
        "split": split,
        "pairs": count,
        **{k: float(np.mean(v)) for k, v in totals.items()},
        "miou_to_target": round(cm.miou(), 4),
    }
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "style_eval.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
