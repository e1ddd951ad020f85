"""``app-train eval``: how good is a generator, measured without downloaded networks.

On a dataset's test split, for every label map: synthesise an image (seeded noise),
segment it with the independent segmenter, and compare with the real image:

* mIoU of the segmenter on generated images (label fidelity) and on real ones (ceiling);
* Fréchet distance between real and generated images in the segmenter's feature space
  ("FSD": FID's recipe with our own network, since Inception cannot be downloaded);
* MS-SSIM between samples of the same map under different noise (diversity; lower is
  more diverse), as in the OASIS paper's Table 2;
* LAB colour-histogram EMD and LBP texture χ² between all real and all generated
  pixels, the OASIS paper's colour and texture distances;
* realism (:mod:`engine.metrics.realism`): stripe ratio, Fréchet distance on ImageNet
  EfficientNet-Lite0 features (FED), per-class colour ΔE to the renderer's nearest style
  of the same map — also on the hand-painted sample scenes.

Standard FID needs Inception weights, which cannot be fetched here: with ``inception``
(the pytorch-fid file ``pt_inception-2015-12-05-6726825d.pth``) it is computed on the
same real/generated pairs; without it the report says how to enable it instead of
substituting another network under FID's name.

A ugen model can be measured on what it draws from edges, a sketch or depth instead of
label maps (``EvalSettings.condition``; :mod:`engine.metrics.eval_conditions`): the same
measures against the same real images and label maps.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from engine.cards import write_card_section
from engine.checkpoints import load_weights
from engine.data import EvalTransform, open_dataset
from engine.inference.inade_noise import instance_layout
from engine.inference.inade_synth import InadeSynthesizer
from engine.inference.open import open_synthesizer
from engine.inference.synthesizer import Synthesizer
from engine.labels import LabelSet
from engine.metrics.distributions import ColourTextureStats, frechet_distance
from engine.metrics.eval_conditions import (
    LABELS,
    ConditionPainter,
    condition_lines,
    condition_picture,
)
from engine.metrics.inception import FID_WEIGHTS_NAME, FidFeatures
from engine.metrics.msssim import ms_ssim
from engine.metrics.realism import RealismStats, painted_scenes
from engine.metrics.segmentation import ConfusionMatrix
from engine.noise import NoiseField
from engine.paths import portable


@dataclass
class EvalSettings:
    split: str = "test"
    limit: int | None = None  # at most this many label maps (None: the whole split)
    diversity_maps: int = 16  # maps used for MS-SSIM diversity
    diversity_samples: int = 4  # noise samples per map (all pairs compared)
    seed: int = 0
    size: tuple[int, int] | None = None  # evaluation size; default: the model's training size
    colour_maps: int = 50  # maps whose 36 reference renders are made for the colour measure
    painted: bool = True  # also measure the hand-painted sample scenes (landscapes models)
    condition: str = LABELS  # what the model draws from: ugen also reads "edges", "sketch", "depth"


def _to_tensor(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images).astype(np.float32)).permute(0, 3, 1, 2) / 255.0


def evaluate(
    weights: Path | str,
    data: str,
    segmenter: Path | str,
    settings: EvalSettings | None = None,
    *,
    out: Path | str | None = None,
    inception: Path | str | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    settings = settings or EvalSettings()
    # Loaded first, so a bad weights file fails before minutes of synthesis.
    fid_net = FidFeatures(inception) if inception is not None else None
    synth = open_synthesizer(weights)
    painter = ConditionPainter(synth, settings.condition, weights)  # a missing mapper is refused now
    seg_weights = load_weights(segmenter, family="segmenter", parts=("segmenter",))
    seg_net = seg_weights.nets["segmenter"].eval()
    if seg_weights.spec.label_set != synth.spec.label_set:
        raise ValueError("the segmenter and the generator use different label sets")
    seg_encoder = seg_weights.spec.encoder
    dataset = open_dataset(data, split=settings.split)
    size = settings.size or synth.spec.image_size
    transform = EvalTransform(size)
    count = len(dataset) if settings.limit is None else min(settings.limit, len(dataset))
    ignore = seg_encoder.dontcare_channel
    cm_real = ConfusionMatrix(seg_encoder.num_channels, ignore)
    cm_fake = ConfusionMatrix(seg_encoder.num_channels, ignore)
    stats_real, stats_fake = ColourTextureStats(), ColourTextureStats()
    feats_real, feats_fake, picture, diversity = [], [], [], []
    isd: list[float] = []
    oid: list[float] = []
    incep_real, incep_fake = [], []
    landscapes = synth.spec.label_set.name == "landscapes"
    realism = RealismStats(
        num_classes=len(synth.spec.label_set.ids), landscapes=landscapes, colour_maps=settings.colour_maps
    )

    def segment(images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        x = _to_tensor(images) * 2 - 1
        with torch.no_grad():
            return seg_net(x).argmax(1).numpy(), seg_net.features(x).numpy()

    for i in range(count):
        sample = transform(dataset[i])
        labels = sample.labels
        h, w = labels.shape
        inst = sample.instances
        noise = NoiseField.uniform(h, w, seed=settings.seed + i, z_dim=synth.z_dim)
        paint, condition = painter.prepare(sample)
        fake = paint(noise)
        (pred_real, pred_fake), (f_real, f_fake) = segment([sample.image, fake])
        target = seg_encoder.channels(labels).numpy()
        cm_real.update(target, pred_real)
        cm_fake.update(target, pred_fake)
        feats_real.append(f_real)
        feats_fake.append(f_fake)
        if fid_net is not None:
            f_real, f_fake = fid_net([sample.image, fake])
            incep_real.append(f_real)
            incep_fake.append(f_fake)
        stats_real.add(sample.image)
        stats_fake.add(fake)
        realism.add(sample.image, fake, labels, inst, sample.stem)
        if i < settings.diversity_maps:
            samples = [fake] + [
                paint(NoiseField.uniform(h, w, seed=10_000 * (k + 1) + i, z_dim=synth.z_dim))
                for k in range(settings.diversity_samples - 1)
            ]
            pairs = list(itertools.combinations(range(len(samples)), 2))
            x = _to_tensor([samples[a] for a, _ in pairs])
            y = _to_tensor([samples[b] for _, b in pairs])
            diversity.append(float(ms_ssim(x, y).mean()))
            # ugen: one z per image, nothing local (and only ugen draws from other conditions)
            if not getattr(synth, "global_style", False):
                inside, outside = _local_reroll(synth, labels, inst, noise, fake, seed=20_000 + i)
                isd += inside
                oid += outside
            if i < 4:
                shown = [synth.spec.label_set.colorize(labels)]
                shown += [] if condition is None else [condition_picture(condition)]
                picture.append(np.concatenate([*shown, sample.image, *samples[:3]], axis=1))
        if (i + 1) % 50 == 0:
            log(f"evaluated {i + 1}/{count}")

    report = {
        "weights": portable(str(weights)),
        "segmenter": portable(str(segmenter)),
        "inception": portable(str(inception)) if inception is not None else None,
        "data": portable(data),
        "split": settings.split,
        "images": count,
        "size": list(size),
        **painter.report(),
        "miou_generated": round(cm_fake.miou(), 4),
        "miou_real": round(cm_real.miou(), 4),
        "pixel_accuracy_generated": round(cm_fake.pixel_accuracy(), 4),
        "pixel_accuracy_real": round(cm_real.pixel_accuracy(), 4),
        "iou_per_class": _per_class(cm_real, cm_fake, seg_encoder.channel_ids, synth.spec.label_set),
        "fsd": round(frechet_distance(np.stack(feats_real), np.stack(feats_fake)), 4) if count > 1 else None,
        "ms_ssim": round(float(np.mean(diversity)), 4) if diversity else None,
        "misd": round(float(np.mean(isd)), 4) if isd else None,
        "moid": round(float(np.mean(oid)), 4) if oid else None,
        "colour_emd": round(stats_real.colour_emd(stats_fake), 4),
        "texture_chi2": round(stats_real.texture_chi2(stats_fake), 4),
        **_fid(fid_net, incep_real, incep_fake),
        **realism.report(),
        # The hand-painted scenes are label maps: nothing else to draw them from.
        **(_painted(synth) if landscapes and settings.painted and settings.condition == LABELS else {}),
    }
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "eval.json").write_text(json.dumps(report, indent=2) + "\n")
        if picture:
            Image.fromarray(np.concatenate(picture, axis=0)).save(out / "eval.png")
        (out / "eval.md").write_text(markdown_report(report, "eval.png" if picture else None))
    return report


def _painted(synth: Synthesizer | InadeSynthesizer) -> dict:
    from engine.labels import read_label_png
    from engine.metrics.showcase import SCENES
    from engine.scene import thing_instances

    label_set = synth.spec.label_set
    scenes = [p for p in sorted(SCENES.glob("*.png")) if _paints_at(synth, p)]
    if not scenes:
        return {}

    def generate(labels: np.ndarray, seed: int) -> np.ndarray:
        h, w = labels.shape
        noise = NoiseField.uniform(h, w, seed=seed, z_dim=synth.z_dim)
        return synth.generate(labels, noise, instances=thing_instances(labels, label_set))

    return painted_scenes(generate, scenes, lambda p: read_label_png(p, label_set), len(label_set.ids))


def _paints_at(synth: Synthesizer | InadeSynthesizer, path: Path) -> bool:
    """Whether the model paints a map of that file's size (ugen paints its StyleGAN2's only)."""
    from engine.errors import InputError

    with Image.open(path) as im:
        width, height = im.size
    try:
        synth.check_size(height, width, str(path))
    except InputError:
        return False
    return True


def _local_reroll(
    synth: Synthesizer | InadeSynthesizer,
    labels: np.ndarray,
    instances: np.ndarray | None,
    noise: NoiseField,
    image: np.ndarray,
    seed: int,
) -> tuple[list[float], list[float]]:
    """INADE's instance-level diversity, in pixels: re-roll one instance's noise (the up
    to three largest instances, objects or a class's stuff) and measure the mean absolute
    change (0–1 scale) inside it (ISD) and outside it (OID). The paper uses LPIPS, whose
    weights cannot be downloaded here. A model that re-rolls locally has OID ≪ ISD."""
    layout = instance_layout(labels, instances)
    areas = np.bincount(layout.ids.ravel(), minlength=layout.count)
    inside, outside = [], []
    for k in np.argsort(areas)[::-1][:3]:
        mask = layout.mask(int(k))
        if mask.all():
            continue
        rerolled = noise.copy()
        rerolled.resample(mask, seed + int(k))
        changed = (
            np.abs(synth.generate(labels, rerolled, instances=instances).astype(np.float32) - image) / 255
        )
        inside.append(float(changed[mask].mean()))
        outside.append(float(changed[~mask].mean()))
    return inside, outside


def _fid(net: FidFeatures | None, real: list[np.ndarray], fake: list[np.ndarray]) -> dict:
    if net is None:
        return {
            "fid": None,
            "fid_note": "skipped: standard FID needs the Inception weights, which cannot be downloaded "
            f"here; to compute it pass --inception PATH with pytorch-fid's {FID_WEIGHTS_NAME}",
        }
    if len(real) < 2:
        return {"fid": None, "fid_note": f"skipped: FID needs at least 2 images; {net.note}"}
    fid = frechet_distance(np.stack(real), np.stack(fake))
    # With fewer images than feature dimensions the covariances are rank-deficient and FID
    # is biased upwards; papers use thousands of images, so say how many this one used.
    return {"fid": round(fid, 4), "fid_note": f"{len(real)} real vs {len(fake)} generated images; {net.note}"}


def markdown_report(report: dict, picture: str | None) -> str:
    rows = [
        ("mIoU on generated images (segmenter)", report["miou_generated"], "↑"),
        ("mIoU on real images (ceiling)", report["miou_real"], "↑"),
        ("FSD: Fréchet distance in segmenter features", report["fsd"], "↓"),
        ("MS-SSIM between noise samples (diversity)", report["ms_ssim"], "↓"),
        ("mISD: change inside one re-rolled instance (pixel L1)", report.get("misd"), "↑"),
        ("mOID: change outside it (pixel L1)", report.get("moid"), "↓"),
        ("LAB colour-histogram EMD (bins)", report["colour_emd"], "↓"),
        ("LBP texture χ²", report["texture_chi2"], "↓"),
        ("FID (Inception)", report["fid"] if report["fid"] is not None else "skipped", "↓"),
        ("FED: Fréchet distance, EfficientNet-Lite0 (ImageNet) features", _shown(report.get("fed")), "↓"),
        ("FHD: Fréchet distance, HED's VGG16 features (no model trains against it)", report.get("fhd"), "↓"),
        (
            "stripe ratio (axis share of high-pass energy / real's; 1 = as real)",
            report.get("stripe_ratio"),
            "↓",
        ),
        (
            "axis power ratio (high-pass power on the frequency axes / real's: stripes; 1 = as real)",
            report.get("axis_power_ratio"),
            "→ 1",
        ),
        (
            "detail ratio (high-pass power off the axes / real's: fine texture; 1 = as real)",
            report.get("detail_ratio"),
            "→ 1",
        ),
        (
            f"colour ΔE to the nearest rendered style (real images: {report.get('colour_delta_e_real')})",
            report.get("colour_delta_e"),
            "↓",
        ),
        ("hand-painted scenes: stripe ratio", report.get("painted_stripe_ratio"), "↓"),
        (
            "hand-painted scenes: colour ΔE to the nearest rendered style",
            report.get("painted_colour_delta_e"),
            "↓",
        ),
    ]
    rows = [row for row in rows if row[1] is not None or row[0].startswith(("FID", "FED"))]
    lines = [
        *condition_lines(report),
        f"Evaluation on `{report['data']}` ({report['split']}, {report['images']} maps, "
        f"{report['size'][0]}×{report['size'][1]}):",
        "",
        "| measure | value | better |",
        "|---|---:|:-:|",
        *[f"| {name} | {value} | {arrow} |" for name, value, arrow in rows],
        "",
        f"FID: {report['fid_note']}.",
        *([f"FED: {report['fed_note']}."] if report.get("fed_note") else []),
        *([f"FHD: {report['fhd_note']}."] if report.get("fhd_note") else []),
        *_per_class_table(report.get("iou_per_class") or {}),
    ]
    if picture:
        drawn = report.get("condition", LABELS)
        shown = "label map, real" if drawn == LABELS else f"label map, {drawn} of the real image, real"
        lines += ["", f"![{shown}, three noise samples]({picture})", ""]
    return "\n".join(lines)


def _per_class(
    real: ConfusionMatrix, fake: ConfusionMatrix, channel_ids: list[int], label_set: LabelSet
) -> dict:
    """{class name: {"real": IoU, "generated": IoU}} for the classes present in the targets:
    which classes the generator fails to draw recognisably (the mean hides it)."""
    present = real.matrix.sum(1) > 0
    if real.ignore is not None:
        present[real.ignore] = False
    iou_real, iou_fake = real.iou(), fake.iou()
    return {
        label_set.by_id(cid).name: {
            "real": round(float(iou_real[c]), 4),
            "generated": round(float(iou_fake[c]), 4),
        }
        for c, cid in enumerate(channel_ids)
        if present[c]
    }


def _per_class_table(per_class: dict) -> list[str]:
    if not per_class:
        return []
    order = sorted(
        per_class, key=lambda name: per_class[name]["generated"] / max(per_class[name]["real"], 1e-6)
    )
    return [
        "",
        "Per class (segmenter IoU; worst generated/real ratio first):",
        "",
        "| class | real | generated | generated / real |",
        "|---|---:|---:|---:|",
        *[
            f"| {name} | {per_class[name]['real']:.3f} | {per_class[name]['generated']:.3f} | "
            f"{per_class[name]['generated'] / max(per_class[name]['real'], 1e-6):.2f} |"
            for name in order
        ],
    ]


def _shown(value: object) -> object:
    return "skipped" if value is None else value


def update_card(weights: Path | str, report: dict, out: Path | str | None) -> Path:
    """Put the report between the eval markers of WEIGHTS/CARD.md (appending them if absent);
    a report drawn from another condition than label maps goes between that condition's."""
    picture = None
    if out is not None and (Path(out) / "eval.png").is_file():
        image = (Path(out) / "eval.png").resolve()
        try:  # the card links the picture relative to itself when it lies inside the folder
            picture = image.relative_to(Path(weights).resolve()).as_posix()
        except ValueError:
            picture = image.as_posix()
    drawn = report.get("condition", LABELS)
    return write_card_section(weights, markdown_report(report, picture), None if drawn == LABELS else drawn)
